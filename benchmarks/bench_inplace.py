"""Validate in place of a big workbook: the fast writer against the openpyxl path, one run.

    python benchmarks/bench_inplace.py [--lines 20000] [--cold 500]

Prints the CPU time of ``mednec validate WORKBOOK`` in a fresh Python for ``--lines`` claim lines
with the fast in-place writer (``toolkit.workbook.fastxlsx``) and with the old path (openpyxl's
``WorkbookFile``), and the same for the
``--cold`` line workbook (what a Validate click costs).  Targets (issue 16): 20k lines <= 5 s CPU,
500 lines cold <= 1.0 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

OLD_PATH = """
import sys
from toolkit.workbook.files import WorkbookFile
from toolkit.jobs.validate import validate_book
validate_book(WorkbookFile(sys.argv[1]))
"""
NEW_PATH = """
import sys
from toolkit.workbook.fastxlsx import open_book
from toolkit.jobs.validate import validate_book
book = open_book(sys.argv[1])
validate_book(book)
assert book.fallback_note is None, book.fallback_note
"""


def cpu_of(code: str, book: Path, template: Path) -> tuple[float, float]:
    """(wall, CPU) of one fresh Python running ``code`` on a fresh copy of the workbook."""
    from _data import fresh_process

    shutil.copyfile(template, book)
    return fresh_process([sys.executable, "-c", code, str(book)], dict(os.environ, PYTHONPATH=str(REPO)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--cold", type=int, default=500)
    args = parser.parse_args()
    from bench_excel_validate import sample_with

    from toolkit.workbook.build import build_workbook

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in (args.cold, args.lines):
            (tmp / f"s{n}").mkdir()
            template = build_workbook(tmp / f"t{n}.xlsm", sample_dir=sample_with(n, tmp / f"s{n}"))
            book = tmp / "medical_necessity.xlsm"
            old = cpu_of(OLD_PATH, book, template)
            new = cpu_of(NEW_PATH, book, template)
            target = 1.0 if n == args.cold else 5.0
            print(f"{n:>6} lines in place   fast writer {new[1]:6.2f} s CPU ({new[0]:5.2f} s wall)   "
                  f"openpyxl {old[1]:6.2f} s CPU ({old[0]:5.2f} s wall)   {old[1] / new[1]:4.1f}x   "
                  f"target <= {target:.1f} s: {'met' if new[1] <= target else 'NOT met'}")


if __name__ == "__main__":
    main()
