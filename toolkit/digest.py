"""The month's "Did you know?" facts, computed from the denial log (no e-mail, no Excel here).

A team learns from its denials only when someone tells it, every month, in two minutes of
reading: the reason that cost the most denials, what to do about it, whether things are getting
better, which appeals are about to expire, and which weeks went by without a single denial.

Everything here is an aggregate or a code: no patient name, ID or date of birth ever leaves this
module, because the result ends up in an e-mail.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TIPS_FILE = Path(__file__).parent / "data" / "tips.csv"

# Statuses with an appeal still to file (blank = logged, nothing done yet).
OPEN_STATUSES = {"", "open"}
APPEAL_HORIZON_DAYS = 14


# ---------------------------------------------------------------- tips table

@dataclass(frozen=True)
class Tip:
    key: str
    title: str
    action: str


def load_tips(path: Path | str | None = None) -> dict[str, Tip]:
    """The practice's tips table (Key, Title, Corrective Action): key = root cause code,
    ``CARC nn`` or a denial category.  The practice edits the CSV (or points Settings'
    ``Tips File`` at its own copy); matching ignores case and spaces."""
    path = Path(path) if path else TIPS_FILE
    from .errors import InputError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the tips table ({exc.strerror})", file=path) from None
    tips: dict[str, Tip] = {}
    for row in csv.DictReader(text.splitlines()):
        row = {(k or "").strip().casefold(): (v or "").strip() for k, v in row.items()}
        key = row.get("key", "")
        if key:
            tips[_tip_key(key)] = Tip(key, row.get("title", "") or key, row.get("corrective action", ""))
    return tips


def _tip_key(key: str) -> str:
    return " ".join(str(key).split()).casefold()


# ---------------------------------------------------------------- facts

@dataclass
class TopReason:
    key: str  # root cause code, "CARC 50", or a category
    label: str  # what the team reads
    count: int
    previous_count: int
    corrective_action: str
    tie_note: str = ""  # how a tie on the count was broken ("" when there was none)

    @property
    def change(self) -> int:
        return self.count - self.previous_count


@dataclass
class DigestFacts:
    month: pd.Period
    as_of: dt.date
    denials: int  # new denials in the month
    previous_denials: int
    denied_amount: float
    top_reason: TopReason | None
    trend: list[tuple[pd.Period, int]]  # last 12 months, oldest first, ending with ``month``
    appeals_due: int  # open denials whose appeal deadline is within 14 days of ``as_of``
    denial_free_weeks: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    # The Dashboard's denial rate (toolkit.kpi): claims submitted in the month that were denied.
    submitted_claims: int = 0
    denied_claims: int = 0
    denial_rate: float | None = None
    top_carc: TopCarc | None = None  # the payers' own code, beside the root cause
    rate_trend: list[tuple[pd.Period, float | None]] = field(default_factory=list)  # last 12 months
    target_rate: float = 0.05


@dataclass
class TopCarc:
    carc: str
    reason: str
    count: int


def reason_key(denials: pd.DataFrame) -> pd.Series:
    """Per denial: its Root Cause (the checklist item that would have prevented it), else
    ``CARC nn``, else its Category, else "Unknown"."""
    def col(name):
        if name in denials.columns:
            return denials[name].fillna("").astype(str).str.strip()
        return pd.Series("", index=denials.index)

    root, carc, category = col("Root Cause"), col("CARC"), col("Category")
    key = root.where(root != "", ("CARC " + carc).where(carc != "", category))
    return key.where(key != "", "Unknown")


def month_of(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates, errors="coerce").dt.to_period("M")


def denial_free_weeks(denial_dates: pd.Series, month: pd.Period,
                      as_of: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    """Completed weeks (Monday to Sunday) starting in ``month`` in which no denial was logged.

    A week counts once its Sunday is before ``as_of`` (default: the day after the month), so the
    team is never congratulated on days that have not happened; a week that starts in the month
    and ends in the next is counted whole, against every denial date of the log."""
    days = set(pd.to_datetime(denial_dates, errors="coerce").dropna().dt.date)
    start, end = month.start_time.date(), month.end_time.date()
    as_of = as_of or end + dt.timedelta(days=1)
    monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    weeks = []
    while monday <= end:
        sunday = monday + dt.timedelta(days=6)
        if sunday >= as_of:
            break
        if not any(monday + dt.timedelta(days=i) in days for i in range(7)):
            weeks.append((monday, sunday))
        monday += dt.timedelta(days=7)
    return weeks


def appeals_due(denials: pd.DataFrame, as_of: dt.date, days: int = APPEAL_HORIZON_DAYS) -> pd.DataFrame:
    """Denials still open whose Appeal Deadline falls within ``days`` days from ``as_of``
    (today included), soonest first."""
    if denials.empty:
        return denials
    deadline = pd.to_datetime(denials["Appeal Deadline"], errors="coerce")
    status = denials["Status"].fillna("").astype(str).str.strip().str.casefold()
    start = pd.Timestamp(as_of)
    mask = status.isin(OPEN_STATUSES) & (deadline >= start) & (deadline <= start + pd.Timedelta(days=days))
    return denials[mask].assign(**{"Appeal Deadline": deadline[mask]}).sort_values("Appeal Deadline")


def monthly_rates(denials: pd.DataFrame, claims: pd.DataFrame | None, month: pd.Period, as_of: dt.date,
                  settings: dict | None = None) -> pd.DataFrame | None:
    """The Dashboard's monthly table (``toolkit.kpi``) for the 12 months ending with ``month``, so the
    e-mail and the Dashboard never disagree; None without claims."""
    if claims is None or not len(claims):
        return None
    from .kpi import compute_kpis

    span = (pd.Period(as_of, freq="M") - month).n + 12  # up to the day it goes out, like the Dashboard
    if span < 12:
        return None
    monthly = compute_kpis(denials, claims, settings=settings, as_of=as_of, months=span).monthly
    return monthly[monthly["Month"] <= str(month)].tail(12).reset_index(drop=True)


def month_denial_rate(denials: pd.DataFrame, claims: pd.DataFrame | None, month: pd.Period,
                      as_of: dt.date) -> tuple[int, int, float | None]:
    """(submitted claims, denied claims, denial rate) of the month, by the Dashboard's definition."""
    monthly = monthly_rates(denials, claims, month, as_of)
    return _month_rate(monthly, month)


