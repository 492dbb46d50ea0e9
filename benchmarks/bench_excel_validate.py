"""Validate of 500 claim lines from the workbook, in a cold Python process (what a click costs).

    python benchmarks/bench_excel_validate.py [--lines 500] [--runs 5]

Prints the median wall time of: the Validate button's command in file mode (the command line
RunPython starts, with MEDNEC_CALLER_FILE standing in for Excel), `mednec validate WORKBOOK`,
and the bare import of the entry module (paid on every click before any work).
Target from issue 3: Validate of 500 lines, file mode, cold process <= 1.5 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def sample_with(lines: int, folder: Path) -> Path:
    """The shipped sample, with the claim lines repeated (new Claim IDs) up to ``lines``."""
    src = REPO / "workbooks" / "sample"
    for name in ("rules.csv", "payers.csv"):
        shutil.copyfile(src / name, folder / name)
    with open(src / "claims.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    out = []
    for i in range(lines):
        row = list(body[i % len(body)])
        row[0] = f"{900000 + i:06d}"
        out.append(row)
    with open(folder / "claims.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *out])
    return folder


def timed(cmd: list[str], env: dict, runs: int, prepare) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of the child process.

    CPU time is the figure to compare across machines: on a shared 2-core box other
    processes stretch the wall time."""
    from _data import fresh_process

    walls, cpus = [], []
    for _ in range(runs):
        prepare()
        wall, cpu = fresh_process(cmd, env)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from toolkit.workbook.build import build_workbook

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "sample").mkdir()
        template = build_workbook(tmp / "template.xlsm", sample_dir=sample_with(args.lines, tmp / "sample"))
        book = tmp / "medical_necessity.xlsm"

        def fresh():
            shutil.copyfile(template, book)

        env = dict(os.environ, PYTHONPATH=str(REPO), MEDNEC_CALLER_FILE=str(book))
        button = timed([sys.executable, "-B", "-c", "import toolkit.excel.entry as e; e.validate()",
                        f"--wb={book.name}", "--from_xl=1"], env, args.runs, fresh)
        cli = timed([sys.executable, "-m", "toolkit", "validate", str(book)], env, args.runs, fresh)
        bare = timed([sys.executable, "-c", "import toolkit.excel.entry"], env, args.runs, lambda: None)
        python = timed([sys.executable, "-c", "pass"], env, args.runs, lambda: None)

    load = os.getloadavg()[0]
    print(f"claim lines: {args.lines}, runs: {args.runs} (median, cold process, {os.cpu_count()} CPUs, "
          f"load average {load:.1f})")
    print("                                        wall      CPU")
    print(f"  Validate button command (file mode)  {button[0]:5.2f} s  {button[1]:5.2f} s   target <= 1.50 s")
    print(f"  mednec validate WORKBOOK             {cli[0]:5.2f} s  {cli[1]:5.2f} s")
    print(f"  import toolkit.excel.entry           {bare[0]:5.2f} s  {bare[1]:5.2f} s"
          f"   (python itself: {python[0]:.2f} s)")


if __name__ == "__main__":
    main()
