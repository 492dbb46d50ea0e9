"""A demo practice with a year of history (``mednec demo --out demo.xlsm``).

Riverside Spine & Joint (invented, like every person in it) submits a few thousand claim lines
between December 2025 and November 2026 to Medicare, a state Medicaid plan and a commercial PPO.
Before the practice adopts the medical-necessity checklist on 1 June 2026 about one line in six
leaves the clinic with a real weakness (a diagnosis the rule does not cover, too little
conservative therapy, no imaging, no prior authorization, no RT/LT); afterwards about one in
twenty.  Each month every payer sends an X12 835 remittance that pays the sound lines and denies
most weak ones with the CARC a payer uses for that weakness; the files are imported through the
real ``import-835`` job, older denials are appealed, resubmitted or written off, and the
Dashboard is refreshed as of 30 November 2026.

Deterministic: the same seed gives the same bytes (a fixed clock for Validated At, fixed zip
timestamps and document dates).  Codes are real (ICD-10-CM FY2026, CPT/HCPCS numbers), the
descriptions are the practice's own words (the shipped sample's Rules), never AMA descriptors.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DEMO_SEED = 2026
FIRST_DOS = dt.date(2025, 11, 24)
LAST_DOS = dt.date(2026, 11, 20)
AS_OF = dt.date(2026, 11, 30)
CHECKLIST_ADOPTED = dt.date(2026, 6, 1)
FIXED_CLOCK = dt.datetime(2026, 11, 30, 17, 0)
WEAK_BEFORE, WEAK_AFTER = 0.17, 0.05
LINES_PER_WEEK = 58

PROVIDERS = ("Dr. Rivera", "Dr. Patel", "Dr. Okafor")
BILLERS = ("Dana Whitfield", "Luis Ortega")
FIRST_NAMES = ("Maria", "Henry", "Lily", "Eric", "Grace", "James", "Nora", "Samuel", "Aisha", "Victor", "Ruth",
               "Omar", "Elena", "Walter", "Priya", "Frank", "Irene", "Tomas", "Joan", "Kenji", "Beatrice", "Dale",
               "Rosa", "Martin", "Yvonne", "Curtis", "Helen", "Andre", "Wanda", "Peter")
LAST_NAMES = ("Alvarez", "Brooks", "Chen", "Dawson", "Ellis", "Foster", "Garcia", "Hughes", "Ibarra", "Jensen",
              "Kowalski", "Lindqvist", "Morrow", "Nakamura", "Osei", "Petrov", "Quinn", "Ramirez", "Sato",
              "Thornton", "Underwood", "Vasquez", "Whitaker", "Xu", "Yates", "Zimmerman", "Muñoz", "O'Neil",
              "Abernathy", "Delacroix")

# Payer -> (CPT/HCPCS, weight) of the practice's mix.  Each has a rule in the sample Rules.
MIX = {
    "Medicare": (("62323", 6), ("64483", 8), ("63047", 2), ("63030", 1), ("72148", 6), ("20610", 10),
                 ("29881", 2)),
    "State Medicaid": (("63047", 1), ("63030", 1), ("20610", 5), ("72148", 3)),
    "Acme Health PPO": (("99213", 12), ("72148", 4), ("73721", 4), ("29881", 2), ("29806", 1), ("29827", 2)),
}
PAYER_SHARE = (("Medicare", 50), ("State Medicaid", 15), ("Acme Health PPO", 35))
FEES = {"62323": 780.0, "64483": 690.0, "63047": 2450.0, "63030": 2100.0, "72148": 480.0, "20610": 165.0,
        "29881": 1850.0, "73721": 520.0, "29806": 2300.0, "29827": 2650.0, "99213": 135.0}

# Diagnoses that support each procedure: (code, side) with side R/L/None (ICD-10-CM FY2026, billable).
GOOD_DX = {
    "62323": (("M48.062", None), ("M51.16", None), ("M54.16", None), ("M51.17", None)),
    "64483": (("M54.16", None), ("M51.16", None), ("M48.062", None), ("M54.17", None)),
    "63047": (("M48.062", None), ("M48.061", None)),
    "63030": (("M51.16", None), ("M51.17", None)),
    "72148": (("M54.16", None), ("M51.16", None), ("M48.062", None)),
    "20610": (("M17.11", "R"), ("M17.12", "L"), ("M19.011", "R"), ("M19.012", "L")),
    "29881": (("S83.241A", "R"), ("S83.242A", "L"), ("M23.221", "R"), ("M23.222", "L")),
    "73721": (("S83.241A", "R"), ("S83.242A", "L"), ("M17.11", "R"), ("M25.561", "R"), ("M25.562", "L")),
    "29806": (("S43.431A", "R"), ("S43.432A", "L"), ("M24.411", "R"), ("M24.412", "L")),
    "29827": (("M75.121", "R"), ("M75.122", "L"), ("S46.011A", "R"), ("S46.012A", "L")),
    "99213": (("M17.11", "R"), ("M54.59", None), ("M25.561", "R"), ("M54.16", None)),
}
# A diagnosis the payers' rules do not cover for that procedure (the commonest necessity denial).
WEAK_DX = {
    "62323": ("M54.59", None), "64483": ("M54.59", None), "63047": ("M54.59", None), "63030": ("M54.59", None),
    "72148": ("M54.59", None), "20610": ("M79.661", "R"), "29881": ("M17.11", "R"), "73721": ("M79.661", "R"),
    "29806": ("M25.511", "R"), "29827": ("M25.511", "R"),
}
IMAGING = {"62323": "MRI", "64483": "MRI", "63047": "MRI", "63030": "MRI", "29881": "MRI", "29806": "MRI",
           "29827": "MRI", "72148": "X-ray", "73721": "X-ray", "20610": "X-ray", "99213": ""}
THERAPY = ("PT {w} weeks, NSAIDs", "PT {w} weeks and home exercise", "Chiropractic {w} weeks, NSAIDs",
           "PT {w} weeks, gabapentin")
FILING_CODE = {"Medicare": "MB", "State Medicaid": "MC", "Acme Health PPO": "12"}
PAYER_IDS = {"Medicare": ("MEDICAREB", "MEDICARE"), "State Medicaid": ("STMEDICAID", "STATE MEDICAID"),
             "Acme Health PPO": ("ACMEHLTH", "ACME HEALTH PPO")}


@dataclass
class DemoSummary:
    path: Path
    claim_lines: int
    claims: int
    remittances: list[Path] = field(default_factory=list)
    denials: int = 0
    seconds: float = 0.0
    headline: dict = field(default_factory=dict)

    def text(self) -> str:
        h = self.headline
        rate = h.get("denial_rate")
        return (f"Wrote {self.path}: {self.claim_lines} claim lines on {self.claims} claims (Dec 2025 - Nov 2026), "
                f"{len(self.remittances)} remittance files, {self.denials} denials; Dashboard as of {AS_OF}: "
                f"denial rate {rate:.1%}, {h.get('submitted_claims', 0)} submitted claims, "
                f"{h.get('open_appeals', 0)} open denials with a deadline ({self.seconds:.1f} s).")


# ---------------------------------------------------------------- the practice's tables

def demo_rules() -> pd.DataFrame:
    """The sample practice's Rules, with every current version in force for the whole demo year."""
    from .workbook.build import SAMPLE_DIR
    from .workbook.files import read_csv

    rules = read_csv(SAMPLE_DIR / "rules.csv")
    current = rules["Effective To"].fillna("").astype(str).str.strip() == ""
    later = rules["Effective From"].astype(str) > FIRST_DOS.isoformat()
    rules.loc[current & later, "Effective From"] = "2025-10-01"
    return rules


