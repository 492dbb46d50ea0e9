"""One builder per kind of letter (registered in ``toolkit.letters.case.LETTERS``).

Each builder reads an ``AppealCase`` and returns a ``LetterDraft``: what this kind argues, asks
for and encloses.  A builder that finds the letter would claim what the data does not show raises
``NoLetter`` with one line saying what is true and what to do (a coding denial whose line is
still wrong, Medicare timely filing, a patient liable under a signed ABN).
"""

from __future__ import annotations

import datetime as dt

from ..checklists import (
    NOT_ON_FILE,
    as_date,
    describe_dx,
    long_date,
    number,
    plain_number,
    short_date,
    split_codes,
    split_modifiers,
    text,
    yes,
)
from .case import AppealCase, LetterDraft, LetterKind, NoLetter, letter
from .evidence import (
    MEDICARE_FILING_DAYS,
    MEDICARE_REOPENING_DAYS,
    NCCI_MODIFIERS,
    clinical_argument,
    corrections_for,
    criteria,
    deadline_text,
    is_practice_criteria,
    line_label,
    mods_text,
    policy_named,
    supporting_dx,
)


def _asks(case: AppealCase) -> str:
    from .evidence import appeal_deadline, appeal_level

    _, days = appeal_deadline(case.denial, case.payer, case.medicare, case.level2)
    return appeal_level(case.denial, case.payer, case.payer_name, case.medicare, case.level2, days)[2]


def _criteria_warnings(rows: list[dict]) -> list[str]:
    return [f"{r['name']}: {r['evidence']}" for r in rows if r["met"] == "No"]


# ---------------------------------------------------------------- policy letters

def _policy_draft(case: AppealCase) -> LetterDraft:
    """Necessity and authorization: the claim against the policy, criterion by criterion."""
    rule, claim = case.rule, case.claim
    assert rule is not None
    rows = criteria(rule, claim, case.denial, case.codesets)
    all_met = all(r["met"] == "Yes" for r in rows)
    enclosures = [case.office_note]
    weeks = number(claim.get("Therapy Weeks")) if claim is not None else None
    if weeks is not None or number(rule.get("Min Therapy Weeks")):
        enclosures.append("Conservative therapy records" + (f" ({plain_number(weeks)} weeks)" if weeks else ""))
    img = as_date(claim.get("Imaging Date")) if claim is not None else None
    if img or yes(rule.get("Imaging Required")):
        kind_img = (text(claim.get("Imaging Type")) if claim is not None else "") or "Imaging"
        enclosures.append(f"{kind_img} report" + (f" dated {short_date(img)}" if img else ""))
    return LetterDraft(
        quote_suffix=(". We disagree: the service met each of the policy's criteria, as shown below." if all_met
                      else ". We disagree, for the reasons below."),
        opening=(f"On behalf of our patient, {case.practice} requests {_asks(case)} of the denial of the service "
                 f"below. The service was medically necessary under {policy_named(case.payer_name, case.policy_ref)}, "
                 + ("and the enclosed records show that each of its criteria was met." if all_met else
                    "as the enclosed records document.")),
        argument=clinical_argument(rule, claim, case.denial, case.codesets, case.policy_ref, case.payer_name),
        requested=(f"Please reverse the denial and reprocess line {case.line} of claim {case.claim_id} ({case.cpt}, "
                   f"date of service {short_date(case.dos) or NOT_ON_FILE}){case.for_payment}"
                   + (" as medically necessary." if is_practice_criteria(case.policy_ref) else
                      " under the payer's policy.")),
        enclosures=enclosures, criteria=rows, warnings=_criteria_warnings(rows),
        policy_sentence=(_criteria_source(case) + f" {_sets(case)} the criteria below for {case.cpt}"
                         + ("; the claim meets each one as shown." if all_met else
                            ", set against what the claim and the enclosed records show.")) if rows else "")


def _sets(case: AppealCase) -> str:
    return "set" if is_practice_criteria(case.policy_ref) else "sets"  # "criteria set" / "policy sets"


def _criteria_source(case: AppealCase) -> str:
    """The subject of the criteria sentence: the payer's policy, or the practice's own criteria."""
    if is_practice_criteria(case.policy_ref):
        return (f"Our practice's documentation criteria ({case.policy_ref}; {case.payer_name} publishes no "
                "coverage policy for this service)")
    return f"{case.payer_name} policy {case.policy_ref} (in force on the date of service)"


