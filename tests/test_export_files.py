"""Files billers bring from the practice-management system: a CSV validated in place keeps its
encoding, an export whose only sheet is "Sheet1" is read, an old .xls gets "save it as .xlsx"."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "workbooks" / "sample"
AS_OF = "2026-11-27"


def _claims_text() -> str:
    rows = list(csv.reader(io.StringIO((SAMPLE / "claims.csv").read_text(encoding="utf-8"))))
    rows[1][3] = "Muñoz, José"  # Patient Name
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows[:6])
    return out.getvalue()


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
                         ids=["utf-8", "utf-8-with-bom", "windows-1252"])
def test_a_csv_validated_in_place_keeps_its_encoding(tmp_path, encoding, bom):
    path = tmp_path / "claims.csv"
    path.write_bytes(bom + _claims_text().encode(encoding))
    result = CliRunner().invoke(cli, ["validate", str(path), "--rules", str(SAMPLE / "rules.csv"),
                                      "--payers", str(SAMPLE / "payers.csv"), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") == bool(bom)
    assert "Muñoz, José".encode(encoding) in data
    text = data.decode(encoding).lstrip("\ufeff")
    header = next(csv.reader(io.StringIO(text)))
    assert "Status" in header and "Findings" in header
    assert "Ã" not in text


def _single_sheet_export(path: Path, title: str) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in csv.reader(io.StringIO((SAMPLE / "claims.csv").read_text(encoding="utf-8"))):
        ws.append(row)
    wb.save(path)
    return path


def test_an_export_whose_only_sheet_is_sheet1_is_read_as_the_claims(tmp_path):
    path = _single_sheet_export(tmp_path / "export.xlsx", "Sheet1")
    out = tmp_path / "report.csv"
    result = CliRunner().invoke(cli, ["validate", str(path), "--rules", str(SAMPLE / "rules.csv"), "--payers",
                                      str(SAMPLE / "payers.csv"), "--report", str(out), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) > 30


def test_a_workbook_with_several_sheets_and_no_claims_sheet_says_to_rename_it(tmp_path):
    import openpyxl

    path = _single_sheet_export(tmp_path / "export.xlsx", "Sheet1")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Sheet2")
    wb.save(path)
    result = CliRunner().invoke(cli, ["validate", str(path), "--rules", str(SAMPLE / "rules.csv"), "--payers",
                                      str(SAMPLE / "payers.csv"), "--report", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "'Sheet1', 'Sheet2'" in result.output and "rename the sheet" in result.output
    assert "Claims" in result.output


def test_an_old_xls_export_is_told_to_be_saved_as_xlsx(tmp_path):
    path = tmp_path / "claims.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    result = CliRunner().invoke(cli, ["validate", str(path), "--rules", str(SAMPLE / "rules.csv"), "--payers",
                                      str(SAMPLE / "payers.csv"), "--report", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "save it as .xlsx" in result.output
    assert "decod" not in result.output.lower()
