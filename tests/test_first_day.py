"""The first day with mednec: the README's commands, the wheel, never overwriting work, the demo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli as mednec_cli

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SAMPLE_WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"
SAMPLE_835 = REPO / "workbooks" / "sample" / "remittance_medicare_2026-11-20.835"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def marked_block(name: str) -> list[str]:
    """The command lines of the fenced block right after ``<!-- name -->``."""
    after = README.split(f"<!-- {name} -->", 1)[1]
    lang, body = fenced_blocks(after)[0]
    return [line for line in body.splitlines() if line.strip()]


# ---------------------------------------------------------------- README commands

def test_readme_commands_outside_sh_blocks_run_as_written_in_cmd_exe_and_powershell():
    blocks = [body for lang, body in fenced_blocks(README) if lang != "sh"]
    assert len(blocks) >= 5
    for body in blocks:
        for line in body.splitlines():
            assert "&&" not in line, line  # PowerShell 5.1 has no &&
            assert not re.search(r"\s#", line), line  # cmd passes a trailing comment as arguments
            assert not re.match(r"\s*(cp|mv|rm|export|source)\s", line), line
            assert not line.rstrip().endswith("\\"), line  # no line continuations
            assert "$(" not in line and "~/" not in line, line


def test_readme_says_to_make_and_activate_a_virtual_environment_before_installing():
    assert "python -m venv .venv" in README
    assert ".venv\\Scripts\\activate.bat" in README and ".venv\\Scripts\\Activate.ps1" in README
    assert README.index("python -m venv .venv") < README.index("pip install .")
    assert "pip install mednec\n" not in README  # not published on PyPI


def test_ci_runs_exactly_the_readme_test_command():
    commands = marked_block("test-command")
    assert commands == ['pip install ".[test]"', "ruff check toolkit tests benchmarks", "mypy", "python -m pytest -q"]
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    at = ci.index(commands[0])
    assert ci[at:at + len(commands)] == commands


# ---------------------------------------------------------------- build-workbook never destroys work

def _workbook_with_denials(tmp_path: Path) -> Path:
    from toolkit.jobs.denials import import_835_files
    from toolkit.workbook.files import WorkbookFile

    path = tmp_path / "medical_necessity.xlsm"
    shutil.copy(SAMPLE_WORKBOOK, path)
    book = WorkbookFile(path)
    summary = import_835_files(book, [SAMPLE_835])
    assert summary.added > 0
    return path


def test_build_workbook_refuses_to_replace_a_workbook_holding_denials(runner, tmp_path):
    path = _workbook_with_denials(tmp_path)
    before = path.read_bytes()
    result = runner.invoke(mednec_cli, ["build-workbook", "--out", str(path)])
    assert result.exit_code == 2
    assert "denials" in result.output and "--force" in result.output
    assert path.read_bytes() == before
    assert list(tmp_path.glob("*.backup-*")) == []


def test_build_workbook_with_force_keeps_a_dated_backup_of_the_work(runner, tmp_path):
    from toolkit.tables import DENIALS
    from toolkit.workbook.files import ReadOnlyWorkbook

    path = _workbook_with_denials(tmp_path)
    before = path.read_bytes()
    result = runner.invoke(mednec_cli, ["build-workbook", "--out", str(path), "--force"])
    assert result.exit_code == 0, result.output
    backups = list(tmp_path.glob("medical_necessity.backup-20*.xlsm"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert backups[0].name in result.output
    assert ReadOnlyWorkbook(path).read_table(DENIALS).empty


def test_build_workbook_replaces_the_untouched_sample_without_asking(runner, tmp_path):
    path = tmp_path / "medical_necessity.xlsm"
    shutil.copy(SAMPLE_WORKBOOK, path)
    result = runner.invoke(mednec_cli, ["build-workbook", "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert list(tmp_path.glob("*.backup-*")) == []


def test_build_workbook_refuses_claim_lines_a_biller_typed_into_an_empty_workbook(runner, tmp_path):
    from toolkit.workbook.build import build_workbook, rows_of_work

    path = build_workbook(tmp_path / "practice.xlsm", sample_dir=None)
    assert rows_of_work(path) == ""
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb["Claims"]
    ws.cell(4, 1).value = "C9001"
    wb.save(path)
    assert rows_of_work(path) == "1 claim lines"
    assert runner.invoke(mednec_cli, ["build-workbook", "--out", str(path), "--empty"]).exit_code == 2


# ---------------------------------------------------------------- Excel buttons' config file

def test_user_config_is_written_in_the_code_page_vba_reads(tmp_path):
    from toolkit.cli.workbook import write_user_config

    conf = tmp_path / "xlwings.conf"
    write_user_config("Interpreter_Win", r"C:\Users\Muñoz\venv\Scripts\pythonw.exe", conf, encoding="cp1252")
    data = conf.read_bytes()
    assert b"Mu\xf1oz" in data and data.endswith(b"\r\n")


# ---------------------------------------------------------------- digest

def test_digest_refuses_a_month_that_has_not_ended(runner, tmp_path):
    path = tmp_path / "book.xlsm"
    shutil.copy(SAMPLE_WORKBOOK, path)
    result = runner.invoke(mednec_cli, ["digest", "--workbook", str(path), "--month", "2999-01"])
    assert result.exit_code == 2
    assert "has not ended" in result.output
    assert not (tmp_path / "outbox").exists()


# ---------------------------------------------------------------- the demo practice

@pytest.mark.slow
def test_demo_is_the_same_bytes_for_the_same_seed_and_its_dashboard_has_data(tmp_path):
    import openpyxl

    from toolkit.dashboard import MONTHLY, PAYER
    from toolkit.demo import build_demo

    first = build_demo(tmp_path / "a" / "demo.xlsm")
    second = build_demo(tmp_path / "b" / "demo.xlsm")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert [p.read_bytes() for p in first.remittances] == [p.read_bytes() for p in second.remittances]
    assert 2000 <= first.claim_lines <= 5000 and len(first.remittances) == 36

    ws = openpyxl.load_workbook(first.path, data_only=True)["Dashboard"]
    figures = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(5, 21)}
    assert figures["Submitted claims"] > 2000
    assert 0 < figures["Denial rate (denied ÷ submitted claims)"] < 0.3
    months = [ws.cell(MONTHLY.first_row + i, MONTHLY.col_index()).value for i in range(MONTHLY.rows)]
    rates = [ws.cell(MONTHLY.first_row + i, MONTHLY.col_index(3)).value for i in range(MONTHLY.rows)]
    assert months[0] == "2025-12" and months[-1] == "2026-11"
    assert all(isinstance(r, float) for r in rates)
    payer_rates = [ws.cell(PAYER.first_row + i, PAYER.col_index(3)).value for i in range(3)]
    assert all(0 < r < 1 for r in payer_rates)
    assert len(ws._charts) == 3
    # the story: necessity denials fall once the checklist is in use (June 2026)
    mednec = [ws.cell(MONTHLY.first_row + i, MONTHLY.col_index(7)).value for i in range(MONTHLY.rows)]
    before, after = mednec[1:6], mednec[-4:]  # Jan-May against Aug-Nov
    assert sum(before) / len(before) > 2.5 * sum(after) / len(after)


def test_demo_refuses_to_replace_an_existing_file(runner, tmp_path):
    path = tmp_path / "demo.xlsm"
    path.write_bytes(b"keep me")
    result = runner.invoke(mednec_cli, ["demo", "--out", str(path)])
    assert result.exit_code == 2 and path.read_bytes() == b"keep me"


def test_demo_codes_are_billable_icd10cm_fy2026_codes():
    from toolkit.codesets.icd10cm import CodeSets
    from toolkit.demo import GOOD_DX, WEAK_DX

    codes = {c for pairs in GOOD_DX.values() for c, _ in pairs} | {c for c, _ in WEAK_DX.values()}
    normalised = {c: c.replace(".", "") for c in codes}
    info = CodeSets.default().newest.lookup(sorted(normalised.values()))
    for code, key in sorted(normalised.items()):
        assert info[key] is not None and info[key].billable, code


# ---------------------------------------------------------------- the wheel, installed outside the checkout

@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_venv_and_runs_the_readme_first_day(tmp_path):
    """Build the wheel, install it with --no-deps in a new venv outside the checkout, and run the
    README's first-day block there.  The venv reaches this machine's packages (pandas, …) through a
    path file rather than --system-site-packages, so an editable mednec installed on the machine
    (a .pth import hook) cannot shadow the wheel."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(dist)],
                   check=True, cwd=tmp_path)
    wheel = next(dist.glob("mednec-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "machine-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", str(wheel)], check=True, env=env)
    day = tmp_path / "day"
    day.mkdir()
    where = subprocess.run([str(python), "-c", "import toolkit; print(toolkit.__file__)"], cwd=day, env=env,
                           check=True, capture_output=True, text=True).stdout
    assert str(venv) in where

    # An installed build-workbook writes the shipped sample (not an empty book).
    out = subprocess.run(["mednec", "build-workbook", "--out", "sample.xlsm"], cwd=day, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(["mednec", "validate", "sample.xlsm", "--report", "validation-report.xlsx"], cwd=day,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "RED" in out.stdout, out.stderr
    for line in marked_block("first-day"):
        out = subprocess.run(line.split(), cwd=day, env=env, capture_output=True, text=True)
        assert out.returncode == 0, f"{line}: {out.stderr}"
    assert (day / "outbox" / "digest-2026-11.eml").exists()
    assert (day / "policy-huddle-2026Q4.docx").exists()
    assert list((day / "Documents").glob("appeal_D-*.docx"))