def _policy_tail(case: AppealCase, draft: LetterDraft) -> LetterDraft:
    if case.pa_number:
        draft.enclosures.append(f"Prior authorization approval {case.pa_number}")
    if case.medicare and case.claim is not None and yes(case.claim.get("ABN on File")):
        draft.enclosures.append("Signed Advance Beneficiary Notice (CMS-R-131)")
    if not is_practice_criteria(case.policy_ref):  # the practice's own criteria are no payer document
        draft.enclosures.append(f"{case.payer_name} policy {case.policy_ref}: coverage criteria")
    return draft


def _refuse_abn_liability(case: AppealCase) -> None:
    """PR-50 on a line billed with GA and a signed ABN: the patient agreed to pay; no appeal."""
    abn = case.claim is not None and yes(case.claim.get("ABN on File"))
    if case.group == "PR" and "GA" in case.mods and abn:
        raise NoLetter(f"denial {text(case.denial.get('Denial ID'))}: no appeal letter: the line was billed with "
                       "modifier GA and the patient signed an ABN, so the patient is liable for the denied "
                       f"amount{(' (' + case.denied + ')') if case.denied else ''}; bill the patient, and appeal only "
                       "if the patient asks you to (set Status to Written Off or Paid when settled)")


@letter(LetterKind.NECESSITY)
def necessity(case: AppealCase) -> LetterDraft:
    _refuse_abn_liability(case)
    return _policy_tail(case, _policy_draft(case))


@letter(LetterKind.AUTHORIZATION)
def authorization(case: AppealCase) -> LetterDraft:
    draft = _policy_draft(case)
    pa, line, claim_id = case.pa_number, case.line, case.claim_id
    if pa and case.carc == "198":
        draft.title_suffix = f": authorization {pa} to be extended"
        draft.argument.insert(0, f"The service was authorized under number {pa}; the patient's condition required "
                                 "more services than the authorization allowed, as the enclosed records document.")
        draft.requested = (f"Please extend authorization number {pa} to cover this service and reprocess line {line} "
                           f"of claim {claim_id}{case.for_payment.replace(' the denied amount of', '')}.")
    elif pa:
        draft.title_suffix = f": authorization {pa} on file"
        draft.argument.insert(0, f"The service was authorized before it was performed, under number {pa}; the "
                                 "approval is enclosed.")
        draft.requested = (f"Please recognise authorization number {pa}, obtained before the service, and reprocess "
                           f"line {line} of claim {claim_id}"
                           + (f" for payment of {case.denied}" if case.denied else " for payment") + ".")
    else:
        draft.title_suffix = ": request for retroactive authorization"
        draft.argument.insert(0, "No authorization could be obtained before the service because [state why, e.g. "
                                 "the patient's condition was urgent and the procedure could not be delayed]. The "
                                 "service met the policy's criteria on the date it was performed, as shown below.")
        draft.requested = (f"Please grant a retroactive authorization for {case.cpt} on "
                           f"{short_date(case.dos) or NOT_ON_FILE}, apply it to line {line} of claim {claim_id}, "
                           f"and reprocess the line{case.for_payment}.")
        draft.enclosures.append("Record of the urgent circumstances that prevented authorization in advance")
    return _policy_tail(case, draft)


# ---------------------------------------------------------------- timely filing

