"""No file that crashes or exhausts the machine, nothing left behind, nothing overwritten by
mistake, data never template syntax (issue 17 §4, §5).  Real workbooks, CSVs and letters."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import mednec, run

from toolkit.errors import InputError
from toolkit.tables import CLAIMS, RULES
from toolkit.workbook import files
from toolkit.workbook.files import WorkbookFile, read_table

REPO = Path(__file__).resolve().parents[1]
WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"
SAMPLE = REPO / "workbooks" / "sample"


def _stray_cell(path: Path) -> Path:
    """One cell at XFD1048576 on Claims and one far down Rules (a 70 KB file claiming 17 billion cells)."""
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["Claims"]["XFD1048576"] = "x"
    wb["Rules"]["C1048576"] = "y"
    wb.save(path)
    return path


# ---------------------------------------------------------------- big and bad files

def test_a_stray_cell_at_xfd1048576_is_read_by_the_tables_own_range_on_both_readers(workbook, tmp_path):
    expected = read_table(workbook, CLAIMS)
    _stray_cell(workbook)
    assert not files.fits_in_memory(workbook)  # calamine would be asked for the whole grid
    fast = read_table(workbook, CLAIMS)        # the report path
    assert list(fast.index) == list(expected.index) and list(fast.columns) == list(expected.columns)
    assert 1048576 not in read_table(workbook, RULES).index  # outside tblRules' ref
    book = WorkbookFile(workbook)               # the in-place path
    assert list(book.read_table(CLAIMS).index) == list(expected.index)
    book.close()
    # whole commands, in fresh processes (an abort would be exit 134)
    for args in (("validate", workbook, "--as-of", "2026-11-27", "--report", tmp_path / "r.csv"),
                 ("validate", workbook, "--as-of", "2026-11-27"),
                 ("digest", "--workbook", workbook, "--month", "2026-11", "--outbox", tmp_path / "out")):
        proc = mednec(*args)
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, (args, err[-2000:])


def test_a_plain_sheet_is_read_by_the_header_rows_contiguous_block(tmp_path):
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Rules"
    ws.append(["Payer", "CPT/HCPCS", "Covered Dx", None, "a note beside the table"])
    ws.append(["Medicare", "62323", "M54.16", None, "ignored"])
    ws["XFD1048576"] = "stray"
    wb.save(path)
    frame = read_table(path, RULES)
    assert list(frame.columns) == ["Payer", "CPT/HCPCS", "Covered Dx"]
    assert list(frame.index) == [2]


def test_limits_refuse_in_one_line_naming_the_file(workbook, monkeypatch):
    monkeypatch.setattr(files, "MAX_TABLE_ROWS", 3)
    with pytest.raises(InputError, match=r"^practice.xlsm, sheet Claims, row \d+: more than 3 rows in one table"):
        read_table(workbook, CLAIMS)
    monkeypatch.setattr(files, "MAX_TABLE_ROWS", 1_000_000)
    monkeypatch.setattr(files, "MAX_STRINGS_BYTES", 100)
    files._FITS.clear()
    with pytest.raises(InputError, match=r"^practice.xlsm: the workbook's text is .* more than mednec reads"):
        read_table(workbook, CLAIMS)
    monkeypatch.setattr(files, "MAX_STRINGS_BYTES", 500_000_000)
    monkeypatch.setattr(files, "MAX_SHEET_BYTES", 1000)
    files._FITS.clear()
    result = run("validate", workbook)
    assert result.exit_code == 2 and "a sheet is" in result.output and len(result.output.strip().splitlines()) == 1
    files._FITS.clear()


def _claims_csv(tmp_path: Path, change) -> Path:
    frame = pd.read_csv(SAMPLE / "claims.csv", dtype=str, keep_default_na=False)
    change(frame)
    path = tmp_path / "claims.csv"
    frame.to_csv(path, index=False)
    return path


def test_negative_therapy_weeks_is_one_line_naming_row_and_column(tmp_path):
    path = _claims_csv(tmp_path, lambda f: f.__setitem__("Therapy Weeks", ["-6"] + list(f["Therapy Weeks"][1:])))
    result = run("validate", path, "--rules", SAMPLE / "rules.csv", "--payers", SAMPLE / "payers.csv",
                 "--report", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: claims.csv, row 2, column Therapy Weeks: '-6' is negative; "
                                     "it must be 0 or more")


def test_a_nul_byte_in_a_cell_is_one_line_naming_row_and_column(tmp_path):
    path = _claims_csv(tmp_path, lambda f: f.__setitem__("Therapy Notes", list(f["Therapy Notes"][:2]) + ["PT\x00"]
                                                         + list(f["Therapy Notes"][3:])))
    result = run("validate", path, "--rules", SAMPLE / "rules.csv", "--payers", SAMPLE / "payers.csv",
                 "--report", tmp_path / "r.csv")
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith("Error: claims.csv, row 4, column Therapy Notes: the cell holds a control character (code 0")
    assert "\n" not in line and not (tmp_path / "r.csv").exists()


def test_a_cell_longer_than_excels_limit_is_one_line_naming_row_and_column(tmp_path):
    long_first = ["x" * 40_000]
    path = _claims_csv(tmp_path, lambda f: f.__setitem__("Therapy Notes", long_first + list(f["Therapy Notes"][1:])))
    result = run("validate", path, "--rules", SAMPLE / "rules.csv", "--payers", SAMPLE / "payers.csv",
                 "--report", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: claims.csv, row 2, column Therapy Notes: the cell holds more than "
                                     "32,767 characters, Excel's limit for one cell; shorten it")


# ---------------------------------------------------------------- nothing left behind

def test_stale_temp_files_of_a_killed_save_are_removed_by_the_next_run(workbook):
    stale = [workbook.with_name(f".~{workbook.name}-k1ll3d00.xlsm"),
             workbook.with_name(f".~{workbook.name}-ab12cd34.part"),
             workbook.with_name(f".~{workbook.stem}.validation-history.csv-zz99yy88.csv")]
    other = workbook.with_name(".~other.xlsm-ab12cd34.xlsm")  # another workbook's: not ours to touch
    for path in [*stale, other]:
        path.write_bytes(b"half a save")
    assert run("validate", workbook, "--as-of", "2026-11-27").exit_code == 0
    assert not any(p.exists() for p in stale) and other.exists()


def test_openpyxl_scratch_files_never_go_to_the_system_temp_folder(workbook, tmp_path):
    scratch = tmp_path / "system-temp"
    scratch.mkdir()
    proc = mednec("validate", workbook, "--as-of", "2026-11-27", env={"TMPDIR": str(scratch), "TEMP": str(scratch)})
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    assert list(scratch.iterdir()) == []
    assert [p.name for p in workbook.parent.iterdir() if p.name.startswith(".~") and "lock" not in p.name] == []


def test_sigterm_during_a_save_leaves_the_workbook_whole_and_no_temp_file(workbook):
    """Signals land at different moments over a few runs; each run must end clean."""
    for delay in (0.8, 1.6, 2.4):
        proc = mednec("validate", workbook, "--as-of", "2026-11-27")
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=240)
        # 130: stopped and cleaned up; 0: it had finished; -15: it was still starting Python
        # (no handler yet, and no file touched)
        assert proc.returncode in (0, 130, -signal.SIGTERM)
        leftovers = [p.name for p in workbook.parent.iterdir() if p.name.startswith(".~") and "lock" not in p.name]
        assert leftovers == []
        assert len(read_table(workbook, CLAIMS)) > 0  # opens, whole


# ---------------------------------------------------------------- nothing overwritten by mistake

def test_a_report_that_would_overwrite_an_input_is_refused(tmp_path):
    for name in ("claims.csv", "rules.csv", "payers.csv"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    before = (tmp_path / "rules.csv").read_bytes()
    result = run("validate", tmp_path / "claims.csv", "--rules", tmp_path / "rules.csv", "--payers",
                 tmp_path / "payers.csv", "--report", tmp_path / "rules.csv")
    assert result.exit_code == 2 and "would overwrite the input rules.csv" in result.output
    assert (tmp_path / "rules.csv").read_bytes() == before


def test_ncci_build_refuses_an_out_equal_to_an_input(tmp_path):
    ptp = tmp_path / "p.txt"
    ptp.write_text("header\n", encoding="utf-8")
    result = run("codeset", "ncci-build", ptp, "--out", ptp)
    assert result.exit_code == 2 and "would overwrite the input p.txt" in result.output
    assert ptp.read_text(encoding="utf-8") == "header\n"


def _letters_workbook(tmp_path: Path, claim_ids: list[str]) -> Path:
    from docs_workbook import CLAIM_ROWS, DENIAL_ROWS, make_workbook

    claims, denials = [], []
    for i, cid in enumerate(claim_ids, start=1):
        claims.append(dict(CLAIM_ROWS[0], **{"Claim ID": cid}))
        denials.append(dict(DENIAL_ROWS[0], **{"Claim ID": cid, "Denial ID": f"D-{i:06d}"}))
    return make_workbook(tmp_path / "letters.xlsx", claims=claims, denials=denials)


def test_claim_ids_a_slash_b_and_a_dash_b_get_two_letters(tmp_path):
    from toolkit.jobs.documents import appeal_letters_all_open

    book = _letters_workbook(tmp_path, ["a/b", "a-b"])
    paths = appeal_letters_all_open(WorkbookFile(book, writable=False), tmp_path / "out", today=dt.date(2026, 4, 1))
    assert len(paths) == 2 and len({p.name for p in paths}) == 2
    assert all(p.exists() for p in paths)


def test_braces_in_a_claim_id_are_printed_as_data_not_read_as_a_placeholder(tmp_path):
    from docx import Document

    from toolkit.jobs.documents import appeal_letter

    book = _letters_workbook(tmp_path, ["C{{1001}} {% raw %}"])
    path = appeal_letter(WorkbookFile(book, writable=False), "D-000001", tmp_path / "out", today=dt.date(2026, 4, 1))
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    assert "claim C{{1001}} {% raw %}" in text
