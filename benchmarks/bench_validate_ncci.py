"""100,000 claim lines (four per claim and day) validated without and with an NCCI index.

The index is built from invented CMS-shaped files (no real CMS rows): every pair of the
sample's procedure codes as a PTP edit, plus FILLER random pairs so the lookup runs against a
table of realistic size, and an MUE value for each sample code.  Prints the build time, the
index size and both fresh-process wall times of ``mednec validate --report``.

    python benchmarks/bench_validate_ncci.py [LINES] [FILLER]
"""

from __future__ import annotations

import csv
import itertools
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from _data import SAMPLE, claim_rows


def write_files(tmp: Path, codes: list[str], filler: int) -> tuple[Path, Path]:
    rnd = random.Random(3)
    ptp = tmp / "ccipra-v999r0-f1.txt"
    with open(ptp, "w", encoding="cp1252", newline="") as fh:
        fh.write("Invented benchmark data, not CMS edits\r\n\r\n")
        fh.write("Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
                 "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale\r\n")
        fh.writelines(f"{a}\t{b}\t\t20200101\t*\t{i % 2}\tMutually exclusive procedures\r\n"
                      for i, (a, b) in enumerate(itertools.permutations(codes, 2)))
        fh.writelines(f"{rnd.randrange(10000, 69999)}\t{rnd.randrange(70000, 99999)}\t\t20200101\t*\t1\t"
                      f"Standards of medical/surgical services\r\n" for _ in range(filler))
    mue = tmp / "MCR_MUE_PractitionerServices_Eff_01-01-2099.csv"
    with open(mue, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Invented benchmark data"])
        w.writerow(["HCPCS/\nCPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator",
                    "MUE Rationale"])
        for i, c in enumerate(codes):
            w.writerow([c, 1, "1 Line Edit" if i % 2 else "3 Date of Service Edit: Clinical", "Clinical: Data"])
    return ptp, mue


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(lines: int = 100_000, filler: int = 500_000, repeats: int = 3) -> None:
    from toolkit.codesets.build_ncci import build_ncci_index

    header, rows = claim_rows(lines)
    h = {name: i for i, name in enumerate(header)}
    for i, row in enumerate(rows):  # four lines per claim, one date of service
        row[h["Claim ID"]] = f"{i // 4 + 100000:07d}"
        row[h["Date of Service"]] = rows[i - i % 4][h["Date of Service"]]
    codes = sorted({r[h["CPT/HCPCS"]] for r in rows if len(r[h["CPT/HCPCS"]]) == 5})
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        claims = tmp / "claims.csv"
        with open(claims, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header, *rows])
        ptp, mue = write_files(tmp, codes, filler)
        start = time.perf_counter()
        index = build_ncci_index([ptp], tmp / "ncci.sqlite", mue_file=mue, label="Invented")
        built = time.perf_counter() - start
        base = [sys.executable, "-m", "toolkit", "validate", str(claims), "--rules", str(SAMPLE / "rules.csv"),
                "--payers", str(SAMPLE / "payers.csv"), "--report", str(tmp / "report.csv"), "--as-of", "2026-11-27"]
        without = statistics.median(timed(base) for _ in range(repeats))
        with_index = statistics.median(timed(base + ["--ncci", str(index)]) for _ in range(repeats))
        with open(tmp / "report.csv", newline="", encoding="utf-8") as fh:
            found = [r["Finding Codes"] for r in csv.DictReader(fh)]
        size = index.stat().st_size / 1e6
    ptp_n = sum("NCCI_PTP_CONFLICT" in f for f in found)
    mue_n = sum("MUE_EXCEEDED" in f for f in found)
    print(f"{lines:,} claim lines in claims of 4; index of {filler + len(codes) * (len(codes) - 1):,} PTP edits")
    print(f"index build              : {built:6.2f} s   {size:.1f} MB")
    print(f"validate --report        : {without:6.2f} s   (no index)")
    print(f"validate --report --ncci : {with_index:6.2f} s   "
          f"({ptp_n:,} lines NCCI_PTP_CONFLICT, {mue_n:,} MUE_EXCEEDED)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
