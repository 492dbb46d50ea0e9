"""The evidence a letter sets out: the patient block, the procedure line, the policy's criteria
against the claim, the clinical argument, the appeal level and deadline, what was corrected.

Shared by every kind of letter (``toolkit.letters.builders``) and the prior-authorization request.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from ..checklists import (
    NOT_ON_FILE,
    as_date,
    describe_dx,
    long_date,
    number,
    plain_number,
    requirements,
    short_date,
    split_codes,
    split_modifiers,
    text,
    yes,
)
from ..denials.deadlines import MEDICARE_RECEIPT_DAYS, MEDICARE_RECONSIDERATION_DAYS, MEDICARE_REDETERMINATION_DAYS
from ..tables import header_key

GROUP_MEANING = {
    "CO": "contractual obligation: the provider is liable",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
}
_SIDE = {"RT": "right", "LT": "left", "50": "bilateral"}
MEDICARE_REOPENING_DAYS = 365  # clerical errors: a reopening within one year of the initial determination
MEDICARE_FILING_DAYS = 365  # 12 months from the date of service
_MODIFIER_MEANING = {
    "RT": "right side", "LT": "left side", "50": "bilateral procedure", "59": "distinct procedural service",
    "XE": "separate encounter", "XS": "separate structure or organ", "XP": "separate practitioner",
    "XU": "unusual non-overlapping service", "76": "repeat procedure by the same physician",
    "77": "repeat procedure by another physician", "91": "repeat clinical laboratory test",
    "25": "significant, separately identifiable evaluation and management service",
    "FA": "left hand, thumb", "F5": "right hand, thumb", "TA": "left foot, great toe", "T5": "right foot, great toe",
    "E1": "upper left eyelid", "E3": "upper right eyelid",
}
NCCI_MODIFIERS = ("59", "XE", "XS", "XP", "XU", "25", "91", "RT", "LT", "76", "77")
_MEMBER_ID_HEADERS = ("member id", "subscriber id", "insurance id", "medicare number", "mbi", "policy number")


def patient_block(claim, denial) -> dict:
    src = claim if claim is not None else denial
    member = ""
    if claim is not None:
        for col in claim.index:
            if header_key(col) in _MEMBER_ID_HEADERS and text(claim[col]):
                member = text(claim[col])
                break
    return {
        "name": (text(claim.get("Patient Name")) if claim is not None else "") or NOT_ON_FILE,
        "dob": (short_date(claim.get("Date of Birth")) if claim is not None else "") or NOT_ON_FILE,
        "member_id": member or NOT_ON_FILE,
        "account": text(src.get("Patient ID")) or NOT_ON_FILE,
    }


def procedure_text(cpt: str, modifiers: list[str], rule) -> str:
    desc = text(rule.get("Description")) if rule is not None else ""
    mods = f", modifier{'s' if len(modifiers) > 1 else ''} {', '.join(modifiers)}" if modifiers else ""
    return f"{cpt}{mods}" + (f" ({desc})" if desc else "")


def supporting_dx(codes: list[str], rule) -> str | None:
    from ..codesets.icd10cm import normalize_dx

    covered = rule["_covered"]
    for c in codes:
        if covered.unrestricted or covered.covers(normalize_dx(c)):
            return c
    return None


def criteria(rule, claim, denial, codesets) -> list[dict]:
    """Each criterion of the policy next to what the claim line shows, and whether it is met."""
    src = claim if claim is not None else denial
    codes = split_codes(src.get("Dx Codes"))
    mods = split_modifiers(src.get("Modifiers"))
    dos = as_date(src.get("Date of Service"))
    out = []
    for req in requirements(rule):
        evidence, met = "", "See records"
        if req.key == "diagnosis":
            sup = supporting_dx(codes, rule)
            if sup:
                evidence, met = describe_dx(sup, codesets), "Yes"
            elif codes:
                evidence, met = "None of " + ", ".join(codes) + " is on the policy's list", "No"
            else:
                evidence = "No diagnosis on the claim line"
                met = "No"
        elif req.key == "therapy":
            weeks = number(claim.get("Therapy Weeks")) if claim is not None else None
            notes = text(claim.get("Therapy Notes")) if claim is not None else ""
            need = number(rule.get("Min Therapy Weeks"))
            if weeks is not None:
                evidence = f"{plain_number(weeks)} weeks" + (f": {notes}" if notes else "")
                met = "Yes" if weeks >= (need or 0) else "No"
            else:
                evidence = "Documented in the enclosed therapy records" + (f" ({notes})" if notes else "")
        elif req.key == "imaging":
            when = as_date(claim.get("Imaging Date")) if claim is not None else None
            kind = (text(claim.get("Imaging Type")) if claim is not None else "") or "Imaging"
            max_age = number(rule.get("Imaging Max Age Days"))
            if when and dos:
                age = (dos - when).days
                evidence = f"{kind} on {short_date(when)}, {age} days before the date of service"
                met = "Yes" if age >= 0 and (max_age is None or age <= max_age) else "No"
            elif when:
                evidence = f"{kind} on {short_date(when)}"
            else:
                evidence = "See the enclosed imaging report"
        elif req.key == "prior_auth":
            number_ = text(claim.get("Prior Auth Number")) if claim is not None else ""
            evidence, met = (f"Authorization {number_}", "Yes") if number_ else ("No number on the claim line", "No")
        elif req.key == "laterality":
            sides = [m for m in mods if m in _SIDE]
            if sides:
                evidence, met = "Modifier " + ", ".join(f"{m} ({_SIDE[m]})" for m in sides), "Yes"
            else:
                evidence, met = "No RT, LT or 50 modifier on the line", "No"
        elif req.key == "units":
            units = number(src.get("Units")) if "Units" in src.index else None
            units = units if units is not None else 1.0
            evidence = f"{plain_number(units)} unit{'s' if units != 1 else ''}"
            most = number(rule.get("Max Units"))
            met = "Yes" if most is None or units <= most else "No"
        out.append({"name": req.name, "required": req.required, "evidence": evidence, "met": met})
    return out


# A Rules row whose Policy cites the practice's own criteria (no LCD, NCD or payer policy behind it).
_PRACTICE_CRITERIA = re.compile(r"\bpractice(?:'s)? (?:own )?(?:criteria|standard|guideline)", re.I)


def is_practice_criteria(policy_ref: str) -> bool:
    """The rule's Policy names the practice's own criteria: never present them as the payer's policy."""
    return bool(_PRACTICE_CRITERIA.search(policy_ref or ""))


