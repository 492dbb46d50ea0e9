"""`mednec validate` as a biller runs it: in place, to a report, and on bad input."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import AS_OF, REPO, SAMPLE, build_user_workbook
from python_calamine import CalamineWorkbook

RESULT_HEADERS = ["Status", "Finding Codes", "Findings", "Policy", "Validated At"]


def all_cells(path: Path) -> dict:
    """Every cell of every sheet, read by an independent reader (python-calamine)."""
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def result_columns(path: Path) -> list[int]:
    header = all_cells(path)["Claims"][0]
    return [i for i, h in enumerate(header) if h in RESULT_HEADERS]


def report_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- in place

def test_validate_in_place_fills_only_the_result_columns(user_workbook, cli):
    before = all_cells(user_workbook)
    result = cli("validate", user_workbook, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "GREEN" in result.output and "RED" in result.output
    after = all_cells(user_workbook)
    assert set(after) == set(before)
    for sheet in before:
        if sheet != "Claims":
            assert after[sheet] == before[sheet], sheet
    width = len(before["Claims"][0])
    assert after["Claims"][0][width:] == RESULT_HEADERS
    for old, new in zip(before["Claims"], after["Claims"]):
        assert new[:width] == old[:width]  # every original cell unchanged
    statuses = {row[width] for row in after["Claims"][1:]}
    assert statuses == {"GREEN", "AMBER", "RED"}


def test_validate_in_place_keeps_tables_validations_and_formats(user_workbook, cli):
    cli("validate", user_workbook, "--as-of", AS_OF)
    wb = openpyxl.load_workbook(user_workbook)
    ws = wb["Claims"]
    table = ws.tables["tblClaims"]
    assert table.ref == f"A1:AB{ws.max_row}"  # widened over the five result columns
    assert [c.name for c in table.tableColumns][-5:] == RESULT_HEADERS
    assert len(ws.data_validations.dataValidation) == 1
    assert len(list(ws.conditional_formatting)) == 1
    assert {"tblRules", "tblPayers"} <= {n for s in wb.worksheets for n in s.tables}


def test_second_run_overwrites_results_in_the_same_columns(user_workbook, cli):
    cli("validate", user_workbook, "--as-of", AS_OF)
    first = all_cells(user_workbook)
    cli("validate", user_workbook, "--as-of", AS_OF)
    second = all_cells(user_workbook)
    assert len(second["Claims"][0]) == len(first["Claims"][0])
    def strip(rows):
        return [r[:-1] for r in rows]  # Validated At is the run's timestamp

    assert strip(second["Claims"]) == strip(first["Claims"])


def test_sample_statuses_in_the_workbook(user_workbook, cli):
    cli("validate", user_workbook, "--as-of", AS_OF)
    rows = all_cells(user_workbook)["Claims"]
    header = rows[0]
    by_claim = {(r[0], r[1]): dict(zip(header, r)) for r in rows[1:]}
    assert by_claim[("000101", "1")]["Status"] == "GREEN"
    assert by_claim[("000103", "1")]["Finding Codes"].startswith("DX_NOT_BILLABLE")
    assert by_claim[("000112", "1")]["Finding Codes"] == "LATERALITY_CONFLICT"


def test_macro_enabled_workbook_keeps_its_vba_project_byte_for_byte(tmp_path, cli):
    built = REPO / "workbooks" / "medical_necessity.xlsm"
    if not built.exists():
        pytest.skip("the front-end workbook has not been built")
    book = tmp_path / built.name
    shutil.copy(built, book)
    with zipfile.ZipFile(book) as z:
        vba_before = z.read("xl/vbaProject.bin")
        parts_before = set(z.namelist())
    result = cli("validate", book, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(book) as z:
        assert z.read("xl/vbaProject.bin") == vba_before
        kept = {p for p in parts_before if any(k in p for k in ("vml", "drawing", "tables/", "vbaProject"))}
        assert kept <= set(z.namelist())  # buttons, tables and macros still there
    from toolkit.tables import CLAIMS
    from toolkit.workbook.files import read_table

    claims = read_table(book, CLAIMS)
    assert len(claims) and claims["Status"].isin(["GREEN", "AMBER", "RED"]).all()


def test_csv_in_place_keeps_separator_and_adds_result_columns(tmp_path, cli):
    src = (SAMPLE / "claims.csv").read_text(encoding="utf-8")
    claims = tmp_path / "claims.csv"
    rows = list(csv.reader(src.splitlines()))
    with open(claims, "w", newline="", encoding="utf-8-sig") as fh:  # Excel "CSV UTF-8" in Europe
        csv.writer(fh, delimiter=";").writerows(rows)
    result = cli("validate", claims, "--rules", SAMPLE / "rules.csv", "--payers", SAMPLE / "payers.csv",
                 "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    raw = claims.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    out = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))
    assert out[0] == rows[0] + RESULT_HEADERS
    assert [r[: len(rows[0])] for r in out[1:]] == rows[1:]


# ---------------------------------------------------------------- reports

def test_report_csv_leaves_the_input_untouched(sample_csvs, tmp_path, cli):
    before = sample_csvs["claims"].read_bytes()
    out = tmp_path / "report.csv"
    result = cli("validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers",
                 sample_csvs["payers"], "--report", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert sample_csvs["claims"].read_bytes() == before
    rows = report_rows(out)
    assert list(rows[0])[:6] == ["Claim ID", "Line", "Status", "Finding Codes", "Findings", "Policy"]
    assert rows[0]["Claim ID"] == "000101"  # leading zeros survive
    assert "ICD-10-CM FY2027" in rows[0]["Code Set"]  # dates of service from 2026-10-01
    assert len(rows) == 41


def test_report_xlsx_from_a_workbook(user_workbook, tmp_path, cli):
    before = user_workbook.read_bytes()
    out = tmp_path / "report.xlsx"
    result = cli("validate", user_workbook, "--report", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert user_workbook.read_bytes() == before
    cells = all_cells(out)
    assert cells["Report"][0][:6] == ["Claim ID", "Line", "Status", "Finding Codes", "Findings", "Policy"]
    assert cells["Report"][1][0] == "000101"
    assert any("ICD-10-CM" in str(v) for row in cells["About"] for v in row)


def test_rules_and_payers_override_from_csv(user_workbook, tmp_path, cli):
    rules = tmp_path / "rules.csv"
    rules.write_text("Payer,CPT/HCPCS,Covered Dx\nMedicare,72148,M54.5*\n", encoding="utf-8")
    out = tmp_path / "r.csv"
    cli("validate", user_workbook, "--rules", rules, "--report", out, "--as-of", AS_OF)
    row = {r["Claim ID"]: r for r in report_rows(out)}["000123"]  # Medicare 72148, M54.59
    assert "DX_NOT_COVERED" not in row["Finding Codes"]
    assert "NO_POLICY" in {r["Claim ID"]: r for r in report_rows(out)}["000101"]["Finding Codes"]


def test_python_api_matches_the_cli(sample_csvs, tmp_path, cli):
    from toolkit import validate_claims

    claims = pd.read_csv(sample_csvs["claims"], dtype=str, keep_default_na=False)
    rules = pd.read_csv(sample_csvs["rules"], dtype=str, keep_default_na=False)
    payers = pd.read_csv(sample_csvs["payers"], dtype=str, keep_default_na=False)
    api = validate_claims(claims, rules, payers, as_of=AS_OF)
    out = tmp_path / "r.csv"
    cli("validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers", sample_csvs["payers"],
        "--report", out, "--as-of", AS_OF)
    assert api["Finding Codes"].tolist() == [r["Finding Codes"] for r in report_rows(out)]


# ---------------------------------------------------------------- bad input

def _one_line_error(result, *needles):
    assert result.exit_code != 0
    message = result.output.strip()
    assert "\n" not in message.splitlines()[-1]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in message, message
    return message


def test_missing_required_header(tmp_path, sample_csvs, cli):
    text = sample_csvs["claims"].read_text().replace("Date of Service", "Service Date", 1)
    sample_csvs["claims"].write_text(text)
    before = sample_csvs["claims"].read_bytes()
    result = cli("validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers", sample_csvs["payers"])
    _one_line_error(result, "claims.csv", "missing required column 'Date of Service'")
    assert sample_csvs["claims"].read_bytes() == before


def test_empty_file(tmp_path, sample_csvs, cli):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("validate", empty, "--rules", sample_csvs["rules"], "--payers", sample_csvs["payers"])
    _one_line_error(result, "empty.csv", "empty")


def test_corrupt_workbook(tmp_path, cli):
    bad = tmp_path / "claims.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip file")
    result = cli("validate", bad)
    _one_line_error(result, "claims.xlsx", "not a valid Excel workbook")
    assert bad.read_bytes() == b"PK\x03\x04 this is not really a zip file"


def test_text_in_a_date_cell_names_file_sheet_row_and_column(tmp_path, cli):
    book = tmp_path / "claims.xlsx"
    build_user_workbook(book)
    wb = openpyxl.load_workbook(book)
    wb["Claims"]["O5"] = "last spring"  # Imaging Date of the 4th claim line
    wb.save(book)
    before = book.read_bytes()
    result = cli("validate", book)
    message = _one_line_error(result, "claims.xlsx", "sheet Claims", "row 5", "column Imaging Date", "not a date")
    assert "MRN" not in message
    assert book.read_bytes() == before


def test_locked_workbook_is_refused(user_workbook, cli):
    lock = user_workbook.with_name("~$" + user_workbook.name)
    lock.write_bytes(b"owner")
    before = user_workbook.read_bytes()
    result = cli("validate", user_workbook)
    _one_line_error(result, "open in Excel", "nothing was changed")
    assert user_workbook.read_bytes() == before


def test_csv_with_byte_order_mark_and_semicolons_is_read(tmp_path, cli):
    rows = list(csv.reader((SAMPLE / "claims.csv").read_text().splitlines()))
    claims = tmp_path / "claims.csv"
    with open(claims, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    out = tmp_path / "r.csv"
    result = cli("validate", claims, "--rules", SAMPLE / "rules.csv", "--payers", SAMPLE / "payers.csv",
                 "--report", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert report_rows(out)[0]["Claim ID"] == "000101"
    assert report_rows(out)[0]["Status"] == "GREEN"


def test_blank_rows_are_skipped(tmp_path, cli):
    rows = list(csv.reader((SAMPLE / "claims.csv").read_text().splitlines()))
    claims = tmp_path / "claims.csv"
    with open(claims, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows(rows[:3] + [[""] * len(rows[0])] + rows[3:5])
    out = tmp_path / "r.csv"
    cli("validate", claims, "--rules", SAMPLE / "rules.csv", "--payers", SAMPLE / "payers.csv", "--report", out,
        "--as-of", AS_OF)
    assert [r["Claim ID"] for r in report_rows(out)] == ["000101", "000102", "000103", "000104"]


def test_csv_without_rules_asks_for_them(sample_csvs, cli):
    result = cli("validate", sample_csvs["claims"])
    _one_line_error(result, "--rules", "--payers")


def test_bad_as_of_date(sample_csvs, cli):
    result = cli("validate", sample_csvs["claims"], "--as-of", "27/11/2026")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_mednec_command_exit_codes(sample_csvs, tmp_path):
    """The installed console script: exit 0 when it ran, non-zero with one line on bad input."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "toolkit", "validate", str(sample_csvs["claims"]), "--rules",
                         str(sample_csvs["rules"]), "--payers", str(sample_csvs["payers"]), "--report",
                         str(tmp_path / "r.csv")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "toolkit", "validate", str(tmp_path / "missing.xlsx")],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "Error: missing.xlsx: file not found"


