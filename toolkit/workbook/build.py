"""Build the macro-enabled front-end workbook (``mednec build-workbook``).

The workbook is generated from code, never hand-edited: a button re-saved by Excel becomes a
control that openpyxl only half keeps, so the committed file must always be reproducible.

How (see ``shared/reference/excel-frontend.md``): the VBA project is xlwings' own open-source
standalone template (``quickstart_standalone.xlsm``: the module ``xlwings`` with RunPython, no
add-in to install) with its sample ``Module1`` replaced by our ``Mednec`` module through
pyOpenVBA; xlsxwriter then writes the sheets, tables, drop-downs, traffic lights and buttons
around that ``vbaProject.bin``.  Dates in the document properties are fixed, so two builds
give the same bytes and a test can compare the committed file with a fresh build.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..tables import CLAIMS, DENIAL_STATUSES, DENIALS, PAYER_TYPES, PAYERS, RESULT_COLUMNS, RULES, SETTINGS, TableSpec

REPO = Path(__file__).resolve().parents[2]
# Installed from a wheel, the sample practice ships inside the package (setup.py copies
# workbooks/ to toolkit/shipped/); in the source tree it is read from workbooks/.
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "shipped"
_IN_REPO = (REPO / "workbooks" / "sample").is_dir()
# In the source tree the workbook lives in workbooks/; installed, it is written to the current folder.
_WORKBOOKS = REPO / "workbooks" if _IN_REPO else Path.cwd()
DEFAULT_OUT = _WORKBOOKS / "medical_necessity.xlsm"
SAMPLE_DIR = REPO / "workbooks" / "sample" if _IN_REPO else SHIPPED_DIR / "sample"
VBA_SOURCE = Path(__file__).resolve().parents[1] / "excel" / "vba" / "Mednec.bas"
VBA_MODULE = "Mednec"
BUILD_DATE = dt.datetime(2026, 1, 1, 0, 0, 0)  # fixed: reproducible bytes

# Button caption -> macro in Mednec.bas.  Tests check every one is bound to a macro that exists.
BUTTONS = {
    "validate": ("Validate Claims", "ValidateClaims"),
    "import": ("Import 835 Files", "Import835Files"),
    "appeal": ("Appeal Letter for Selected Denial", "AppealLetterForSelectedDenial"),
    "checklists": ("Build Checklists", "BuildChecklists"),
    "dashboard": ("Refresh Dashboard", "RefreshDashboard"),
    "digest": ("Monthly Digest", "MonthlyDigest"),
    "import837": ("Import 837 Files", "Import837Files"),
    "suggest": ("Suggest Rule Changes", "SuggestRuleChanges"),
}

# Settings rows a new practice fills in (Key, Value).  KPI targets have sensible defaults.
SETTING_ROWS = (
    ("Practice Name", None), ("Practice Address", None), ("Practice Phone", None), ("Practice NPI", None),
    ("Tax ID", None), ("Signer Name", None), ("Signer Title", None), ("Digest Recipients", None),
    ("SMTP Host", None), ("SMTP Port", None), ("SMTP User", None), ("SMTP From", None),
    ("Output Folder", None), ("Outbox Folder", None), ("Billing Manager E-mail", None),
    ("Target Denial Rate", 0.05), ("Target Days To Resubmission", 2),
    ("Baseline Medical Necessity Denials", None), ("ICD-10-CM Index", None), ("NCCI Index", None),
    ("Denial History Min", 2), ("Denial History Months", 12), ("Denial History Rate", 0.5),
    ("Therapy Code List", None),
)

SHEET_ORDER = ("Instructions", "Claims", "Rules", "Rule Suggestions", "Payers", "Denials", "Dashboard", "Settings",
               "xlwings.conf")

# Table header row: rows 1-2 hold the title and the buttons, frozen with the header.
HEADER_ROW = 2  # 0-based → Excel row 3
TABLE_ROWS = {"Claims": 10000, "Rules": 5000, "Payers": 1000, "Denials": 20000}

TEXT_COLUMNS = {
    "Claim ID", "Patient ID", "CPT/HCPCS", "Modifiers", "Dx Codes", "Prior Auth Number", "Rendering Provider",
    "Covered Dx", "Policy", "Denial ID", "CARC", "RARC", "Group Code", "Phone", "Fax", "Note Sections", "Sex",
    "Finding Codes",
}
WIDTHS = {
    "Claim ID": 12, "Line": 6, "Patient ID": 12, "Patient Name": 20, "Payer": 22, "CPT/HCPCS": 11,
    "Modifiers": 10, "Units": 7, "Dx Codes": 18, "Therapy Notes": 28, "Status": 10, "Finding Codes": 40,
    "Findings": 60, "Policy": 26, "Validated At": 18, "Covered Dx": 34, "Description": 30, "Notes": 30,
    "Reason": 40, "Address": 34, "Portal": 30, "Key": 36, "Value": 44, "Category": 20, "Root Cause": 22,
}

# Long text that must be read whole: wrapped in its cell, never cut off at the column edge.
WRAPPED_COLUMNS = {"Findings", "Finding Codes", "Policy", "Therapy Notes", "Covered Dx", "Notes", "Reason"}

TRAFFIC = {"GREEN": ("#C6EFCE", "#006100"), "AMBER": ("#FFEB9C", "#9C5700"), "RED": ("#FFC7CE", "#9C0006")}

INSTRUCTIONS = (
    ("Before you submit: check every claim line", None),
    ("1. Paste or type your claim lines into the Claims sheet (one row per line; keep the column headers), or "
     "press Import 837 Files and choose the 837P batch your practice-management system wrote.", None),
    ("2. Press Validate Claims. Every line gets a Status: GREEN = ready to submit, AMBER = fix the "
     "documentation or coding first, RED = it will be denied as it stands.", None),
    ("3. Read the Findings column of each AMBER or RED line: it says what is missing and what to do. "
     "Fix the line and press Validate Claims again.", None),
    ("4. The Rules sheet holds each payer's medical-necessity requirements (covered diagnoses, therapy weeks, "
     "imaging, prior authorization). Keep it up to date with your payers' policies.", None),
    ("When a denial comes back", None),
    ("5. Press Import 835 Files and choose the remittance files from your clearinghouse: the denials are added to "
     "the Denials sheet (importing a file twice adds nothing).", None),
    ("6. On the Denials sheet, click any cell of a denial's row and press Appeal Letter for Selected Denial: "
     "a Word letter is written to the output folder.", None),
    ("7. Build Checklists writes one checklist per rule for the front desk and the providers; Refresh Dashboard "
     "updates the numbers and charts; Monthly Digest writes the \"Did you know?\" e-mail for the team.", None),
    ("8. Suggest Rule Changes looks for payers that keep denying the same code for the same reason and proposes "
     "the Rules change, with the denials as evidence, on the Rule Suggestions sheet. Rules is never changed for "
     "you. Validate also warns (DENIAL_HISTORY) on a line like the ones a payer kept denying.", None),
    ("Good to know", None),
    ("- Fill in the Settings sheet once (practice name, address, NPI, signer, e-mail settings). Never put a "
     "password in the workbook.", None),
    ("- The buttons need Python and mednec installed on this PC (see the mednec user guide, \"Excel setup\"). "
     "If a button says "
     "\"Could not find Interpreter\", ask your administrator to run: mednec excel-setup --workbook <this file>.", None),
    ("- If something goes wrong, the message tells you the sheet, row and column. Details for support are in "
     "mednec.log next to this workbook (it contains no patient information).", None),
    ("- Save the workbook after pressing a button: the results are in the open workbook.", None),
)


# ---------------------------------------------------------------- VBA project

def template_path() -> Path:
    import xlwings

    return Path(xlwings.__file__).resolve().parent / "quickstart_standalone.xlsm"


def vba_project_bin(source: str | None = None) -> bytes:
    """xlwings' standalone VBA project with our module in place of its sample ``Module1``."""
    import shutil
    import tempfile

    from pyopenvba import ExcelFile

    text = source if source is not None else VBA_SOURCE.read_text(encoding="utf-8")
    text = "\r\n".join(text.splitlines()) + "\r\n"  # the VBE stores CRLF line ends
    with tempfile.TemporaryDirectory(prefix="mednec-vba-") as tmp:
        src, out = Path(tmp) / "template.xlsm", Path(tmp) / "with-module.xlsm"
        shutil.copyfile(template_path(), src)
        with ExcelFile(src) as wb:
            project = wb.vba_project()
            project.delete_module("Module1")
            project.add_module(VBA_MODULE, text)
            wb.save(out)
        with zipfile.ZipFile(out) as z:
            return z.read("xl/vbaProject.bin")


