"""How long do 1,000 appeal letters take?  Target: under 60 s.

    python benchmarks/bench_appeals.py [N]

Builds a workbook with N open denials (and their claim lines) from the test rows, then times
``mednec appeal --all-open`` through its job function: reading the tables, building every
letter, rendering them with docxtpl and writing the files.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docs_workbook import CLAIM_ROWS, DENIAL_ROWS, make_workbook  # noqa: E402

from toolkit.jobs.documents import appeal_letters_all_open  # noqa: E402
from toolkit.workbook.files import WorkbookFile  # noqa: E402


def main(n: int = 1000) -> float:
    claims, denials = [], []
    for i in range(n):
        src_claim, src_denial = CLAIM_ROWS[i % 2], DENIAL_ROWS[i % 2]
        cid = f"C{100000 + i}"
        claims.append(dict(src_claim, **{"Claim ID": cid, "Line": 1}))
        denials.append(dict(src_denial, **{"Denial ID": f"D-{i:06d}", "Claim ID": cid, "Line": 1, "Status": "Open"}))
    with tempfile.TemporaryDirectory() as tmp:
        wb = make_workbook(Path(tmp) / "bench.xlsx", claims=claims, denials=denials)
        start = time.perf_counter()
        paths = appeal_letters_all_open(WorkbookFile(wb, writable=False), Path(tmp) / "letters",
                                        today=dt.date(2026, 4, 1))
        elapsed = time.perf_counter() - start
        assert len(paths) == n
        size = sum(p.stat().st_size for p in paths) / n
    print(f"{n} appeal letters in {elapsed:.1f} s ({1000 * elapsed / n:.1f} ms each, {size / 1024:.0f} KiB each); "
          f"target 1,000 in < 60 s: {'OK' if elapsed * 1000 / n < 60 else 'TOO SLOW'}")
    return elapsed


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
