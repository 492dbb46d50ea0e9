"""Streamed validate against the in-memory run: wall, CPU, lines/s and peak memory.

    python benchmarks/bench_stream.py [LINES ...]      (default: 1,000,000)

Each run is a fresh process (``python -m toolkit validate``), measured with ``os.wait4``. The
in-memory baseline (``validate_to_report``: the whole file read, checked and written at once) is run
only up to 2,000,000 lines; above that the streamed figures are compared per line with the largest
in-memory run. Goals (issue 15): peak under 1.5 GB at 10M lines; lines/s within 1.5x of in-memory.
Claims have 1 to 4 lines, an invented NCCI index is loaded, so the pair checks run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import SAMPLE, grouped_claim_rows, invented_ncci_index, write_rows_csv  # noqa: E402

IN_MEMORY = (
    "import sys; from toolkit.jobs.validate import validate_to_report; "
    "validate_to_report(sys.argv[1], sys.argv[2], rules_path=sys.argv[3], payers_path=sys.argv[4], "
    "as_of='2026-11-27', ncci_path=sys.argv[5])"
)
BLOCK = 1_000_000  # lines generated once, then copied with other Claim IDs


def claims_file(folder: Path, lines: int) -> Path:
    """``lines`` claim lines grouped by claim (copies of one generated block with new Claim IDs)."""
    header, rows = grouped_claim_rows(min(lines, BLOCK))
    block = write_rows_csv(folder / "block.csv", header, rows)
    if lines <= BLOCK:
        return block
    data = block.read_bytes()
    head, body = data.split(b"\n", 1)
    out = folder / f"claims-{lines}.csv"
    with open(out, "wb") as fh:
        fh.write(head + b"\n")
        written = 0
        for k in range(-(-lines // BLOCK)):
            part = body.replace(b"\nC", b"\nC%02d" % k) if k else body  # Claim IDs stay unique and grouped
            if k:
                part = b"C%02d" % k + part[1:]
            take = min(BLOCK, lines - written)
            if take < BLOCK:
                part = b"\n".join(part.split(b"\n")[:take]) + b"\n"
            fh.write(part)
            written += take
    block.unlink()
    return out


def measured(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(sizes: list[int]) -> None:
    print(f"2-core machine shared with other jobs (load average {os.getloadavg()[0]:.1f}): compare CPU seconds.")
    print(f"{'lines':>11} {'run':<18} {'wall s':>8} {'CPU s':>8} {'lines/s (CPU)':>14} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        tmp = Path(tmp)
        ncci = invented_ncci_index(tmp / "ncci")
        base_rate = None
        for lines in sizes:
            claims = claims_file(tmp, lines)
            common = [str(SAMPLE / "rules.csv"), str(SAMPLE / "payers.csv"), str(ncci)]
            if lines <= 2_000_000:
                wall, cpu, peak = measured([sys.executable, "-c", IN_MEMORY, str(claims), str(tmp / "m.csv"), *common])
                base_rate = lines / cpu
                print(f"{lines:>11,} {'in memory':<18} {wall:8.1f} {cpu:8.1f} {base_rate:14,.0f} {peak:8.0f}")
            wall, cpu, peak = measured([
                sys.executable, "-m", "toolkit", "validate", str(claims), "--rules", common[0], "--payers", common[1],
                "--ncci", common[2], "--report", str(tmp / "s.csv"), "--as-of", "2026-11-27"])
            rate = lines / cpu
            ratio = f"  ({base_rate / rate:.2f}x the in-memory CPU per line)" if base_rate else ""
            print(f"{lines:>11,} {'streamed':<18} {wall:8.1f} {cpu:8.1f} {rate:14,.0f} {peak:8.0f}{ratio}")
            claims.unlink()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000])