def _sample(name: str) -> pd.DataFrame:
    from .workbook.build import SAMPLE_DIR
    from .workbook.files import read_csv

    return read_csv(SAMPLE_DIR / f"{name}.csv")


def _rule_for(rules: pd.DataFrame, payer: str, cpt: str) -> dict:
    rows = rules[(rules["Payer"] == payer) & (rules["CPT/HCPCS"].astype(str) == cpt)]
    rows = rows[rows["Effective To"].fillna("").astype(str).str.strip() == ""]
    return rows.iloc[0].to_dict()


def _yes(value) -> bool:
    return str(value).strip().upper() == "Y"


def _weak_share(dos: dt.date) -> float:
    """One line in six before the checklist; one in twenty once it is in use (a month to take hold)."""
    if dos < CHECKLIST_ADOPTED:
        return WEAK_BEFORE
    ramp = min(1.0, (dos - CHECKLIST_ADOPTED).days / 30)
    return WEAK_BEFORE + (WEAK_AFTER - WEAK_BEFORE) * ramp


def _weaknesses(rule: dict, cpt: str) -> list[str]:
    out = []
    if cpt in WEAK_DX and str(rule.get("Covered Dx", "")).strip() != "*":
        out += ["DX_NOT_COVERED"] * 3
    if str(rule.get("Min Therapy Weeks") or "").strip():
        out += ["THERAPY_TOO_SHORT"] * 2
    if _yes(rule.get("Imaging Required")):
        out.append("IMAGING_MISSING")
    if _yes(rule.get("Prior Auth Required")):
        out += ["PRIOR_AUTH_MISSING"] * 2
    if _yes(rule.get("Laterality Required")):
        out.append("LATERALITY_MISSING")
    return out


