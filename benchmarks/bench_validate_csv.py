"""100,000 claim lines, CSV in → report CSV out, against a bare pandas read + write.

Target (issue 2): mednec's wall time at most 3× the bare pandas round trip of the same file,
both measured as fresh processes (what a biller's command or button costs); issue 16 tightens it
to 2× (stretch 1.5×) at 100k lines and 2.5× at 1M. Prints both, the ratio and the peak memory of each,
and mednec on the same lines three to a claim (each line listing the claim's diagnoses in its own order).

    python benchmarks/bench_validate_csv.py [LINES]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import SAMPLE, compile_toolkit, write_claims_csv  # noqa: E402

PANDAS_ROUND_TRIP = (
    "import pandas as pd, sys; "
    "df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False); df.to_csv(sys.argv[2], index=False)"
)


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one fresh process.

    CPU time is printed beside wall time: on a shared 2-core machine the wall clock swings by
    a third from run to run, CPU time much less. The figures are that process's own
    (``os.wait4``): the children's running maximum would give mednec the baseline's peak.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(lines: int = 100_000, repeats: int = 5) -> None:
    compile_toolkit()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        claims = write_claims_csv(tmp / "claims.csv", lines)
        # The same lines three to a claim, each listing the claim's diagnoses in its own order (as a
        # PM system exports them): ~5x the distinct Dx Codes texts.
        grouped = write_claims_csv(tmp / "grouped.csv", lines, lines_per_claim=3)
        print(f"{lines:,} claim lines, {claims.stat().st_size / 1e6:.1f} MB CSV, median of {repeats}")
        bare = [timed([sys.executable, "-c", PANDAS_ROUND_TRIP, str(claims), str(tmp / "copy.csv")])
                for _ in range(repeats)]

        def validate(path: Path) -> list[str]:
            return [sys.executable, "-m", "toolkit", "validate", str(path), "--rules",
                    str(SAMPLE / "rules.csv"), "--payers", str(SAMPLE / "payers.csv"), "--report",
                    str(tmp / "report.csv"), "--as-of", "2026-11-27"]

        ours = [timed(validate(claims)) for _ in range(repeats)]
        three = [timed(validate(grouped)) for _ in range(repeats)]
    b, bc = statistics.median(w for w, _, _ in bare), statistics.median(c for _, c, _ in bare)
    o, oc = statistics.median(w for w, _, _ in ours), statistics.median(c for _, c, _ in ours)
    t, tc = statistics.median(w for w, _, _ in three), statistics.median(c for _, c, _ in three)
    print("                            wall      CPU")
    print(f"bare pandas read + write : {b:6.2f} s {bc:6.2f} s   peak {max(m for *_, m in bare):6.0f} MB")
    print(f"mednec validate --report : {o:6.2f} s {oc:6.2f} s   peak {max(m for *_, m in ours):6.0f} MB")
    print(f"ratio                    : {o / b:6.2f}x  {oc / bc:5.2f}x  (target <= 2x at 100k, 2.5x at 1M)")
    print(f"  same lines, 3 a claim  : {t:6.2f} s {tc:6.2f} s   peak {max(m for *_, m in three):6.0f} MB  "
          f"ratio {t / b:5.2f}x  {tc / bc:5.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
