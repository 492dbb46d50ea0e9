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
CPT = Block("By CPT/HCPCS (claim lines)", "I34", "I", 35,
            ("CPT/HCPCS", "Submitted Lines", "Denied Lines", "Denial Rate"), (TEXT, INT, INT, PCT), 10)
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
FONT = "Calibri"  # the workbook's body font (xlsxwriter's default): a refresh writes the same


@dataclass(frozen=True)
class Series:
    name: str
    column: int  # offset of the values' column in the block
    color: str
    line: bool = False  # drawn as a dashed line over the bars (the target)


@dataclass(frozen=True)
class Chart:
    """One Dashboard chart, drawn from this one definition by the builder (xlsxwriter) and, for a
    workbook that lost its charts, by the refresh (openpyxl)."""

    title: str
    anchor: str
    block: Block
    series: tuple[Series, ...]
    horizontal: bool  # bars across (categories down the side, first at the top)
    value_format: str
    value_max: float | None = None  # a rate axis stops at 100 %, even when its table is empty


CHARTS = (
    Chart("Denial rate by month", CHART_ANCHORS[0], MONTHLY,
          (Series("Denial rate", 3, "#4472C4"), Series("Target", 4, "#C00000", line=True)), False, "0%"),
    Chart("Denials by reason (CARC)", CHART_ANCHORS[1], CARCS, (Series("Denials", 2, "#ED7D31"),), True, "0"),
    Chart("Denial rate by payer", CHART_ANCHORS[2], PAYER, (Series("Denial rate", 3, "#70AD47"),), True, "0%",
          value_max=1.0),
)
CHART_WIDTH_CM, CHART_HEIGHT_CM = 15.2, 8.4


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


def empty_reasons(kpis) -> dict[Block, str]:
    """Why a table is empty, said in its title ("By payer: no Submitted Date on any claim line")."""
    f = kpis.figures
    no_claims = ("no claim lines in Claims" if not f.get("claim_lines") else
                 "no Submitted Date on any claim line" if not f.get("submitted_claims") else "")
    reasons = {}
    for block in (MONTHLY, PAYER, CPT):
        if not f.get("submitted_claims"):
            reasons[block] = no_claims
    if not f.get("denial_rows"):
        reasons[CARCS] = reasons[ROOTS] = "no denials in the log yet"
    if kpis.open_appeals is None or not len(kpis.open_appeals):
        reasons[OPEN] = "none"
    return reasons


def block_title(block: Block, kpis) -> str:
    why = empty_reasons(kpis).get(block)
    return f"{block.title}: {why}" if why else block.title


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
    worksheet.set_column("C:C", 18)  # payer names in the open-denials table
    worksheet.set_column("I:I", 22)
    worksheet.set_column("J:Q", 17)
    worksheet.set_column("R:R", 22)
    worksheet.set_column("S:U", 16)
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)  # one page wide: the sheet prints (and renders to PDF) readably
    for chart in CHARTS:
        _xlsxwriter_chart(workbook, worksheet, chart)


def _xlsxwriter_chart(workbook, worksheet, chart: Chart) -> None:
    name = worksheet.get_name()

    def ref(offset):
        first, last = chart.block.range(offset)
        return f"='{name}'!${first[0]}${first[1:]}:${last[0]}${last[1:]}"

    bars = workbook.add_chart({"type": "bar" if chart.horizontal else "column"})
    line = None
    for series in chart.series:
        spec = {"name": series.name, "categories": ref(0), "values": ref(series.column)}
        if series.line:
            line = line or workbook.add_chart({"type": "line"})
            line.add_series({**spec, "line": {"color": series.color, "dash_type": "dash", "width": 2}})
        else:
            bars.add_series({**spec, "fill": {"color": series.color}, "gap": 60})
    if line is not None:
        bars.combine(line)
    bars.set_title({"name": chart.title, "name_font": {"size": 12, "bold": True}})
    value_axis = {"num_format": chart.value_format, "min": 0, "major_gridlines": {"visible": True}}
    if chart.value_max is not None:
        value_axis["max"] = chart.value_max
    # xlsxwriter's bar charts swap the axes: x_axis is the value axis, y_axis the categories
    if chart.horizontal:
        bars.set_x_axis(value_axis)
        bars.set_y_axis({"reverse": True})
    else:
        bars.set_y_axis(value_axis)
    bars.set_legend({"position": "bottom"} if len(chart.series) > 1 else {"none": True})
    bars.set_size({"width": round(CHART_WIDTH_CM / 2.54 * 96), "height": round(CHART_HEIGHT_CM / 2.54 * 96)})
    worksheet.insert_chart(chart.anchor, bars)


