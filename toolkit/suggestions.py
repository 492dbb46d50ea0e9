"""Rule suggestions: the Rules change that would have caught a cluster of the practice's denials.

From the real denials of the last ``Denial History Months`` (the same log and thresholds as
DENIAL_HISTORY), each cluster of at least ``Denial History Min`` denials for one payer × code
that the current rule does not already answer becomes one proposal, with its evidence:

* Covered Dx — repeated CO-50 with N115/N386 (or CARC 11/167) on a diagnosis the rule covers:
  take that diagnosis out (the payer's policy does not accept it);
* Prior Auth Required = Y — repeated CO-197/CO-15/CO-39 for the payer × code;
* Laterality Required = Y — repeated CO-4 on lines without RT, LT or 50;
* Max Units — repeated CO-151 or N362: one less than the fewest units denied;
* Min Therapy Weeks — repeated CO-50 (no LCD/NCD remark) on lines whose therapy weeks were
  recorded: one more than the most weeks denied.

Suggestions are never written into Rules: the biller reads the evidence, checks the payer's
policy and copies the change.  Nothing here names a patient or a claim: codes, counts, dollars,
dates and denial IDs only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .checks.history import DEFAULT_MIN, DEFAULT_MONTHS, DenialHistory, mods_pattern
from .codesets.icd10cm import format_dx
from .rules import match_rules, prepare_rules
from .tables import Column, TableSpec

C = Column
RULE_SUGGESTIONS = TableSpec("Rule Suggestions", "tblRuleSuggestions", (
    C("Payer", "text", True),
    C("CPT/HCPCS", "code", True),
    C("Rule Column", "text", True),
    C("Current", "text"),
    C("Proposed", "text"),
    C("Why", "text"),
    C("Denials", "int"),
    C("Denied Amount", "money"),
    C("First Denial", "date"),
    C("Last Denial", "date"),
    C("Codes", "text"),
    C("Denial IDs", "text"),
    C("Policy", "text"),
    C("Decision", "text"),
))
CLOSED_DECISIONS = frozenset({"accepted", "rejected", "done", "no", "declined"})

LCD_RARCS = frozenset({"N115", "N386"})
AUTH_CARCS = frozenset({"197", "15", "39"})
UNITS_CARCS, UNITS_RARCS = frozenset({"151"}), frozenset({"N362"})
SIDE_MODIFIERS = frozenset({"RT", "LT", "50"})


@dataclass
class Suggestion:
    """One proposed change to one Rules column, and the denials behind it."""

    payer: str
    cpt: str
    column: str
    current: str
    proposed: str
    why: str
    denial_ids: tuple[str, ...]
    denied_amount: float
    first: dt.date | None
    last: dt.date | None
    codes: str
    policy: str = ""
    decision: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.payer.casefold(), self.cpt, self.column, self.proposed)

    @property
    def is_open(self) -> bool:
        return self.decision.strip().casefold() not in CLOSED_DECISIONS

    def row(self) -> dict:
        return {"Payer": self.payer, "CPT/HCPCS": self.cpt, "Rule Column": self.column, "Current": self.current,
                "Proposed": self.proposed, "Why": self.why, "Denials": len(self.denial_ids),
                "Denied Amount": round(self.denied_amount, 2), "First Denial": self.first, "Last Denial": self.last,
                "Codes": self.codes, "Denial IDs": ", ".join(self.denial_ids), "Policy": self.policy,
                "Decision": self.decision}


def _yes(value) -> bool:
    return not pd.isna(value) and bool(value)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _linked(real: pd.DataFrame, claims: pd.DataFrame | None) -> pd.DataFrame:
    """Units, Therapy Weeks and Modifiers of each denial's claim line (Claim ID + Line), where known."""
    out = pd.DataFrame({"units": float("nan"), "weeks": float("nan"), "line_mods": ""}, index=real.index)
    if claims is None or not len(claims) or not len(real):
        return out
    from .tables import CLAIMS
    from .values import coerce_table

    c = coerce_table(CLAIMS, claims)
    key = c["Claim ID"].astype(str) + "#" + c["Line"].fillna(1).astype(int).astype(str)
    c = c.assign(_key=key).drop_duplicates("_key").set_index("_key")
    want = real["claim"] + "#" + real["line"].astype(int).astype(str)
    found = c.reindex(want.to_numpy())
    out["units"] = found["Units"].fillna(1.0).where(found["Claim ID"].notna()).to_numpy()
    out["weeks"] = found["Therapy Weeks"].to_numpy()
    out["line_mods"] = found["Modifiers"].fillna("").to_numpy()
    return out