def _month_rate(monthly: pd.DataFrame | None, month: pd.Period) -> tuple[int, int, float | None]:
    if monthly is None:
        return 0, 0, None
    row = monthly[monthly["Month"] == str(month)]
    if not len(row):
        return 0, 0, None
    rate = row["Denial Rate"].iloc[0]
    return int(row["Submitted Claims"].iloc[0]), int(row["Denied Claims"].iloc[0]), \
        (None if rate is None or pd.isna(rate) else float(rate))


def top_reason(this: pd.DataFrame, prev: pd.DataFrame, keys: pd.Series, tips: dict[str, Tip]) -> TopReason | None:
    """The reason with most denials this month; a tie goes to the one that cost more money (then
    alphabetical), and the e-mail says so."""
    if not len(this):
        return None
    amounts = pd.to_numeric(this["Denied Amount"], errors="coerce").fillna(0) if "Denied Amount" in this.columns \
        else pd.Series(0.0, index=this.index)
    table = pd.DataFrame({"key": keys[this.index], "amount": amounts})
    ranked = table.groupby("key").agg(count=("key", "size"), amount=("amount", "sum")).reset_index()
    ranked = ranked.sort_values(["count", "amount", "key"], ascending=[False, False, True])
    best = ranked.iloc[0]
    key = str(best["key"])
    tip = find_tip(tips, key, this[keys[this.index] == key])
    label = tip.title if tip else key
    tie_note = ""
    if len(ranked) > 1 and int(ranked.iloc[1]["count"]) == int(best["count"]):
        other = ranked.iloc[1]
        other_tip = find_tip(tips, str(other["key"]), this[keys[this.index] == other["key"]])
        other_label = f"{other_tip.title if other_tip else other['key']} ({other['key']})"
        if float(best["amount"]) != float(other["amount"]):
            tie_note = (f"Tied with {other_label} at {int(best['count'])} denials; first because it cost more "
                        f"(${float(best['amount']):,.2f} against ${float(other['amount']):,.2f}).")
        else:
            tie_note = (f"Tied with {other_label} at {int(best['count'])} denials and the same dollars; "
                        "named first alphabetically.")
    return TopReason(key=key, label=label, count=int(best["count"]),
                     previous_count=int((keys[prev.index] == key).sum()),
                     corrective_action=tip.action if tip else "", tie_note=tie_note)