# ---------------------------------------------------------------- refresh (book seam)

def write_dashboard(book, kpis) -> None:
    """Write the KPI values into the fixed ranges; fonts and formats too for a file book, and the
    charts when the workbook has none (a Dashboard sheet not made by build-workbook)."""
    book.write_cells(SHEET, "A1", [["Denials dashboard"]])
    book.write_cells(SHEET, "A2", [["As of", kpis.as_of]])
    for block, rows in block_values(kpis).items():
        book.write_cells(SHEET, block.title_cell, [[block_title(block, kpis)]])
        book.write_cells(SHEET, f"{block.col}{block.header_row}", [list(block.headers)])
        book.write_cells(SHEET, f"{block.col}{block.first_row}", rows)
    wb = getattr(book, "wb", None)
    if wb is not None and hasattr(wb, "worksheets"):
        ws = book.sheet(SHEET)
        _openpyxl_formats(ws)
        if not file_has_dashboard_charts(getattr(book, "path", None)):
            for chart in CHARTS:
                _openpyxl_chart(ws, chart)


def file_has_dashboard_charts(path) -> bool:
    """Whether the saved workbook already draws charts from the Dashboard sheet (read from the
    file's chart parts, not from openpyxl's private worksheet state)."""
    import zipfile

    if path is None:
        return False
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/charts/chart") and name.endswith(".xml") and \
                        f"{SHEET}!".encode() in z.read(name).replace(b"'", b""):
                    return True
    except (OSError, zipfile.BadZipFile):
        return False
    return False


def _openpyxl_formats(ws) -> None:
    """The number formats and the fonts of the layout (named: a font without a name shows serif)."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.properties import PageSetupProperties

    bold = Font(name=FONT, size=11, bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    ws["B2"].number_format = DATE
    ws["A1"].font = Font(name=FONT, size=16, bold=True)
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    for block in BLOCKS:
        for j, fmt in enumerate(block.formats):
            if fmt and fmt != TEXT:
                for i in range(block.rows):
                    ws.cell(block.first_row + i, block.col_index(j)).number_format = fmt
        ws[block.title_cell].font = bold
        for j in range(len(block.headers)):
            cell = ws.cell(block.header_row, block.col_index(j))
            cell.font = bold
            if not cell.fill or cell.fill.fill_type is None:
                cell.fill = header_fill
    for i, (_label, _key, fmt) in enumerate(MEASURES):
        ws.cell(HEADLINE.first_row + i, 2).number_format = fmt
    for col, width in (("A", 38), ("I", 22), ("R", 22)):
        if (ws.column_dimensions[col].width or 0) < width:
            ws.column_dimensions[col].width = width


def _openpyxl_chart(ws, chart: Chart) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference

    block = chart.block

    def ref(offset):
        c = block.col_index(offset)
        return Reference(ws, min_col=c, max_col=c, min_row=block.first_row, max_row=block.first_row + block.rows - 1)

    bars = BarChart()
    bars.type = "bar" if chart.horizontal else "col"
    bars.title = chart.title
    line = None
    for series in chart.series:
        target = bars
        if series.line:
            line = line or LineChart()
            target = line
        target.add_data(ref(series.column), titles_from_data=False)
        added = target.series[-1]
        from openpyxl.chart.series import SeriesLabel

        added.tx = SeriesLabel(v=series.name)
        if series.line:
            added.graphicalProperties.line.solidFill = series.color.lstrip("#")
            added.graphicalProperties.line.dashStyle = "dash"
        else:
            added.graphicalProperties.solidFill = series.color.lstrip("#")
    bars.set_categories(ref(0))
    bars.y_axis.numFmt = chart.value_format
    bars.y_axis.scaling.min = 0
    if chart.value_max is not None:
        bars.y_axis.scaling.max = chart.value_max
    if chart.horizontal:
        bars.x_axis.scaling.orientation = "maxMin"
    if line is not None:
        line.set_categories(ref(0))
        bars += line
    if len(chart.series) == 1:
        bars.legend = None
    else:
        bars.legend.position = "b"
    bars.width, bars.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
    ws.add_chart(bars, chart.anchor)