def test_a_bad_date_of_birth_is_not_repeated_in_the_message(tmp_path, cli):
    book = tmp_path / "claims.xlsx"
    build_user_workbook(book)
    wb = openpyxl.load_workbook(book)
    wb["Claims"]["E3"] = "14/03/1951x"  # Date of Birth of the 2nd claim line
    wb.save(book)
    result = cli("validate", book)
    message = _one_line_error(result, "row 3", "column Date of Birth", "the value is not a date")
    assert "1951" not in message


def test_an_unwritable_report_folder_is_one_line(sample_csvs, tmp_path, cli):
    in_the_way = tmp_path / "reports"
    in_the_way.write_text("a file where a folder should be")
    result = cli("validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers",
                 sample_csvs["payers"], "--report", in_the_way / "r.csv")
    _one_line_error(result, "r.csv: cannot write in", "reports")
    assert in_the_way.read_text() == "a file where a folder should be"


def test_a_validation_runs_with_the_cycle_collector_paused_and_restores_it(tmp_path, workbook):
    """The collector is off while the checks run (CSV report, 837P batch, the workbook) and on
    again afterwards, after a refused file too."""
    import gc

    import pytest
    from conftest import REPO

    from toolkit.errors import InputError
    from toolkit.jobs.validate import ValidateRequest, run_validate

    sample = REPO / "workbooks" / "sample"
    seen: list[bool] = []

    def progress(done, total, **_):
        seen.append(gc.isenabled())

    batch = REPO / "tests" / "fixtures" / "x12_837p" / "riverside_batch.837"
    for request in (ValidateRequest(sample / "claims.csv", tmp_path / "r.csv", sample / "rules.csv",
                                    sample / "payers.csv", progress=progress),
                    ValidateRequest(batch, tmp_path / "b.csv", sample / "rules.csv", sample / "payers.csv",
                                    progress=progress),
                    ValidateRequest(workbook, progress=progress)):
        seen.clear()
        assert gc.isenabled()
        run_validate(request)
        assert seen and not any(seen)
        assert gc.isenabled()
    with pytest.raises(InputError):
        run_validate(ValidateRequest(tmp_path / "missing.csv", tmp_path / "r2.csv"))
    assert gc.isenabled()
