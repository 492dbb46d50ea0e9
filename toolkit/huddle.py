"""The quarterly policy huddle: what changed in the payers' rules, what kept denying, who owns
the open denials, and what the team has to decide.  Facts only; ``toolkit.word.huddle_pack``
turns them into the .docx handed out at the meeting.

Owners are staff names, and counts are aggregates: nothing here identifies a patient.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .digest import OPEN_STATUSES, Tip, appeals_due, find_tip, load_tips, reason_key
from .values import as_date


@dataclass
class RuleChange:
    payer: str
    cpt: str
    policy: str
    description: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    change: str  # "starts" or "ends" (or "starts and ends")


@dataclass
class RootCause:
    key: str
    label: str
    count: int
    denied_amount: float
    corrective_action: str

    @property
    def named(self) -> str:
        """"Diagnosis not covered (DX_NOT_COVERED)"; the code once, when the label already has it."""
        if self.label == self.key or self.key.casefold() in self.label.casefold():
            return self.label
        return f"{self.label} ({self.key})"


@dataclass
class HuddleFacts:
    quarter: pd.Period
    rule_changes: list[RuleChange]  # effective dates inside the quarter
    upcoming_changes: list[RuleChange]  # effective dates inside the next quarter
    denials: int
    top_root_causes: list[RootCause]
    open_by_owner: list[tuple[str, int]]  # open denials per owner ("Unassigned" for blank), most first
    appeals_due: int
    decisions: list[str] = field(default_factory=list)
    rule_suggestions: list = field(default_factory=list)  # open toolkit.suggestions.Suggestion, most denials first




def rule_changes(rules: pd.DataFrame, quarter: pd.Period) -> list[RuleChange]:
    """Rules whose Effective From or Effective To falls inside ``quarter``."""
    start, end = quarter.start_time.normalize(), quarter.end_time.normalize()
    out = []
    for _, r in rules.iterrows():
        starts = not pd.isna(r.get("Effective From")) and start <= r["Effective From"] <= end
        ends = not pd.isna(r.get("Effective To")) and start <= r["Effective To"] <= end
        if starts or ends:
            out.append(RuleChange(
                payer=r.get("Payer", ""), cpt=r.get("CPT/HCPCS", ""), policy=r.get("Policy", "") or "",
                description=r.get("Description", "") or "", effective_from=as_date(r.get("Effective From")),
                effective_to=as_date(r.get("Effective To")),
                change="starts and ends" if starts and ends else "starts" if starts else "ends"))
    return sorted(out, key=lambda c: (c.effective_from or c.effective_to or dt.date.min, c.payer, c.cpt))


def huddle_facts(rules: pd.DataFrame, denials: pd.DataFrame, quarter: pd.Period | str, *,
                 tips: dict[str, Tip] | None = None, as_of: dt.date | None = None, top: int = 5,
                 suggestions: list | None = None) -> HuddleFacts:
    """The pack's facts for ``quarter`` (e.g. ``2026Q1``); ``as_of`` (default: the day after the
    quarter) is when open denials and appeals due are counted.  ``suggestions``: the open rule
    suggestions (default: every one the denial log makes before ``as_of``)."""
    quarter = pd.Period(quarter, freq="Q")
    as_of = as_of or (quarter + 1).start_time.date()
    tips = load_tips() if tips is None else tips

    quarters = pd.to_datetime(denials["Denial Date"], errors="coerce").dt.to_period("Q") if len(denials) \
        else pd.Series(dtype="period[Q-DEC]")
    these = denials[quarters == quarter]
    keys = reason_key(these)
    causes = []
    if len(these):
        amounts = these["Denied Amount"].fillna(0)
        ranked = (pd.DataFrame({"key": keys, "amount": amounts}).groupby("key")
                  .agg(count=("key", "size"), amount=("amount", "sum")).reset_index()
                  .sort_values(["count", "amount", "key"], ascending=[False, False, True]).head(top))
        for _, row in ranked.iterrows():
            tip = find_tip(tips, row["key"], these[keys == row["key"]])
            causes.append(RootCause(row["key"], tip.title if tip else row["key"], int(row["count"]),
                                    float(row["amount"]), tip.action if tip else ""))

    status = denials["Status"].fillna("").astype(str).str.strip().str.casefold() if len(denials) \
        else pd.Series(dtype=str)
    open_ = denials[status.isin(OPEN_STATUSES)] if len(denials) else denials
    owners = open_["Owner"].fillna("").astype(str).str.strip().replace("", "Unassigned") if len(open_) \
        else pd.Series(dtype=str)
    by_owner = sorted(owners.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))

    facts = HuddleFacts(quarter=quarter, rule_changes=rule_changes(rules, quarter),
                        upcoming_changes=rule_changes(rules, quarter + 1), denials=len(these),
                        top_root_causes=causes, open_by_owner=[(o, int(n)) for o, n in by_owner],
                        appeals_due=len(appeals_due(denials, as_of)))
    facts.rule_suggestions = suggestions if suggestions is not None else _suggestions(rules, denials, as_of)
    facts.decisions = decisions(facts)
    return facts


def _suggestions(rules: pd.DataFrame | None, denials: pd.DataFrame, as_of: dt.date) -> list:
    from .suggestions import suggest_rules

    return suggest_rules(rules, denials, as_of=as_of) if len(denials) else []


def decisions(facts: HuddleFacts) -> list[str]:
    """The questions the huddle must answer, each with an owner to be named in the room."""
    out = []
    for c in facts.rule_changes + facts.upcoming_changes:
        when = c.effective_to if c.change == "ends" else c.effective_from
        what = f"{c.payer} {c.cpt}" + (f" ({c.policy})" if c.policy else "")
        if c.change == "ends":
            out.append(f"{what} rule ends {when:%b %d, %Y}: is there a replacement policy to enter in the Rules sheet, "
                       "or do we stop scheduling without prior review?")
        else:
            out.append(f"{what} rule takes effect {when:%b %d, %Y}: who tells the schedulers and providers "
                       "what changes for these patients?")
    for cause in facts.top_root_causes[:3]:
        out.append(f"{cause.named} caused {cause.count} denial{'s' if cause.count != 1 else ''}: "
                   "adopt the corrective action below, and who checks it is followed?")
    if facts.rule_suggestions:
        n = len(facts.rule_suggestions)
        out.append(f"{n} rule suggestion{'s' if n != 1 else ''} from our own denials {'are' if n != 1 else 'is'} "
                   "open (listed below): accept each (copy it into Rules) or reject it, and mark the Decision.")
    unassigned = dict(facts.open_by_owner).get("Unassigned", 0)
    if unassigned:
        out.append(f"{unassigned} open denial{'s have' if unassigned != 1 else ' has'} no owner: assign them today.")
    if facts.appeals_due:
        out.append(f"{facts.appeals_due} appeal{'s are' if facts.appeals_due != 1 else ' is'} due in the next "
                   "14 days: confirm each has an owner and the records requested.")
    return out
