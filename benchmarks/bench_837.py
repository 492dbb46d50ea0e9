"""An 837P batch of 100,000 service lines: validate and scrub, against a bare pandas read of the same lines.

Targets (issue 13): ``mednec validate BATCH.837 --report`` at most 3x a bare pandas read of the same
lines from CSV (both fresh processes, as in bench_validate_csv.py); ``mednec scrub`` under 30 s.

    python benchmarks/bench_837.py [LINES] [REPEATS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import SAMPLE, write_claims_csv  # noqa: E402
from _data import fresh_process as timed  # noqa: E402

BARE_READ = "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)"
# The 837 reader alone (what validate reads before its checks), to see its share of the ratio.
READ_837 = "import sys; from toolkit.claims.x12_837 import read_claims_837; read_claims_837(sys.argv[1])"
PAYERS = ("Payer,Payer Type,Timely Filing Days,Appeal Window Days,Payer ID,Also Known As\n"
          "Medicare,Medicare,365,120,00952,\nState Medicaid,Medicaid,365,60,SMCD1,\n"
          "Acme Health PPO,Commercial,90,180,ACME01,\n")
PAYER_IDS = {"Medicare": ("MEDICARE PART B", "00952"), "State Medicaid": ("STATE MEDICAID", "SMCD1"),
             "Acme Health PPO": ("ACME HEALTH", "ACME01")}


def write_batch(csv_path: Path, out: Path) -> int:
    """The CSV's lines as one 005010X222A1 batch: a subscriber per claim, a claim per CSV line."""
    import csv

    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    segs = ["ST*837*0001*005010X222A1", "BHT*0019*00*BENCH*20261120*1200*CH",
            "NM1*41*2*RIVERSIDE ORTHOPEDICS*****46*SUBMIT01", "PER*IC*BILLING*TE*2175550100",
            "NM1*40*2*CLEARINGHOUSE*****46*RECEIVE01", "HL*1**20*1", "NM1*85*2*RIVERSIDE ORTHOPEDICS*****XX*1234567893",
            "N3*1200 RIVER ROAD", "N4*SPRINGFIELD*IL*627010000", "REF*EI*123456789"]
    for n, row in enumerate(rows, start=2):
        name, pid = PAYER_IDS.get(row["Payer"], (row["Payer"].upper(), "X1"))
        dob = row["Date of Birth"].replace("-", "") or "19500101"
        segs += [f"HL*{n}*1*22*0", "SBR*P*18*******CI", f"NM1*IL*1*PATIENT*A****MI*{row['Patient ID']}",
                 "N3*1 MAIN ST", "N4*SPRINGFIELD*IL*62701", f"DMG*D8*{dob}*{row['Sex'] or 'U'}",
                 f"NM1*PR*2*{name}*****PI*{pid}"]
        dx = [d.strip().replace(".", "") for d in row["Dx Codes"].split(",") if d.strip()]
        hi = "*".join(("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(dx))
        mods = ":".join(m.strip() for m in row["Modifiers"].replace(",", " ").split())
        segs += [f"CLM*{row['Claim ID']}*100***11:B:1*Y*A*Y*Y"]
        if row["Prior Auth Number"]:
            segs.append(f"REF*G1*{row['Prior Auth Number']}")
        segs += [f"HI*{hi}", "LX*1", f"SV1*HC:{row['CPT/HCPCS']}{':' + mods if mods else ''}*100*UN*"
                 f"{row['Units'] or 1}***{':'.join(str(i + 1) for i in range(min(len(dx), 4)))}",
                 f"DTP*472*D8*{row['Date of Service'].replace('-', '')}"]
    segs.append(f"SE*{len(segs) + 1}*0001")
    isa = ("ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*RECEIVE01      *261120*1200*^*00501*000000001"
           "*0*P*:")
    text = "~\n".join([isa, "GS*HC*SUBMIT01*RECEIVE01*20261120*1200*1*X*005010X222A1", *segs, "GE*1*1",
                       "IEA*1*000000001"]) + "~\n"
    out.write_text(text)
    return len(rows)



def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main(lines: int = 100_000, repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        claims = write_claims_csv(tmp / "claims.csv", lines)
        batch = tmp / "batch.837"
        write_batch(claims, batch)
        payers = tmp / "payers.csv"
        payers.write_text(PAYERS)
        print(f"{lines:,} service lines: {batch.stat().st_size / 1e6:.1f} MB 837P, "
              f"{claims.stat().st_size / 1e6:.1f} MB CSV; median of {repeats} fresh processes")
        common = ["--rules", str(SAMPLE / "rules.csv"), "--payers", str(payers), "--as-of", "2026-11-27"]
        bare = _median([timed([sys.executable, "-c", BARE_READ, str(claims)]) for _ in range(repeats)])
        csv_validate = _median([
            timed([sys.executable, "-m", "toolkit", "validate", str(claims), *common[:2], "--payers",
                   str(SAMPLE / "payers.csv"), "--report", str(tmp / "r0.csv"), "--as-of", "2026-11-27"])
            for _ in range(repeats)])
        read_only = _median([timed([sys.executable, "-c", READ_837, str(batch)]) for _ in range(repeats)])
        ours = _median([
            timed([sys.executable, "-m", "toolkit", "validate", str(batch), *common, "--report", str(tmp / "r.csv")])
            for _ in range(repeats)])
        scrub = timed([sys.executable, "-m", "toolkit", "scrub", str(batch), "--ready", str(tmp / "READY.837"),
                       "--held", str(tmp / "HELD.837"), *common])
    print("                                         wall      CPU")
    print(f"bare pandas read of the CSV          : {bare[0]:6.2f} s {bare[1]:6.2f} s")
    print(f"mednec validate claims.csv --report  : {csv_validate[0]:6.2f} s {csv_validate[1]:6.2f} s  (for comparison)")
    print(f"read batch.837 into Claims lines     : {read_only[0]:6.2f} s {read_only[1]:6.2f} s  "
          f"ratio {read_only[0] / bare[0]:5.2f}x wall, {read_only[1] / bare[1]:5.2f}x CPU (the reader's share)")
    print(f"mednec validate batch.837 --report   : {ours[0]:6.2f} s {ours[1]:6.2f} s  "
          f"ratio {ours[0] / bare[0]:5.2f}x wall, {ours[1] / bare[1]:5.2f}x CPU (target <= 3x)")
    print(f"mednec scrub batch.837               : {scrub[0]:6.2f} s {scrub[1]:6.2f} s  (target < 30 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
