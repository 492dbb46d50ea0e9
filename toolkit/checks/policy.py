"""Payer-policy checks: the criteria of the applicable rule (covered diagnoses, conservative
therapy, imaging, prior authorization, units) and whether any rule applies at all."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import AMBER, RED, Coded, check, field, map_coded, per_distinct


def _fmt_num(x) -> str:
    return f"{x:g}" if pd.notna(x) else ""


@field("cpt")
def _cpt(lines, idx):
    return lines.coded("CPT/HCPCS", idx, lambda c: c or "(blank code)")


@field("payer")
def _payer(lines, idx):
    return lines.coded("Payer", idx, lambda p: p or "(blank payer)")


@field("dos")
def _dos(lines, idx):
    return lines.dos[idx].dt.strftime("%Y-%m-%d").fillna("(no date)")


@field("policy")
def _policy(lines, idx):
    return map_coded(lines.rule["Policy"][idx], lambda p: f" ({p})" if isinstance(p, str) and p else "")


@check("NO_POLICY", AMBER, "policy", "no rule applies to this payer, procedure and date of service",
       "No {payer} rule for {cpt} on {dos}: medical necessity cannot be confirmed. Add the payer's "
       "policy to the Rules table, or check the payer, code and date.")
def no_policy(lines):
    return ~lines.has_rule


@check("DX_NOT_COVERED", RED, "policy", "a rule applies and none of the line's diagnoses is in its Covered Dx",
       "{not_covered_lead} {cpt} under {payer}'s policy{policy}; covered: {covered}. Code a covered "
       "diagnosis if the chart documents one; {necessity_fallback}")
def dx_not_covered(lines):
    return lines.has_rule & ~lines.any_covered


@field("not_covered_lead")
def _not_covered_lead(lines, idx):
    listed, none = lines.dx_lists(idx)  # once per distinct diagnosis tuple, joined by array work
    said = np.where(none, "The line has no diagnosis, so nothing supports",
                    "None of the diagnoses (" + listed.texts + ") supports").astype(object)
    return Coded(listed.codes, said)


# What to do when no covered diagnosis is documented.  An ABN is valid only if signed before the
# service (CMS-R-131): advice never says "have one signed now".  GA asserts a valid ABN is on file;
# GZ says there is none, and Medicare then denies the line as the practice's liability.
_FALLBACK_MEDICARE = {
    "ga": "the signed ABN and modifier GA are on the line: it may be submitted, and if Medicare denies it "
          "the patient may be billed.",
    "gz": "modifier GZ is on the line: Medicare will deny it and the practice bears the loss (do not bill "
          "the patient).",
    "abn": "an ABN signed before the service is on file: add modifier GA (the line is still submitted; if "
           "denied, the patient may be billed).",
    "none": "otherwise the line will be denied. If the patient signed an ABN before the service, set ABN on "
            "File to Y and add modifier GA (the patient may then be billed if denied); without one, add GZ "
            "(the practice bears the loss). An ABN signed after the service is not valid.",
}
_FALLBACK_OTHER = "otherwise the line will be denied as it stands: hold it."


@field("necessity_fallback")
def _necessity_fallback(lines, idx):
    pos = lines.index.get_indexer(idx)  # by position: 40,000 flagged lines at 100,000
    medicare = lines.medicare.to_numpy()[pos]
    abn = lines.c["ABN on File"].to_numpy(dtype=bool, na_value=False)[pos]
    ga = lines.has_mod("GA").to_numpy()[pos]  # per distinct modifier tuple, not per line
    gz = lines.has_mod("GZ").to_numpy()[pos]
    which = np.select([~medicare, abn & ga, gz & ~ga, abn], [0, 1, 2, 3], 4)
    texts = np.array([_FALLBACK_OTHER, _FALLBACK_MEDICARE["ga"], _FALLBACK_MEDICARE["gz"], _FALLBACK_MEDICARE["abn"],
                      _FALLBACK_MEDICARE["none"]], dtype=object)  # one shared string per advice, not one per line
    return Coded(which, texts)  # already numbered: render need not number 40,000 texts again


@field("line_dx")
def _line_dx(lines, idx):
    listed, none = lines.dx_lists(idx)
    return Coded(listed.codes, np.where(none, "none", listed.texts).astype(object))


def covered_text(cov) -> str:
    """A rule's Covered Dx for a message: the first entries, or what a blank or ``*`` list means."""
    entries = list(cov.entries)
    if not entries:
        return "no diagnosis is listed in the rule's Covered Dx (fill it in from the policy)"
    if entries == ["*"]:
        return "any diagnosis"
    shown = ["any diagnosis" if e == "*" else e for e in entries[:8]]
    return ", ".join(shown) + (f" and {len(entries) - 8} more" if len(entries) > 8 else "")


