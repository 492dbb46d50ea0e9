"""DENIAL_HISTORY: an honest measure of what it catches, and what it costs.

1. Replay.  A synthetic practice year (deterministic, made below: the shipped sample's payers,
   rules and codes; most lines clean; some with errors the contract checks see; payers with
   habits the Rules do not know — Acme stops accepting M54.41 for 72148 in April, State Medicaid
   wants prior auth for 20610 from March, Medicare rejects 20610 billed "RT, 59" from May — and
   a background of random denials).  Month by month, month m's lines are validated with the
   denial log as it stood before month m (the lines of the twelve months before, submitted, are
   in the Claims table too, so the rate condition has its counts).  Printed: precision (flagged
   lines that were then denied ÷ flagged lines) and recall (denied lines that were flagged ÷
   denied lines) of DENIAL_HISTORY, of the contract checks alone, and of both together.  The
   defaults (2 denials, 12 months, 50 %) are used as shipped: nothing is tuned to this replay.

2. Cost.  The 100k-line CSV benchmark (benchmarks/_data.py) validated as a fresh process, with
   and without ``--denials`` naming a 20,000-row denial log; target: at most +20 %.

    python benchmarks/bench_denial_history.py [--skip-cost] [--lines 100000] [--denials 20000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import DX_POOL, SAMPLE, claim_rows  # noqa: E402
from _data import fresh_process as _timed  # noqa: E402

YEAR = 2026
LINES_PER_MONTH = 600

# (payer, cpt) → (supporting diagnoses that rule covers, modifier); chosen so a clean line is GREEN
ORDERS = {
    ("Medicare", "62323"): (["M48.061", "M48.062", "M51.16", "M54.16", "M54.17"], ""),
    ("Medicare", "64483"): (["M51.16", "M51.17", "M54.16", "M54.17"], "RT"),
    ("Medicare", "72148"): (["M48.061", "M51.16", "M54.16", "M54.41", "M47.816"], ""),
    ("Medicare", "20610"): (["M17.11", "M19.011", "M25.561"], "RT"),
    ("Medicare", "63047"): (["M48.061", "M48.062"], ""),
    ("State Medicaid", "72148"): (["M48.061", "M51.16", "M54.16"], ""),
    ("State Medicaid", "20610"): (["M17.11", "M19.011"], "RT"),
    ("Acme Health PPO", "72148"): (["M48.061", "M51.16", "M54.16", "M54.41", "M54.42"], ""),
    ("Acme Health PPO", "29881"): (["S83.241A"], "RT"),
    ("Acme Health PPO", "73721"): (["M17.11", "M25.561", "S83.241A"], "RT"),
}
WEIGHTS = [14, 8, 16, 10, 4, 8, 6, 18, 6, 10]
FEE = {"62323": 620.0, "64483": 710.0, "72148": 480.0, "20610": 140.0, "63047": 2400.0, "73721": 520.0,
       "29881": 1850.0}
NOISE = [("50", "", "medical necessity"), ("16", "M127", "documentation"), ("18", "", "duplicate"),
         ("27", "", "eligibility"), ("22", "", "coordination of benefits"), ("167", "", "medical necessity"),
         ("97", "", "bundling"), ("4", "", "coding")]


def _rules() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "rules.csv", dtype=str, keep_default_na=False)


def _payers() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "payers.csv", dtype=str, keep_default_na=False)


def _criteria(rules: pd.DataFrame) -> dict:
    current = rules[rules["Effective To"] == ""]
    return {(r["Payer"], r["CPT/HCPCS"]): r for _, r in current.iterrows()}


def _hidden(payer: str, cpt: str, dx: str, mods: str, auth: str, month: int) -> tuple[str, str, str] | None:
    """The payers' habits the Rules sheet does not know (CARC, RARC, Category) — or None."""
    if payer == "Acme Health PPO" and cpt == "72148" and dx == "M54.41" and month >= 4:
        return ("50", "N115", "medical necessity")
    if payer == "State Medicaid" and cpt == "20610" and not auth and month >= 3:
        return ("197", "", "authorization")
    if payer == "Medicare" and cpt == "20610" and mods == "RT, 59" and month >= 5:
        return ("4", "N519", "coding")
    return None