# ---------------------------------------------------------------- sample data

def load_sample(spec: TableSpec, folder: Path = SAMPLE_DIR) -> pd.DataFrame | None:
    """The engine issue's sample table (typed), or None when the CSV is not there."""
    from ..values import coerce_table
    from .files import read_table

    path = folder / f"{spec.name.lower()}.csv"
    if not path.exists():
        return None
    return coerce_table(spec, read_table(path, spec))


def _cell(value, kind: str):
    """A typed value → what xlsxwriter writes (None = blank cell)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if kind == "yn":
        return "Y" if bool(value) else "N"
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and kind in ("int", "number"):
        return int(value)
    if isinstance(value, str) and not value:
        return None
    return value


def _rows(spec: TableSpec, headers: list[str], frame: pd.DataFrame | None) -> list[list]:
    if frame is None or frame.empty:
        return []
    kinds = {c.header: c.kind for c in spec.columns}
    columns = [frame[h].tolist() if h in frame.columns else [None] * len(frame) for h in headers]
    return [[_cell(v, kinds.get(h, "text")) for v, h in zip(values, headers)] for values in zip(*columns)]


# ---------------------------------------------------------------- the workbook

class _Formats:
    def __init__(self, wb):
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F3864"})
        self.heading = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3864"})
        self.hint = wb.add_format({"italic": True, "font_color": "#595959"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.text = wb.add_format({"num_format": "@"})
        self.date = wb.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.money = wb.add_format({"num_format": "#,##0.00"})
        self.percent = wb.add_format({"num_format": "0.0%"})
        self.findings = wb.add_format({"text_wrap": True, "valign": "top"})
        self.header = wb.add_format({"bold": True, "bg_color": "#1F3864", "font_color": "#FFFFFF"})
        self.traffic = {s: wb.add_format({"bg_color": bg, "font_color": fg}) for s, (bg, fg) in TRAFFIC.items()}


def _column_format(fmt: _Formats, header: str, kind: str):
    if kind == "date":
        return fmt.date
    if kind == "datetime" or header == "Validated At":
        return fmt.datetime
    if kind == "money":
        return fmt.money
    if header in WRAPPED_COLUMNS:
        return fmt.findings
    if header in TEXT_COLUMNS or kind == "code":
        return fmt.text
    return None


def _width(header: str, kind: str) -> float:
    if header in WIDTHS:
        return WIDTHS[header]
    if kind == "date":
        return 12
    if kind in ("yn", "int", "number"):
        return max(8, min(len(header) + 2, 14))
    return max(12, min(len(header) + 3, 24))


def _col(n: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(n)


def _add_table(wb, ws, fmt: _Formats, spec: TableSpec, headers: list[str], rows: list[list], *,
               style: str = "Table Style Medium 2", first_col_freeze: int = 0) -> tuple[int, int]:
    """An Excel Table at the header row; returns (first data row, last data row), 0-based."""
    kinds = {c.header: c.kind for c in spec.columns}
    last = HEADER_ROW + max(len(rows), 1)
    columns = []
    for i, header in enumerate(headers):
        kind = kinds.get(header, "text")
        cf = _column_format(fmt, header, kind)
        ws.set_column(i, i, _width(header, kind), cf)
        col = {"header": header}
        if cf is not None:
            col["format"] = cf
        columns.append(col)
    options = {"name": spec.table, "columns": columns, "style": style}
    if rows:
        options["data"] = rows
    ws.add_table(HEADER_ROW, 0, last, len(headers) - 1, options)
    ws.freeze_panes(HEADER_ROW + 1, first_col_freeze)
    _print_setup(ws, repeat_header=True)
    return HEADER_ROW + 1, last


def _print_setup(ws, *, repeat_header: bool) -> None:
    """Landscape, one page wide (as many tall as needed), the header row on every page."""
    ws.set_landscape()
    ws.set_paper(1)  # Letter
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if repeat_header:
        ws.repeat_rows(HEADER_ROW)
    ws.set_footer("&L&A&RPage &P of &N")


def _title(ws, fmt: _Formats, title: str, hint: str) -> None:
    ws.set_row(0, 30)
    ws.write(0, 0, title, fmt.title)
    ws.write(1, 0, hint, fmt.hint)


def _button(ws, row: int, col: int, key: str, *, width: int = 190, x_offset: int = 0) -> None:
    caption, macro = BUTTONS[key]
    ws.insert_button(row, col, {"macro": macro, "caption": caption, "width": width, "height": 30,
                                "x_offset": x_offset, "y_offset": 4})


def _yn_validation(ws, headers, spec, first, last):
    for i, header in enumerate(headers):
        if header in spec.headers and spec.column(header).kind == "yn":
            ws.data_validation(first, i, last, i, {
                "validate": "list", "source": ["Y", "N"], "error_type": "stop",
                "error_title": header, "error_message": "Type Y or N (or leave it blank)."})


def sample_settings(sample_dir: Path) -> dict[str, str]:
    """The sample practice's letterhead and signer (``settings.csv``), so letters work out of the box."""
    from ..values import settings_from_table
    from .files import read_csv

    path = Path(sample_dir) / "settings.csv"
    return settings_from_table(read_csv(path)) if path.exists() else {}


