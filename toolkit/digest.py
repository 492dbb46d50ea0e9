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


def denial_free_weeks(denial_dates: pd.Series, month: pd.Period) -> list[tuple[dt.date, dt.date]]:
    """Weeks (Monday to Sunday, the Monday in ``month``, cut at the month's end) in which
    no denial was logged."""
    days = set(pd.to_datetime(denial_dates, errors="coerce").dropna().dt.date)
    start, end = month.start_time.date(), month.end_time.date()
    monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    weeks = []
    while monday <= end:
        sunday = min(monday + dt.timedelta(days=6), end)
        if not any(monday + dt.timedelta(days=i) in days for i in range((sunday - monday).days + 1)):
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


def month_denial_rate(denials: pd.DataFrame, claims: pd.DataFrame | None, month: pd.Period,
                      as_of: dt.date) -> tuple[int, int, float | None]:
    """(submitted claims, denied claims, denial rate) of the month, by the Dashboard's own
    definition (``toolkit.kpi``), so the e-mail and the Dashboard never disagree."""
    if claims is None or not len(claims):
        return 0, 0, None
    from .kpi import compute_kpis

    span = (pd.Period(as_of, freq="M") - month).n + 1
    if span < 1:
        return 0, 0, None
    monthly = compute_kpis(denials, claims, as_of=as_of, months=span).monthly
    row = monthly[monthly["Month"] == str(month)]
    if not len(row):
        return 0, 0, None
    rate = row["Denial Rate"].iloc[0]
    return int(row["Submitted Claims"].iloc[0]), int(row["Denied Claims"].iloc[0]), \
        (None if rate is None or pd.isna(rate) else float(rate))


def digest_facts(denials: pd.DataFrame, month: pd.Period | str, *, claims: pd.DataFrame | None = None,
                 tips: dict[str, Tip] | None = None, as_of: dt.date | None = None) -> DigestFacts:
    """The facts of one month's digest from the typed Denials (and optionally Claims) table.

    ``as_of`` is the day the e-mail goes out (appeals due are counted from it); by default the
    first day after the month.
    """
    month = pd.Period(month, freq="M")
    as_of = as_of or (month + 1).start_time.date()
    tips = load_tips() if tips is None else tips
    months = month_of(denials["Denial Date"]) if len(denials) else pd.Series(dtype="period[M]")
    keys = reason_key(denials)
    this, prev = denials[months == month], denials[months == month - 1]

    top = None
    if len(this):
        amounts = this["Denied Amount"].fillna(0) if "Denied Amount" in this.columns else pd.Series(0, index=this.index)
        table = pd.DataFrame({"key": keys[this.index], "amount": amounts})
        ranked = table.groupby("key").agg(count=("key", "size"), amount=("amount", "sum")).reset_index()
        # Most denials first; a tie goes to the reason that cost more money, then alphabetical.
        ranked = ranked.sort_values(["count", "amount", "key"], ascending=[False, False, True])
        best = ranked.iloc[0]
        key = str(best["key"])
        tip = find_tip(tips, key, this[keys[this.index] == key])
        top = TopReason(key=key, label=tip.title if tip else key, count=int(best["count"]),
                        previous_count=int((keys[prev.index] == key).sum()),
                        corrective_action=tip.action if tip else "")

    counts = months.value_counts()
    trend = [(m, int(counts.get(m, 0))) for m in pd.period_range(month - 11, month, freq="M")]
    denied = float(this["Denied Amount"].fillna(0).sum()) if "Denied Amount" in this.columns else 0.0
    submitted, denied_claims, rate = month_denial_rate(denials, claims, month, as_of)
    return DigestFacts(
        month=month, as_of=as_of, denials=len(this), previous_denials=len(prev), denied_amount=denied,
        top_reason=top, trend=trend, appeals_due=len(appeals_due(denials, as_of)),
        denial_free_weeks=denial_free_weeks(this["Denial Date"] if len(this) else pd.Series(dtype=object), month),
        submitted_claims=submitted, denied_claims=denied_claims, denial_rate=rate,
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