def _weighted(rng: random.Random, pairs) -> str:
    names, weights = zip(*pairs)
    return rng.choices(names, weights=weights)[0]


def _business_days_after(day: dt.date, n: int) -> dt.date:
    while n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


@dataclass
class _Patient:
    mrn: str
    name: str
    dob: dt.date
    sex: str
    member: str


def _patients(rng: random.Random, n: int = 700) -> list[_Patient]:
    out = []
    for i in range(1, n + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        dob = dt.date(1938, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 50))
        sex = "F" if first in ("Maria", "Lily", "Grace", "Nora", "Aisha", "Ruth", "Elena", "Priya", "Irene",
                                "Joan", "Beatrice", "Rosa", "Yvonne", "Helen", "Wanda") else "M"
        out.append(_Patient(f"RSJ{i:05d}", f"{last}, {first}", dob, sex, f"{rng.randrange(10**9, 10**10)}"))
    return out


def demo_claims(rng: random.Random, rules: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The year's claim lines, and each weak line's weakness ((claim, line) -> code)."""
    patients = _patients(rng)
    payer_of = {p.mrn: _weighted(rng, PAYER_SHARE) for p in patients}
    rows, weak = [], {}
    claim_no = 24000
    day = FIRST_DOS
    while day <= LAST_DOS:
        if day.weekday() < 5:
            for _ in range(rng.randint(LINES_PER_WEEK // 5 - 3, LINES_PER_WEEK // 5 + 2)):
                claim_no += 1
                patient = rng.choice(patients)
                payer = payer_of[patient.mrn]
                cpts = [_weighted(rng, MIX[payer])]
                if rng.random() < 0.12:
                    second = _weighted(rng, MIX[payer])
                    if second != cpts[0]:
                        cpts.append(second)
                submitted = _business_days_after(day, rng.randint(1, 4))
                for line_no, cpt in enumerate(cpts, start=1):
                    row, problem = _line(rng, rules, patient, payer, cpt, day, submitted)
                    row.update({"Claim ID": f"{claim_no:06d}", "Line": line_no})
                    rows.append(row)
                    if problem:
                        weak[(row["Claim ID"], line_no)] = problem
        day += dt.timedelta(days=1)
    columns = ["Claim ID", "Line", "Patient ID", "Patient Name", "Date of Birth", "Sex", "Payer", "Date of Service",
               "CPT/HCPCS", "Modifiers", "Units", "Dx Codes", "Therapy Weeks", "Therapy Notes", "Imaging Date",
               "Imaging Type", "Prior Auth Number", "ABN on File", "Note Sections", "Rule-Out Dx",
               "Patient Declined", "Submitted Date", "Rendering Provider", "Member ID"]
    return pd.DataFrame(rows, columns=columns), weak


def _line(rng, rules, patient, payer, cpt, dos, submitted) -> tuple[dict, str | None]:
    """One sound claim line, then (sometimes) one real weakness put into it."""
    rule = _rule_for(rules, payer, cpt)
    dx, side = rng.choice(GOOD_DX[cpt])
    min_weeks = int(float(rule["Min Therapy Weeks"])) if str(rule.get("Min Therapy Weeks") or "").strip() else 0
    weeks = min_weeks + rng.randint(0, 6) if min_weeks else (rng.choice((None, 4, 6)) if cpt != "99213" else None)
    imaging = ""
    if _yes(rule.get("Imaging Required")) or (IMAGING[cpt] and rng.random() < 0.5):
        imaging = (dos - dt.timedelta(days=rng.randint(14, 150))).isoformat()
    modifiers = ""
    if _yes(rule.get("Laterality Required")):
        modifiers = {"R": "RT", "L": "LT"}.get(side or "", rng.choice(("RT", "LT")))
    pa = ""
    if _yes(rule.get("Prior Auth Required")):
        pa = f"{'ACM' if payer.startswith('Acme') else 'MCD'}-{rng.randint(10000, 99999)}"
    row = {
        "Patient ID": patient.mrn, "Patient Name": patient.name, "Date of Birth": patient.dob.isoformat(),
        "Sex": patient.sex, "Payer": payer, "Date of Service": dos.isoformat(), "CPT/HCPCS": cpt,
        "Modifiers": modifiers, "Units": 1, "Dx Codes": dx, "Therapy Weeks": weeks,
        "Therapy Notes": rng.choice(THERAPY).format(w=weeks) if weeks else "",
        "Imaging Date": imaging, "Imaging Type": IMAGING[cpt] if imaging else "", "Prior Auth Number": pa,
        "ABN on File": "N" if payer == "Medicare" else "", "Note Sections": "S,O,A,P", "Rule-Out Dx": "N",
        "Patient Declined": "N", "Submitted Date": submitted.isoformat(), "Rendering Provider": rng.choice(PROVIDERS),
        "Member ID": patient.member,
    }
    problem = None
    options = _weaknesses(rule, cpt)
    if options and rng.random() < _weak_share(dos):
        problem = rng.choice(options)
        if problem == "DX_NOT_COVERED":
            row["Dx Codes"], weak_side = WEAK_DX[cpt]
            if row["Modifiers"] in ("RT", "LT") and weak_side:
                row["Modifiers"] = {"R": "RT", "L": "LT"}[weak_side]
        elif problem == "THERAPY_TOO_SHORT":
            row["Therapy Weeks"] = rng.randint(1, max(1, min_weeks - 2))
            row["Therapy Notes"] = f"PT {row['Therapy Weeks']} weeks"
        elif problem == "IMAGING_MISSING":
            row["Imaging Date"], row["Imaging Type"] = "", ""
        elif problem == "PRIOR_AUTH_MISSING":
            row["Prior Auth Number"] = ""
        elif problem == "LATERALITY_MISSING":
            row["Modifiers"] = ""
    return row, problem


# ---------------------------------------------------------------- the payers' 835 remittances

# weakness -> (group, CARC, RARC) the payer sends for it
DENIAL_CODES = {
    "DX_NOT_COVERED": ("CO", "50", "N115"),
    "THERAPY_TOO_SHORT": ("CO", "50", ""),
    "IMAGING_MISSING": ("CO", "50", ""),
    "PRIOR_AUTH_MISSING": ("CO", "197", ""),
    "LATERALITY_MISSING": ("CO", "4", ""),
}
# denials that no checklist item prevents: (group, CARC, RARC, share of sound lines)
BACKGROUND = (("CO", "27", "", 0.008), ("CO", "18", "", 0.004), ("CO", "16", "MA130", 0.004), ("CO", "97", "", 0.003))


REMIT_DAY = {"Medicare": 10, "State Medicaid": 17, "Acme Health PPO": 24}


def _remit_dates(payer: str) -> list[dt.date]:
    """The payer's monthly remittance day (Medicare the 10th, Medicaid the 17th, the PPO the 24th)."""
    out, day = [], dt.date(2025, 12, REMIT_DAY[payer])
    while day <= AS_OF:
        out.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, REMIT_DAY[payer])
    return out