def policy_heading(policy_ref: str) -> str:
    """The heading over the criteria table of a letter."""
    if is_practice_criteria(policy_ref):
        return "Our practice's criteria, criterion by criterion"
    return "The payer's policy, criterion by criterion"


def policy_named(payer_name: str, policy_ref: str) -> str:
    """How a letter names the policy behind the criteria ("Medicare's policy LCD L39240 …", or the
    practice's own criteria, which a letter never passes off as the payer's)."""
    if is_practice_criteria(policy_ref):
        return f"our practice's documentation criteria ({policy_ref}; not a published {payer_name} policy)"
    return f"{payer_name}'s policy {policy_ref}"


def clinical_argument(rule, claim, denial, codesets, policy_ref: str, payer_name: str) -> list[str]:
    """The clinical case in SOAP order: history and diagnosis, therapy, imaging, documentation."""
    from ..codesets.icd10cm import format_dx

    src = claim if claim is not None else denial
    codes = split_codes(src.get("Dx Codes"))
    cpt = text(src.get("CPT/HCPCS"))
    paras = []
    sup = supporting_dx(codes, rule)
    if codes:
        dx_list = "; ".join(describe_dx(c, codesets) for c in codes)
        sentence = f"The patient was treated for {dx_list}."
        if sup:
            sentence += (f" The supporting diagnosis, {format_dx(sup)}, is listed in "
                         f"{policy_named(payer_name, policy_ref)} as supporting {cpt}.")
        paras.append(sentence)
    if claim is not None:
        weeks, notes = number(claim.get("Therapy Weeks")), text(claim.get("Therapy Notes"))
        need = number(rule.get("Min Therapy Weeks"))
        if weeks is not None:
            what = f" ({notes})" if notes else ""
            who = "our criteria require" if is_practice_criteria(policy_ref) else "the policy requires"
            req = f"; {who} {plain_number(need)} weeks" if need else ""
            paras.append(f"Before the procedure the patient completed {plain_number(weeks)} weeks of conservative "
                         f"therapy{what} without adequate relief{req}.")
        elif need:
            paras.append("The conservative therapy the patient tried before the procedure, with its dates, is "
                         "documented in the enclosed records.")
        when, kind = as_date(claim.get("Imaging Date")), text(claim.get("Imaging Type")) or "Imaging"
        dos = as_date(claim.get("Date of Service"))
        if when:
            age = f" ({(dos - when).days} days before the date of service)" if dos else ""
            paras.append(f"{kind} performed on {short_date(when)}{age} confirms the diagnosis; the report is "
                         "enclosed.")
        elif yes(rule.get("Imaging Required")):
            paras.append("The imaging that confirms the diagnosis is documented in the enclosed report.")
    doc = ("The enclosed office note for the date of service records the history, examination findings, "
           "assessment and plan that establish the medical necessity of the procedure")
    extras = []
    if claim is not None and text(claim.get("Prior Auth Number")):
        extras.append(f"it was authorized in advance under number {text(claim.get('Prior Auth Number'))}")
    sides = [_SIDE[m] for m in split_modifiers(src.get("Modifiers")) if m in _SIDE]
    if sides:
        extras.append(f"the side treated ({', '.join(sides)}) is the side of the diagnosis")
    paras.append(doc + ("; " + "; ".join(extras) if extras else "") + ".")
    return paras


