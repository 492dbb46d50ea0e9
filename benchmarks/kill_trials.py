"""kill -9 during a save, N times: is the workbook ever corrupt, is anything left behind?

Each trial copies the shipped workbook, starts ``mednec validate`` on it in a fresh process and
kills it (SIGKILL: no handler runs) at a random moment in the second half of a run, when the
save is under way.  It then counts whether the workbook is the original, a complete new version
or corrupt (must be 0), the temporary files left beside it and in the process's own temp folder,
and runs the next command (``validate`` again), after which no temporary file may remain.

    python benchmarks/kill_trials.py            # 20 trials
    python benchmarks/kill_trials.py --trials 50
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"


CODE = REPO  # --code: another checkout's toolkit, for a baseline from the same run


def _mednec(args: list[str], tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(CODE), "TMPDIR": str(tmpdir), "MEDNEC_LOCK_WAIT": "60"}
    # cwd: the temp folder, so `-m toolkit` finds CODE's package, not one in the current folder
    return subprocess.Popen([sys.executable, "-m", "toolkit", *args], env=env, cwd=tmpdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _readable(path: Path) -> bool:
    """Opens in both readers and its Claims table reads: what a biller's next click needs."""
    try:
        import openpyxl

        from toolkit.tables import CLAIMS
        from toolkit.workbook.files import read_table

        openpyxl.load_workbook(path, keep_vba=True).close()
        return len(read_table(path, CLAIMS)) > 0
    except Exception:
        return False


def _ours(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".~") and not p.name.startswith(".~mednec.")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose toolkit the trials run")
    parser.add_argument("--lines", type=int, default=0,
                        help="claim lines in the workbook (default: the shipped one); more = a longer save")
    args = parser.parse_args()
    global CODE, WORKBOOK
    CODE = args.code.resolve()
    random.seed(args.seed)
    with tempfile.TemporaryDirectory() as root:
        root_path = Path(root)
        scratch = root_path / "tmp"
        scratch.mkdir()
        if args.lines:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from bench_excel_validate import sample_with

            from toolkit.workbook.build import build_workbook

            (root_path / "sample").mkdir()
            WORKBOOK = build_workbook(root_path / "medical_necessity.xlsm",
                                      sample_dir=sample_with(args.lines, root_path / "sample"))
        # how long one validate takes here, to aim the kills at its save
        probe = root_path / "probe" / WORKBOOK.name
        probe.parent.mkdir()
        shutil.copy(WORKBOOK, probe)
        start = time.perf_counter()
        _mednec(["validate", str(probe), "--as-of", "2026-11-27"], scratch).wait()
        full = time.perf_counter() - start
        kept = new = corrupt = left_before = left_after = system_temp = 0
        for trial in range(args.trials):
            folder = root_path / f"t{trial}"
            folder.mkdir()
            book = folder / WORKBOOK.name
            shutil.copy(WORKBOOK, book)
            original = book.read_bytes()
            proc = _mednec(["validate", str(book), "--as-of", "2026-11-27"], scratch)
            time.sleep(random.uniform(0.5, 1.05) * full)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if book.read_bytes() == original:
                kept += 1
            elif _readable(book):
                new += 1
            else:
                corrupt += 1
            left_before += len(_ours(folder))
            _mednec(["validate", str(book), "--as-of", "2026-11-27"], scratch).wait()  # the next run
            left_after += len(_ours(folder))
        system_temp = sum(1 for p in scratch.iterdir() if p.name.startswith("openpyxl"))
    print(f"kill -9 trials during 'mednec validate' (one run: {full:.1f} s; {args.lines or 'shipped'} lines; "
          f"code: {CODE})")
    print(f"  trials                         {args.trials}")
    print(f"  originals kept                 {kept}")
    print(f"  new versions                   {new}")
    print(f"  corrupt                        {corrupt}   (must be 0)")
    print(f"  temp files left by the kill    {left_before}")
    print(f"  temp files after the next run  {left_after}   (must be 0)")
    print(f"  openpyxl files in system temp  {system_temp}   (must be 0: scratch stays beside the workbook)")


if __name__ == "__main__":
    main()