def _adjudicate(rng: random.Random, claims: pd.DataFrame, weak: dict) -> pd.DataFrame:
    """Each line's remittance date and outcome: paid, or denied with (group, CARC, RARC)."""
    dates = {payer: _remit_dates(payer) for payer in REMIT_DAY}
    out: list[tuple[dt.date | None, tuple[str, str, str] | None]] = []
    for rec in claims.itertuples(index=False):
        payer = rec[claims.columns.get_loc("Payer")]
        submitted = dt.date.fromisoformat(rec[claims.columns.get_loc("Submitted Date")])
        remit = next((d for d in dates[payer] if d >= submitted + dt.timedelta(days=14)), None)
        if remit is None:
            out.append((None, None))
            continue
        key = (rec[0], rec[1])
        problem = weak.get(key)
        code: tuple[str, str, str] | None = None
        if problem and rng.random() < 0.85:
            code = DENIAL_CODES[problem]
            if problem == "PRIOR_AUTH_MISSING" and payer == "State Medicaid":
                code = ("CO", "15", "")
        elif not problem:
            for group, carc, rarc, share in BACKGROUND:
                if rng.random() < share:
                    code = (group, carc, rarc)
                    break
        out.append((remit, code))
    result = claims.copy()
    result["Remit Date"] = [r for r, _ in out]
    result["Denial Code"] = [c for _, c in out]
    return result