def appeal_deadline(denial, payer, medicare: bool, level2: bool) -> tuple[dt.date | None, int | None]:
    window = number(payer.get("Appeal Window Days"))
    if level2:
        decided = as_date(denial.get("Resolved Date"))
        days = MEDICARE_RECONSIDERATION_DAYS if medicare else (int(window) if window else None)
        receipt = MEDICARE_RECEIPT_DAYS if medicare else 0
        return (decided + dt.timedelta(days=days + receipt) if decided and days else None), days
    days = int(window) if window else (MEDICARE_REDETERMINATION_DAYS if medicare else None)
    given = as_date(denial.get("Appeal Deadline"))
    if given:
        return given, days
    denied = as_date(denial.get("Denial Date"))
    receipt = MEDICARE_RECEIPT_DAYS if medicare else 0  # Medicare counts from receipt: notice date + 5 days
    return (denied + dt.timedelta(days=days + receipt) if denied and days else None), days


def quoted_meaning(text: str) -> str:
    """A code table's sentence, to quote inside ours ("… reason code 50: the payer does …")."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def appeal_level(denial, payer, payer_name: str, medicare: bool, level2: bool, days) -> tuple[str, str, str]:
    """Title, level sentence and the review asked for, by appeal level and payer type."""
    denial_date = long_date(denial.get("Denial Date")) or NOT_ON_FILE
    if medicare and not level2:
        return ("Request for Redetermination (first-level Medicare appeal)",
                (f"This is a request for redetermination, the first level of the Medicare appeals process, "
                 f"filed within {days} days of receipt of the initial determination (remittance dated {denial_date}; "
                 f"receipt is presumed {MEDICARE_RECEIPT_DAYS} days after it)."),
                "a redetermination")
    if medicare:
        return ("Request for Reconsideration by the Qualified Independent Contractor (second-level Medicare appeal)",
                (f"This is a request for reconsideration, the second level of the Medicare appeals process, "
                 f"filed within {MEDICARE_RECONSIDERATION_DAYS} days of the redetermination decision dated "
                 f"{long_date(denial.get('Resolved Date')) or NOT_ON_FILE}, which upheld the denial."),
                "a reconsideration")
    if level2:
        return ("Second-level appeal",
                (f"This is a second-level appeal under {payer_name}'s provider appeal process, following the "
                 f"decision of {long_date(denial.get('Resolved Date')) or NOT_ON_FILE} upholding the denial."),
                "a second-level review")
    window = f"the plan's {days}-day appeal window" if days else "the plan's appeal window"
    return ("First-level appeal (request for reconsideration)",
            (f"This is a first-level appeal under {payer_name}'s provider appeal process, filed within "
             f"{window} from the denial dated {denial_date}."),
            "a reconsideration")


def deadline_text(deadline, today, what: str = "appeal") -> str:
    if deadline and deadline < today:
        return (f"The {what} period ended on {long_date(deadline)}. We ask that you accept this {what} "
                "for good cause: [state the reason for the late filing here].")
    if deadline:
        return f"The deadline for this {what} is {long_date(deadline)}; it is filed on {long_date(today)}."
    return f"Please accept this {what} within the plan's {what} window (no deadline is on file)."


def mods_text(mods: list[str]) -> str:
    return ", ".join(f"{m} ({_MODIFIER_MEANING[m]})" if m in _MODIFIER_MEANING else m for m in mods)


def line_label(row: pd.Series) -> str:
    mods = split_modifiers(row.get("Modifiers"))
    return (f"line {int(number(row.get('Line')) or 1)} of claim {text(row.get('Claim ID'))} "
            f"({text(row.get('CPT/HCPCS'))}" + (f", modifier{'s' if len(mods) > 1 else ''} {', '.join(mods)}"
                                                  if mods else "") + ")")


def corrections_for(denial, claim, codesets, code_tables, carc: str, rarcs: list[str]) -> list[str]:
    """What the corrected line changes: modifiers and diagnoses as denied (the Denials row) set
    against the line as it now stands in Claims, and the documentation a remark code asked for."""
    out = []
    if claim is not None:
        before_m, now_m = split_modifiers(denial.get("Modifiers")), split_modifiers(claim.get("Modifiers"))
        added = [m for m in now_m if m not in before_m]
        removed = [m for m in before_m if m not in now_m]
        if added:
            out.append(f"Modifier{'s' if len(added) > 1 else ''} added: {mods_text(added)}")
        if removed:
            out.append(f"Modifier{'s' if len(removed) > 1 else ''} removed: {', '.join(removed)}")
        before_d, now_d = split_codes(denial.get("Dx Codes")), split_codes(claim.get("Dx Codes"))
        if before_d:
            norm = {c.replace(".", "").upper() for c in before_d}
            now_norm = {c.replace(".", "").upper() for c in now_d}
            added_d = [c for c in now_d if c.replace(".", "").upper() not in norm]
            removed_d = [c for c in before_d if c.replace(".", "").upper() not in now_norm]
            out += [f"Diagnosis added: {describe_dx(c, codesets)}" for c in added_d]
            out += [f"Diagnosis removed: {c}" for c in removed_d]
    if carc in ("251", "252"):
        out.append("The attachment the remittance asked for is enclosed")
    for r in rarcs:
        meaning = code_tables.rarc.get(r.upper(), "")
        if meaning and re.search(r"missing|incomplete|invalid|documentation|record|attachment", meaning,
                                   re.IGNORECASE):
            out.append(f"Remark code {r} ({quoted_meaning(meaning)}): the corrected information is on the claim or "
                       "in the enclosed records")
    if not out:
        out.append("[describe the correction made to the line here]")
    if claim is not None:
        mods = split_modifiers(claim.get("Modifiers"))
        out.append("The corrected line as billed now: " + text(claim.get("CPT/HCPCS"))
                   + (f", modifier{'s' if len(mods) > 1 else ''} {', '.join(mods)}" if mods else ", no modifier")
                   + "; diagnoses " + (", ".join(split_codes(claim.get("Dx Codes"))) or NOT_ON_FILE))
    return out


