"""The button entry functions, run in-process against a copy of the built workbook.

``MEDNEC_CALLER_FILE`` stands in for ``xw.Book.caller()`` (Excel's COM boundary, unreachable
on Linux); from there on it is the same code a click runs.  A failing button must end the
process with one plain sentence (RunPython shows stderr in a message box) and log details
next to the workbook without patient data.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from toolkit.excel import entry
from toolkit.tables import CLAIMS, DENIALS
from toolkit.workbook.build import SAMPLE_DIR, build_workbook
from toolkit.workbook.files import WorkbookFile, read_table

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_workbook(tmp_path_factory.mktemp("entry") / "template.xlsm")


@pytest.fixture()
def book(template, tmp_path, monkeypatch) -> Path:
    path = tmp_path / "medical_necessity.xlsm"
    shutil.copyfile(template, path)
    monkeypatch.setenv(entry.CALLER_FILE_ENV, str(path))
    return path


def _patient_names() -> list[str]:
    claims = read_table(SAMPLE_DIR / "claims.csv", CLAIMS)
    return [n for n in claims["Patient Name"] if n]


def _fill_settings(path: Path) -> None:
    """The practice details a new practice types into Settings once (made up)."""
    import pandas as pd

    from toolkit.tables import SETTINGS

    values = {"Practice Name": "Riverside Orthopedics", "Practice Address": "1200 River Road, Springfield, IL",
              "Practice Phone": "(217) 555-0100", "Practice NPI": "1234567893", "Tax ID": "12-3456789",
              "Signer Name": "Dana Whitfield", "Signer Title": "Revenue Cycle Manager",
              "Digest Recipients": "team@example.org", "SMTP From": "billing@example.org"}
    wb = WorkbookFile(path)
    settings = wb.read_table(SETTINGS)
    rows = {k: r for r, k in settings["Key"].items()}
    wb.write_columns(SETTINGS, pd.DataFrame({"Value": list(values.values())}, index=[rows[k] for k in values]))
    wb.save()


def _add_denial(path: Path) -> int:
    """One denial typed into the log for the first sample claim line; returns its row."""
    import pandas as pd

    claims = read_table(path, CLAIMS)
    first = claims.iloc[0]
    wb = WorkbookFile(path)
    rows = wb.append_rows(DENIALS, pd.DataFrame([{
        "Denial ID": "D-000001", "Claim ID": first["Claim ID"], "Line": first["Line"],
        "Patient ID": first["Patient ID"], "Payer": first["Payer"], "Date of Service": first["Date of Service"],
        "CPT/HCPCS": first["CPT/HCPCS"], "Dx Codes": first["Dx Codes"], "Billed Amount": 1200.0,
        "Paid Amount": 0.0, "Denied Amount": 1200.0, "Denial Date": pd.Timestamp("2026-11-02"),
        "Group Code": "CO", "CARC": "50", "RARC": "N115", "Status": "Open", "Source": "manual"}]))
    wb.save()
    return rows[0]


def test_validate_button_fills_the_result_columns_and_says_how_many_of_each(book, capsys):
    entry.validate()
    out = capsys.readouterr().out
    claims = read_table(book, CLAIMS)
    assert claims["Status"].isin(["GREEN", "AMBER", "RED"]).all()
    assert out.startswith(f"Validated {len(claims)} claim lines: ")
    assert all(word in out for word in ("GREEN", "AMBER", "RED"))


def test_validate_keeps_the_vba_project_byte_for_byte(book, template):
    entry.validate()
    with zipfile.ZipFile(book) as a, zipfile.ZipFile(template) as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")


def test_appeal_button_on_a_row_without_a_denial_says_where_to_click(book):
    with pytest.raises(SystemExit) as exc:
        entry.appeal_selected(7)
    message = str(exc.value.code)
    assert message.startswith("Appeal Letter could not finish: ")
    assert "sheet Denials, row 7" in message and "\n" not in message
    log = (book.parent / entry.LOG_NAME).read_text(encoding="utf-8")
    assert "Appeal Letter failed: InputError" in log


def test_appeal_button_writes_the_letter_for_the_denial_in_the_selected_row(book, capsys):
    _fill_settings(book)
    row = _add_denial(book)
    try:
        entry.appeal_selected(row)
    except SystemExit as exc:
        pytest.fail(f"the letter was refused: {exc.code}")
    out = capsys.readouterr().out
    assert out.startswith("Appeal letter for D-000001: written to ")
    assert Path(out.split("written to ", 1)[1].strip()).exists()


def test_checklists_button_writes_word_files_next_to_the_workbook(book, capsys):
    _fill_settings(book)
    entry.checklists()
    out = capsys.readouterr().out
    assert out.startswith("Checklists: ")
    assert list(book.parent.rglob("*.docx"))


def test_dashboard_button_refreshes_the_dashboard_sheet(book, capsys):
    _add_denial(book)
    entry.dashboard()
    assert capsys.readouterr().out.startswith("Dashboard refreshed")
    import openpyxl

    ws = openpyxl.load_workbook(book, keep_vba=True)["Dashboard"]
    assert ws["B2"].value is not None  # the "As of" date


def test_digest_button_writes_last_months_draft_without_patient_names(book, capsys):
    _fill_settings(book)
    entry.digest()
    out = capsys.readouterr().out
    assert out.startswith("Digest ") and entry.last_month() in out
    emails = list(book.parent.rglob("*.eml"))
    assert emails
    text = emails[0].read_bytes().decode("utf-8", "replace")
    assert not any(name in text for name in _patient_names())


def test_import_button_adds_the_denials_of_the_chosen_835_files(book, capsys):
    files = sorted(SAMPLE_DIR.glob("*.835"))  # the two sample remittances that ship with mednec
    assert len(files) == 2
    entry.import_835([str(f) for f in files])
    out = capsys.readouterr().out
    assert "added from 2 files" in out
    added = int(out.split(" denial")[0])
    assert len(read_table(book, DENIALS)) == added


def test_import_button_with_no_files_chosen_says_so(book):
    with pytest.raises(SystemExit) as exc:
        entry.import_835([])
    assert str(exc.value.code) == "Import 835 Files could not finish: no 835 file was chosen"


def test_a_damaged_workbook_gives_one_sentence_and_a_log_without_patient_data(tmp_path, monkeypatch):
    path = tmp_path / "broken.xlsm"
    path.write_bytes(b"not a zip")
    monkeypatch.setenv(entry.CALLER_FILE_ENV, str(path))
    with pytest.raises(SystemExit) as exc:
        entry.validate()
    assert str(exc.value.code) == "Validate Claims could not finish: broken.xlsm: not a valid Excel workbook " \
                                  "(the file is damaged, or not .xlsx/.xlsm)"
    assert (tmp_path / entry.LOG_NAME).exists()


def test_the_log_names_the_code_location_never_a_cell_value(book):
    import openpyxl

    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["Claims"]
    headers = {c.value: c.column for c in ws[3]}
    ws.cell(4, headers["Date of Service"]).value = "Alvarez-secret"  # not a date: the job refuses it
    wb.save(book)
    with pytest.raises(SystemExit) as exc:
        entry.validate()
    assert "row 4" in str(exc.value.code) and "\n" not in str(exc.value.code)
    log = (book.parent / entry.LOG_NAME).read_text(encoding="utf-8")
    assert "Validate Claims failed: InputError" in log and "row 4" in log
    assert "Alvarez" not in log


def test_last_month_is_the_calendar_month_before():
    import datetime as dt

    assert entry.last_month(dt.date(2026, 1, 15)) == "2025-12"
    assert entry.last_month(dt.date(2026, 3, 1)) == "2026-02"


def test_the_same_validate_job_runs_over_the_live_seam(template, tmp_path):
    """LiveBook over the Excel double (COM boundary): one job, both halves of the seam."""
    from test_excel_seam import ExcelDouble

    from toolkit.excel.live import LiveBook
    from toolkit.jobs.validate import validate_book

    path = tmp_path / "live.xlsm"
    shutil.copyfile(template, path)
    excel = ExcelDouble(path)
    validation = validate_book(LiveBook(excel), as_of=None)
    statuses = [excel.wb["Claims"].cell(r, 24).value for r in range(4, 4 + sum(validation.counts().values()))]
    assert set(statuses) <= {"GREEN", "AMBER", "RED"} and None not in statuses
    assert excel.wb["Claims"].cell(3, 24).value == "Status"
