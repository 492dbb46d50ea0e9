"""A small workbook for the Word-document tests: Claims, Rules, Payers, Denials and Settings as
real Excel Tables (openpyxl), with the contract's headers from ``toolkit.tables``.

Kept beside the tests (imported by ``tests/test_documents_*.py``) until the shared sample
workbook exists; every value is made up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from toolkit.tables import CLAIMS, DENIALS, PAYERS, RULES, SETTINGS

D = dt.date

SETTINGS_ROWS = {
    "Practice Name": "Riverside Orthopedics & Spine",
    "Practice Address": "1200 River Road, Suite 300\nSpringfield, IL 62701",
    "Practice Phone": "(217) 555-0100",
    "Practice NPI": "1234567893",
    "Tax ID": "12-3456789",
    "Signer Name": "Dana Whitfield",
    "Signer Title": "Revenue Cycle Manager",
}

PAYER_ROWS = [
    {"Payer": "Medicare Part B", "Payer Type": "Medicare", "Timely Filing Days": 365, "Appeal Window Days": 120,
     "Address": "JE Part B Contractor\nPO Box 6783\nFargo, ND 58108-6783", "Phone": "(855) 609-9960",
     "Fax": "(701) 277-7888"},
    {"Payer": "Acme Health Plan", "Payer Type": "Commercial", "Timely Filing Days": 180, "Appeal Window Days": 180,
     "Address": "Provider Appeals, PO Box 1000, Hartford, CT 06101", "Phone": "(800) 555-0199",
     "Portal": "provider.acme.example"},
]

RULE_ROWS = [
    {"Payer": "Medicare Part B", "CPT/HCPCS": "63047", "Description": "Lumbar decompression, one level",
     "Covered Dx": "M48.061, M48.062, M48.07*", "Min Therapy Weeks": 6, "Imaging Required": "Y",
     "Imaging Max Age Days": 180, "Prior Auth Required": "N", "Laterality Required": "N", "Max Units": 1,
     "Policy": "LCD L30000 / Article A50000", "Effective From": D(2025, 10, 1)},
    {"Payer": "Acme Health Plan", "CPT/HCPCS": "29881", "Description": "Knee arthroscopy with meniscus trim",
     "Covered Dx": "M23.2*, S83.2*", "Min Therapy Weeks": 6, "Imaging Required": "Y", "Imaging Max Age Days": 90,
     "Prior Auth Required": "Y", "Laterality Required": "Y", "Max Units": 1, "Policy": "Acme MP-2026-114",
     "Effective From": D(2026, 1, 1), "Notes": "Mechanical symptoms must be documented."},
]

CLAIM_ROWS = [
    {"Claim ID": "C1001", "Line": 1, "Patient ID": "MRN-0042", "Patient Name": "Jane Q. Sample",
     "Date of Birth": D(1950, 4, 2), "Sex": "F", "Payer": "Medicare Part B", "Date of Service": D(2026, 3, 10),
     "CPT/HCPCS": "63047", "Modifiers": "", "Units": 1, "Dx Codes": "M48.062, M54.16", "Therapy Weeks": 8,
     "Therapy Notes": "PT twice weekly, NSAIDs", "Imaging Date": D(2026, 2, 1), "Imaging Type": "MRI",
     "Rendering Provider": "Dr. Alan Reyes", "Member ID": "1EG4-TE5-MK72"},
    {"Claim ID": "C1002", "Line": 1, "Patient ID": "MRN-0077", "Patient Name": "Robert Example",
     "Date of Birth": D(1971, 9, 14), "Sex": "M", "Payer": "Acme Health Plan", "Date of Service": D(2026, 3, 3),
     "CPT/HCPCS": "29881", "Modifiers": "RT", "Units": 1, "Dx Codes": "M23.221", "Therapy Weeks": 7,
     "Therapy Notes": "home exercise, bracing", "Imaging Date": D(2026, 1, 20), "Imaging Type": "MRI",
     "Prior Auth Number": "AUTH-55821", "Rendering Provider": "Dr. Alan Reyes", "Member ID": "ACM889201"},
    {"Claim ID": "C1003", "Line": 2, "Patient ID": "MRN-0091", "Patient Name": "Maria Placeholder",
     "Date of Birth": D(1980, 6, 30), "Sex": "F", "Payer": "Acme Health Plan", "Date of Service": D(2026, 4, 20),
     "CPT/HCPCS": "29881", "Modifiers": "LT", "Units": 1, "Dx Codes": "M23.222", "Therapy Weeks": 6,
     "Therapy Notes": "physical therapy", "Imaging Date": D(2026, 3, 15), "Imaging Type": "MRI",
     "Rendering Provider": "Dr. Alan Reyes", "Member ID": "ACM771234"},
]

DENIAL_ROWS = [
    {"Denial ID": "D-000001", "Claim ID": "C1001", "Line": 1, "Patient ID": "MRN-0042", "Payer": "Medicare Part B",
     "Date of Service": D(2026, 3, 10), "CPT/HCPCS": "63047", "Dx Codes": "M48.062, M54.16",
     "Billed Amount": 2450.0, "Paid Amount": 0.0, "Denied Amount": 2450.0, "Denial Date": D(2026, 3, 20),
     "Group Code": "CO", "CARC": "50", "RARC": "N115", "Reason": "Not medically necessary (LCD)",
     "Category": "medical necessity", "Status": "Open", "Source": "manual"},
    {"Denial ID": "D-000002", "Claim ID": "C1002", "Line": 1, "Patient ID": "MRN-0077", "Payer": "Acme Health Plan",
     "Date of Service": D(2026, 3, 3), "CPT/HCPCS": "29881", "Modifiers": "RT", "Dx Codes": "M23.221",
     "Billed Amount": 3100.0, "Paid Amount": 0.0, "Denied Amount": 3100.0, "Denial Date": D(2026, 3, 18),
     "Group Code": "CO", "CARC": "197", "Category": "authorization", "Status": "Open", "Source": "manual"},
    {"Denial ID": "D-000003", "Claim ID": "C1002", "Line": 1, "Patient ID": "MRN-0077", "Payer": "Acme Health Plan",
     "Date of Service": D(2026, 3, 3), "CPT/HCPCS": "29881", "Denial Date": D(2026, 2, 1), "Group Code": "CO",
     "CARC": "16", "Category": "documentation", "Status": "Appealed", "Source": "manual"},
]


def _sheet(wb, spec, rows: list[dict], extra: tuple[str, ...] = ()):
    from openpyxl.worksheet.table import Table

    ws = wb.create_sheet(spec.name)
    headers = spec.headers + [h for h in extra if h not in spec.headers]
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h) for h in headers])
    from openpyxl.utils import get_column_letter
    ws.add_table(Table(displayName=spec.table, ref=f"A1:{get_column_letter(len(headers))}{max(len(rows), 1) + 1}"))
    return ws


def make_workbook(path: Path, *, claims=None, rules=None, payers=None, denials=None, settings=None) -> Path:
    """Write the workbook; each table defaults to the rows above (copies, so tests may edit them)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _sheet(wb, CLAIMS, claims if claims is not None else [dict(r) for r in CLAIM_ROWS], extra=("Member ID",))
    _sheet(wb, RULES, rules if rules is not None else [dict(r) for r in RULE_ROWS])
    _sheet(wb, PAYERS, payers if payers is not None else [dict(r) for r in PAYER_ROWS])
    _sheet(wb, DENIALS, denials if denials is not None else [dict(r) for r in DENIAL_ROWS])
    values = settings if settings is not None else dict(SETTINGS_ROWS)
    _sheet(wb, SETTINGS, [{"Key": k, "Value": v} for k, v in values.items()])
    wb.save(path)
    return Path(path)
