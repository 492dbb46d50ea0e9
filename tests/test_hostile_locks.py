"""No lost update (issue 17 §2): two writers on one workbook, started together, both land; a
held lock, an open LibreOffice, a read-only workbook are refused with exit 3 and one line;
the replacement keeps the file's permissions; ``appeal --mark-appealed`` writes nothing when
the Status cannot be saved.  Real processes, real files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import mednec, run

from toolkit.tables import CLAIMS, DENIALS
from toolkit.workbook.files import read_table
from toolkit.workbook.lock import lock_path

REPO = Path(__file__).resolve().parents[1]
WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"
REMIT = REPO / "workbooks" / "sample" / "remittance_medicare_2026-11-20.835"
ACME = REPO / "workbooks" / "sample" / "remittance_acme_2026-11-24.835"


@pytest.fixture
def with_denials(workbook) -> Path:
    """The workbook with the Acme remittance's denials already logged."""
    assert run("denials", "import-835", ACME, "--workbook", workbook).exit_code == 0
    return workbook


def _blank_status(path: Path) -> None:
    from toolkit.workbook.files import WorkbookFile

    book = WorkbookFile(path)
    claims = book.read_table(CLAIMS)
    import pandas as pd

    book.write_columns(CLAIMS, pd.DataFrame({"Status": [None] * len(claims)}, index=claims.index))
    book.save()


