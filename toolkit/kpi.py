"""Denial KPIs from the Denials and Claims tables (typed DataFrames from ``coerce_table``).

Definitions (what a manager reads on the Dashboard):
- **Denial rate** = submitted claims with at least one denial ÷ submitted claims (distinct
  Claim IDs with a Submitted Date on or before the as-of date).  By month it is the cohort of
  claims submitted in that month, so a late denial still counts against the month the claim went
  out.  By payer: the claim's Payer; by CPT: claim lines (Claim ID + CPT) instead of claims.
  Denials whose Claim ID is not a submitted claim in Claims are counted in the denial and dollar
  figures but cannot enter a rate; their number is shown.
- **Medical-necessity share** = denial rows with Category "medical necessity" ÷ all denial rows.
  Its goal is a reduction against a baseline (Settings ``Baseline Medical Necessity Denials``,
  per month; blank = the first month in the log), compared with last month's count.
- **Clean-claim rate** = validated claims whose every line is GREEN ÷ validated claims; a
  ``First Status`` column, where the workbook keeps one, is preferred to the latest Status.
- **Days to resubmission** = Resubmitted Date − Denial Date, averaged.
- **Open appeals** = denials with Status Open (or blank) and an Appeal Deadline; days left counted
  from the as-of date, negative = overdue.
- **Denial-free weeks**: Monday–Sunday weeks with no Denial Date in them, in the last 12 weeks,
  and the current streak.

Targets come from Settings (``Target Denial Rate`` 5 %, ``Target Days to Resubmission`` 2,
``Target Medical Necessity Reduction`` 30 %).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .values import setting

MED_NEC = "medical necessity"
DEFAULT_TARGETS = {"denial_rate": 0.05, "days_to_resubmission": 2.0, "med_nec_reduction": 0.30}


def _fraction(text, default: float) -> float:
    """'5%', '5', '0.05' → 0.05."""
    if text is None:
        return default
    try:
        value = float(str(text).replace("%", "").strip())
    except ValueError:
        return default
    return value / 100 if ("%" in str(text) or value > 1) else value


def _number(text, default):
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default


@dataclass
class Kpis:
    as_of: dt.date
    figures: dict = field(default_factory=dict)
    targets: dict = field(default_factory=dict)
    monthly: pd.DataFrame = None
    by_payer: pd.DataFrame = None
    by_cpt: pd.DataFrame = None
    top_carcs: pd.DataFrame = None
    top_root_causes: pd.DataFrame = None
    open_appeals: pd.DataFrame = None

    def summary_line(self) -> str:
        f = self.figures
        rate = f.get("denial_rate")
        rate_text = f"{rate:.1%}" if rate is not None else "n/a"
        return (f"Dashboard refreshed as of {self.as_of.isoformat()}: denial rate {rate_text} "
                f"(target < {self.targets['denial_rate']:.0%}), {f.get('denial_rows', 0)} denials, "
                f"{f.get('open_appeals', 0)} open with a deadline, {f.get('overdue', 0)} overdue.")


def _month(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.strftime("%Y-%m")


def kpi_targets(settings: dict | None) -> dict:
    """The practice's goals from Settings, else the defaults."""
    return {
        "denial_rate": _fraction(setting(settings, "Target Denial Rate"), DEFAULT_TARGETS["denial_rate"]),
        "days_to_resubmission": _number(setting(settings, "Target Days to Resubmission"),
                                        DEFAULT_TARGETS["days_to_resubmission"]),
        "med_nec_reduction": _fraction(setting(settings, "Target Medical Necessity Reduction"),
                                       DEFAULT_TARGETS["med_nec_reduction"]),
    }