def build_workbook(out: Path | str = DEFAULT_OUT, *, sample_dir: Path | None = SAMPLE_DIR) -> Path:
    """Write the front-end workbook to ``out`` (atomically) and return its path."""
    from .files import atomic_write

    out = Path(out)
    vba = vba_project_bin()
    samples = {spec.name: (load_sample(spec, sample_dir) if sample_dir else None) for spec in (CLAIMS, RULES, PAYERS)}
    samples["Settings"] = sample_settings(sample_dir) if sample_dir else {}
    atomic_write(out, lambda tmp: _write(tmp, vba, samples))
    return out


def _write(path, vba: bytes, samples: dict) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({
        "title": "Medical necessity: claims, rules, denials",
        "subject": "Check claim lines for medical necessity before submitting them",
        "author": "mednec", "company": "", "created": BUILD_DATE,
        "comments": "Built by `mednec build-workbook`; do not edit the buttons by hand.",
    })
    wb.set_custom_property("Generator", "mednec build-workbook")
    wb.add_vba_project(io.BytesIO(vba), is_stream=True)
    wb.set_vba_name("ThisWorkbook")
    fmt = _Formats(wb)
    sheets = {name: wb.add_worksheet(name) for name in SHEET_ORDER}
    # Document modules of the template: Sheet1 and Sheet2.  The other sheets get code names too;
    # Excel adds their (empty) document modules when it opens the file.
    for i, name in enumerate(SHEET_ORDER, start=1):
        sheets[name].set_vba_name(f"Sheet{i}")

    _payers_sheet(wb, sheets, fmt, samples)
    _rules_sheet(wb, sheets, fmt, samples)
    _claims_sheet(wb, sheets, fmt, samples)
    _denials_sheet(wb, sheets, fmt)
    # Rule Suggestions: a plain range under a header (its length changes with every run)
    _suggestions_sheet(sheets["Rule Suggestions"], fmt)
    _dashboard_sheet(wb, sheets, fmt)
    _settings_sheet(wb, sheets, fmt, samples)
    _instructions_sheet(wb, sheets, fmt)
    _xlwings_conf_sheet(wb, sheets, fmt)
    wb.close()