@pytest.mark.slow
def test_validate_and_import_835_started_together_both_land(workbook):
    _blank_status(workbook)
    before = len(read_table(workbook, DENIALS))
    procs = [mednec("validate", workbook, "--as-of", "2026-11-27"),
             mednec("denials", "import-835", REMIT, "--workbook", workbook)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    claims = read_table(workbook, CLAIMS)
    assert claims["Status"].isin(["GREEN", "AMBER", "RED"]).all()  # validate's update
    assert len(read_table(workbook, DENIALS)) > before               # import-835's update


def _ready_for_an_appeal(path: Path) -> None:
    """Give claim 000110 (denied CO-197) its authorization number and the member ID, so its letter
    needs nothing more from the biller and --mark-appealed really writes the Status."""
    import pandas as pd

    from toolkit.workbook.files import WorkbookFile

    book = WorkbookFile(path)
    claims = book.read_table(CLAIMS)
    rows = claims.index[claims["Claim ID"] == "000110"]
    book.write_columns(CLAIMS, pd.DataFrame({"Prior Auth Number": ["AUTH-55120"] * len(rows),
                                             "Member ID": ["W123456789"] * len(rows)}, index=rows))
    book.save()


@pytest.mark.slow
def test_import_835_and_mark_appealed_started_together_both_land(with_denials, tmp_path):
    workbook = with_denials
    _ready_for_an_appeal(workbook)
    denials = read_table(workbook, DENIALS)
    first = str(denials.loc[denials["Claim ID"] == "000110", "Denial ID"].iloc[0])
    procs = [mednec("denials", "import-835", REMIT, "--workbook", workbook),
             mednec("appeal", "--workbook", workbook, "--denial", first, "--mark-appealed", "--out", tmp_path / "l")]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    after = read_table(workbook, DENIALS)
    assert len(after) > len(denials)
    assert after.loc[after["Denial ID"] == first, "Status"].tolist() == ["Appealed"]


@contextmanager
def lock_held_elsewhere(workbook: Path):
    """Another process holds the workbook's lock for the block, then dies (kill -9)."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(); "
        "print('held', flush=True); time.sleep(60)"), str(lock_path(workbook))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_a_second_writer_waits_then_refuses_with_exit_3_and_one_line(workbook):
    with lock_held_elsewhere(workbook):
        before = workbook.read_bytes()
        proc = mednec("denials", "import-835", REMIT, "--workbook", workbook, env={"MEDNEC_LOCK_WAIT": "1"})
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3
    assert err.strip().splitlines() == [
        "Error: practice.xlsm: another mednec command is updating this workbook; try again when it has "
        "finished (nothing was changed)"]
    assert workbook.read_bytes() == before
    # killed with -9, the holder's lock is gone with it: the next command just runs
    assert run("denials", "import-835", REMIT, "--workbook", workbook).exit_code == 0


def test_a_workbook_open_in_libreoffice_is_not_written(workbook):
    (workbook.parent / f".~lock.{workbook.name}#").write_text("user,host,...", encoding="utf-8")
    before = workbook.read_bytes()
    result = run("validate", workbook)
    assert result.exit_code == 3
    assert "open in LibreOffice" in result.output
    assert workbook.read_bytes() == before


def test_a_read_only_workbook_is_refused_not_replaced(workbook, tmp_path):
    workbook.chmod(0o444)
    before = workbook.read_bytes()
    for args in (("validate", workbook), ("denials", "import-835", REMIT, "--workbook", workbook),
                 ("dashboard", "--workbook", workbook)):
        result = run(*args)
        assert result.exit_code == 3, result.output
        assert "the workbook is read-only" in result.output
    assert workbook.read_bytes() == before and stat.S_IMODE(workbook.stat().st_mode) == 0o444


def test_mark_appealed_on_a_read_only_workbook_writes_no_letter(with_denials, tmp_path):
    workbook = with_denials
    first = str(read_table(workbook, DENIALS)["Denial ID"].iloc[0])
    workbook.chmod(0o444)
    result = run("appeal", "--workbook", workbook, "--denial", first, "--mark-appealed", "--out", tmp_path / "letters")
    assert result.exit_code == 3
    assert not (tmp_path / "letters").exists() or not list((tmp_path / "letters").iterdir())


def test_mark_appealed_with_an_unwritable_letter_folder_changes_no_status(with_denials, tmp_path):
    workbook = with_denials
    first = str(read_table(workbook, DENIALS)["Denial ID"].iloc[0])
    blocker = tmp_path / "letters"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    before = workbook.read_bytes()
    result = run("appeal", "--workbook", workbook, "--denial", first, "--mark-appealed", "--out", blocker / "sub")
    assert result.exit_code != 0 and "nothing was written" in result.output
    assert workbook.read_bytes() == before


def test_the_saved_workbook_keeps_its_permissions(workbook):
    workbook.chmod(0o640)
    assert run("validate", workbook, "--as-of", "2026-11-27").exit_code == 0
    assert stat.S_IMODE(workbook.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root writes into read-only folders; "
                    "POSIX permissions needed")
def test_a_writable_workbook_in_a_read_only_folder_is_refused_with_a_clear_line(workbook):
    before = workbook.read_bytes()
    workbook.parent.chmod(0o555)
    try:
        result = run("validate", workbook)
    finally:
        workbook.parent.chmod(0o755)
    assert result.exit_code == 3 and "is read-only, so the workbook cannot be saved safely" in result.output
    assert workbook.read_bytes() == before


@pytest.mark.parametrize("command", [
    ("claims", "import-837", REPO / "tests" / "fixtures" / "x12_837p" / "riverside_batch.837"),
    ("rules", "suggest"),
    ("validate",),
], ids=["claims import-837", "rules suggest", "validate"])
def test_every_workbook_writer_waits_for_the_lock_and_then_refuses_with_exit_3(workbook, command):
    with lock_held_elsewhere(workbook):
        before = workbook.read_bytes()
        args = [*command, workbook] if command == ("validate",) else [*command, "--workbook", workbook]
        proc = mednec(*args, env={"MEDNEC_LOCK_WAIT": "1"})
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, (out, err)
    assert "another mednec command is updating this workbook" in err
    assert workbook.read_bytes() == before


def test_the_validate_button_in_file_mode_waits_for_the_lock_and_writes_nothing(workbook):
    """The button's own process (``toolkit.excel.entry``, with the workbook file standing in for
    Excel's COM caller) holds the lock from its read to its replace like the command does."""
    with lock_held_elsewhere(workbook):
        before = workbook.read_bytes()
        env = {**os.environ, "PYTHONPATH": str(REPO), "MEDNEC_LOCK_WAIT": "1", "MEDNEC_CALLER_FILE": str(workbook)}
        proc = subprocess.run([sys.executable, "-c", "from toolkit.excel import entry; entry.validate()"],
                              env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Validate Claims could not finish: practice.xlsm: another mednec command is updating" in proc.stderr
    assert workbook.read_bytes() == before
