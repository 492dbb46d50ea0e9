"""The Dashboard sheet: a fixed layout of KPI blocks and three native charts over fixed ranges.

The workbook builder lays the sheet out once with xlsxwriter (``add_dashboard_sheet``); a
refresh only writes values into the same fixed ranges (``write_dashboard``), so the charts,
which point at those ranges, follow without being rebuilt, in Excel and in LibreOffice alike.
A workbook without the sheet (or whose charts were lost) gets it from openpyxl on refresh.

Layout (rows are Excel row numbers):
- A1 title, A2/B2 as-of date; A4:D20 headline measures (Measure, Value, Target, On target)
- A23:G44 open denials with an appeal deadline, soonest first (20 rows)
- I4:P17 monthly trend (12 months); I20:M31 by payer (10); I34:L45 by CPT/HCPCS (10)
- R4:U15 top CARCs (10); R18:T29 top root causes (10)
- charts from row 48: monthly trend (A48), by reason (I48), by payer (R48)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SHEET = "Dashboard"

PCT, INT, MONEY, DAYS, DATE, TEXT = "0.0%", "0", "$#,##0.00", "0.0", "yyyy-mm-dd", "@"


@dataclass(frozen=True)
class Block:
    title: str
    title_cell: str  # e.g. "I4"
    col: str  # first column letter
    header_row: int
    headers: tuple[str, ...]
    formats: tuple[str, ...]
    rows: int

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    def col_index(self, offset: int = 0) -> int:
        from openpyxl.utils import column_index_from_string

        return column_index_from_string(self.col) + offset

    def letter(self, offset: int = 0) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(self.col_index(offset))

    def range(self, offset: int) -> tuple[str, str]:
        """(first, last) data cells of one column, e.g. ('L6', 'L17')."""
        c = self.letter(offset)
        return f"{c}{self.first_row}", f"{c}{self.first_row + self.rows - 1}"


HEADLINE = Block("Measures", "A4", "A", 4, ("Measure", "Value", "Target", "On target"), (TEXT, "", TEXT, TEXT), 16)
OPEN = Block("Open denials with an appeal deadline (soonest first)", "A23", "A", 24,
             ("Denial ID", "Claim ID", "Payer", "CARC", "Appeal Deadline", "Days Left", "Overdue"),
             (TEXT, TEXT, TEXT, TEXT, DATE, INT, TEXT), 20)
MONTHLY = Block("Monthly trend (claims by month submitted, denials by month received)", "I4", "I", 5,
                ("Month", "Submitted Claims", "Denied Claims", "Denial Rate", "Target Rate", "Denials",
                 "Denied $", "Med-Nec Denials"), (TEXT, INT, INT, PCT, PCT, INT, MONEY, INT), 12)
PAYER = Block("By payer", "I20", "I", 21, ("Payer", "Submitted Claims", "Denied Claims", "Denial Rate", "Denied $"),
              (TEXT, INT, INT, PCT, MONEY), 10)
CPT = Block("By CPT/HCPCS (claim lines)", "I34", "I", 35, ("CPT/HCPCS", "Submitted Lines", "Denied Lines", "Denial Rate"),
            (TEXT, INT, INT, PCT), 10)
CARCS = Block("Top denial reasons (CARC)", "R4", "R", 5, ("CARC", "Category", "Denials", "Denied $"),
              (TEXT, TEXT, INT, MONEY), 10)
ROOTS = Block("Top root causes (checklist item)", "R18", "R", 19, ("Root Cause", "Denials", "Denied $"),
              (TEXT, INT, MONEY), 10)
BLOCKS = (HEADLINE, OPEN, MONTHLY, PAYER, CPT, CARCS, ROOTS)

# (label, figure key, number format) for the headline rows, in order
MEASURES = (
    ("Denial rate (denied ÷ submitted claims)", "denial_rate", PCT),
    ("Submitted claims", "submitted_claims", INT),
    ("Denied claims (of those submitted)", "denied_claims", INT),
    ("Denials logged", "denial_rows", INT),
    ("Denied dollars", "denied_dollars", MONEY),
    ("Medical-necessity share of denials", "med_nec_share", PCT),
    ("Medical-necessity denials last month", "med_nec_last_month", INT),
    ("Medical-necessity change vs baseline", "med_nec_change", PCT),
    ("Clean-claim rate (all lines GREEN)", "clean_claim_rate", PCT),
    ("Average days to resubmission", "days_to_resubmission", DAYS),
    ("Open denials with a deadline", "open_appeals", INT),
    ("Overdue (deadline passed)", "overdue", INT),
    ("Due within 14 days", "due_14_days", INT),
    ("Denial-free weeks (last 12)", "denial_free_weeks_12", INT),
    ("Current denial-free streak (weeks)", "denial_free_streak", INT),
    ("Denials not matched to a submitted claim", "unmatched_denials", INT),
)
CHART_ANCHORS = ("A48", "I48", "R48")


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def headline_rows(kpis) -> list[list]:
    """[label, value, target, on target] per measure, compared with the practice's goals."""
    f, t = kpis.figures, kpis.targets
    checks = {
        "denial_rate": (f"< {t['denial_rate']:.0%}", lambda v: v < t["denial_rate"]),
        "days_to_resubmission": (f"≤ {t['days_to_resubmission']:g}", lambda v: v <= t["days_to_resubmission"]),
        "med_nec_change": (f"≤ -{t['med_nec_reduction']:.0%}", lambda v: v <= -t["med_nec_reduction"]),
        "overdue": ("0", lambda v: v == 0),
    }
    if f.get("med_nec_baseline") is not None:
        goal = f["med_nec_baseline"] * (1 - t["med_nec_reduction"])
        checks["med_nec_last_month"] = (f"≤ {goal:g} (baseline {f['med_nec_baseline']:g})", lambda v: v <= goal)
    rows = []
    for label, key, _ in MEASURES:
        value = f.get(key)
        target, ok = checks.get(key, ("", None))
        verdict = "" if ok is None or _blank(value) else ("yes" if ok(value) else "NO")
        rows.append([label, None if _blank(value) else value, target, verdict])
    return rows


