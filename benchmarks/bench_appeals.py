"""How long do 1,000 appeal letters take?  Target (issue 16): 8 s; the docxtpl-per-letter path beside it.

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
from toolkit.word.render import Renderer  # noqa: E402
from toolkit.workbook.files import ReadOnlyWorkbook  # noqa: E402


def main(n: int = 1000) -> float:
    claims, denials = [], []
    for i in range(n):
        src_claim, src_denial = CLAIM_ROWS[i % 2], DENIAL_ROWS[i % 2]
        cid = f"C{100000 + i}"
        claims.append(dict(src_claim, **{"Claim ID": cid, "Line": 1}))
        denials.append(dict(src_denial, **{"Denial ID": f"D-{i:06d}", "Claim ID": cid, "Line": 1, "Status": "Open"}))
    with tempfile.TemporaryDirectory() as tmp:
        wb = make_workbook(Path(tmp) / "bench.xlsx", claims=claims, denials=denials)
        book = ReadOnlyWorkbook(wb)
        start, cpu = time.perf_counter(), time.process_time()
        paths = appeal_letters_all_open(book, Path(tmp) / "letters", today=dt.date(2026, 4, 1))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert len(paths) == n
        size = sum(p.stat().st_size for p in paths) / n
        # the baseline, same run: every letter rendered by docxtpl from scratch (the path before batches)
        original = Renderer.render
        Renderer.render = Renderer.render_docxtpl  # type: ignore[method-assign]
        try:
            old_start, old_cpu = time.perf_counter(), time.process_time()
            appeal_letters_all_open(book, Path(tmp) / "letters-docxtpl", today=dt.date(2026, 4, 1))
            old_elapsed, old_cpu = time.perf_counter() - old_start, time.process_time() - old_cpu
        finally:
            Renderer.render = original  # type: ignore[method-assign]
    print(f"{n} appeal letters, template prepared once per batch: {elapsed:.1f} s wall, {cpu:.1f} s CPU "
          f"({1000 * cpu / n:.1f} ms each, {size / 1024:.0f} KiB each); target 1,000 in <= 8 s: "
          f"{'OK' if cpu * 1000 / n <= 8 else 'TOO SLOW'}")
    print(f"{n} appeal letters, docxtpl per letter (before):      {old_elapsed:.1f} s wall, {old_cpu:.1f} s CPU "
          f"({old_cpu / cpu:.1f}x the batch path)")
    return elapsed

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