def _payers_sheet(wb, sheets: dict, fmt: _Formats, samples: dict) -> None:
    """Payers, written first: the Payer drop-downs of the other sheets refer to it."""
    ws = sheets["Payers"]
    _title(ws, fmt, "Payers",
           "One row per payer. Payer Type, Timely Filing Days and Appeal Window Days drive the checks.")
    first, last = _add_table(wb, ws, fmt, PAYERS, PAYERS.headers, _rows(PAYERS, PAYERS.headers, samples.get("Payers")))
    end = HEADER_ROW + TABLE_ROWS["Payers"]
    ws.data_validation(first, 1, end, 1, {"validate": "list", "source": list(PAYER_TYPES), "error_type": "stop",
                                          "error_title": "Payer Type",
                                          "error_message": "Choose Medicare, Medicare Advantage, Medicaid, "
                                                           "Commercial or Other."})
    wb.define_name("PayerList", f"=Payers!$A${first + 1}:$A${end + 1}")


def _rules_sheet(wb, sheets: dict, fmt: _Formats, samples: dict) -> None:
    """Rules: the medical-necessity matrix, with the Build Checklists button."""
    ws = sheets["Rules"]
    _title(ws, fmt, "Rules", "Each payer's medical-necessity requirements per procedure. Use your own words in "
                             "Description (do not paste AMA CPT descriptors).")
    _button(ws, 0, 4, "checklists")
    first, last = _add_table(wb, ws, fmt, RULES, RULES.headers, _rows(RULES, RULES.headers, samples.get("Rules")),
                             first_col_freeze=2)
    end = HEADER_ROW + TABLE_ROWS["Rules"]
    ws.data_validation(first, 0, end, 0, _payer_validation())
    _yn_validation(ws, RULES.headers, RULES, first, end)
    wb.define_name("CodeList", f"=Rules!$B${first + 1}:$B${end + 1}")


