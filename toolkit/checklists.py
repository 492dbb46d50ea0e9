"""What a payer's rule asks for, in words a coder can tick and a provider can document.

One checklist per rule (payer × CPT/HCPCS) and one SOAP note template per procedure.  Both are
built from the Rules table as plain dicts (the context of a Word template); the letter
helpers here (letterhead, dates, diagnosis descriptions) are shared with ``toolkit.appeals``.

Procedure wording comes only from the Rules' own Description column: AMA CPT descriptors are
copyrighted and never shipped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import InputError
from .rules import is_medicare
from .values import as_date, is_blank, setting

NOT_ON_FILE = "[not on file]"


# ---------------------------------------------------------------- small formatters

blank = is_blank


def text(value) -> str:
    return "" if blank(value) else str(value).strip()




def short_date(value) -> str:
    d = as_date(value)
    return d.strftime("%m/%d/%Y") if d else ""


def long_date(value) -> str:
    d = as_date(value)
    return f"{d:%B} {d.day}, {d.year}" if d else ""


def number(value) -> float | None:
    if blank(value):
        return None
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(n) else n


def plain_number(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


def money(value) -> str:
    n = number(value)
    return f"${n:,.2f}" if n is not None else ""


def yes(value) -> bool:
    return (not blank(value)) and bool(value)


def split_codes(value) -> list[str]:
    return [c for c in re.split(r"[,;\s]+", text(value)) if c]


def split_modifiers(value) -> list[str]:
    return [m.upper() for m in re.split(r"[,;:\s]+", text(value)) if m]


def nobreak_phone(phone: str) -> str:
    """A phone number that never breaks across lines: "(217) 555-0142" with a no-break space and a
    non-breaking hyphen, so a letter never shows "(217) 555-" at a line end and "0142" below."""
    return str(phone).replace(" ", "\u00a0").replace("-", "\u2011")


def joined(parts, sep=" · ") -> str:
    return sep.join(p for p in parts if p)


# ---------------------------------------------------------------- practice (letterhead, signer)

def practice_context(settings: dict, *, letter: bool, where: str = "Settings") -> dict:
    """Letterhead and signer from Settings.  A letter needs the practice's name, address and a
    signer (a payer rejects an unsigned appeal); a checklist only needs the name."""
    name = setting(settings, "Practice Name")
    address = setting(settings, "Practice Address")
    signer = setting(settings, "Signer Name")
    needed = [("Practice Name", name)] + ([("Practice Address", address), ("Signer Name", signer)] if letter else [])
    missing = [k for k, v in needed if not v]
    if missing:
        raise InputError(f"Settings has no {' or '.join(repr(m) for m in missing)}: fill it in on the Settings "
                         "sheet, then run again", sheet=where)
    phone = nobreak_phone(setting(settings, "Practice Phone"))
    npi = setting(settings, "Practice NPI")
    tax = setting(settings, "Tax ID")
    address_lines = [ln.strip() for ln in re.split(r"[\r\n]+", address) if ln.strip()]
    return {
        "practice": {
            "name": name,
            "address_line": " · ".join(address_lines),
            "address_lines": address_lines,
            "phone": phone or NOT_ON_FILE,
            "npi": npi or NOT_ON_FILE,
            "tax_id": tax or NOT_ON_FILE,
            "contact_line": joined([f"Phone {phone}" if phone else "", f"NPI {npi}" if npi else "",
                                    f"Tax ID {tax}" if tax else ""]),
        },
        "signer": {"name": signer or NOT_ON_FILE, "title": setting(settings, "Signer Title")},
    }


# ---------------------------------------------------------------- diagnoses

def describe_dx(code: str, codesets) -> str:
    """``M48.062 — Spinal stenosis, lumbar region with neurogenic claudication``."""
    from .codesets.icd10cm import format_dx

    desc = codesets.describe(code) if codesets is not None else ""
    return f"{format_dx(code)} — {desc}" if desc else f"{format_dx(code)} — (not in the ICD-10-CM code set)"


def covered_entries(covered_dx: str, codesets) -> list[dict]:
    """The rule's Covered Dx, one row each, with its ICD-10-CM description.  An entry ending in
    ``*`` is a prefix: ``M48.06*`` shows as ``M48.06x`` "(any code under it)"."""
    from .codesets.icd10cm import format_dx, normalize_dx
    from .rules import CoveredDx

    rows = []
    for item in CoveredDx.parse(covered_dx).entries:  # "M17.1-", "M17.0 - M17.9" read as Validate reads them
        if item.endswith("*"):
            code = normalize_dx(item.rstrip("*"))
            desc = codesets.describe(code) if codesets is not None else ""
            rows.append({"code": format_dx(code) + "x",
                         "description": f"{desc or 'Codes starting ' + format_dx(code)} (any code under it)"})
        elif re.fullmatch(r"[A-Z0-9.]+-[A-Z0-9.]+", item):
            lo, hi = (normalize_dx(x) for x in item.split("-"))
            dl = codesets.describe(lo) if codesets is not None else ""
            dh = codesets.describe(hi) if codesets is not None else ""
            rows.append({"code": f"{format_dx(lo)}–{format_dx(hi)}",
                         "description": f"{dl or format_dx(lo)} … {dh or format_dx(hi)} (any code in the range)"})
        else:
            code = normalize_dx(item)
            desc = codesets.describe(code) if codesets is not None else ""
            rows.append({"code": format_dx(code), "description": desc or "(not in the ICD-10-CM code set)"})
    return rows


def covered_summary(covered_dx: str, limit: int = 6) -> str:
    from .codesets.icd10cm import format_dx, normalize_dx
    from .rules import CoveredDx

    shown = []
    for item in CoveredDx.parse(covered_dx).entries:  # as Validate reads them
        shown.append(format_dx(normalize_dx(item.rstrip("*"))) + ("x" if item.endswith("*") else "")
                     if "-" not in item else item)
    if not shown:
        return "Any diagnosis (the policy lists none)"
    more = f" and {len(shown) - limit} more (see the policy)" if len(shown) > limit else ""
    return "One of the listed diagnoses: " + ", ".join(shown[:limit]) + more


# ---------------------------------------------------------------- what a rule requires

@dataclass(frozen=True)
class Requirement:
    key: str  # diagnosis | therapy | imaging | prior_auth | laterality | units
    name: str
    required: str


def requirements(rule: pd.Series) -> list[Requirement]:
    """The rule's criteria, one by one, in the order a reviewer reads a policy."""
    out = [Requirement("diagnosis", "Covered diagnosis", covered_summary(rule.get("Covered Dx")))]
    weeks = number(rule.get("Min Therapy Weeks"))
    if weeks:
        out.append(Requirement("therapy", "Conservative therapy",
                               f"At least {plain_number(weeks)} weeks of failed conservative therapy "
                               "(e.g. physical therapy, medication, bracing), with dates"))
    if yes(rule.get("Imaging Required")):
        days = number(rule.get("Imaging Max Age Days"))
        window = f"no more than {plain_number(days)} days before the date of service" if days else \
            "before the date of service"
        out.append(Requirement("imaging", "Imaging", f"A supporting study (MRI, CT or X-ray) {window}"))
    if yes(rule.get("Prior Auth Required")):
        out.append(Requirement("prior_auth", "Prior authorization",
                               "Authorization obtained before the service; its number on the claim"))
    if yes(rule.get("Laterality Required")):
        out.append(Requirement("laterality", "Laterality",
                               "The side on the claim (modifier RT, LT or 50), matching the diagnosis"))
    units = number(rule.get("Max Units"))
    if units:
        out.append(Requirement("units", "Units", f"At most {plain_number(units)} unit{'s' if units != 1 else ''} "
                                                 "on the line"))
    return out


