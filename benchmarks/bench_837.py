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


def write_batch(csv_path: Path, out: Path, lines_per_claim: int = 1) -> int:
    """The CSV's lines as one 005010X222A1 batch: a subscriber per claim, ``lines_per_claim``
    consecutive CSV lines per claim (1: the worst case, 13 segments a line; a PM system's batch
    has several lines a claim). A claim takes its first line's patient, payer and authorization;
    its HI lists the lines' diagnoses (each once, up to 12) and each SV107 points at its own."""
    import csv

    with open(csv_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    segs = ["ST*837*0001*005010X222A1", "BHT*0019*00*BENCH*20261120*1200*CH",
            "NM1*41*2*RIVERSIDE ORTHOPEDICS*****46*SUBMIT01", "PER*IC*BILLING*TE*2175550100",
            "NM1*40*2*CLEARINGHOUSE*****46*RECEIVE01", "HL*1**20*1", "NM1*85*2*RIVERSIDE ORTHOPEDICS*****XX*1234567893",
            "N3*1200 RIVER ROAD", "N4*SPRINGFIELD*IL*627010000", "REF*EI*123456789"]
    for n, at in enumerate(range(0, len(rows), lines_per_claim), start=2):
        claim = rows[at: at + lines_per_claim]
        row = claim[0]
        name, pid = PAYER_IDS.get(row["Payer"], (row["Payer"].upper(), "X1"))
        dob = row["Date of Birth"].replace("-", "") or "19500101"
        segs += [f"HL*{n}*1*22*0", "SBR*P*18*******CI", f"NM1*IL*1*PATIENT*A****MI*{row['Patient ID']}",
                 "N3*1 MAIN ST", "N4*SPRINGFIELD*IL*62701", f"DMG*D8*{dob}*{row['Sex'] or 'U'}",
                 f"NM1*PR*2*{name}*****PI*{pid}"]
        line_dx = [[d.strip().replace(".", "") for d in line["Dx Codes"].split(",") if d.strip()] for line in claim]
        dx = list(dict.fromkeys(d for codes in line_dx for d in codes))[:12]
        hi = "*".join(("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(dx))
        segs += [f"CLM*{row['Claim ID']}*{100 * len(claim)}***11:B:1*Y*A*Y*Y"]
        if row["Prior Auth Number"]:
            segs.append(f"REF*G1*{row['Prior Auth Number']}")
        segs.append(f"HI*{hi}")
        for number, (line, codes) in enumerate(zip(claim, line_dx), start=1):
            mods = ":".join(m.strip() for m in line["Modifiers"].replace(",", " ").split())
            pointers = ":".join([str(dx.index(d) + 1) for d in codes if d in dx][:4])
            segs += [f"LX*{number}", f"SV1*HC:{line['CPT/HCPCS']}{':' + mods if mods else ''}*100*UN*"
                     f"{line['Units'] or 1}***{pointers}", f"DTP*472*D8*{line['Date of Service'].replace('-', '')}"]
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
        batch, typical = tmp / "batch.837", tmp / "typical.837"
        write_batch(claims, batch)
        write_batch(claims, typical, lines_per_claim=3)
        payers = tmp / "payers.csv"
        payers.write_text(PAYERS)
        mb = {p.name: f"{p.stat().st_size / 1e6:.1f} MB" for p in (claims, batch, typical)}
        print(f"{lines:,} service lines: {mb['claims.csv']} CSV; 837P {mb['batch.837']} "
              f"(a claim per line), {mb['typical.837']} (3 lines a claim); "
              f"median of {repeats} fresh processes")
        common = ["--rules", str(SAMPLE / "rules.csv"), "--payers", str(payers), "--as-of", "2026-11-27"]

        def validate(path: Path, *extra: str) -> list[str]:
            return [sys.executable, "-m", "toolkit", "validate", str(path), *extra, "--report", str(tmp / "r.csv")]

        runs: dict[str, list[tuple[float, float]]] = {}
        for _ in range(repeats):  # alternated, so a busy spell on the machine touches every command alike
            for label, cmd in (
                ("bare", [sys.executable, "-c", BARE_READ, str(claims)]),
                ("csv", validate(claims, "--rules", str(SAMPLE / "rules.csv"), "--payers", str(SAMPLE / "payers.csv"),
                                 "--as-of", "2026-11-27")),
                ("read", [sys.executable, "-c", READ_837, str(batch)]),
                ("ours", validate(batch, *common)),
                ("typical", validate(typical, *common)),
            ):
                runs.setdefault(label, []).append(timed(cmd))
        bare, csv_validate, read_only, ours, usual = (_median(runs[k])
                                                      for k in ("bare", "csv", "read", "ours", "typical"))
        scrub = timed([sys.executable, "-m", "toolkit", "scrub", str(batch), "--ready", str(tmp / "READY.837"),
                       "--held", str(tmp / "HELD.837"), *common])

    def ratio(x: tuple[float, float]) -> str:
        return f"ratio {x[0] / bare[0]:5.2f}x wall, {x[1] / bare[1]:5.2f}x CPU"

    print("                                         wall      CPU")
    print(f"bare pandas read of the CSV          : {bare[0]:6.2f} s {bare[1]:6.2f} s")
    print(f"mednec validate claims.csv --report  : {csv_validate[0]:6.2f} s {csv_validate[1]:6.2f} s  "
          f"{ratio(csv_validate)} (for comparison)")
    print(f"read batch.837 into Claims lines     : {read_only[0]:6.2f} s {read_only[1]:6.2f} s  {ratio(read_only)}"
          " (the reader's share)")
    print(f"mednec validate batch.837 --report   : {ours[0]:6.2f} s {ours[1]:6.2f} s  {ratio(ours)} (target <= 3x)")
    print(f"  the same lines, 3 a claim          : {usual[0]:6.2f} s {usual[1]:6.2f} s  {ratio(usual)}")
    print(f"mednec scrub batch.837               : {scrub[0]:6.2f} s {scrub[1]:6.2f} s  (target < 30 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