def _claims_sheet(wb, sheets: dict, fmt: _Formats, samples: dict) -> None:
    """Claims: the lines billers validate, whole rows tinted by Status."""
    ws = sheets["Claims"]
    headers = CLAIMS.headers + list(RESULT_COLUMNS)
    _title(ws, fmt, "Claims", "One row per claim line. Press Validate Claims: Status, Findings and Policy are filled "
                              "in on the right (GREEN ready, AMBER fix first, RED will be denied).")
    _button(ws, 0, 3, "validate", width=150)
    _button(ws, 0, 5, "import837", width=150)
    first, last = _add_table(wb, ws, fmt, CLAIMS, headers, _rows(CLAIMS, headers, samples.get("Claims")),
                             first_col_freeze=2)
    end = HEADER_ROW + TABLE_ROWS["Claims"]
    ws.data_validation(first, headers.index("Payer"), end, headers.index("Payer"), _payer_validation())
    cpt = headers.index("CPT/HCPCS")
    ws.data_validation(first, cpt, end, cpt, {
        "validate": "list", "source": "=CodeList", "error_type": "information",
        "error_title": "CPT/HCPCS", "error_message": "This code has no rule in the Rules sheet: Validate will "
                                                     "say necessity cannot be confirmed (NO_POLICY)."})
    ws.data_validation(first, headers.index("Sex"), end, headers.index("Sex"), {
        "validate": "list", "source": ["M", "F", "U"], "error_type": "warning",
        "error_title": "Sex", "error_message": "Use M, F or U."})
    _yn_validation(ws, headers, CLAIMS, first, end)
    status = _col(headers.index("Status"))
    whole_row = f"A{first + 1}:{_col(len(headers) - 1)}{end + 1}"
    for value, cf in fmt.traffic.items():
        ws.conditional_format(whole_row, {"type": "formula", "criteria": f'=${status}{first + 1}="{value}"',
                                          "format": cf})
    ws.set_column(headers.index("Status"), headers.index("Status"), WIDTHS["Status"])
    ws.activate()


