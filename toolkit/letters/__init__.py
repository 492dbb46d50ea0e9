"""Appeal letters and prior-authorization requests: their content, as the dict a Word template takes.

An appeal that wins identifies the claim, quotes the denial, sets the clinical evidence against
the payer's policy criterion by criterion, asks for a specific action, lists the enclosures and
is filed before the deadline (see the domain notes).  Each kind of letter (``LetterKind``) has its
own builder in ``builders.py``, registered in ``LETTERS``; ``build_appeal`` works out the facts
every kind shares (``AppealCase``), calls the builder, and lays its ``LetterDraft`` into the names
the template uses (the same names for every kind, so a practice's older template still renders).

A letter never claims what the data does not show: a builder raises ``NoLetter`` when no letter
should go (a coding denial whose line is still wrong, Medicare timely filing, a patient liable under
a signed ABN); ``needs_input`` lists what the biller must still fill in ("[…]" and "[not on file]")
and ``LetterDraft.warnings`` the criteria the claim does not meet.
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
    money,
    number,
    plain_number,
    short_date,
    split_codes,
    split_modifiers,
    text,
    yes,
)
from ..rules import is_medicare
from . import builders as _builders  # noqa: F401  (registers every kind in LETTERS)
from .case import KIND_OF_CATEGORY, LETTERS, POLICY_KINDS, AppealCase, LetterDraft, LetterKind, NoLetter, denial_kind
from .evidence import (
    GROUP_MEANING,
    appeal_deadline,
    appeal_level,
    clinical_argument,
    criteria,
    deadline_text,
    is_practice_criteria,
    patient_block,
    policy_heading,
    procedure_text,
    quoted_meaning,
)

KINDS = tuple(k.value for k in LetterKind)
_PLACEHOLDER = re.compile(r"\[[^\]]{3,}\]")
# Context values the shipped templates do not print (a practice template may; it is then the
# practice's own business): a blank one there is nothing the biller must fill in.
_NOT_SHOWN = {"claim.submitted", "claim.provider", "claim.prior_auth", "denial.reason", "payer.type",
              "practice.npi", "practice.tax_id", "signer.title"}

__all__ = ["AppealCase", "KINDS", "KIND_OF_CATEGORY", "LETTERS", "LetterDraft", "LetterKind", "NoLetter",
           "POLICY_KINDS", "build_appeal", "build_prior_auth", "criteria", "denial_kind", "needs_input"]


def appeal_case(ctx: dict, denial: pd.Series, claim: pd.Series | None, rule: pd.Series | None, payer: pd.Series,
                codesets, today: dt.date, code_tables, kind: LetterKind, same_day: list | None) -> AppealCase:
    """The facts every kind of letter shares, worked out once."""
    src = claim if claim is not None else denial
    return AppealCase(
        kind=kind, denial=denial, claim=claim, rule=rule, payer=payer, payer_name=ctx["payer"]["name"],
        practice=ctx["practice"]["name"], medicare=is_medicare(payer.get("Payer Type")),
        level2=text(denial.get("Status")).casefold() == "upheld", today=today, codesets=codesets,
        code_tables=code_tables,
        cpt=text(src.get("CPT/HCPCS")) or text(denial.get("CPT/HCPCS")),
        dos=as_date(src.get("Date of Service")) or as_date(denial.get("Date of Service")),
        claim_id=text(denial.get("Claim ID")), line=int(number(denial.get("Line")) or 1),
        codes=split_codes(src.get("Dx Codes")) or split_codes(denial.get("Dx Codes")),
        mods=split_modifiers(src.get("Modifiers")),
        units=number(src.get("Units")) if claim is not None else None,
        policy_ref=text(rule.get("Policy")) if rule is not None else "",
        group=text(denial.get("Group Code")).upper(), carc=text(denial.get("CARC")),
        rarcs=split_codes(denial.get("RARC")), reason=text(denial.get("Reason")),
        denied=money(denial.get("Denied Amount")),
        pa_number=text(claim.get("Prior Auth Number")) if claim is not None else "",
        patient=patient_block(claim, denial), same_day=list(same_day or []))


def _quote(case: AppealCase) -> str:
    """The denial as the remittance gave it, with the practice's meaning of each code."""
    known = case.code_tables.carc.get(case.carc.upper())
    carc_meaning = quoted_meaning(known.reason) if known and known.reason else (case.reason or "see the remittance")
    denial = case.denial
    quote = (f"Your remittance dated {long_date(denial.get('Denial Date')) or NOT_ON_FILE} denied this line"
             + (f" ({case.denied})" if case.denied else "")
             + (f" with group code {case.group} ({GROUP_MEANING.get(case.group, 'adjustment group')})"
                if case.group else "")
             + (f", claim adjustment reason code {case.carc}: {carc_meaning}" if case.carc
                else f": {case.reason or NOT_ON_FILE}"))
    if case.rarcs:
        quote += "; remark code" + ("s " if len(case.rarcs) > 1 else " ") + "; ".join(
            f"{r}: {quoted_meaning(case.code_tables.rarc.get(r.upper(), '')) or 'see the remittance'}"
            for r in case.rarcs)
    return quote


