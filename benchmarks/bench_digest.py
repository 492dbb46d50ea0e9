"""How long do the digest, the reminder and the huddle pack take on a big denial log?

    python benchmarks/bench_digest.py [N_DENIALS]

Builds a workbook with N denials spread over two years (and as many claim lines), then times
each job through its job function (open the workbook read-only, read and convert the tables,
compute, write the .eml/.docx), and one idle scheduler tick (nothing due).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_digest import make_workbook  # noqa: E402

from toolkit.jobs.digest import ReadOnlyBook, build_digest, deadline_reminder, huddle_pack  # noqa: E402
from toolkit.scheduler import Scheduler  # noqa: E402
from toolkit.tables import CLAIMS, DENIALS  # noqa: E402
from toolkit.workbook.files import WorkbookFile  # noqa: E402

CAUSES = [("DX_NOT_COVERED", "50", "medical necessity"), ("PRIOR_AUTH_MISSING", "197", "authorization"),
          ("", "16", "documentation"), ("THERAPY_TOO_SHORT", "50", "medical necessity"), ("", "97", "bundling")]


def timed(label: str, fn):
    t = time.perf_counter()
    result = fn()
    print(f"{label:<44} {time.perf_counter() - t:7.2f} s")
    return result


def main(n: int = 20000) -> None:
    rnd = random.Random(3)
    log = []
    for _ in range(n):
        day = dt.date(2024, 4, 1) + dt.timedelta(days=rnd.randrange(730))
        root, carc, cat = rnd.choice(CAUSES)
        log.append((day.isoformat(), root, carc, cat, rnd.choice(["Open", "Appealed", "Paid", "Open"]),
                    (day + dt.timedelta(days=120)).isoformat(), rnd.choice(["Ana", "Ben", ""]), rnd.randint(50, 900)))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wb = timed(f"build test workbook ({n} denials, {n} claims)",
                   lambda: make_workbook(tmp / "big.xlsx", denials=log, n_claims=n))
        timed("open with openpyxl (WorkbookFile, for comparison)", lambda: WorkbookFile(wb, writable=False))
        book = timed("open with python-calamine (ReadOnlyBook)", lambda: ReadOnlyBook(wb))
        timed("read Denials + Claims (calamine)", lambda: (book.read_table(DENIALS), book.read_table(CLAIMS)))
        timed("digest 2026-03 (.eml with chart)", lambda: build_digest(book, "2026-03", tmp / "ob"))
        timed("appeal reminder", lambda: deadline_reminder(book, dt.date(2026, 4, 1), tmp / "ob"))
        timed("huddle pack 2026Q1 (.docx)", lambda: huddle_pack(book, "2026Q1", tmp))
        clock = lambda: dt.datetime(2026, 4, 1, 9, 0)  # noqa: E731
        sched = Scheduler(wb, tmp / "s.json", outbox=tmp / "ob2", out_dir=tmp, clock=clock, env={}, log=lambda s: None)
        timed("scheduler tick with 3 jobs due", sched.run_due)
        timed("scheduler tick, nothing due", sched.run_due)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