def _denials_sheet(wb, sheets: dict, fmt: _Formats) -> None:
    """Denials: the log, with the Import 835 and Appeal Letter buttons."""
    ws = sheets["Denials"]
    _title(ws, fmt, "Denials", "The denial log. Import 835 Files adds denials; click a denial's row, then Appeal "
                               "Letter for Selected Denial.")
    _button(ws, 0, 3, "import", width=150)
    _button(ws, 0, 5, "appeal", width=240)
    first, last = _add_table(wb, ws, fmt, DENIALS, DENIALS.headers, [], first_col_freeze=2)
    end = HEADER_ROW + TABLE_ROWS["Denials"]
    col = DENIALS.headers.index("Status")
    ws.data_validation(first, col, end, col, {"validate": "list", "source": list(DENIAL_STATUSES),
                                              "error_type": "stop", "error_title": "Denial Status",
                                              "error_message": "Choose " + ", ".join(DENIAL_STATUSES) + "."})
    col = DENIALS.headers.index("Payer")
    ws.data_validation(first, col, end, col, _payer_validation())
    col = DENIALS.headers.index("Group Code")
    ws.data_validation(first, col, end, col, {"validate": "list", "source": ["CO", "PR", "OA", "PI"],
                                              "error_type": "warning", "error_title": "Group Code",
                                              "error_message": "Group codes are CO, PR, OA or PI."})


def _dashboard_sheet(wb, sheets: dict, fmt: _Formats) -> None:
    """Dashboard: its fixed ranges and charts (filled by Refresh Dashboard)."""
    ws = sheets["Dashboard"]
    add_dashboard: Callable[[Any, Any], None] | None
    try:
        from ..dashboard import add_dashboard_sheet as add_dashboard
    except ImportError:
        add_dashboard = None
    if add_dashboard is not None:
        add_dashboard(wb, ws)
        ws.set_row(0, 30)
        _button(ws, 0, 3, "dashboard", width=150)
        _button(ws, 0, 5, "digest", width=150)
    else:
        _title(ws, fmt, "Dashboard", "Press Refresh Dashboard (on the Instructions sheet) to compute the "
                                     "denial figures.")


def _settings_sheet(wb, sheets: dict, fmt: _Formats, samples: dict) -> None:
    """Settings: Key/Value rows a practice fills in once (never a password)."""
    ws = sheets["Settings"]
    _title(ws, fmt, "Settings", "Fill in once. Never put a password here.")
    practice = samples.get("Settings") or {}
    rows = [[k, practice.get(k, v)] for k, v in SETTING_ROWS]
    _add_table(wb, ws, fmt, SETTINGS, SETTINGS.headers, rows, style="Table Style Light 9")
    ws.set_column(1, 1, WIDTHS["Value"], fmt.text)
    key_row = {k: HEADER_ROW + 1 + i for i, (k, _) in enumerate(SETTING_ROWS)}
    ws.write_number(key_row["Target Denial Rate"], 1, 0.05, fmt.percent)
    ws.write_number(key_row["Target Days To Resubmission"], 1, 2)
    for key in ("Denial History Min", "Denial History Months"):
        ws.write_number(key_row[key], 1, dict(SETTING_ROWS)[key])
    ws.write_number(key_row["Denial History Rate"], 1, 0.5, fmt.percent)


