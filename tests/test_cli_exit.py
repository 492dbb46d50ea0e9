"""How the ``mednec`` process ends (``toolkit.cli.run``): the exit code and output of ``main``,
the interpreter's exit functions run, a working thread waited for, without freeing every object
one by one (the reason: a Validate click starts a fresh Python)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

PRELUDE = "import atexit, sys, threading, time\nfrom toolkit.cli import run\n"


def _python(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PRELUDE + code], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_a_finished_command_runs_the_exit_functions_and_keeps_its_output_and_code(tmp_path):
    done = _python("atexit.register(lambda: open('ran', 'w').write('yes'))\n"
                   "sys.argv = ['mednec', '--version']\nrun()\n", tmp_path)
    assert done.returncode == 0
    assert "version" in done.stdout
    assert (tmp_path / "ran").read_text() == "yes"


def test_a_refused_input_keeps_its_one_line_message_and_exit_code_2(tmp_path):
    done = _python("sys.argv = ['mednec', 'validate', 'missing.csv', '--report', 'out.csv']\nrun()\n", tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "missing.csv" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_thread_still_at_work_is_waited_for(tmp_path):
    done = _python("def late():\n    time.sleep(0.5)\n    open('late', 'w').write('done')\n"
                   "threading.Thread(target=late).start()\n"
                   "sys.argv = ['mednec', '--version']\nrun()\n", tmp_path)
    assert done.returncode == 0
    assert (tmp_path / "late").read_text() == "done"


def test_validate_through_python_m_toolkit_writes_the_whole_report(tmp_path):
    """The real command, as the Excel buttons and the tests run it: the report is complete
    (every sample line and its trailing newline) when the process has ended."""
    sample = REPO / "workbooks" / "sample"
    out = tmp_path / "report.csv"
    done = subprocess.run([sys.executable, "-m", "toolkit", "validate", str(sample / "claims.csv"), "--rules",
                           str(sample / "rules.csv"), "--payers", str(sample / "payers.csv"), "--as-of",
                           "2026-11-27", "--report", str(out)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = (sample / "claims.csv").read_text(encoding="utf-8-sig").count("\n")
    report = out.read_bytes()
    assert report.endswith(b"\n") and report.count(b"\n") == lines
    assert "Report written to" in done.stdout


def test_a_run_under_cprofile_still_writes_its_profile(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(tmp_path / "run.prof"), "-m", "toolkit",
                           "--version"], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run.prof").stat().st_size > 0