def effective_text(rule: pd.Series) -> str:
    start, end = short_date(rule.get("Effective From")), short_date(rule.get("Effective To"))
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start} (open-ended)"
    if end:
        return f"until {end}"
    return "always (no effective dates given)"


def require_policy(rule: pd.Series, row, file=None) -> str:
    """A document that cites a payer policy needs its reference: a blank one is an error."""
    ref = text(rule.get("Policy"))
    if not ref:
        raise InputError(f"the rule for payer {text(rule.get('Payer'))!r}, CPT/HCPCS {text(rule.get('CPT/HCPCS'))} "
                         "has no Policy reference (e.g. 'LCD L39240 / Article A59612'): add it, then run again",
                         file=file, sheet="Rules", row=row, column="Policy")
    return ref


# ---------------------------------------------------------------- checklist (one per rule)

def checklist_context(rule: pd.Series, payer_type: str, settings: dict, codesets, today: dt.date,
                      row=None, file=None) -> dict:
    """Everything ``necessity_checklist.docx`` shows for one rule."""
    policy = require_policy(rule, row, file)
    items = [{"name": r.name, "detail": r.required} for r in requirements(rule)]
    items[0]["detail"] = "The claim's diagnosis is on the list below (a full, billable code; not a " \
                         "'rule out' or provisional diagnosis); the supporting one first"
    items += [
        {"name": "Office note", "detail": "Signed note for the date of service with Subjective, Objective, "
                                          "Assessment and Plan, stating why the procedure is needed"},
        {"name": "Diagnosis specificity", "detail": "Avoid 'unspecified' codes where the record names the "
                                                    "side, site or type"},
    ]
    if is_medicare(payer_type):
        items.append({"name": "ABN", "detail": "If necessity is in doubt: ABN (CMS-R-131) signed before the "
                                               "service and modifier GA on the line"})
    ctx = practice_context(settings, letter=False)
    codes = covered_entries(rule.get("Covered Dx"), codesets)
    ctx.update({
        "today": short_date(today),
        "code_set": codesets.newest.label if codesets is not None else "",
        "rule": {
            "payer": text(rule.get("Payer")),
            "cpt": text(rule.get("CPT/HCPCS")),
            "description": text(rule.get("Description")),
            "policy": policy,
            "effective": effective_text(rule),
            "notes": text(rule.get("Notes")),
        },
        "items": items,
        "covered": codes or [{"code": "—", "description": "The policy lists no diagnoses: any diagnosis"}],
        "covered_intro": "A diagnosis on the claim must be one of these (entries ending in x cover every code "
                         "under them). Descriptions: " + (codesets.newest.label if codesets is not None else
                                                         "ICD-10-CM") + ".",
    })
    return ctx