def _frame_rows(frame, headers, n) -> list[list]:
    rows = []
    if frame is not None and len(frame):
        for rec in frame.head(n).to_dict("records"):
            row = []
            for h in headers:
                v = rec.get(h)
                try:
                    import pandas as pd

                    if v is not None and not isinstance(v, str) and pd.isna(v):
                        v = None
                except (TypeError, ValueError):
                    pass
                if hasattr(v, "to_pydatetime"):
                    v = v.to_pydatetime().date()
                row.append(v)
            rows.append(row)
    while len(rows) < n:
        rows.append([None] * len(headers))
    return rows


def block_values(kpis) -> dict[Block, list[list]]:
    """Every block's data rows, padded to its fixed height (None clears old values)."""
    return {
        HEADLINE: headline_rows(kpis),
        OPEN: _frame_rows(kpis.open_appeals, OPEN.headers, OPEN.rows),
        MONTHLY: _frame_rows(kpis.monthly, MONTHLY.headers, MONTHLY.rows),
        PAYER: _frame_rows(kpis.by_payer, PAYER.headers, PAYER.rows),
        CPT: _frame_rows(kpis.by_cpt, CPT.headers, CPT.rows),
        CARCS: _frame_rows(kpis.top_carcs, CARCS.headers, CARCS.rows),
        ROOTS: _frame_rows(kpis.top_root_causes, ROOTS.headers, ROOTS.rows),
    }


# ---------------------------------------------------------------- xlsxwriter (workbook builder)

def add_dashboard_sheet(workbook, worksheet) -> None:
    """Lay out the Dashboard on an xlsxwriter worksheet: titles, headers, formats and the three
    charts over the fixed ranges.  Values arrive with the first refresh."""
    name = worksheet.get_name()
    title = workbook.add_format({"bold": True, "font_size": 16})
    bold = workbook.add_format({"bold": True})
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    fmts = {k: workbook.add_format({"num_format": k}) for k in (PCT, INT, MONEY, DAYS, DATE, TEXT)}
    worksheet.write("A1", "Denials dashboard", title)
    worksheet.write("A2", "As of")
    worksheet.write_blank("B2", None, fmts[DATE])
    worksheet.write("C2", "Press Refresh (or run: mednec dashboard --workbook THIS-FILE)")
    for block in BLOCKS:
        worksheet.write(block.title_cell, block.title, bold)
        worksheet.write_row(block.header_row - 1, block.col_index() - 1, block.headers, head)
        for j, fmt in enumerate(block.formats):
            if fmt:
                for i in range(block.rows):
                    worksheet.write_blank(block.first_row - 1 + i, block.col_index(j) - 1, None, fmts[fmt])
    for i, (label, _key, fmt) in enumerate(MEASURES):
        worksheet.write(HEADLINE.first_row - 1 + i, 0, label)
        worksheet.write_blank(HEADLINE.first_row - 1 + i, 1, None, fmts[fmt])
    worksheet.set_column("A:A", 38)
    worksheet.set_column("B:H", 13)
    worksheet.set_column("I:I", 22)
    worksheet.set_column("J:Q", 15)
    worksheet.set_column("R:R", 22)
    worksheet.set_column("S:U", 16)
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)  # one page wide: the sheet prints (and renders to PDF) readably

    def ref(block, offset):
        first, last = block.range(offset)
        return f"='{name}'!${first[0]}${first[1:]}:${last[0]}${last[1:]}"

    trend = workbook.add_chart({"type": "column"})
    trend.add_series({"name": "Denial rate", "categories": ref(MONTHLY, 0), "values": ref(MONTHLY, 3),
                      "fill": {"color": "#4472C4"}})
    target = workbook.add_chart({"type": "line"})
    target.add_series({"name": "Target", "categories": ref(MONTHLY, 0), "values": ref(MONTHLY, 4),
                       "line": {"color": "#C00000", "dash_type": "dash"}})
    trend.combine(target)
    trend.set_title({"name": "Denial rate by month"})
    trend.set_y_axis({"num_format": "0%", "min": 0})
    trend.set_legend({"position": "bottom"})
    worksheet.insert_chart(CHART_ANCHORS[0], trend, {"x_scale": 1.2, "y_scale": 1.1})

    reason = workbook.add_chart({"type": "bar"})
    reason.add_series({"name": "Denials", "categories": ref(CARCS, 0), "values": ref(CARCS, 2),
                       "fill": {"color": "#ED7D31"}})
    reason.set_title({"name": "Denials by reason (CARC)"})
    reason.set_legend({"none": True})
    reason.set_y_axis({"reverse": True})
    worksheet.insert_chart(CHART_ANCHORS[1], reason, {"x_scale": 1.2, "y_scale": 1.1})

    payer = workbook.add_chart({"type": "bar"})
    payer.add_series({"name": "Denial rate", "categories": ref(PAYER, 0), "values": ref(PAYER, 3),
                      "fill": {"color": "#70AD47"}})
    payer.set_title({"name": "Denial rate by payer"})
    payer.set_legend({"none": True})
    payer.set_x_axis({"num_format": "0%", "min": 0})
    payer.set_y_axis({"reverse": True})
    worksheet.insert_chart(CHART_ANCHORS[2], payer, {"x_scale": 1.2, "y_scale": 1.1})


