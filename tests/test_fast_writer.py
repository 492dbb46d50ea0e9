"""The fast in-place writer (toolkit.workbook.fastxlsx) leaves a workbook exactly as the openpyxl
path does — every cell of every sheet, formats, Tables, validations, VBA — read back by openpyxl,
python-calamine and LibreOffice; and it hands over to openpyxl, saying so, where it cannot."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import AS_OF, REPO, SAMPLE, build_user_workbook
from workbook_compare import assert_same_workbook

from toolkit.jobs.denials import import_835_files
from toolkit.jobs.validate import validate_book
from toolkit.tables import CLAIMS, DENIALS, PAYERS, RESULT_COLUMNS, RULES
from toolkit.validation import run_checks
from toolkit.workbook.fastxlsx import FastBook, open_book
from toolkit.workbook.files import WorkbookFile

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
NOW = pd.Timestamp("2026-11-27 09:30").to_pydatetime()


def _results_for(path: Path) -> pd.DataFrame:
    book = FastBook(path, writable=False)  # calamine: the same values the checks see on either path
    validation = run_checks(book.read_table(CLAIMS), book.read_table(RULES), book.read_table(PAYERS),
                            as_of=AS_OF, now=NOW)
    return validation.results[list(RESULT_COLUMNS)]


def _both_ways(src: Path, tmp_path: Path, edit) -> tuple[Path, Path]:
    """``edit(book)`` applied to a copy through the fast writer and to a copy through openpyxl."""
    fast, slow = tmp_path / f"fast{src.suffix}", tmp_path / f"slow{src.suffix}"
    shutil.copyfile(src, fast)
    shutil.copyfile(src, slow)
    book = FastBook(fast)
    edit(book)
    book.save()
    assert book.fallback_note is None, book.fallback_note
    old = WorkbookFile(slow)
    edit(old)
    old.save()
    return fast, slow


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_validate_results_written_by_the_fast_writer_match_openpyxl_on_the_shipped_workbook(tmp_path):
    src = REPO / "workbooks" / "medical_necessity.xlsm"
    results = _results_for(src)
    fast, slow = _both_ways(src, tmp_path, lambda b: b.write_columns(CLAIMS, results))
    assert_same_workbook(fast, slow)
    before, after = _parts(src), _parts(fast)
    assert sorted(before) == sorted(after)
    changed = sorted(n for n in before if before[n] != after[n])
    assert changed == ["xl/worksheets/sheet2.xml"]  # only the Claims sheet; VBA and the rest byte for byte
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]


def test_validate_in_place_through_the_fast_writer_writes_every_status(tmp_path):
    book_path = tmp_path / "book.xlsm"
    shutil.copyfile(REPO / "workbooks" / "medical_necessity.xlsm", book_path)
    book = open_book(book_path)
    validation = validate_book(book, as_of=AS_OF)
    assert book.fallback_note is None
    again = WorkbookFile(book_path, writable=False).read_table(CLAIMS)
    assert again["Status"].tolist() == validation.results["Status"].tolist()
    assert set(again["Status"]) <= {"GREEN", "AMBER", "RED"}


def test_a_user_workbook_without_result_columns_gets_them_added_like_openpyxl_does(tmp_path):
    src = build_user_workbook(tmp_path / "user.xlsx")
    results = _results_for(src)
    fast, slow = _both_ways(src, tmp_path, lambda b: b.write_columns(CLAIMS, results))
    assert_same_workbook(fast, slow)
    table = WorkbookFile(fast, writable=False)._table(CLAIMS)[1]
    assert table.ref.endswith(f"AB{len(results) + 1}")
    assert [c.name for c in table.tableColumns][-5:] == list(RESULT_COLUMNS)


def _excel_like_workbook(tmp_path: Path) -> Path:
    """A user workbook with rich text, merged cells and formulas outside the table (openpyxl-written)."""
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    path = build_user_workbook(tmp_path / "in" / "claims.xlsx") if (tmp_path / "in").mkdir() is None else None
    wb = openpyxl.load_workbook(path, rich_text=True)
    notes = wb["Notes"]
    notes["A5"] = CellRichText(["Plain ", TextBlock(InlineFont(b=True), "bold"), " end"])
    notes.merge_cells("A7:C8")
    notes["A7"] = "merged"
    claims = wb["Claims"]
    claims["AD2"] = "=K2*2"
    claims["AD3"] = "=SUM(K2:K5)"
    claims.merge_cells("AE2:AF3")
    wb.save(path)
    return path


def test_fast_writer_matches_openpyxl_on_a_workbook_with_rich_text_merged_cells_and_formulas(tmp_path):
    src = _excel_like_workbook(tmp_path)
    results = _results_for(src)
    fast, slow = _both_ways(src, tmp_path, lambda b: b.write_columns(CLAIMS, results))
    assert_same_workbook(fast, slow)
    ws = __import__("openpyxl").load_workbook(fast)["Claims"]
    assert ws["AD2"].value == "=K2*2" and "AE2:AF3" in [str(m) for m in ws.merged_cells.ranges]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
def test_fast_writer_matches_openpyxl_on_a_libreoffice_saved_workbook_with_shared_strings(tmp_path):
    src = _excel_like_workbook(tmp_path)
    out = tmp_path / "lo"
    _soffice(["--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(src)], tmp_path)
    saved = out / "claims.xlsx"
    assert b"<sst" in _parts(saved)["xl/sharedStrings.xml"]
    results = _results_for(saved)
    fast, slow = _both_ways(saved, tmp_path, lambda b: b.write_columns(CLAIMS, results))
    assert_same_workbook(fast, slow)
    assert _libreoffice_csv(fast, tmp_path / "a") == _libreoffice_csv(slow, tmp_path / "b")


def _soffice(args: list[str], tmp_path: Path) -> None:
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", *args], check=True,
                   capture_output=True, timeout=180)


def _libreoffice_csv(path: Path, out: Path) -> list[list[str]]:
    """The first sheet as LibreOffice reads it, exported to CSV."""
    _soffice(["--convert-to", "csv", "--outdir", str(out), str(path)], out.parent)
    with open(out / (path.stem + ".csv"), newline="", encoding="utf-8", errors="replace") as fh:
        return list(csv.reader(fh))


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_opens_the_fast_writers_output_and_reads_the_statuses(tmp_path):
    src = build_user_workbook(tmp_path / "user.xlsx")
    book = open_book(src)
    validation = validate_book(book, as_of=AS_OF)
    assert book.fallback_note is None
    rows = _libreoffice_csv(src, tmp_path / "csv")
    status = rows[0].index("Status")
    assert [r[status] for r in rows[1:len(validation.results) + 1]] == validation.results["Status"].tolist()
    _soffice(["--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(src)], tmp_path)
    assert (tmp_path / "pdf" / "user.pdf").stat().st_size > 1000


@pytest.mark.slow
def test_a_generated_10k_line_workbook_is_written_the_same_by_both_paths(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _data import claim_rows

    _, rows = claim_rows(10_000)
    src = build_user_workbook(tmp_path / "big.xlsx", claims_rows=rows)
    results = _results_for(src)
    fast, slow = _both_ways(src, tmp_path, lambda b: b.write_columns(CLAIMS, results))
    assert_same_workbook(fast, slow)


def _remits() -> list[Path]:
    return sorted(SAMPLE.glob("*.835"))


def test_835_import_appends_denials_the_same_as_openpyxl_with_dates_amounts_and_formats(tmp_path):
    src = REPO / "workbooks" / "medical_necessity.xlsm"
    first, second = _remits()

    def imports(book):
        import_835_files(book, [first], as_of=pd.Timestamp("2026-11-25").date())
        book.save()  # a second import into the rows just added: the style of the row above is copied
        return import_835_files(book, [second], as_of=pd.Timestamp("2026-11-26").date())

    fast, slow = tmp_path / "fast.xlsm", tmp_path / "slow.xlsm"
    shutil.copyfile(src, fast)
    shutil.copyfile(src, slow)
    a = imports(FastBook(fast))
    assert a.added > 1
    b_book = WorkbookFile(slow)
    import_835_files(b_book, [first], as_of=pd.Timestamp("2026-11-25").date())
    b_book.save()
    b = import_835_files(WorkbookFile(slow), [second], as_of=pd.Timestamp("2026-11-26").date())
    assert (a.added, a.already_logged) == (b.added, b.already_logged)
    assert_same_workbook(fast, slow)
    again = import_835_files(FastBook(fast), [first, second])
    assert again.added == 0
    if SOFFICE:  # LibreOffice opens the macro workbook the fast writer saved, and prints it
        _soffice(["--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(fast)], tmp_path)
        assert (tmp_path / "pdf" / "fast.pdf").stat().st_size > 1000


def test_marking_denials_appealed_updates_status_cells_like_openpyxl(tmp_path):
    src = tmp_path / "src.xlsm"
    shutil.copyfile(REPO / "workbooks" / "medical_necessity.xlsm", src)
    book = WorkbookFile(src)
    import_835_files(book, _remits())
    rows = book.read_table(DENIALS).index[:2].tolist()
    status = pd.DataFrame({"Status": ["Appealed"] * len(rows)}, index=rows)
    fast, slow = _both_ways(src, tmp_path, lambda b: b.write_columns(DENIALS, status))
    assert_same_workbook(fast, slow)
    assert FastBook(fast).read_table(DENIALS).loc[rows, "Status"].tolist() == ["Appealed", "Appealed"]


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    import openpyxl

    src = build_user_workbook(tmp_path / "user.xlsx")
    book = FastBook(src)
    book.write_columns(CLAIMS, pd.DataFrame({"Findings": ["=HYPERLINK(\"http://x\")", "a\x01b"]}, index=[2, 3]))
    book.save()
    ws = openpyxl.load_workbook(src)["Claims"]
    col = [c.value for c in ws[1]].index("Findings") + 1
    assert ws.cell(2, col).data_type == "s" and ws.cell(2, col).value == "=HYPERLINK(\"http://x\")"
    assert "<f>" not in _parts(src)["xl/worksheets/sheet1.xml"].decode()


def test_a_sheet_without_an_excel_table_falls_back_to_openpyxl_and_says_so(tmp_path):
    import openpyxl

    src = build_user_workbook(tmp_path / "user.xlsx")
    wb = openpyxl.load_workbook(src)
    del wb["Claims"].tables["tblClaims"]
    wb.save(src)
    book = open_book(src)
    validation = validate_book(book, as_of=AS_OF)
    assert book.fallback_note and "openpyxl" in book.fallback_note and "tblClaims" in book.fallback_note
    assert WorkbookFile(src, writable=False).read_table(CLAIMS)["Status"].tolist() == \
        validation.results["Status"].tolist()


def test_a_formula_in_a_result_cell_falls_back_to_openpyxl(tmp_path):
    src = build_user_workbook(tmp_path / "user.xlsx")
    first = FastBook(src)
    validate_book(first, as_of=AS_OF)
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb["Claims"]
    col = [c.value for c in ws[1]].index("Status") + 1
    ws.cell(2, col).value = '="GREEN"'
    wb.save(src)
    book = open_book(src)
    validate_book(book, as_of=AS_OF)
    assert book.fallback_note and "formula" in book.fallback_note
    assert openpyxl.load_workbook(src)["Claims"].cell(2, col).value in {"GREEN", "AMBER", "RED"}


def test_the_cli_says_when_openpyxl_wrote_the_workbook(tmp_path, cli):
    import openpyxl

    src = build_user_workbook(tmp_path / "user.xlsx")
    wb = openpyxl.load_workbook(src)
    del wb["Claims"].tables["tblClaims"]
    wb.save(src)
    result = cli("validate", src, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "saved through openpyxl" in result.output
    fine = build_user_workbook(tmp_path / "fine.xlsx")
    assert "openpyxl" not in cli("validate", fine, "--as-of", AS_OF).output


def test_a_sheet_written_with_prefixed_xml_is_left_to_openpyxl(tmp_path):
    """Some generators (the .NET Open XML SDK) write <x:sheetData>; the fast writer does not edit those."""
    src = build_user_workbook(tmp_path / "user.xlsx")
    parts = _parts(src)
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = sheet.replace("<worksheet ", f'<worksheet xmlns:x="{main}" ', 1)
    sheet = sheet.replace("<sheetData>", "<x:sheetData>").replace("</sheetData>", "</x:sheetData>")
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    book = open_book(src)
    validation = validate_book(book, as_of=AS_OF)
    assert book.fallback_note and "sheetData" in book.fallback_note
    assert WorkbookFile(src, writable=False).read_table(CLAIMS)["Status"].tolist() == \
        validation.results["Status"].tolist()