# ---------------------------------------------------------------- SOAP note template (one per procedure)

def soap_context(cpt: str, rules: list[tuple[pd.Series, str]], settings: dict, codesets, today: dt.date) -> dict:
    """Prompts for every criterion any payer sets for ``cpt``; ``rules`` = (rule, payer type) pairs."""
    ctx = practice_context(settings, letter=False)
    description = next((text(r.get("Description")) for r, _ in rules if text(r.get("Description"))), "")
    weeks = [w for r, _ in rules if (w := number(r.get("Min Therapy Weeks")))]
    imaging = [r for r, _ in rules if yes(r.get("Imaging Required"))]
    ages = [a for r in imaging if (a := number(r.get("Imaging Max Age Days")))]
    side = any(yes(r.get("Laterality Required")) for r, _ in rules)
    pa = [text(r.get("Payer")) for r, _ in rules if yes(r.get("Prior Auth Required"))]
    medicare = any(is_medicare(t) for _, t in rules)

    subjective = ["Chief complaint and history of present illness: onset, duration, severity, functional limits"]
    if weeks:
        subjective.append(f"Conservative therapy tried and failed — what (PT, medication, bracing, injections), "
                          f"start and end dates, response. Payers require up to {plain_number(max(weeks))} weeks")
    else:
        subjective.append("Treatments tried so far and the response")
    objective = ["Examination findings that support the diagnosis (side, range of motion, neurological signs)"]
    if imaging:
        window = f" (within {plain_number(min(ages))} days before the procedure)" if ages else ""
        objective.append(f"Imaging: type (MRI, CT, X-ray), date{window} and the findings")
    assessment = ["Diagnosis as a full ICD-10-CM code from the list below — not 'rule out' or provisional",
                  "Why this procedure is needed now (failed therapy, findings, risk of waiting)"]
    if side:
        assessment.append("Side of the body (right, left, bilateral), the same as on the claim")
    plan = [f"Procedure {cpt}" + (f" ({description})" if description else "") + ": units and side"
            + (" (modifier RT, LT or 50)" if side else "")]
    if pa:
        plan.append("Prior authorization number (required by " + ", ".join(dict.fromkeys(pa)) + ")")
    if medicare:
        plan.append("Medicare, necessity in doubt: ABN signed before the service (modifier GA)")
    plan.append("Signature, credentials and date")

    payers: list[dict[str, str]] = []
    covered: dict[str, dict[str, Any]] = {}  # ICD-10 code -> its entry and the payers that cover it
    for rule, _ in rules:
        days = number(rule.get("Imaging Max Age Days"))
        min_weeks = number(rule.get("Min Therapy Weeks"))
        payers.append({
            "payer": text(rule.get("Payer")),
            "therapy": f"{plain_number(min_weeks)} weeks" if min_weeks else "—",
            "imaging": (f"within {plain_number(days)} days" if days else "required")
            if yes(rule.get("Imaging Required")) else "—",
            "prior_auth": "required" if yes(rule.get("Prior Auth Required")) else "—",
            "laterality": "RT/LT/50" if yes(rule.get("Laterality Required")) else "—",
            "policy": text(rule.get("Policy")) or NOT_ON_FILE,
        })
        for entry in covered_entries(rule.get("Covered Dx"), codesets):
            row = covered.setdefault(entry["code"], {**entry, "payers": []})
            row["payers"].append(text(rule.get("Payer")))
    ctx.update({
        "today": short_date(today),
        "code_set": codesets.newest.label if codesets is not None else "",
        "procedure": {"cpt": cpt, "description": description},
        "intro": "Document each point the payers need before the procedure is billed; tick it when the note "
                 "covers it. The tables below list each payer's criteria and the diagnoses that support "
                 f"{cpt}.",
        "prompts": {"subjective": subjective, "objective": objective, "assessment": assessment, "plan": plan},
        "payers": payers,
        "covered": [{**v, "payers": ", ".join(dict.fromkeys(v["payers"]))} for v in covered.values()]
        or [{"code": "—", "description": "No payer lists diagnoses for this procedure", "payers": ""}],
    })
    return ctx
