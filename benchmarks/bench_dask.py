"""`validate --dask local` (2 worker processes) against the streamed run on the same file.

    python benchmarks/bench_dask.py [LINES]      (default: 1,000,000; needs pip install "mednec[scale]")

Both are fresh processes; the Dask figures include starting the local cluster. Peak memory is the
largest of the command and its worker processes as the OS reports them for the whole tree (the
children's peak), so the two are comparable. On this 2-core machine two workers cannot beat one
streamed process by much: the run shows the overhead; a cluster adds cores, not a faster core.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import SAMPLE, grouped_claim_rows, invented_ncci_index, write_rows_csv  # noqa: E402


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """Wall s, CPU s of the process and all its descendants, and the peak RSS (MB) among them."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
             "print(u.ru_utime + u.ru_stime, u.ru_maxrss / 1024); sys.exit(r.returncode)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    cpu, peak = map(float, done.stdout.split())
    return time.perf_counter() - start, cpu, peak


def main(lines: int) -> None:
    print(f"{lines:,} lines; 2-core machine shared with other jobs (load average {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        header, rows = grouped_claim_rows(lines)
        claims = write_rows_csv(tmp / "claims.csv", header, rows)
        del rows
        ncci = invented_ncci_index(tmp / "ncci")
        base = [sys.executable, "-m", "toolkit", "validate", str(claims), "--rules", str(SAMPLE / "rules.csv"),
                "--payers", str(SAMPLE / "payers.csv"), "--ncci", str(ncci), "--as-of", "2026-11-27"]
        runs = {
            "streamed": base + ["--report", str(tmp / "s.csv")],
            "--dask local (2 workers)": base + ["--report", str(tmp / "d.csv"), "--dask", "local"],
        }
        print(f"{'run':<26} {'wall s':>8} {'CPU s':>8} {'lines/s (wall)':>15} {'peak MB':>8}")
        for name, cmd in runs.items():
            wall, cpu, peak = measured(cmd)
            print(f"{name:<26} {wall:8.1f} {cpu:8.1f} {lines / wall:15,.0f} {peak:8.0f}")
        stamp = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")  # Validated At: the minute each run started
        same = stamp.sub(b"", (tmp / "s.csv").read_bytes()) == stamp.sub(b"", (tmp / "d.csv").read_bytes())
        print("same report bytes (Validated At aside):", same)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