@letter(LetterKind.TIMELY_FILING)
def timely_filing(case: AppealCase) -> LetterDraft:
    """Proof of timely filing.  Original Medicare gives no appeal rights on CO-29: no letter."""
    claim, dos = case.claim, case.dos
    if case.medicare and case.carc == "29":
        raise NoLetter(f"denial {text(case.denial.get('Denial ID'))}: no letter: a Medicare timely-filing denial "
                       "(CO-29) has no appeal rights. If the claim was late because of a Medicare administrative "
                       "error or the patient's retroactive entitlement, ask the MAC for an exception with that proof; "
                       "if it was in fact filed on time, send the MAC the clearinghouse acceptance report; otherwise "
                       "write it off (the patient may not be billed)")
    submitted = as_date(claim.get("Submitted Date")) if claim is not None else None
    limit = number(case.payer.get("Timely Filing Days")) or (MEDICARE_FILING_DAYS if case.medicare else None)
    limit = int(limit) if limit else None
    last_day = dos + dt.timedelta(days=limit) if dos and limit else None
    on_time = bool(submitted and dos and last_day and submitted <= last_day)
    limit_text = (f"{case.payer_name}'s filing limit of {limit} days from the date of service"
                  + (f", which ended on {long_date(last_day)}" if last_day else "")) if limit else \
        f"{case.payer_name}'s filing limit (not on file)"
    argument = []
    if submitted and dos:
        gap = (submitted - dos).days
        argument.append(f"The claim was first submitted on {long_date(submitted)}, {gap} days after the date of "
                        f"service ({long_date(dos)}), " + ("within " if on_time else "after ") + limit_text + ".")
    else:
        argument.append(f"The claim was first submitted on [enter the date the clearinghouse accepted the claim], "
                        f"within {limit_text}.")
    if on_time or not submitted:
        argument.append(f"The enclosed clearinghouse acceptance report shows the date the claim was accepted for "
                        f"delivery to {case.payer_name}.")
    else:
        argument.append("The claim could not be filed sooner because [state why, e.g. the patient gave other "
                        "insurance at the visit, and enclose the proof].")
    return LetterDraft(
        title_suffix=": proof of timely filing",
        quote_suffix=(". We disagree: the claim was filed within the time limit, as shown below."
                      if on_time or not submitted else ". We ask you to reconsider, for the reason below."),
        opening=(f"On behalf of our patient, {case.practice} requests {_asks(case)} of the denial of the service "
                 "below for late filing. " + ("The claim reached the payer within its filing limit, as the enclosed "
                                              "proof shows." if on_time or not submitted else
                                              "The reason the claim could not be filed sooner is set out below.")),
        argument=argument,
        requested=(f"Please accept the enclosed proof of timely filing, reverse the timely-filing denial and "
                   f"reprocess {case.the_line}{case.for_payment}."),
        enclosures=["Clearinghouse acceptance report" + (f" dated {short_date(submitted)}" if submitted else "")
                    + " (proof of timely filing)",
                    "Proof of the original submission (the payer's acknowledgement or claim status response)"])


# ---------------------------------------------------------------- correction (reopening / corrected claim)

# Denials fixed by changing the line's codes or modifiers: an unchanged line is not corrected.
_CODE_ROOTS = {"DX_INVALID", "DX_NOT_BILLABLE", "CPT_INVALID", "MODIFIER_INVALID", "MODIFIER_CONFLICT",
               "LATERALITY_MISSING", "LATERALITY_CONFLICT"}
_CODE_CARCS = {"4", "11", "146", "181", "182"}


def still_wrong(case: AppealCase) -> str:
    """What is still wrong with the Claims line as it stands now, "" when it passes the check
    that caused the denial.  A corrected-claim letter must not say "corrected" otherwise."""
    claim = case.claim
    if claim is None:
        return "the claim line is no longer in Claims, so the correction cannot be shown"
    cs = case.codesets.for_date(case.dos) if hasattr(case.codesets, "for_date") else None
    bad = []
    if cs is not None:
        for code in split_codes(claim.get("Dx Codes")):
            info = cs.get(code)
            if info is None:
                bad.append(f"diagnosis {code} is not an ICD-10-CM code on the date of service")
            elif not info.billable:
                bad.append(f"diagnosis {code} is not billable (it needs more characters)")
    root = text(case.denial.get("Root Cause")).upper()
    findings = set(split_codes(claim.get("Finding Codes")))
    if root and root in findings:
        bad.append(f"Validate still reports {root} on the line")
    if bad:
        return "; ".join(bad)
    before_m, now_m = split_modifiers(case.denial.get("Modifiers")), split_modifiers(claim.get("Modifiers"))
    before_d = {c.replace(".", "").upper() for c in split_codes(case.denial.get("Dx Codes"))}
    now_d = {c.replace(".", "").upper() for c in split_codes(claim.get("Dx Codes"))}
    coding = root in _CODE_ROOTS or case.carc in _CODE_CARCS
    if coding and before_d and set(before_m) == set(now_m) and before_d == now_d:
        return "the line has not been changed since the denial (same diagnoses and modifiers)"
    return ""