def _instructions_sheet(wb, sheets: dict, fmt: _Formats) -> None:
    """Instructions: the steps of a day and every button."""
    ws = sheets["Instructions"]
    ws.set_column(0, 0, 4)
    ws.set_column(1, 1, 110, fmt.wrap)
    ws.set_column(2, 2, 4)
    ws.set_column(3, 3, 40)
    ws.set_row(0, 30)
    ws.write(0, 1, "Medical necessity workbook", fmt.title)
    row = 2
    for text, _ in INSTRUCTIONS:
        is_heading = not text[:1].isdigit() and not text.startswith("-")
        ws.write(row, 1, text, fmt.heading if is_heading else fmt.wrap)
        if not is_heading and len(text) > 110:
            ws.set_row(row, 15 * (len(text) // 100 + 1))
        row += 1
    ws.write(1, 3, "Buttons", fmt.heading)
    for i, key in enumerate(BUTTONS):
        _button(ws, 2 + 2 * i, 3, key, width=260)
    ws.hide_gridlines(2)
    _print_setup(ws, repeat_header=False)


def _xlwings_conf_sheet(wb, sheets: dict, fmt: _Formats) -> None:
    """xlwings.conf, hidden: read by xlwings' RunPython (keys in A from A1, values in B)."""
    # The interpreter keys are added by `mednec excel-setup`; a blank key here would hide the
    # user's own ~/.xlwings/xlwings.conf, so none is written by default.
    ws = sheets["xlwings.conf"]
    ws.write(0, 0, "ADD_WORKBOOK_TO_PYTHONPATH")
    ws.write(0, 1, "true")
    ws.hide()


def _suggestions_sheet(ws, fmt: _Formats) -> None:
    from ..jobs.rules import SUGGESTIONS_HINT
    from ..suggestions import RULE_SUGGESTIONS

    _title(ws, fmt, RULE_SUGGESTIONS.name, SUGGESTIONS_HINT)
    _button(ws, 0, 3, "suggest", width=190)
    widths = {"Payer": 22, "Rule Column": 20, "Current": 30, "Proposed": 30, "Why": 70, "Denial IDs": 34,
              "Codes": 24, "Policy": 26, "Decision": 12}
    for i, column in enumerate(RULE_SUGGESTIONS.columns):
        cf = fmt.date if column.kind == "date" else fmt.money if column.kind == "money" else \
            fmt.text if column.kind in ("code", "text") else None
        ws.set_column(i, i, widths.get(column.header, _width(column.header, column.kind)), cf)
        ws.write(HEADER_ROW, i, column.header, fmt.header)
    ws.freeze_panes(HEADER_ROW + 1, 2)


def _payer_validation() -> dict:
    return {"validate": "list", "source": "=PayerList", "error_type": "warning",
            "error_title": "Payer", "error_message": "This payer is not in the Payers sheet: add it there first, "
                                                     "or Validate will flag it (PAYER_UNKNOWN)."}


def rows_of_work(path: Path | str) -> str:
    """What a biller's work in an existing workbook amounts to ("12 claim lines, 5 denials"), or ""
    when there is none: empty tables, or exactly the shipped sample as a build writes it (no
    results, no denials), which a rebuild may replace without asking."""
    from ..tables import RESULT_COLUMNS
    from ..workbook.files import ReadOnlyWorkbook

    try:
        book = ReadOnlyWorkbook(path)
    except Exception:  # not a workbook we can read: treat it as work, never destroy it silently
        return "data mednec cannot read"
    counts: dict[str, int] = {}
    untouched_sample = True
    for spec, noun in ((CLAIMS, "claim lines"), (RULES, "rules"), (PAYERS, "payers"), (DENIALS, "denials")):
        frame = book.read_table(spec) if book.has_table(spec) else pd.DataFrame()
        counts[noun] = len(frame)
        if spec is DENIALS:
            untouched_sample &= frame.empty
            continue
        sample = load_sample(spec, SAMPLE_DIR)
        key = spec.headers[0]
        if sample is None or len(sample) != len(frame) or key not in frame.columns or \
                sorted(map(str, frame[key])) != sorted(map(str, sample[key])):
            untouched_sample = False
        if spec is CLAIMS and any(c in frame.columns and frame[c].notna().any() and
                                  (frame[c].astype(str).str.strip() != "").any() for c in RESULT_COLUMNS):
            untouched_sample = False
    if untouched_sample or not any(counts.values()):
        return ""
    return ", ".join(f"{n} {noun}" for noun, n in counts.items() if n)


def zip_parts(path: Path | str) -> dict[str, bytes]:
    """Every part of an OOXML package by name: for comparing two builds."""
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}