def denial_frame(denials: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """The denial log as the KPIs read it: text trimmed, dates parsed, nothing dated after as-of."""
    d = denials.copy() if denials is not None else pd.DataFrame(columns=["Claim ID"])
    for col in ("Claim ID", "CPT/HCPCS", "Payer", "CARC", "Category", "Root Cause", "Status", "Denial ID"):
        if col not in d.columns:
            d[col] = ""
        d[col] = d[col].fillna("").astype(str).str.strip()
    for col in ("Denial Date", "Appeal Deadline", "Resubmitted Date"):
        d[col] = pd.to_datetime(d[col]) if col in d.columns else pd.NaT
    d["Denied Amount"] = pd.to_numeric(d["Denied Amount"], errors="coerce").fillna(0.0) \
        if "Denied Amount" in d.columns else 0.0
    d = d[d["Denial Date"].isna() | (d["Denial Date"] <= as_of)]
    return d.assign(is_mednec=d["Category"].str.casefold() == MED_NEC)


def claim_frame(claims: pd.DataFrame | None) -> pd.DataFrame:
    c = claims.copy() if claims is not None else pd.DataFrame(columns=["Claim ID"])
    for col in ("Claim ID", "CPT/HCPCS", "Payer", "Status"):
        if col not in c.columns:
            c[col] = ""
        c[col] = c[col].fillna("").astype(str).str.strip()
    c["Submitted Date"] = pd.to_datetime(c["Submitted Date"]) if "Submitted Date" in c.columns else pd.NaT
    return c


def submitted_lines(c: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return c[c["Submitted Date"].notna() & (c["Submitted Date"] <= as_of) & (c["Claim ID"] != "")]


def claims_cohort(submitted: pd.DataFrame, d: pd.DataFrame) -> pd.DataFrame:
    """One row per submitted claim: its first Submitted Date, payer, month, and whether denied."""
    per_claim = submitted.groupby("Claim ID").agg(**{"Submitted Date": ("Submitted Date", "min"),
                                                     "Payer": ("Payer", "first")})
    per_claim["denied"] = per_claim.index.isin(set(d["Claim ID"]))
    per_claim["Month"] = _month(per_claim["Submitted Date"])
    return per_claim


def headline_figures(per_claim: pd.DataFrame, d: pd.DataFrame) -> dict:
    n_sub = int(len(per_claim))
    n_den = int(per_claim["denied"].sum())
    return {
        "submitted_claims": n_sub,
        "denied_claims": n_den,
        "denial_rate": n_den / n_sub if n_sub else None,
        "denial_rows": int(len(d)),
        "denied_dollars": round(float(d["Denied Amount"].sum()), 2),
        "unmatched_denials": int((~d["Claim ID"].isin(per_claim.index)).sum()),
        "med_nec_share": float(d["is_mednec"].mean()) if len(d) else None,
    }


def monthly_trend(per_claim: pd.DataFrame, d: pd.DataFrame, as_of: pd.Timestamp, months: int,
                  target_rate: float) -> pd.DataFrame:
    """The last ``months`` months up to as-of: claims by month submitted, denials by month received."""
    month_keys = [(as_of.to_period("M") - i).strftime("%Y-%m") for i in range(months - 1, -1, -1)]
    d_month = _month(d["Denial Date"]).where(d["Denial Date"].notna())
    rows = []
    for m in month_keys:
        cohort = per_claim[per_claim["Month"] == m]
        in_month = d_month == m
        rows.append({
            "Month": m,
            "Submitted Claims": int(len(cohort)),
            "Denied Claims": int(cohort["denied"].sum()),
            "Denial Rate": (float(cohort["denied"].mean()) if len(cohort) else None),
            "Target Rate": target_rate,
            "Denials": int(in_month.sum()),
            "Denied $": round(float(d.loc[in_month, "Denied Amount"].sum()), 2),
            "Med-Nec Denials": int((in_month & d["is_mednec"]).sum()),
        })
    return pd.DataFrame(rows)


def med_nec_against_baseline(d: pd.DataFrame, as_of: pd.Timestamp, baseline_setting: float | None) -> dict:
    """Last month's medical-necessity denials against the baseline (Settings, else the log's first month)."""
    d_month = _month(d["Denial Date"]).where(d["Denial Date"].notna())
    last_month = (as_of.to_period("M") - 1).strftime("%Y-%m")
    mn_months = d_month[d["is_mednec"]].dropna()
    baseline: float | None
    if baseline_setting is not None:
        baseline = baseline_setting
    elif len(mn_months) and min(d_month.dropna()) < last_month:
        first = min(d_month.dropna())  # the first month in the log, if it is before last month
        baseline = float((mn_months == first).sum()) or None  # no med-nec denials then: no baseline
    else:
        baseline = None
    current = int((mn_months == last_month).sum())
    return {"med_nec_last_month": current, "med_nec_baseline": baseline,
            "med_nec_change": (current - baseline) / baseline if baseline else None}


def by_payer(per_claim: pd.DataFrame, d: pd.DataFrame, top: int) -> pd.DataFrame:
    den_by_payer = d.groupby("Payer")["Denied Amount"].sum()
    rows = [{"Payer": payer, "Submitted Claims": int(len(grp)), "Denied Claims": int(grp["denied"].sum()),
             "Denial Rate": float(grp["denied"].mean()), "Denied $": round(float(den_by_payer.get(payer, 0.0)), 2)}
            for payer, grp in per_claim.groupby("Payer")]
    frame = pd.DataFrame(rows, columns=["Payer", "Submitted Claims", "Denied Claims", "Denial Rate", "Denied $"])
    frame = frame.sort_values(["Denied Claims", "Denial Rate", "Payer"], ascending=[False, False, True]).head(top)
    return frame.reset_index(drop=True)


def by_cpt(submitted: pd.DataFrame, d: pd.DataFrame, top: int) -> pd.DataFrame:
    """Claim lines (Claim ID + CPT/HCPCS) by code, denied when the log has that claim and code."""
    lines = submitted[["Claim ID", "CPT/HCPCS"]].drop_duplicates()
    denied_lines = set(zip(d["Claim ID"], d["CPT/HCPCS"]))
    lines = lines.assign(denied=[(a, b) in denied_lines for a, b in zip(lines["Claim ID"], lines["CPT/HCPCS"])])
    frame = (lines.groupby("CPT/HCPCS")["denied"].agg(["size", "sum"]).reset_index()
             .rename(columns={"size": "Submitted Lines", "sum": "Denied Lines"}))
    frame["Denial Rate"] = frame["Denied Lines"] / frame["Submitted Lines"]
    frame = frame.sort_values(["Denied Lines", "Denial Rate", "CPT/HCPCS"], ascending=[False, False, True]).head(top)
    frame[["Submitted Lines", "Denied Lines"]] = frame[["Submitted Lines", "Denied Lines"]].astype(int)
    return frame.reset_index(drop=True)


def top_carcs(d: pd.DataFrame, top: int) -> pd.DataFrame:
    carcs = d[d["CARC"] != ""].groupby("CARC").agg(Category=("Category", "first"), Denials=("CARC", "size"),
                                                   **{"Denied $": ("Denied Amount", "sum")}).reset_index()
    return carcs.sort_values(["Denials", "Denied $", "CARC"], ascending=[False, False, True]).head(top) \
        .reset_index(drop=True)


def top_root_causes(d: pd.DataFrame, top: int) -> pd.DataFrame:
    rc = d.assign(**{"Root Cause": d["Root Cause"].replace("", "(none)")})
    rcs = rc.groupby("Root Cause").agg(Denials=("Root Cause", "size"),
                                       **{"Denied $": ("Denied Amount", "sum")}).reset_index()
    return rcs.sort_values(["Denials", "Denied $", "Root Cause"], ascending=[False, False, True]).head(top) \
        .reset_index(drop=True)


def clean_claim_rate(c: pd.DataFrame) -> dict:
    """Validated claims whose every line was GREEN (at first validation, where the book keeps it)."""
    status_col = next((col for col in c.columns if str(col).strip().casefold() == "first status"), "Status")
    validated = c[(c[status_col].fillna("").astype(str).str.strip() != "") & (c["Claim ID"] != "")]
    if not len(validated):
        return {"clean_claim_rate": None, "validated_claims": 0}
    clean = validated.groupby("Claim ID")[status_col].agg(lambda s: all(str(v).strip().upper() == "GREEN" for v in s))
    return {"clean_claim_rate": float(clean.mean()), "validated_claims": int(len(clean))}


def days_to_resubmission(d: pd.DataFrame) -> float | None:
    both = d[d["Resubmitted Date"].notna() & d["Denial Date"].notna()]
    days = (both["Resubmitted Date"] - both["Denial Date"]).dt.days
    return float(days.mean()) if len(days) else None


def open_appeals(d: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Open denials with an appeal deadline, soonest first, and how many are overdue or due soon."""
    open_mask = d["Status"].str.casefold().isin(["open", ""]) & d["Appeal Deadline"].notna()
    op = d[open_mask].copy()
    op["Days Left"] = (op["Appeal Deadline"] - as_of).dt.days.astype(int)
    op["Overdue"] = op["Days Left"].map(lambda n: "OVERDUE" if n < 0 else "")
    op = op.sort_values(["Days Left", "Denial ID"])
    frame = op[["Denial ID", "Claim ID", "Payer", "CARC", "Appeal Deadline", "Days Left", "Overdue"]] \
        .reset_index(drop=True)
    return frame, {"open_appeals": int(len(op)), "overdue": int((op["Days Left"] < 0).sum()),
                   "due_14_days": int(((op["Days Left"] >= 0) & (op["Days Left"] <= 14)).sum())}


def denial_free_weeks(d: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    """Monday-Sunday weeks without a Denial Date: in the last 12, and the current streak."""
    week_start = as_of.normalize() - pd.Timedelta(days=as_of.weekday())
    dated = d["Denial Date"].dropna()
    weeks_with = {(week_start - (x.normalize() - pd.Timedelta(days=x.weekday()))).days // 7 for x in dated}
    streak = 0
    horizon = 520 if not len(dated) else max(0, (week_start - dated.min().normalize()).days // 7 + 1)
    while streak < horizon and streak not in weeks_with:
        streak += 1
    return {"denial_free_weeks_12": sum(1 for k in range(12) if k not in weeks_with), "denial_free_streak": streak}


def compute_kpis(denials: pd.DataFrame | None, claims: pd.DataFrame | None, *, settings: dict | None = None,
                 as_of: dt.date | None = None, months: int = 12, top: int = 10) -> Kpis:
    """Every Dashboard figure and table from the Denials and Claims tables (definitions above)."""
    as_of = as_of or dt.date.today()
    as_of_ts = pd.Timestamp(as_of)
    targets = kpi_targets(settings)
    d = denial_frame(denials, as_of_ts)
    c = claim_frame(claims)
    submitted = submitted_lines(c, as_of_ts)
    per_claim = claims_cohort(submitted, d)
    appeals, appeal_figures = open_appeals(d, as_of_ts)

    figures: dict = {"claim_lines": int((c["Claim ID"] != "").sum())}
    figures.update(headline_figures(per_claim, d))
    figures.update(med_nec_against_baseline(d, as_of_ts,
                                            _number(setting(settings, "Baseline Medical Necessity Denials"), None)))
    figures.update(clean_claim_rate(c))
    figures["days_to_resubmission"] = days_to_resubmission(d)
    figures.update(appeal_figures)
    figures.update(denial_free_weeks(d, as_of_ts))

    return Kpis(as_of=as_of, figures=figures, targets=targets,
                monthly=monthly_trend(per_claim, d, as_of_ts, months, targets["denial_rate"]),
                by_payer=by_payer(per_claim, d, top), by_cpt=by_cpt(submitted, d, top),
                top_carcs=top_carcs(d, top), top_root_causes=top_root_causes(d, top), open_appeals=appeals)