@field("covered")
def _covered(lines, idx):
    return map_coded(lines.rule_pos[idx], lambda p: covered_text(lines.rules["_covered"].iat[p]))


@check("THERAPY_UNDOCUMENTED", AMBER, "policy",
       "the rule requires conservative therapy and Therapy Weeks is blank",
       "{payer} requires {min_weeks} weeks of failed conservative therapy; none recorded. Enter the "
       "weeks of therapy from the chart (PT, medication, splinting…) or hold the claim.")
def therapy_undocumented(lines):
    return lines.has_rule & (lines.rule_number("Min Therapy Weeks").fillna(0) > 0) & lines.c["Therapy Weeks"].isna()


@field("min_weeks")
def _min_weeks(lines, idx):
    return map_coded(lines.rule_number("Min Therapy Weeks")[idx], _fmt_num)


@field("therapy_weeks")
def _therapy_weeks(lines, idx):
    return per_distinct(_fmt_num, lines.c["Therapy Weeks"][idx])


@check("THERAPY_TOO_SHORT", RED, "policy", "Therapy Weeks is given and below Min Therapy Weeks",
       "{payer} requires {min_weeks} weeks of conservative therapy; {therapy_weeks} documented. "
       "Document further therapy or hold the claim.")
def therapy_too_short(lines):
    weeks = lines.c["Therapy Weeks"]
    return lines.has_rule & weeks.notna() & (weeks < lines.rule_number("Min Therapy Weeks").fillna(0))


@check("IMAGING_MISSING", AMBER, "policy", "the rule requires imaging and Imaging Date is blank",
       "{payer} requires imaging{imaging_window} before {cpt}; no imaging date recorded. Enter the "
       "study's type and date from the chart, or order it.")
def imaging_missing(lines):
    return lines.rule_yes("Imaging Required") & lines.c["Imaging Date"].isna()


@field("imaging_window")
def _imaging_window(lines, idx):
    return per_distinct(lambda d: f" from the last {d:g} days" if pd.notna(d) else "",
                        lines.rule_number("Imaging Max Age Days")[idx])


def _imaging_age(lines) -> pd.Series:
    return (lines.dos - lines.c["Imaging Date"]).dt.days


@check("IMAGING_STALE", AMBER, "policy",
       "Imaging Date is more than Imaging Max Age Days before the date of service, or after it",
       "{imaging_problem} Obtain or document imaging within the policy's window.")
def imaging_stale(lines):
    age = _imaging_age(lines)
    max_age = lines.rule_number("Imaging Max Age Days")
    return (age < 0) | (lines.has_rule & max_age.notna() & (age > max_age))


@field("imaging_problem")
def _imaging_problem(lines, idx):
    age = _imaging_age(lines)[idx]
    max_age = lines.rule_number("Imaging Max Age Days")[idx]

    def say(a, m, taken) -> str:
        w = taken.strftime("%Y-%m-%d") if pd.notna(taken) else float("nan")  # as .dt.strftime writes NaT
        return (f"The imaging date {w} is after the date of service, so it cannot support the service." if a < 0
                else f"The imaging of {w} is {a:g} days old at the date of service; the policy accepts at most {m:g}.")
    return per_distinct(say, age, max_age, lines.c["Imaging Date"][idx])


@check("PRIOR_AUTH_MISSING", RED, "policy",
       "the rule requires prior authorization and Prior Auth Number is blank",
       "{payer} requires prior authorization for {cpt}; no authorization number on the line. Obtain "
       "the authorization and enter its number before submitting.")
def prior_auth_missing(lines):
    return lines.rule_yes("Prior Auth Required") & lines.blank("Prior Auth Number")


@check("UNITS_EXCEEDED", RED, "policy", "Units above the rule's Max Units",
       "{units} units billed; {payer}'s policy allows at most {max_units} per line. Bill the allowed "
       "units (split only if the payer allows it).")
def units_exceeded(lines):
    max_units = lines.rule_number("Max Units")
    return lines.has_rule & max_units.notna() & (lines.units > max_units)


@field("units")
def _units(lines, idx):
    return per_distinct(_fmt_num, lines.units[idx])


@field("max_units")
def _max_units(lines, idx):
    return per_distinct(_fmt_num, lines.rule_number("Max Units")[idx])