# ---------------------------------------------------------------- refresh (book seam)

def write_dashboard(book, kpis) -> None:
    """Write the KPI values into the fixed ranges; add layout formats and charts with openpyxl
    when the workbook has no Dashboard charts (a file book only)."""
    book.write_cells(SHEET, "A1", [["Denials dashboard"]])
    book.write_cells(SHEET, "A2", [["As of", kpis.as_of]])
    for block, rows in block_values(kpis).items():
        book.write_cells(SHEET, block.title_cell, [[block.title]])
        book.write_cells(SHEET, f"{block.col}{block.header_row}", [list(block.headers)])
        book.write_cells(SHEET, f"{block.col}{block.first_row}", rows)
    wb = getattr(book, "wb", None)
    if wb is not None and hasattr(wb, "worksheets"):
        _openpyxl_formats_and_charts(book.sheet(SHEET))


def _openpyxl_formats_and_charts(ws) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    from openpyxl.worksheet.properties import PageSetupProperties

    ws["B2"].number_format = DATE
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    for block in BLOCKS:
        for j, fmt in enumerate(block.formats):
            if fmt and fmt != TEXT:
                for i in range(block.rows):
                    ws.cell(block.first_row + i, block.col_index(j)).number_format = fmt
        ws[block.title_cell].font = Font(bold=True)
        for j in range(len(block.headers)):
            ws.cell(block.header_row, block.col_index(j)).font = Font(bold=True)
    for i, (_label, _key, fmt) in enumerate(MEASURES):
        ws.cell(HEADLINE.first_row + i, 2).number_format = fmt
    if ws._charts:
        return
    ws["A1"].font = Font(bold=True, size=16)
    for col, width in (("A", 38), ("I", 22), ("R", 22)):
        ws.column_dimensions[col].width = width

    def ref(block, offset):
        c = block.col_index(offset)
        return Reference(ws, min_col=c, max_col=c, min_row=block.first_row, max_row=block.first_row + block.rows - 1)

    trend = BarChart()
    trend.title = "Denial rate by month"
    trend.add_data(ref(MONTHLY, 3), titles_from_data=False)
    trend.set_categories(ref(MONTHLY, 0))
    line = LineChart()
    line.add_data(ref(MONTHLY, 4), titles_from_data=False)
    trend.y_axis.numFmt = "0%"
    trend.y_axis.scaling.min = 0
    trend += line
    trend.width, trend.height = 18, 8
    ws.add_chart(trend, CHART_ANCHORS[0])

    for title, block, column, anchor in (("Denials by reason (CARC)", CARCS, 2, CHART_ANCHORS[1]),
                                         ("Denial rate by payer", PAYER, 3, CHART_ANCHORS[2])):
        bars = BarChart()
        bars.type = "bar"
        bars.title = title
        bars.add_data(ref(block, column), titles_from_data=False)
        bars.set_categories(ref(block, 0))
        bars.legend = None
        bars.width, bars.height = 18, 8
        ws.add_chart(bars, anchor)

