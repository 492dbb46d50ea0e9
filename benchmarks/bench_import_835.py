"""Time the import of an 835 with 10,000 claims into a workbook's Denials table: fast writer against openpyxl.

Generates a remittance where every claim has two service lines: one paid (CO-45, PR-2) and,
for a third of the claims, one denied (CO-50/N115, CO-197 or CO-16/M76 in turn); the workbook
holds 10,000 matching Claims lines.  Prints parse, build and end-to-end figures.

    python benchmarks/bench_import_835.py [N_CLAIMS]
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def make_835(n: int) -> str:
    segs = ["ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260301*1200*^*00501*000000001*0*P*:",
            "GS*HP*PAYER*CLINIC*20260301*1200*1*X*005010X221A1", "ST*835*0001",
            "BPR*I*100000*C*ACH*CCP*01*9*DA*1*1**01*9*DA*1*20260301", "TRN*1*BENCH0001*1",
            "DTM*405*20260301", "N1*PR*MEDICARE PART B", "N1*PE*CLINIC*XX*1234567893", "LX*1"]
    denials = [("50", "N115"), ("197", "N54"), ("16", "M76")]
    for i in range(n):
        cid = f"CLM-{i:06d}"
        denied = i % 3 == 0
        segs += [f"CLP*{cid}*{4 if denied else 1}*300*{100 if denied else 250}*20*MB*PCN{i:06d}",
                 f"NM1*QC*1*PATIENT*TEST****MI*M{i:08d}",
                 "SVC*HC:99214*150*100**1", "DTM*472*20260205", "CAS*CO*45*30", "CAS*PR*2*20", f"REF*6R*{i}-1"]
        if denied:
            carc, rarc = denials[(i // 3) % 3]
            segs += ["SVC*HC:64483:RT*150*0**1", "DTM*472*20260205", f"CAS*CO*{carc}*150", f"REF*6R*{i}-2",
                     f"LQ*HE*{rarc}"]
        else:
            segs += ["SVC*HC:20610*150*150**1", "DTM*472*20260205", f"REF*6R*{i}-2"]
    segs += [f"SE*{len(segs) - 1}*0001", "GE*1*1", "IEA*1*000000001"]
    return "~\n".join(segs) + "~\n"


def main(n: int = 10_000) -> None:
    from denials_support import build_workbook

    from toolkit.denials.x12_835 import parse_835
    from toolkit.jobs.denials import import_835_files
    from toolkit.workbook.files import WorkbookFile

    tmp = Path(tempfile.mkdtemp(prefix="bench835-"))
    remit = tmp / "big.835"
    remit.write_text(make_835(n), encoding="utf-8")
    claims = [(f"CLM-{i:06d}", 2, f"P{i:06d}", "Medicare Part B", dt.date(2026, 2, 5), "64483", "RT", "M48.061",
               dt.date(2026, 2, 6), "GREEN", "") for i in range(n)]
    book_path = build_workbook(tmp / "practice.xlsx", claims=claims)
    print(f"835: {n} claims, {remit.stat().st_size / 1e6:.1f} MB; workbook with {n} Claims lines")

    t = time.perf_counter()
    remits = parse_835(remit.read_bytes())
    print(f"parse only:          {time.perf_counter() - t:6.2f} s ({sum(len(r.claims) for r in remits)} claims)")

    import shutil

    from toolkit.workbook.fastxlsx import open_book

    template = tmp / "template.xlsx"
    shutil.copyfile(book_path, template)
    figures = {}
    for label, opener in (("openpyxl (old path)", WorkbookFile), ("fast writer", open_book)):
        shutil.copyfile(template, book_path)
        t, c = time.perf_counter(), time.process_time()
        summary = import_835_files(opener(book_path), [remit])
        total, cpu = time.perf_counter() - t, time.process_time() - c
        figures[label] = cpu
        print(f"{label:20} import (open, parse, link, decode, append, save): {total:6.2f} s wall "
              f"{cpu:6.2f} s CPU -> {summary}")
        t = time.perf_counter()
        again = import_835_files(opener(book_path), [remit])
        print(f"{label:20} re-import (idempotent): {time.perf_counter() - t:6.2f} s -> {again.added} added")
    cpu = figures["fast writer"]
    print(f"target <= 4 s CPU (issue 16): {'met' if cpu <= 4 else 'NOT met'} "
          f"({figures['openpyxl (old path)'] / cpu:.1f}x faster than openpyxl)")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