def build_appeal(ctx: dict, denial: pd.Series, claim: pd.Series | None, rule: pd.Series | None, payer: pd.Series,
                 codesets, today: dt.date, code_tables, *, kind: str | LetterKind | None = None,
                 same_day: list | None = None) -> dict:
    """Fill ``ctx`` (practice, signer, payer already in) with the letter's content (raises
    ``NoLetter`` when no letter should be written)."""
    kind = LetterKind(kind) if kind else denial_kind(denial, code_tables)
    case = appeal_case(ctx, denial, claim, rule, payer, codesets, today, code_tables, kind, same_day)
    draft = LETTERS[kind](case)
    deadline, days = appeal_deadline(denial, payer, case.medicare, case.level2)
    title, level_text, _ = appeal_level(denial, payer, case.payer_name, case.medicare, case.level2, days)
    if draft.deadline is not None or draft.deadline_text is not None:
        deadline = draft.deadline
    enclosures = [f"Remittance advice dated {short_date(denial.get('Denial Date')) or NOT_ON_FILE} showing the denial",
                  draft.claim_enclosure or f"Claim {case.claim_id} (CMS-1500), line {case.line}", *draft.enclosures]
    ctx.update({
        "kind": kind.value,
        "letter_date": long_date(today),
        "patient": case.patient,
        "claim": {
            "id": case.claim_id, "line": str(case.line), "dos": short_date(case.dos) or NOT_ON_FILE,
            "procedure": procedure_text(case.cpt, case.mods, rule),
            "units": plain_number(case.units) if case.units is not None else "1",
            "billed": money(denial.get("Billed Amount")) or NOT_ON_FILE,
            "diagnoses": "\n".join(describe_dx(c, codesets) for c in case.codes) or NOT_ON_FILE,
            "provider": (text(claim.get("Rendering Provider")) if claim is not None else "") or NOT_ON_FILE,
            "submitted": (short_date(claim.get("Submitted Date")) if claim is not None else "") or NOT_ON_FILE,
            "prior_auth": case.pa_number,
        },
        "denial": {
            "id": text(denial.get("Denial ID")), "date": short_date(denial.get("Denial Date")) or NOT_ON_FILE,
            "group": case.group, "carc": case.carc, "rarc": ", ".join(case.rarcs), "reason": case.reason,
            "quote": _quote(case) + draft.quote_suffix, "denied_amount": case.denied,
        },
        "appeal": {
            "kind": kind.value, "document": draft.document, "title": (draft.title or title) + draft.title_suffix,
            "salutation": draft.salutation or ("Dear Redetermination Reviewer:" if case.medicare
                                               else "Dear Appeals Reviewer:"),
            "opening": draft.opening, "requested_action": draft.requested,
            "level_text": draft.level_text or level_text,
            "deadline_text": draft.deadline_text or deadline_text(deadline, today),
            "deadline": short_date(deadline), "level": 2 if case.level2 else 1,
            "contact_text": (f"Please direct any questions about this "
                             f"{'appeal' if kind != LetterKind.CORRECTION else 'request'} to {ctx['signer']['name']} "
                             f"at {ctx['practice']['phone']}."),
        },
        "argument": draft.argument,
        "corrections": draft.corrections,
        "policy": {"reference": case.policy_ref, "sentence": draft.policy_sentence,
                   "heading": policy_heading(case.policy_ref)},
        "criteria": draft.criteria,
        "enclosures": enclosures,
        "warnings": draft.warnings,
    })
    return ctx