@letter(LetterKind.CORRECTION)
def correction(case: AppealCase) -> LetterDraft:
    """Reopening (Medicare clerical error), resubmission (MA130) or corrected claim (others)."""
    problem = still_wrong(case)
    if problem:
        raise NoLetter(f"denial {text(case.denial.get('Denial ID'))}: no corrected-claim letter yet: {problem}; "
                       "correct the Claims line, run Validate, then write the letter")
    denial, payer = case.denial, case.payer
    unprocessable = "MA130" in [r.upper() for r in case.rarcs]
    draft = LetterDraft(
        opening="", requested="", salutation="Dear Claims Reviewer:",
        quote_suffix=". The line has been corrected as listed below.",
        corrections=corrections_for(denial, case.claim, case.codesets, case.code_tables, case.carc, case.rarcs),
        claim_enclosure=f"Corrected claim {case.claim_id} (CMS-1500), line {case.line}",
        enclosures=[case.office_note + ", supporting the corrected codes"])
    if case.medicare and unprocessable:
        limit = int(number(payer.get("Timely Filing Days")) or MEDICARE_FILING_DAYS)
        draft.deadline = case.dos + dt.timedelta(days=limit) if case.dos else None
        draft.document = "Corrected-claim cover letter for"
        draft.title = "Corrected claim: resubmission of a claim returned as unprocessable (remark code MA130)"
        draft.opening = (f"The claim below was returned as unprocessable. {case.practice} has corrected it and "
                         "resubmits it as a new claim; this is not an appeal.")
        draft.level_text = ("An unprocessable claim (remark code MA130) carries no appeal rights: it is corrected and "
                            "resubmitted as a new claim, not appealed.")
        draft.deadline_text = deadline_text(draft.deadline, case.today, "filing").replace("filing window",
                                                                                          "filing limit")
        draft.requested = f"Please process the enclosed corrected claim as a new claim for {case.the_line}."
    elif case.medicare:
        denied_on = as_date(denial.get("Denial Date"))
        draft.deadline = denied_on + dt.timedelta(days=MEDICARE_REOPENING_DAYS) if denied_on else None
        draft.document = "Reopening request for"
        draft.title = "Request for Reopening: correction of a clerical error (not an appeal)"
        draft.opening = (f"{case.practice} asks you to reopen the initial determination of the service below to "
                         "correct a clerical error. This is a request for a reopening, not a request for "
                         "redetermination.")
        draft.level_text = (f"Medicare corrects clerical errors through a reopening rather than an appeal. A reopening "
                            f"may be requested within one year of the initial determination (remittance dated "
                            f"{long_date(denial.get('Denial Date')) or NOT_ON_FILE}).")
        draft.deadline_text = deadline_text(draft.deadline, case.today, "reopening")
        draft.requested = (f"Please reopen the initial determination for {case.the_line}, apply the corrections "
                           f"listed above and reprocess the line{case.for_payment}.")
    else:
        draft.deadline = as_date(denial.get("Appeal Deadline"))
        draft.document = "Corrected-claim cover letter for"
        draft.title = "Corrected claim (replacement of the original claim, frequency code 7)"
        draft.opening = (f"{case.practice} submits a corrected claim for the service below; it replaces the original "
                         "claim. This is a corrected claim, not an appeal.")
        draft.level_text = (f"The enclosed claim is a replacement of claim {case.claim_id} (claim frequency code 7) "
                            f"under {case.payer_name}'s corrected-claim process.")
        draft.deadline_text = (f"Please process it by {long_date(draft.deadline)}." if draft.deadline else
                               "Please process it under the plan's corrected-claim rules (no deadline is on file).")
        draft.requested = (f"Please process the enclosed corrected claim, which replaces claim {case.claim_id}, and "
                           f"reprocess line {case.line}{case.for_payment}.")
    return draft


# ---------------------------------------------------------------- short letters

@letter(LetterKind.DUPLICATE)
def duplicate(case: AppealCase) -> LetterDraft:
    same = [o for o in case.same_day if text(o.get("CPT/HCPCS")) == case.cpt]
    argument = []
    if same:
        others = "; ".join(line_label(o) for o in same)
        argument.append(f"On {long_date(case.dos) or NOT_ON_FILE} the patient also had {others}. This line, "
                        f"{line_label(case.src)}, is a separate service, not a second bill for the same one.")
        own, theirs = set(case.mods), {m for o in same for m in split_modifiers(o.get("Modifiers"))}
        if own != theirs and own:
            argument.append(f"Its modifier{'s' if len(case.mods) > 1 else ''} {mods_text(case.mods)} "
                            + ("distinguish" if len(case.mods) > 1 else "distinguishes") + " it from the other line.")
        else:
            argument.append("The two services differ as follows: [state the different site, session or time "
                            "documented in the note].")
    else:
        argument.append(f"Our records show one {case.cpt} billed for this patient on "
                        f"{long_date(case.dos) or NOT_ON_FILE}: line {case.line} of claim {case.claim_id}. It is not a "
                        "repeat of an earlier claim; if your records hold another claim for this service, please "
                        "send us its number so we can compare them.")
    return LetterDraft(
        title_suffix=": not a duplicate service",
        quote_suffix=". The line is not a duplicate: it is a separate service, as explained below.",
        opening=(f"On behalf of our patient, {case.practice} requests {_asks(case)} of the denial of the service "
                 "below as a duplicate. The line is a separate service, not a repeat of one already processed."),
        argument=argument,
        requested=f"Please reprocess {case.the_line} as a separate service, not a duplicate,{case.for_payment}.",
        enclosures=[case.office_note + ", documenting each service performed"])


