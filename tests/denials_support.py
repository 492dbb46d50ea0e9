"""A small practice workbook for the denial-log tests, written with xlsxwriter (as the real
workbook builder does): Claims, Payers, Denials and Settings as Excel Tables, and the Dashboard
laid out by ``toolkit.dashboard.add_dashboard_sheet``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from toolkit.tables import CLAIMS, DENIALS, PAYERS

FIXTURES = Path(__file__).parent / "fixtures" / "x12_835"
SHARED_835 = Path(__file__).resolve().parents[2] / "shared" / "data" / "x12_835"

D = dt.date

CLAIM_ROWS = [
    # Claim ID, Line, Patient ID, Payer, DOS, CPT, Modifiers, Dx, Submitted, Status, Finding Codes
    ("CLM-1001", 1, "P001", "Medicare Part B", D(2026, 2, 5), "64483", "RT", "M48.061", D(2026, 2, 6), "RED", "DX_NOT_COVERED"),  # noqa: E501
    ("CLM-1001", 2, "P001", "Medicare Part B", D(2026, 2, 5), "99214", "", "M48.061", D(2026, 2, 6), "GREEN", ""),
    ("CLM-1002", 1, "P002", "Medicare Part B", D(2026, 2, 10), "29881", "LT", "M23.221", D(2026, 2, 11), "RED", "PRIOR_AUTH_MISSING"),  # noqa: E501
    ("CLM-2001", 1, "P003", "Acme Health Plan", D(2026, 3, 1), "72148", "", "M54.16", D(2026, 3, 2), "RED", "THERAPY_TOO_SHORT"),  # noqa: E501
]

PAYER_ROWS = [
    ("Medicare Part B", "Medicare", 365, None),
    ("Acme Health Plan", "Commercial", 90, 60),
]


PAYER_HEADERS = ["Payer", "Payer Type", "Timely Filing Days", "Appeal Window Days"]


def build_workbook(path: Path, *, claims=CLAIM_ROWS, payers=PAYER_ROWS, denials=(), settings=(),
                   dashboard: bool = True, payer_headers=PAYER_HEADERS) -> Path:
    import xlsxwriter

    from toolkit.dashboard import add_dashboard_sheet

    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})

    def table(spec, headers, rows):
        ws = wb.add_worksheet(spec.name)
        data = [list(r) for r in rows] or [[None] * len(headers)]
        ws.add_table(0, 0, len(data), len(headers) - 1,
                     {"name": spec.table, "columns": [{"header": h} for h in headers], "data": data})
        for i, h in enumerate(headers):
            if "Date" in h or h == "Appeal Deadline":
                ws.set_column(i, i, 12, date_fmt)
        return ws

    claim_headers = ["Claim ID", "Line", "Patient ID", "Payer", "Date of Service", "CPT/HCPCS", "Modifiers",
                     "Dx Codes", "Submitted Date", "Status", "Finding Codes"]
    table(CLAIMS, claim_headers, claims)
    table(PAYERS, list(payer_headers), payers)
    den_rows = [[row.get(h) for h in DENIALS.headers] for row in denials]
    table(DENIALS, DENIALS.headers, den_rows)
    ws = wb.add_worksheet("Settings")
    ws.write_row(0, 0, ["Key", "Value"])
    for i, (k, v) in enumerate(settings, start=1):
        ws.write_row(i, 0, [k, v])
    if dashboard:
        add_dashboard_sheet(wb, wb.add_worksheet("Dashboard"))
    wb.close()
    return path