def needs_input(ctx: dict) -> list[str]:
    """What the biller must still fill in before the letter can go: each "[…]" placeholder and
    each "[not on file]" the letter shows (named by where it is, never by patient data)."""
    found: list[str] = []

    def walk(value, where: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item, where)
        elif isinstance(value, str):
            if NOT_ON_FILE in value:
                found.append(f"{where} not on file")
            for m in _PLACEHOLDER.finditer(value.replace(NOT_ON_FILE, "")):
                found.append(m.group(0)[:60] + ("…]" if len(m.group(0)) > 60 else ""))

    walk({k: v for k, v in ctx.items() if k not in ("warnings",)}, "")
    return [f for f in dict.fromkeys(found) if f.removesuffix(" not on file") not in _NOT_SHOWN]


def build_prior_auth(ctx: dict, claim: pd.Series, rule: pd.Series, payer: pd.Series, codesets,
                     today: dt.date) -> dict:
    """Fill ``ctx`` with a prior-authorization request for one claim line: a retro-authorization
    request when the service has already been performed (its date of service is not in the future)."""
    payer_name = ctx["payer"]["name"]
    cpt = text(claim.get("CPT/HCPCS"))
    dos = as_date(claim.get("Date of Service"))
    retro = dos is not None and dos <= today
    codes = split_codes(claim.get("Dx Codes"))
    units = number(claim.get("Units"))
    policy_ref = text(rule.get("Policy"))
    rows = criteria(rule, claim, None, codesets)
    for r in rows:
        if r["name"] == "Prior authorization":
            r["evidence"], r["met"] = "Requested by this letter", "Pending"
    enclosures = ["Office note documenting the history, examination, assessment and plan"]
    if number(claim.get("Therapy Weeks")) is not None or number(rule.get("Min Therapy Weeks")):
        enclosures.append("Conservative therapy records")
    if as_date(claim.get("Imaging Date")) or yes(rule.get("Imaging Required")):
        enclosures.append((text(claim.get("Imaging Type")) or "Imaging") + " report"
                          + (f" dated {short_date(claim.get('Imaging Date'))}" if as_date(claim.get("Imaging Date"))
                             else ""))
    argument = clinical_argument(rule, claim, None, codesets, policy_ref, payer_name)
    argument[-1] = ("The enclosed office note records the history, examination findings, assessment and plan that "
                    "establish the medical necessity of the procedure.")
    # The payer requires the authorization; its published policy is named, the practice's own criteria never are.
    requirer = payer_name if is_practice_criteria(policy_ref) else f"{payer_name}'s policy {policy_ref}"
    if retro:
        argument.insert(0, "The service was performed before authorization could be obtained because [state why, "
                           "e.g. the patient's condition was urgent]; the criteria below were met on that date.")
        opening = (f"{ctx['practice']['name']} requests retroactive authorization for the service below, performed "
                   f"on {long_date(dos)}. {requirer} requires authorization for {cpt}; the "
                   "clinical information and the policy criteria follow.")
    else:
        opening = (f"{ctx['practice']['name']} requests prior authorization for the service below. {requirer} "
                   f"requires authorization before {cpt} is performed; the clinical information "
                   "and the policy criteria follow.")
    ctx.update({
        "letter_date": long_date(today),
        "patient": patient_block(claim, None),
        "claim": {
            "id": text(claim.get("Claim ID")), "line": str(int(number(claim.get("Line")) or 1)),
            "dos": short_date(dos) or NOT_ON_FILE,
            "procedure": procedure_text(cpt, split_modifiers(claim.get("Modifiers")), rule),
            "units": plain_number(units) if units is not None else "1",
            "diagnoses": "\n".join(describe_dx(c, codesets) for c in codes) or NOT_ON_FILE,
            "provider": text(claim.get("Rendering Provider")) or NOT_ON_FILE,
        },
        "request": {
            "title": "Request for retroactive authorization" if retro else "Request for prior authorization",
            "date_label": "Date performed" if retro else "Planned date",
            "retro": retro,
            "opening": opening,
            "contact_text": (f"Please send the authorization decision to {ctx['signer']['name']} at "
                             f"{ctx['practice']['phone']}."),
        },
        "argument": argument,
        "policy": {"reference": policy_ref, "heading": policy_heading(policy_ref),
                   "sentence": (f"Our practice's documentation criteria for {cpt} ({policy_ref}; not a published "
                                f"{payer_name} policy):" if is_practice_criteria(policy_ref) else
                                f"{payer_name} policy {policy_ref} sets these criteria for {cpt}:")},
        "criteria": rows,
        "enclosures": enclosures,
    })
    return ctx