@letter(LetterKind.ELIGIBILITY)
def eligibility(case: AppealCase) -> LetterDraft:
    why = {"26": "the service was before the patient's coverage began",
           "27": "the service was after the patient's coverage ended",
           "31": "the plan cannot identify the patient as its insured"}.get(
        case.carc, "the patient was not eligible on the date of service")
    p = case.patient
    return LetterDraft(
        title_suffix=": request to re-check coverage",
        quote_suffix=". We ask you to check the patient's coverage again with the details below.",
        opening=(f"On behalf of our patient, {case.practice} requests {_asks(case)} of the eligibility denial of the "
                 "service below and asks you to check the patient's coverage on the date of service again."),
        argument=[f"Your remittance says {why}. The patient's details, as on the member's card: member ID "
                  f"{p['member_id']}, name {p['name']}, date of birth {p['dob']}.",
                  f"Please check the coverage in force on the date of service, {long_date(case.dos) or NOT_ON_FILE}, "
                  "against these details; a copy of the card is enclosed."],
        requested=(f"Please re-check the patient's coverage on {short_date(case.dos) or NOT_ON_FILE} with member ID "
                   f"{p['member_id']} and reprocess line {case.line} of claim {case.claim_id}{case.for_payment}."),
        enclosures=["Copy of the patient's insurance card (front and back)",
                    "Eligibility verification for the date of service"])


@letter(LetterKind.NONCOVERED)
def noncovered(case: AppealCase) -> LetterDraft:
    if case.rule is not None and case.policy_ref and not is_practice_criteria(case.policy_ref):
        sup = supporting_dx(case.codes, case.rule)
        argument = [f"{case.payer_name}'s policy {case.policy_ref} covers {case.cpt}"
                    + (f" for {describe_dx(sup, case.codesets)}" if sup else "")
                    + " when its criteria are met; the enclosed records document them."]
    else:
        argument = [f"{case.cpt} is a covered benefit of the patient's plan for the diagnoses treated "
                    f"({', '.join(case.codes) or NOT_ON_FILE}): [cite the plan provision that covers it]."]
    enclosures = [case.office_note]
    if case.policy_ref and not is_practice_criteria(case.policy_ref):
        enclosures.append(f"{case.payer_name} policy {case.policy_ref}: coverage criteria")
    return LetterDraft(
        title_suffix=": coverage review",
        quote_suffix=". We ask you to review this decision, for the reasons below.",
        opening=(f"On behalf of our patient, {case.practice} requests {_asks(case)} of the decision that the service "
                 "below is not covered under the patient's plan."),
        argument=argument,
        requested=(f"Please review the coverage decision for {case.the_line} and reprocess the line"
                   f"{case.for_payment}; if the plan excludes the service, please send us the plan provision that "
                   "excludes it."),
        enclosures=enclosures)


@letter(LetterKind.BUNDLING)
def bundling(case: AppealCase) -> LetterDraft:
    others = [o for o in case.same_day if text(o.get("CPT/HCPCS")) != case.cpt]
    ncci = [m for m in case.mods if m in NCCI_MODIFIERS]
    other_text = "; ".join(line_label(o) for o in others)
    if ncci:
        first = (f"Line {case.line} carries modifier{'s' if len(ncci) > 1 else ''} {mods_text(ncci)}: {case.cpt} was "
                 "a distinct service" + (f" from {other_text}" if others else "") + ", as the enclosed note documents.")
    else:
        first = (f"{case.cpt} was a distinct service" + (f" from {other_text}" if others else "")
                 + ": [state the separate session, anatomic site or encounter documented in the note].")
    return LetterDraft(
        title_suffix=": distinct, separately payable service",
        quote_suffix=". The service is distinct from the other services billed that day, as explained below.",
        opening=(f"On behalf of our patient, {case.practice} requests {_asks(case)} of the denial of the service "
                 "below as bundled with another service on the same day. It was a distinct service, payable "
                 "separately."),
        argument=[first, "The National Correct Coding Initiative allows such a pair to be paid separately when the "
                         "services are distinct and the line carries the appropriate modifier."],
        requested=f"Please reprocess {case.the_line} as a distinct, separately payable service{case.for_payment}.",
        enclosures=[case.office_note + ", documenting the distinct service"])