class _Evidence:
    """The denials of one cluster, summarised the way every suggestion shows them."""

    def __init__(self, rows: pd.DataFrame):
        rows = rows.sort_values(["date", "id"], kind="stable")
        self.rows = rows
        self.ids = tuple(dict.fromkeys(rows["id"]))
        self.amount = float(rows.drop_duplicates("id")["amount"].sum())
        self.first = rows["date"].min().date() if rows["date"].notna().any() else None
        self.last = rows["date"].max().date() if rows["date"].notna().any() else None
        self.codes = ", ".join(f"{k} ×{n}" for k, n in rows.drop_duplicates("id")["label"].value_counts().items())

    def sentence(self) -> str:
        n = len(self.ids)
        span = f" from {self.first:%b %d, %Y} to {self.last:%b %d, %Y}" if self.first else ""
        return f"{n} denial{'s' if n != 1 else ''}{span} ({self.codes}, ${self.amount:,.2f})"


def suggest_rules(rules: pd.DataFrame | None, denials: pd.DataFrame | DenialHistory, claims: pd.DataFrame | None = None,
                  *, as_of: dt.date | None = None) -> list[Suggestion]:
    """Proposed Rules changes from the denial clusters of the window before ``as_of`` (default today).

    Reason for the length: five kinds of proposal share one pass over the clusters."""
    history = denials if isinstance(denials, DenialHistory) else DenialHistory(denials)
    as_of = as_of or dt.date.today()
    end = pd.Timestamp(as_of)
    real = history.real()
    real = real[(real["date"] > end - pd.DateOffset(months=history.months or DEFAULT_MONTHS)) & (real["date"] <= end)]
    if not len(real):
        return []
    real = real.join(history.claim_lines(real.index))
    real = real.join(_linked(real, claims))
    typed_rules = prepare_rules(rules)
    minimum = history.min_count or DEFAULT_MIN
    names = dict(zip(typed_rules["_payer"], typed_rules["Payer"]))  # the Rules' spelling, else the log's

    out: list[Suggestion] = []
    for (payer_k, cpt), group in real.groupby(["payer_k", "cpt"], sort=True):
        payer = names.get(payer_k) or str(group["payer"].iloc[0])
        pos = int(match_rules(pd.Series([payer_k]), pd.Series([cpt]), pd.Series([end]), typed_rules).iloc[0])
        rule = typed_rules.iloc[pos] if pos >= 0 else None
        policy = str(rule["Policy"] or "") if rule is not None else ""
        out += _covered_dx(payer, cpt, group, rule, policy, minimum)
        out += _prior_auth(payer, cpt, group, rule, policy, minimum)
        out += _laterality(payer, cpt, group, rule, policy, minimum)
        out += _max_units(payer, cpt, group, rule, policy, minimum)
        out += _therapy_weeks(payer, cpt, group, rule, policy, minimum)
    return sorted(out, key=lambda s: (-len(s.denial_ids), -s.denied_amount, s.payer, s.cpt, s.column))


def _covered_dx(payer, cpt, group, rule, policy, minimum) -> list[Suggestion]:
    if rule is None:
        return []
    lcd = group[((group["carc"] == "50") & group["rarcs"].map(lambda r: bool(LCD_RARCS & set(r))))
                | group["carc"].isin({"11", "167"})]
    covered = rule["_covered"]
    out = []
    for dx, rows in lcd.explode("dx").dropna(subset=["dx"]).groupby("dx", sort=True):
        if len(set(rows["id"])) < minimum or not covered.covers(dx):
            continue
        ev = _Evidence(rows)
        shown = format_dx(dx)
        if shown in covered.entries:
            proposed = ", ".join(e for e in covered.entries if e != shown)
            how = f"Take {shown} out of Covered Dx"
        else:
            proposed = ""
            how = f"{shown} is covered through a prefix or range entry: narrow that entry so it leaves out {shown}"
        out.append(Suggestion(payer, cpt, "Covered Dx", ", ".join(covered.entries), proposed,
                              f"{payer} denied {cpt} with {shown} as not medically necessary: {ev.sentence()}, "
                              f"although the rule covers it. {how}, after checking the payer's current policy.",
                              ev.ids, ev.amount, ev.first, ev.last, ev.codes, policy))
    return out