def _x12_text(text: str) -> str:
    """X12's basic character set: accents dropped (Muñoz -> MUNOZ), as clearinghouses send names."""
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _money(x: float) -> str:
    return f"{x:.2f}"


def _x12_835(payer: str, remit: dt.date, lines: pd.DataFrame, control: int) -> str:
    """One 835 (5010 X221A1) for a payer's remittance: a CLP per claim, an SVC per line."""
    sender, payer_name = PAYER_IDS[payer]
    d8, d6 = remit.strftime("%Y%m%d"), remit.strftime("%y%m%d")
    body: list[str] = []
    total = 0.0
    for claim_id, claim in lines.groupby("Claim ID", sort=True):
        billed = paid = patient = 0.0
        svcs: list[str] = []
        all_denied = True
        for rec in claim.to_dict("records"):
            fee = FEES[rec["CPT/HCPCS"]]
            billed += fee
            proc = "HC:" + rec["CPT/HCPCS"] + "".join(":" + m for m in str(rec["Modifiers"] or "").split())
            svc = [f"SVC*{proc}*{_money(fee)}*{{paid}}**1",
                   f"DTM*472*{dt.date.fromisoformat(rec['Date of Service']).strftime('%Y%m%d')}"]
            code = rec["Denial Code"]
            if code:
                group, carc, rarc = code
                svc[0] = svc[0].format(paid="0")
                svc.append(f"CAS*{group}*{carc}*{_money(fee)}")
            else:
                all_denied = False
                allowed = round(fee * 0.62, 2)
                coins = round(allowed * 0.2, 2)
                line_paid = round(allowed - coins, 2)
                paid += line_paid
                patient += coins
                svc[0] = svc[0].format(paid=_money(line_paid))
                svc.append(f"CAS*CO*45*{_money(fee - allowed)}")
                svc.append(f"CAS*PR*2*{_money(coins)}")
                rarc = ""
            svc.append(f"REF*6R*{claim_id}-{rec['Line']}")
            if rarc:
                svc.append(f"LQ*HE*{rarc}")
            svcs += svc
        first = claim.iloc[0]
        last, _, given = _x12_text(str(first["Patient Name"])).partition(", ")
        status = "4" if all_denied else "1"
        body.append(f"CLP*{claim_id}*{status}*{_money(billed)}*{_money(paid)}*{_money(patient)}*"
                    f"{FILING_CODE[payer]}*{remit.strftime('%Y%j')}{claim_id}")
        body.append(f"NM1*QC*1*{last.upper()}*{given.upper()}****MI*{first['Member ID']}")
        body += svcs
        total += paid
    header = [
        f"ST*835*{control:04d}",
        f"BPR*I*{_money(total)}*C*ACH*CCP*01*011000015*DA*0001234567*1512345678**01*071000013*DA*987654321*{d8}",
        f"TRN*1*EFT{d8}{sender[:4]}*1512345678",
        f"DTM*405*{d8}",
        f"N1*PR*{payer_name}",
        "N1*PE*RIVERSIDE SPINE AND JOINT*XX*1234567893",
        "LX*1",
    ]
    segments = header + body
    segments.append(f"SE*{len(segments) + 1}*{control:04d}")
    isa = (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{'RIVERSIDESJ':<15}*{d6}*0800*^*00501*"
           f"{control:09d}*0*P*:")
    envelope = [isa, f"GS*HP*{sender}*RIVERSIDESJ*{d8}*0800*{control}*X*005010X221A1", *segments,
                f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return "~\n".join(envelope) + "~\n"


def write_remittances(adjudicated: pd.DataFrame, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    control = 7000
    done = adjudicated[adjudicated["Remit Date"].notna()]
    for (remit, payer), lines in sorted(done.groupby(["Remit Date", "Payer"]), key=lambda kv: kv[0]):
        control += 1
        slug = payer.split()[0].lower()
        path = folder / f"remittance_{slug}_{remit.isoformat()}.835"
        path.write_text(_x12_835(payer, remit, lines, control), encoding="ascii", newline="\n")
        paths.append(path)
    return paths


# ---------------------------------------------------------------- what the billers did with the denials

def _work_denials(rng: random.Random, book) -> int:
    """Appeal, resubmit or write off the denials as a billing team would; the last weeks stay Open."""
    from .tables import DENIALS

    denials = book.read_table(DENIALS)
    status, resub, resolved, outcome, owner, notes = [], [], [], [], [], []
    for rec in denials.to_dict("records"):
        when = pd.Timestamp(rec["Denial Date"]).date()
        age = (AS_OF - when).days
        carc = str(rec["CARC"])
        who = rng.choice(BILLERS)
        s, r1, r2, o, n = "Open", None, None, None, None
        if carc in ("4", "16"):  # a corrected claim, within days
            if age > 3:
                r1 = when + dt.timedelta(days=rng.randint(1, 4))
                s = "Resubmitted"
                n = "Corrected claim (frequency 7) with the modifier" if carc == "4" else "Corrected claim sent"
                if age > 30:
                    s, r2, o = "Paid", r1 + dt.timedelta(days=rng.randint(14, 24)), "Paid on the corrected claim"
        elif carc in ("18", "27", "97"):
            if age > 10:
                s, r2 = "Written Off", when + dt.timedelta(days=rng.randint(3, 10))
                o = {"18": "Duplicate: the original was paid", "27": "Coverage ended: billed the patient",
                     "97": "Bundled: no separate payment"}[carc]
        elif 20 < age < 125 and rng.random() < 0.12:
            pass  # still in the appeal queue: the Dashboard's deadlines and the reminder have work
        elif age > 20:  # medical necessity and authorization: appealed
            s = "Appealed"
            n = f"Appeal letter sent {(when + dt.timedelta(days=rng.randint(5, 15))).isoformat()}"
            if age > 75:
                won = rng.random() < 0.55
                s = "Paid" if won else "Upheld"
                r2 = when + dt.timedelta(days=rng.randint(50, 75))
                o = "Overturned on appeal" if won else "Upheld: records did not show the criteria"
        status.append(s)
        resub.append(r1)
        resolved.append(r2)
        outcome.append(o)
        owner.append(who)
        notes.append(n)
    frame = pd.DataFrame({"Status": status, "Resubmitted Date": resub, "Resolved Date": resolved,
                          "Outcome": outcome, "Owner": owner, "Notes": notes}, index=denials.index)
    book.write_columns(DENIALS, frame)
    return len(frame)


def _set_baseline(book) -> None:
    """Settings' Baseline Medical Necessity Denials = the monthly average before the checklist
    (January to May 2026), the figure the practice measures its 30 % reduction against."""
    from .tables import DENIALS, SETTINGS

    denials = book.read_table(DENIALS)
    when = pd.to_datetime(denials["Denial Date"])
    before = denials[(when >= "2026-01-01") & (when < "2026-06-01")
                     & (denials["Category"].astype(str).str.casefold() == "medical necessity")]
    settings = book.read_table(SETTINGS)
    row = settings.index[settings["Key"].astype(str) == "Baseline Medical Necessity Denials"]
    book.write_columns(SETTINGS, pd.DataFrame({"Value": [round(len(before) / 5)]}, index=row[:1]))


# ---------------------------------------------------------------- the whole demo

def build_demo(out: Path | str, *, seed: int = DEMO_SEED, remittance_dir: Path | str | None = None) -> DemoSummary:
    """Write the demo workbook to ``out`` (its 835 files beside it) and return what it holds."""
    from .jobs.denials import import_835_files, refresh_dashboard
    from .tables import CLAIMS, PAYERS, RESULT_COLUMNS, RULES
    from .validation import run_checks
    from .workbook.build import build_workbook
    from .workbook.files import WorkbookFile, write_csv
    from .workbook.history import history_path, record_first_status

    started = time.perf_counter()
    out = Path(out)
    rng = random.Random(seed)
    rules = demo_rules()
    claims, weak = demo_claims(rng, rules)
    adjudicated = _adjudicate(rng, claims, weak)
    remit_dir = Path(remittance_dir) if remittance_dir else out.with_name(f"{out.stem}-remittances")
    remittances = write_remittances(adjudicated, remit_dir)

    with tempfile.TemporaryDirectory(prefix="mednec-demo-") as tmp:
        folder = Path(tmp)
        write_csv(claims, folder / "claims.csv")
        write_csv(rules, folder / "rules.csv")
        write_csv(_sample("payers"), folder / "payers.csv")
        settings = _sample("settings")
        write_csv(settings, folder / "settings.csv")
        build_workbook(out, sample_dir=folder)

    history_path(out).unlink(missing_ok=True)
    book = WorkbookFile(out)
    rows = book.read_table(CLAIMS).index  # the letters quote the member ID from an extra Claims column
    book.write_columns(CLAIMS, pd.DataFrame({"Member ID": claims["Member ID"].to_numpy()}, index=rows))
    validation = run_checks(book.read_table(CLAIMS), book.read_table(RULES), book.read_table(PAYERS),
                            as_of=AS_OF, now=FIXED_CLOCK)
    book.write_columns(CLAIMS, validation.results[list(RESULT_COLUMNS)])
    record_first_status(out, validation.claims, validation.results)
    import_835_files(book, remittances, as_of=AS_OF)
    n_denials = _work_denials(rng, book)
    _set_baseline(book)
    kpis = refresh_dashboard(book, as_of=AS_OF)  # saves the book
    freeze_package(out)
    return DemoSummary(path=out, claim_lines=len(claims), claims=int(claims["Claim ID"].nunique()),
                       remittances=remittances, denials=n_denials, seconds=time.perf_counter() - started,
                       headline=dict(kpis.figures))


FROZEN = (2026, 11, 30, 17, 0, 0)


def freeze_package(path: Path | str) -> None:
    """Give every part of an OOXML package a fixed timestamp and fixed document dates, so the same
    content always has the same bytes (openpyxl stamps the save time on both)."""
    import re

    path = Path(path)
    stamp = dt.datetime(*FROZEN).strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    tmp = path.with_name(path.name + ".freeze")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", lambda m: m.group(1) + stamp.encode(),
                              data)
            fixed = zipfile.ZipInfo(info.filename, date_time=FROZEN)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            z.writestr(fixed, data)
    tmp.replace(path)