def synthetic_year(seed: int = 2026, per_month: int = LINES_PER_MONTH) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(claims, denials, truth): a year of claim lines, the denials they drew, and which lines were denied.

    Reason for the length: one generator keeps the shape of the year readable in one place."""
    rnd = random.Random(seed)
    crit = _criteria(_rules())
    keys = list(ORDERS)
    claims, denials, denied = [], [], []
    n = 0
    for month in range(1, 13):
        for _ in range(per_month):
            n += 1
            payer, cpt = rnd.choices(keys, WEIGHTS)[0]
            dx_choices, mod = ORDERS[(payer, cpt)]
            rule = crit.get((payer, cpt))
            dos = dt.date(YEAR, month, rnd.randint(1, 28))
            dx = rnd.choice(dx_choices)
            mods = mod
            if (payer, cpt) == ("Medicare", "20610") and rnd.random() < 0.25:
                mods = "RT, 59"
            weeks = float(rule["Min Therapy Weeks"] or 0) + rnd.choice([0, 2, 4]) if rule is not None else ""
            needs_imaging = rule is not None and rule["Imaging Required"] == "Y"
            imaging = dos - dt.timedelta(days=rnd.randint(10, 150)) if needs_imaging else ""
            auth = f"PA{n:06d}" if rule is not None and rule["Prior Auth Required"] == "Y" else \
                (f"PA{n:06d}" if rnd.random() < 0.3 else "")
            error = None
            r = rnd.random()
            if r < 0.04:  # a diagnosis the rule does not cover: DX_NOT_COVERED
                dx, error = rnd.choice([d for d in DX_POOL if d not in dx_choices and "." in d
                                        and d not in ("M54.5", "M75.61", "M48.06")]), "dx"
            elif r < 0.06 and weeks not in ("", 0.0) and rule is not None and rule["Min Therapy Weeks"]:
                weeks, error = max(float(rule["Min Therapy Weeks"]) - 2, 0), "therapy"
            elif r < 0.08 and rule is not None and rule["Prior Auth Required"] == "Y":
                auth, error = "", "auth"
            elif r < 0.09 and mods:
                mods, error = "", "laterality"
            row = {"Claim ID": f"{n:07d}", "Line": 1, "Patient ID": f"MRN{rnd.randrange(1, 3000):06d}",
                   "Payer": payer, "Date of Service": dos.isoformat(), "CPT/HCPCS": cpt, "Modifiers": mods,
                   "Units": 1, "Dx Codes": dx, "Therapy Weeks": weeks if weeks != "" else "",
                   "Imaging Date": imaging.isoformat() if imaging else "", "Imaging Type": "MRI" if imaging else "",
                   "Prior Auth Number": auth, "ABN on File": "N", "Note Sections": "S,O,A,P", "Rule-Out Dx": "N",
                   "Patient Declined": "N", "Submitted Date": (dos + dt.timedelta(days=3)).isoformat()}
            claims.append(row)
            reason = None
            if error and rnd.random() < 0.8:
                reason = {"dx": ("50", "N115", "medical necessity"), "therapy": ("50", "", "medical necessity"),
                          "auth": ("197", "", "authorization"), "laterality": ("4", "", "coding")}[error]
            elif (hidden := _hidden(payer, cpt, dx, mods, auth, month)) and rnd.random() < 0.85:
                reason = hidden
            elif rnd.random() < 0.04:
                reason = rnd.choice(NOISE)
            denied.append(reason is not None)
            if reason:
                carc, rarc, category = reason
                fee = FEE[cpt]
                denials.append({"Denial ID": f"D-{len(denials) + 1:06d}", "Claim ID": row["Claim ID"], "Line": 1,
                                "Patient ID": row["Patient ID"], "Payer": payer,
                                "Date of Service": row["Date of Service"],
                                "CPT/HCPCS": cpt, "Modifiers": mods, "Dx Codes": dx, "Billed Amount": fee,
                                "Paid Amount": 0.0, "Denied Amount": fee,
                                "Denial Date": (dos + dt.timedelta(days=rnd.randint(14, 45))).isoformat(),
                                "Group Code": "CO", "CARC": carc, "RARC": rarc, "Category": category, "Status": "Open"})
    claims_df = pd.DataFrame(claims)
    return claims_df, pd.DataFrame(denials), pd.Series(denied, index=claims_df.index)


def _score(flagged: pd.Series, truth: pd.Series) -> tuple[int, float, float]:
    hit = int((flagged & truth).sum())
    precision = hit / flagged.sum() if flagged.sum() else float("nan")
    recall = hit / truth.sum() if truth.sum() else float("nan")
    return int(flagged.sum()), precision, recall


def replay() -> None:
    from toolkit.validation import run_checks

    claims, denials, truth = synthetic_year()
    rules, payers = _rules(), _payers()
    dos = pd.to_datetime(claims["Date of Service"])
    denial_date = pd.to_datetime(denials["Denial Date"])
    flags = {"DENIAL_HISTORY": [], "contract": [], "both": []}
    truths, months = [], []
    start = time.perf_counter()
    for month in range(1, 13):
        first = pd.Timestamp(YEAR, month, 1)
        as_of = (first + pd.offsets.MonthEnd(0)).date()
        now = dos.dt.month == month
        before = (dos < first) & (dos >= first - pd.DateOffset(months=12))
        frame = claims[now | before].copy()
        frame.loc[now[now | before].to_numpy(), "Submitted Date"] = ""  # month m: not yet submitted
        log = denials[denial_date < first]
        v = run_checks(frame, rules, payers, as_of=as_of, denials=log)
        codes = v.results["Finding Codes"][now[now | before].to_numpy()]
        dh = codes.str.contains("DENIAL_HISTORY")
        contract = codes.str.replace("DENIAL_HISTORY", "", regex=False).str.strip("; ") != ""
        flags["DENIAL_HISTORY"].append(dh)
        flags["contract"].append(contract)
        flags["both"].append(dh | contract)
        truths.append(truth[now].set_axis(codes.index))
        months.append((month, int(now.sum()), int(truth[now].sum()), int(dh.sum()), int((dh & truths[-1]).sum())))
    elapsed = time.perf_counter() - start
    t = pd.concat(truths)
    print(f"Replay: {len(claims):,} lines in {YEAR}, {len(denials):,} denials ({t.mean():.1%} of lines), "
          f"12 monthly runs in {elapsed:.1f} s; defaults Min 2, Months 12, Rate 50 %")
    print("month  lines  denied  DENIAL_HISTORY flagged (then denied)")
    for m, lines, den, fl, hit in months:
        print(f"{m:5d} {lines:6d} {den:7d} {fl:10d} ({hit})")
    print(f"{'':22s}flagged  precision  recall")
    for name, parts in flags.items():
        n, p, r = _score(pd.concat(parts), t)
        label = {"contract": "contract checks alone", "both": "both together"}.get(name, name)
        print(f"{label:22s}{n:7d}  {p:9.1%}  {r:6.1%}")


# ---------------------------------------------------------------- cost

def denial_log_rows(n: int, seed: int = 11) -> list[dict]:
    """``n`` denials shaped like the 100k claim lines (same payers, codes, diagnoses), last 12 months."""
    header, rows = claim_rows(n, seed=seed)
    h = {name: i for i, name in enumerate(header)}
    rnd = random.Random(seed)
    reasons = [("50", "N115", "medical necessity"), ("197", "", "authorization"), ("4", "N519", "coding"),
               ("16", "M127", "documentation"), ("27", "", "eligibility"), ("45", "", "routine")]
    out = []
    for i, row in enumerate(rows):
        carc, rarc, category = rnd.choice(reasons)
        day = dt.date(2026, 11, 27) - dt.timedelta(days=rnd.randint(1, 360))
        out.append({"Denial ID": f"D-{i + 1:06d}", "Claim ID": row[h["Claim ID"]], "Line": 1,
                    "Patient ID": row[h["Patient ID"]], "Payer": row[h["Payer"]],
                    "Date of Service": row[h["Date of Service"]], "CPT/HCPCS": row[h["CPT/HCPCS"]],
                    "Modifiers": row[h["Modifiers"]], "Dx Codes": row[h["Dx Codes"]], "Billed Amount": "500.00",
                    "Paid Amount": "0", "Denied Amount": "500.00", "Denial Date": day.isoformat(), "Group Code": "CO",
                    "CARC": carc, "RARC": rarc, "Category": category, "Status": "Open"})
    return out



def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def cost(lines: int, n_denials: int, repeats: int = 3) -> None:
    """Two logs: the stress case (a log made from the same 38 sample shapes as the 100k lines, so
    nearly every line matches a cluster) and the synthetic practice's own log (a typical share)."""
    from _data import write_claims_csv

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _cost_case("stress: 100k benchmark lines, log of the same shapes", write_claims_csv(tmp / "claims.csv", lines),
                   _write(tmp / "denials.csv", denial_log_rows(n_denials)), "2026-11-27", tmp, repeats)
        claims, denials, _ = synthetic_year(per_month=lines // 12)
        claims.loc[pd.to_datetime(claims["Date of Service"]).dt.month == 12, "Submitted Date"] = ""
        log = denials[pd.to_datetime(denials["Denial Date"]) < pd.Timestamp(YEAR, 12, 1)]
        _cost_case("typical: the synthetic practice, December unsubmitted",
                   _write(tmp / "year.csv", claims.to_dict("records")),
                   _write(tmp / "year_denials.csv", log.to_dict("records")), f"{YEAR}-12-31", tmp, repeats)


def _cost_case(title: str, claims: Path, log: Path, as_of: str, tmp: Path, repeats: int) -> None:
    lines = len(pd.read_csv(claims, usecols=[0]))
    n_denials = len(pd.read_csv(log, usecols=[0]))
    base = [sys.executable, "-m", "toolkit", "validate", str(claims), "--rules", str(SAMPLE / "rules.csv"),
            "--payers", str(SAMPLE / "payers.csv"), "--report", str(tmp / "r.csv"), "--as-of", as_of]
    without, with_ = [], []
    for _ in range(repeats):  # interleaved, so a busy moment of the shared machine hits both
        without.append(_timed(base))
        with_.append(_timed(base + ["--denials", str(log)]))
    flagged = int(pd.read_csv(tmp / "r.csv", dtype=str, keep_default_na=False)["Finding Codes"]
                  .str.contains("DENIAL_HISTORY").sum())
    a, b = (statistics.median(w for w, _ in without), statistics.median(w for w, _ in with_))
    ac, bc = (statistics.median(c for _, c in without), statistics.median(c for _, c in with_))
    print(f"Cost, {title}: {lines:,} claim lines, a {n_denials:,}-row denial log, fresh processes, "
          f"median of {repeats}")
    print("                                        wall      CPU")
    print(f"  mednec validate --report            : {a:6.2f} s {ac:6.2f} s")
    print(f"  ... --denials denials.csv           : {b:6.2f} s {bc:6.2f} s  ({flagged:,} lines DENIAL_HISTORY)")
    print(f"  added                               : {100 * (b / a - 1):+5.1f} %  {100 * (bc / ac - 1):+5.1f} %"
          "  (target <= +20 %)")
    _split(claims, log, as_of)


def _split(claims: Path, log: Path, as_of: str) -> None:
    """In one process: the check's own work beside what its extra findings cost the rest of the run."""
    import toolkit.checks.history as history
    from toolkit.codesets.icd10cm import CodeSets
    from toolkit.tables import CLAIMS, DENIALS
    from toolkit.validation import run_checks
    from toolkit.workbook.files import read_table

    frame, denials = read_table(claims, CLAIMS), read_table(log, DENIALS)
    rules, payers, codesets = _rules(), _payers(), CodeSets.default()
    spent = [0.0]
    original = history._history

    def timed(lines):
        start = time.process_time()
        try:
            return original(lines)
        finally:
            spent[0] += time.process_time() - start

    history._history = timed
    try:
        start = time.process_time()
        run_checks(frame, rules, payers, as_of=as_of, codesets=codesets)
        base = time.process_time() - start
        start = time.process_time()
        run_checks(frame, rules, payers, as_of=as_of, codesets=codesets,
                   denials=history.DenialHistory(denials))
        with_ = time.process_time() - start
    finally:
        history._history = original
    print(f"  in one process (CPU): checks {base:.2f} s -> {with_:.2f} s; DENIAL_HISTORY itself {spent[0]:.2f} s, "
          f"the rest is its findings being joined into the results")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-cost", action="store_true")
    ap.add_argument("--skip-replay", action="store_true")
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--denials", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if not args.skip_replay:
        replay()
    if not args.skip_cost:
        cost(args.lines, args.denials, args.repeats)


if __name__ == "__main__":
    main()