def _prior_auth(payer, cpt, group, rule, policy, minimum) -> list[Suggestion]:
    rows = group[group["carc"].isin(AUTH_CARCS)]
    if len(set(rows["id"])) < minimum or (rule is not None and _yes(rule["Prior Auth Required"])):
        return []
    ev = _Evidence(rows)
    current = "(no rule)" if rule is None else ("Y" if _yes(rule["Prior Auth Required"]) else "N")
    add = " Add a rule for this payer and code with" if rule is None else " Set"
    return [Suggestion(payer, cpt, "Prior Auth Required", current, "Y",
                       f"{payer} denied {cpt} for missing authorization: {ev.sentence()}.{add} Prior Auth Required "
                       "= Y so Validate holds lines without an authorization number.",
                       ev.ids, ev.amount, ev.first, ev.last, ev.codes, policy)]


def _laterality(payer, cpt, group, rule, policy, minimum) -> list[Suggestion]:
    if rule is not None and _yes(rule["Laterality Required"]):
        return []
    mods = group["mods"].where(group["mods"] != "", group["line_mods"].map(
        lambda t: mods_pattern(str(t).replace(",", " ").split())))
    rows = group[(group["carc"] == "4") & mods.map(lambda m: not SIDE_MODIFIERS & set(str(m).split(",")))]
    if len(set(rows["id"])) < minimum:
        return []
    ev = _Evidence(rows)
    current = "(no rule)" if rule is None else "N"
    return [Suggestion(payer, cpt, "Laterality Required", current, "Y",
                       f"{payer} denied {cpt} for a missing or wrong modifier on lines without RT, LT or 50: "
                       f"{ev.sentence()}. Set Laterality Required = Y so Validate asks for the side.",
                       ev.ids, ev.amount, ev.first, ev.last, ev.codes, policy)]


def _max_units(payer, cpt, group, rule, policy, minimum) -> list[Suggestion]:
    rows = group[group["carc"].isin(UNITS_CARCS) | group["rarcs"].map(lambda r: bool(UNITS_RARCS & set(r)))]
    if len(set(rows["id"])) < minimum:
        return []
    current = _num(rule["Max Units"]) if rule is not None else None
    fewest = _num(rows["units"].min()) if rows["units"].notna().any() else None
    proposed = fewest - 1 if fewest is not None and fewest > 1 else None
    if current is not None and (proposed is None or current <= proposed):
        return []  # the rule already holds these lines
    ev = _Evidence(rows)
    seen = f" The fewest units denied were {_fmt(fewest)}." if fewest is not None else ""
    return [Suggestion(payer, cpt, "Max Units", _fmt(current) or ("(no rule)" if rule is None else ""),
                       _fmt(proposed), f"{payer} denied {cpt} for too many units: {ev.sentence()}.{seen} "
                       "Check the payer's limit per day and set Max Units to it.",
                       ev.ids, ev.amount, ev.first, ev.last, ev.codes, policy)]


def _therapy_weeks(payer, cpt, group, rule, policy, minimum) -> list[Suggestion]:
    rows = group[(group["carc"] == "50") & ~group["rarcs"].map(lambda r: bool(LCD_RARCS & set(r)))
                 & group["weeks"].notna()]
    if len(set(rows["id"])) < minimum:
        return []
    current = (_num(rule["Min Therapy Weeks"]) or 0.0) if rule is not None else 0.0
    most = float(rows["weeks"].max())
    if current > most:
        return []  # the rule already asks for more than these lines had
    ev = _Evidence(rows)
    return [Suggestion(payer, cpt, "Min Therapy Weeks", _fmt(current) if rule is not None else "(no rule)",
                       _fmt(most + 1), f"{payer} denied {cpt} as not medically necessary on lines with at most "
                       f"{_fmt(most)} weeks of conservative therapy: {ev.sentence()}. Check the weeks the payer's "
                       "policy requires and set Min Therapy Weeks to them.",
                       ev.ids, ev.amount, ev.first, ev.last, ev.codes, policy)]


def suggestions_frame(suggestions: list[Suggestion]) -> pd.DataFrame:
    return pd.DataFrame([s.row() for s in suggestions], columns=RULE_SUGGESTIONS.headers)