def top_carc(this: pd.DataFrame) -> TopCarc | None:
    """The CARC the payers sent most this month (ties: more dollars, then the lower code)."""
    if not len(this) or "CARC" not in this.columns:
        return None
    carc = this["CARC"].fillna("").astype(str).str.strip()
    rows = this[carc != ""]
    if not len(rows):
        return None
    amounts = pd.to_numeric(rows["Denied Amount"], errors="coerce").fillna(0) if "Denied Amount" in rows.columns \
        else pd.Series(0.0, index=rows.index)
    table = pd.DataFrame({"carc": carc[rows.index], "amount": amounts})
    ranked = table.groupby("carc").agg(count=("carc", "size"), amount=("amount", "sum")).reset_index()
    best = ranked.sort_values(["count", "amount", "carc"], ascending=[False, False, True]).iloc[0]
    from .denials.decode import CodeTables

    info = CodeTables.load().carc.get(str(best["carc"]).upper())  # the code's meaning, without the RARCs
    return TopCarc(str(best["carc"]), info.reason if info else "", int(best["count"]))


def digest_facts(denials: pd.DataFrame, month: pd.Period | str, *, claims: pd.DataFrame | None = None,
                 tips: dict[str, Tip] | None = None, as_of: dt.date | None = None,
                 settings: dict | None = None) -> DigestFacts:
    """The facts of one month's digest from the typed Denials (and optionally Claims) table.

    ``as_of`` is the day the e-mail goes out (appeals due are counted from it, and only weeks
    ended before it count as denial-free); by default the first day after the month.
    """
    from .kpi import kpi_targets

    month = pd.Period(month, freq="M")
    as_of = as_of or (month + 1).start_time.date()
    tips = load_tips() if tips is None else tips
    months = month_of(denials["Denial Date"]) if len(denials) else pd.Series(dtype="period[M]")
    keys = reason_key(denials)
    this, prev = denials[months == month], denials[months == month - 1]

    counts = months.value_counts()
    trend = [(m, int(counts.get(m, 0))) for m in pd.period_range(month - 11, month, freq="M")]
    denied = float(this["Denied Amount"].fillna(0).sum()) if "Denied Amount" in this.columns else 0.0
    monthly = monthly_rates(denials, claims, month, as_of, settings)
    submitted, denied_claims, rate = _month_rate(monthly, month)
    rate_trend: list[tuple[pd.Period, float | None]] = []
    if monthly is not None:
        by_month = {str(r["Month"]): r["Denial Rate"] for r in monthly.to_dict("records")}
        rate_trend = [(m, None if pd.isna(by_month.get(str(m))) else float(by_month[str(m)]))
                      for m, _ in trend]
    all_dates = denials["Denial Date"] if len(denials) else pd.Series(dtype=object)
    return DigestFacts(
        month=month, as_of=as_of, denials=len(this), previous_denials=len(prev), denied_amount=denied,
        top_reason=top_reason(this, prev, keys, tips), trend=trend, appeals_due=len(appeals_due(denials, as_of)),
        denial_free_weeks=denial_free_weeks(all_dates, month, as_of),
        submitted_claims=submitted, denied_claims=denied_claims, denial_rate=rate, top_carc=top_carc(this),
        rate_trend=rate_trend, target_rate=kpi_targets(settings)["denial_rate"],
    )


def find_tip(tips: dict[str, Tip], key: str, rows: pd.DataFrame) -> Tip | None:
    """The tip for a reason: by its key, else by the CARC or Category of its denials."""
    candidates = [key]
    for column, prefix in (("CARC", "CARC "), ("Category", "")):
        if column in rows.columns:
            values = rows[column].fillna("").astype(str).str.strip()
            values = values[values != ""]
            if len(values):
                candidates.append(prefix + values.mode().iloc[0])
    for c in candidates:
        tip = tips.get(_tip_key(c))
        if tip:
            return tip
    return None
