"""The content of an appeal letter and of a prior-authorization request.

An appeal that wins identifies the claim, quotes the denial, sets the clinical evidence against
the payer's policy criterion by criterion, asks for a specific action, lists the enclosures and
is filed before the deadline (see the domain notes).  ``Casefile`` gathers a denial, its claim
line, the rule in force on the date of service, the payer and the practice's Settings, checks
that nothing a payer needs is missing, and returns the plain dict a Word template is filled with.

The letter fits the kind of denial (``denial_kind``: its Category, else its CARC's): medical
necessity and authorization argue criterion by criterion; timely filing shows the dates; coding
and documentation denials become a reopening or corrected-claim cover letter, not an appeal;
duplicate, eligibility, non-covered and bundling letters are short, each asking for its own action.

What stops a letter (an error naming the table and row): an unknown denial, for a medical-necessity
or authorization letter no rule or a rule without a Policy reference (it would cite nothing), a payer missing from Payers or
without an Address (nowhere to send it), Settings without practice name, address or signer.
What the letter shows as "[not on file]" for the biller to complete in Word: patient details
when the claim line is no longer in Claims, the member ID when Claims has no such column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
import re

import pandas as pd

from .checklists import (NOT_ON_FILE, as_date, describe_dx, joined, long_date, money, number,
                         plain_number, practice_context, require_policy, requirements, short_date,
                         split_codes, split_modifiers, text, yes)
from .errors import InputError
from .rules import is_medicare
from .tables import CLAIMS, DENIALS, header_key
from .values import coerce_table

MEDICARE_REDETERMINATION_DAYS = 120
MEDICARE_RECONSIDERATION_DAYS = 180

GROUP_MEANING = {
    "CO": "contractual obligation: the provider is liable",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
}
_SIDE = {"RT": "right", "LT": "left", "50": "bilateral"}
# What a denial's Category asks the letter to do (Category as the denial log decoded it from
# toolkit/data/carc.csv; the CARC's own category when the cell is blank).  Anything else keeps
# the medical-necessity letter.
KIND_OF_CATEGORY = {
    "medical necessity": "necessity",
    "authorization": "authorization",
    "timely filing": "timely_filing",
    "coding": "correction",
    "documentation": "correction",
    "duplicate": "duplicate",
    "eligibility": "eligibility",
    "non-covered": "noncovered",
    "bundling": "bundling",
}
KINDS = ("necessity", "authorization", "timely_filing", "correction", "duplicate", "eligibility", "noncovered",
         "bundling")
POLICY_KINDS = ("necessity", "authorization")  # letters that set the claim against the policy's criteria
CORRECTION_UNIT = {True: "Reopenings", False: "Corrected Claims"}
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
_NCCI_MODIFIERS = ("59", "XE", "XS", "XP", "XU", "25", "91", "RT", "LT", "76", "77")
_MEMBER_ID_HEADERS = ("member id", "subscriber id", "insurance id", "medicare number", "mbi", "policy number")


class Casefile:
    """The tables an appeal draws on, indexed once so a thousand letters cost one read."""

    def __init__(self, denials: pd.DataFrame, claims: pd.DataFrame | None, rules: pd.DataFrame | None,
                 payers: pd.DataFrame | None, settings: dict, *, codesets=None, today: dt.date | None = None,
                 file=None, code_tables=None):
        from .rules import prepare_payers, prepare_rules

        self.file = file
        self.settings = settings or {}
        self.today = today or dt.date.today()
        if codesets is None:
            from .codesets.icd10cm import CodeSets
            codesets = CodeSets.default()
        self.codesets = codesets
        if code_tables is None:  # CARC/RARC meanings: the practice-editable tables of the denial log
            from .denials.decode import CodeTables
            code_tables = CodeTables.load(self.settings, Path(file).parent if file else None)
        self.code_tables = code_tables
        self.denials = coerce_table(DENIALS, denials)
        self.claims = coerce_table(CLAIMS, claims) if claims is not None and len(claims.columns) else None
        self.rules = prepare_rules(rules)
        self._payer_rows = {}
        if payers is not None:
            from .rules import payer_key

            self._payer_rows = {}
            for r, p in zip(payers.index, _raw_payer_names(payers)):
                self._payer_rows.setdefault(payer_key(p), int(r))
        self.payers = prepare_payers(payers)
        self._claim_index = {}
        self._denial_index = None
        self._denial_pos = None
        self._claim_pos = None
        self._same_day = None
        if self.claims is not None:
            lines = self.claims["Line"].fillna(1)
            for row, cid, ln in zip(self.claims.index, self.claims["Claim ID"], lines):
                self._claim_index.setdefault((cid, int(ln)), row)

    # -- look-ups
    def denial_row(self, denial_id: str):
        if self._denial_index is None:
            self._denial_index = {}
            for row, did in zip(self.denials.index, self.denials["Denial ID"]):
                if did.strip():
                    self._denial_index.setdefault(did.strip().casefold(), row)
        row = self._denial_index.get(str(denial_id).strip().casefold())
        if row is None:
            raise InputError(f"no denial with Denial ID '{denial_id}' in the Denials table", file=self.file,
                             sheet="Denials")
        return row

    def open_denial_ids(self) -> list[str]:
        status = self.denials["Status"].str.strip().str.casefold()
        ids = self.denials["Denial ID"]
        return [i for i, s in zip(ids, status) if i and s in ("", "open")]

    def claim_for(self, denial: pd.Series) -> pd.Series | None:
        line = denial.get("Line")
        key = (text(denial.get("Claim ID")), int(number(line) or 1))
        row = self._claim_index.get(key)
        return None if row is None else self.claims.loc[row]

    def payer_for(self, name: str, *, row, sheet) -> tuple[pd.Series, int | None]:
        from .rules import payer_key

        key = payer_key(name)
        if key not in self.payers.index:
            raise InputError(f"payer {name!r} is not in the Payers table: add it (with its address), then run again",
                             file=self.file, sheet=sheet, row=row, column="Payer")
        payer = self.payers.loc[key]
        return payer, self._payer_rows.get(key)

    def rule_for(self, payer: str, cpt: str, dos, *, row, sheet, position: int | None = None,
                 required: bool = True) -> pd.Series | None:
        """The rule in force on ``dos``; ``position`` when already matched in bulk.  A letter that
        does not cite the policy (``required=False``: timely filing, duplicate, ...) takes None."""
        from .rules import match_rules

        pos = position
        if pos is None:
            pos = match_rules(pd.Series([payer]), pd.Series([cpt]),
                              pd.Series([pd.Timestamp(dos) if dos else pd.NaT]), self.rules).iloc[0]
        if pos < 0 and not required:
            return None
        if pos < 0:
            raise InputError(f"no rule in Rules applies to payer {payer!r}, CPT/HCPCS {cpt} on this date of service;"
                             " a letter must cite the payer's policy: add the rule, then run again",
                             file=self.file, sheet=sheet, row=row)
        rule = self.rules.iloc[pos]
        if required:
            require_policy(rule, int(rule["_source_row"]), self.file)
        return rule

    def _denial_rule_positions(self) -> dict:
        """Match every denial to its rule in one vectorised pass (a thousand letters, one merge)."""
        if self._denial_pos is None:
            from .rules import match_rules

            payers, cpts, dates = [], [], []
            for row in self.denials.index:
                denial = self.denials.loc[row]
                claim = self.claim_for(denial)
                src = claim if claim is not None else denial
                payers.append(text(src.get("Payer")) or text(denial.get("Payer")))
                cpts.append(text(src.get("CPT/HCPCS")) or text(denial.get("CPT/HCPCS")))
                day = as_date(src.get("Date of Service")) or as_date(denial.get("Date of Service"))
                dates.append(pd.Timestamp(day) if day else pd.NaT)
            idx = self.denials.index
            pos = match_rules(pd.Series(payers, index=idx, dtype=object), pd.Series(cpts, index=idx, dtype=object),
                              pd.Series(dates, index=idx, dtype="datetime64[ns]"), self.rules)
            self._denial_pos = dict(zip(idx, pos.tolist()))
        return self._denial_pos

    def _payer_address(self, payer: pd.Series, payer_row) -> list[str]:
        lines = address_lines(text(payer.get("Address")))
        if not lines:
            raise InputError(f"payer {text(payer.get('Payer'))!r} has no Address: the letter cannot be mailed; "
                             "add it to the Payers table, then run again", file=self.file, sheet="Payers",
                             row=payer_row, column="Address")
        return lines

    # -- the appeal
    def appeal(self, denial_id: str) -> dict:
        """The context of ``appeal_letter.docx`` for one denial (raises ``InputError`` if it cannot be written)."""
        row = self.denial_row(denial_id)
        denial = self.denials.loc[row]
        claim = self.claim_for(denial)
        src = claim if claim is not None else denial
        payer_name = text(src.get("Payer")) or text(denial.get("Payer"))
        cpt = text(src.get("CPT/HCPCS")) or text(denial.get("CPT/HCPCS"))
        dos = as_date(src.get("Date of Service")) or as_date(denial.get("Date of Service"))
        payer, payer_row = self.payer_for(payer_name, row=row, sheet="Denials")
        kind = denial_kind(denial, self.code_tables)
        rule = self.rule_for(payer_name, cpt, dos, row=row, sheet="Denials",
                             position=self._denial_rule_positions().get(row), required=kind in POLICY_KINDS)
        ctx = practice_context(self.settings, letter=True)
        medicare = is_medicare(payer.get("Payer Type"))
        ctx["payer"] = self._payer_context(payer, payer_row, appeal=True,
                                           unit=CORRECTION_UNIT[medicare] if kind == "correction" else None)
        same_day = self.same_day_lines(src, claim) if kind in ("duplicate", "bundling") else []
        return build_appeal(ctx, denial, claim, rule, payer, self.codesets, self.today, self.code_tables,
                            kind=kind, same_day=same_day)

    def same_day_lines(self, src: pd.Series, claim: pd.Series | None) -> list[pd.Series]:
        """The patient's other claim lines on the same date of service (a duplicate or bundling
        denial is answered by showing how this line differs from them)."""
        if self.claims is None:
            return []
        if self._same_day is None:
            self._same_day = {}
            days = self.claims["Date of Service"].map(as_date)
            for row, pid, day in zip(self.claims.index, self.claims["Patient ID"], days):
                self._same_day.setdefault((text(pid), day), []).append(row)
        key = (text(src.get("Patient ID")), as_date(src.get("Date of Service")))
        own = claim.name if claim is not None else None
        return [self.claims.loc[r] for r in self._same_day.get(key, []) if r != own]

    def prior_auth_rows(self) -> list:
        """Claim lines whose rule requires prior authorization and that carry no number."""
        if self.claims is None or self.rules.empty:
            return []
        from .rules import match_rules

        pos = match_rules(self.claims["Payer"], self.claims["CPT/HCPCS"], self.claims["Date of Service"], self.rules)
        self._claim_pos = dict(zip(self.claims.index, pos.tolist()))
        needs = self.rules["Prior Auth Required"].fillna(False).astype(bool).to_numpy()
        missing = self.claims["Prior Auth Number"].str.strip() == ""
        return [row for row, p, m in zip(self.claims.index, pos, missing) if p >= 0 and needs[p] and m]

    def prior_auth(self, claim_row) -> dict:
        """The context of ``prior_auth_request.docx`` for one claim line."""
        claim = self.claims.loc[claim_row]
        payer_name = text(claim.get("Payer"))
        payer, payer_row = self.payer_for(payer_name, row=claim_row, sheet="Claims")
        rule = self.rule_for(payer_name, text(claim.get("CPT/HCPCS")), as_date(claim.get("Date of Service")),
                             row=claim_row, sheet="Claims", position=(self._claim_pos or {}).get(claim_row))
        ctx = practice_context(self.settings, letter=True)
        ctx["payer"] = self._payer_context(payer, payer_row, appeal=False)
        return build_prior_auth(ctx, claim, rule, payer, self.codesets, self.today)

    def _payer_context(self, payer: pd.Series, payer_row, *, appeal: bool, unit: str | None = None) -> dict:
        lines = self._payer_address(payer, payer_row)
        medicare = is_medicare(payer.get("Payer Type"))
        named = re.compile(r"attn|attention|appeal|redetermination|reconsideration|reopening|corrected", re.I)
        if appeal and not any(named.search(ln) for ln in lines):  # the address already names the unit
            unit = unit or ("Redetermination Requests" if medicare else "Provider Appeals")
            lines = ["Attn: " + unit] + lines
        return {
            "name": text(payer.get("Payer")),
            "type": text(payer.get("Payer Type")),
            "address_lines": lines,
            "contact_line": joined([f"Phone {text(payer.get('Phone'))}" if text(payer.get("Phone")) else "",
                                    f"Fax {text(payer.get('Fax'))}" if text(payer.get("Fax")) else "",
                                    f"Portal {text(payer.get('Portal'))}" if text(payer.get("Portal")) else ""]),
        }


def _raw_payer_names(payers: pd.DataFrame):
    for col in payers.columns:
        if header_key(col) == "payer":
            return payers[col].map(text)
    return pd.Series([], dtype=object)


def address_lines(address: str) -> list[str]:
    """A payer address as envelope lines: split at line breaks or ';', else at commas with
    "City, ST 12345" kept on one line."""
    address = address.strip()
    if not address:
        return []
    if re.search(r"[\r\n;|]", address):
        return [p.strip() for p in re.split(r"[\r\n;|]+", address) if p.strip()]
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) >= 3 and re.match(r"^[A-Z]{2}\s+\d{5}", parts[-1]):
        parts = parts[:-2] + [f"{parts[-2]}, {parts[-1]}"]
    return parts


# ---------------------------------------------------------------- building blocks

def _patient(claim, denial) -> dict:
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


def _procedure(cpt: str, modifiers: list[str], rule) -> str:
    desc = text(rule.get("Description")) if rule is not None else ""
    mods = f", modifier{'s' if len(modifiers) > 1 else ''} {', '.join(modifiers)}" if modifiers else ""
    return f"{cpt}{mods}" + (f" ({desc})" if desc else "")


def _supporting_dx(codes: list[str], rule) -> str | None:
    from .codesets.icd10cm import normalize_dx

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
            sup = _supporting_dx(codes, rule)
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
                met = "Yes" if weeks >= need else "No"
            else:
                evidence = "Documented in the enclosed therapy records" + (f" ({notes})" if notes else "")
        elif req.key == "imaging":
            when = as_date(claim.get("Imaging Date")) if claim is not None else None
            kind = (text(claim.get("Imaging Type")) if claim is not None else "") or "Imaging"
            max_age = number(rule.get("Imaging Max Age Days"))
            if when and dos:
                age = (dos - when).days
                evidence = f"{kind} on {short_date(when)}, {age} days before the date of service"
                met = "Yes" if 0 <= age and (max_age is None or age <= max_age) else "No"
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
            met = "Yes" if units <= number(rule.get("Max Units")) else "No"
        out.append({"name": req.name, "required": req.required, "evidence": evidence, "met": met})
    return out


def _argument(rule, claim, denial, codesets, policy_ref: str, payer_name: str) -> list[str]:
    """The clinical case in SOAP order: history and diagnosis, therapy, imaging, documentation."""
    from .codesets.icd10cm import format_dx

    src = claim if claim is not None else denial
    codes = split_codes(src.get("Dx Codes"))
    cpt = text(src.get("CPT/HCPCS"))
    paras = []
    sup = _supporting_dx(codes, rule)
    if codes:
        dx_list = "; ".join(describe_dx(c, codesets) for c in codes)
        sentence = f"The patient was treated for {dx_list}."
        if sup:
            sentence += (f" The supporting diagnosis, {format_dx(sup)}, is listed in {payer_name}'s "
                         f"policy {policy_ref} as supporting {cpt}.")
        paras.append(sentence)
    if claim is not None:
        weeks, notes = number(claim.get("Therapy Weeks")), text(claim.get("Therapy Notes"))
        need = number(rule.get("Min Therapy Weeks"))
        if weeks is not None:
            what = f" ({notes})" if notes else ""
            req = f"; the policy requires {plain_number(need)} weeks" if need else ""
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


def _deadline(denial, payer, medicare: bool, level2: bool) -> tuple[dt.date | None, int | None]:
    window = number(payer.get("Appeal Window Days"))
    if level2:
        decided = as_date(denial.get("Resolved Date"))
        days = MEDICARE_RECONSIDERATION_DAYS if medicare else (int(window) if window else None)
        return (decided + dt.timedelta(days=days) if decided and days else None), days
    days = int(window) if window else (MEDICARE_REDETERMINATION_DAYS if medicare else None)
    given = as_date(denial.get("Appeal Deadline"))
    if given:
        return given, days
    denied = as_date(denial.get("Denial Date"))
    return (denied + dt.timedelta(days=days) if denied and days else None), days


def _meaning(text: str) -> str:
    """A code table's sentence, to quote inside ours ("… reason code 50: the payer does …")."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def denial_kind(denial: pd.Series, code_tables=None) -> str:
    """Which letter a denial needs (one of ``KINDS``), from its Category, else its CARC's."""
    category = " ".join(text(denial.get("Category")).casefold().replace("-", " - ").split()).replace(" - ", "-")
    if not category and code_tables is not None:
        known = code_tables.carc.get(text(denial.get("CARC")).upper())
        category = known.category if known else ""
    category = {"non covered": "non-covered", "noncovered": "non-covered", "not covered": "non-covered",
                "medical-necessity": "medical necessity"}.get(category, category)
    return KIND_OF_CATEGORY.get(category, "necessity")


def _level(denial, payer, payer_name: str, medicare: bool, level2: bool, days) -> tuple[str, str, str]:
    """Title, level sentence and the review asked for, by appeal level and payer type."""
    denial_date = long_date(denial.get("Denial Date")) or NOT_ON_FILE
    if medicare and not level2:
        return ("Request for Redetermination (first-level Medicare appeal)",
                (f"This is a request for redetermination, the first level of the Medicare appeals process, "
                 f"filed within {days} days of the initial determination (remittance dated {denial_date})."),
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


def _deadline_text(deadline, today, what: str = "appeal") -> str:
    if deadline and deadline < today:
        return (f"The {what} period ended on {long_date(deadline)}. We ask that you accept this {what} "
                "for good cause: [state the reason for the late filing here].")
    if deadline:
        return f"The deadline for this {what} is {long_date(deadline)}; it is filed on {long_date(today)}."
    return f"Please accept this {what} within the plan's {what} window (no deadline is on file)."


def _mods_text(mods: list[str]) -> str:
    return ", ".join(f"{m} ({_MODIFIER_MEANING[m]})" if m in _MODIFIER_MEANING else m for m in mods)


def _line_label(row: pd.Series) -> str:
    mods = split_modifiers(row.get("Modifiers"))
    return (f"line {int(number(row.get('Line')) or 1)} of claim {text(row.get('Claim ID'))} "
            f"({text(row.get('CPT/HCPCS'))}" + (f", modifier{'s' if len(mods) > 1 else ''} {', '.join(mods)}"
                                                  if mods else "") + ")")


def _corrections(denial, claim, codesets, code_tables, carc: str, rarcs: list[str]) -> list[str]:
    """What the corrected line changes: modifiers and diagnoses as denied (the Denials row) set
    against the line as it now stands in Claims, and the documentation a remark code asked for."""
    out = []
    if claim is not None:
        before_m, now_m = split_modifiers(denial.get("Modifiers")), split_modifiers(claim.get("Modifiers"))
        added = [m for m in now_m if m not in before_m]
        removed = [m for m in before_m if m not in now_m]
        if added:
            out.append(f"Modifier{'s' if len(added) > 1 else ''} added: {_mods_text(added)}")
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
            out.append(f"Remark code {r} ({_meaning(meaning)}): the corrected information is on the claim or "
                       "in the enclosed records")
    if not out:
        out.append("[describe the correction made to the line here]")
    if claim is not None:
        mods = split_modifiers(claim.get("Modifiers"))
        out.append("The corrected line as billed now: " + text(claim.get("CPT/HCPCS"))
                   + (f", modifier{'s' if len(mods) > 1 else ''} {', '.join(mods)}" if mods else ", no modifier")
                   + "; diagnoses " + (", ".join(split_codes(claim.get("Dx Codes"))) or NOT_ON_FILE))
    return out


def build_appeal(ctx: dict, denial: pd.Series, claim: pd.Series | None, rule: pd.Series | None, payer: pd.Series,
                 codesets, today: dt.date, code_tables, *, kind: str | None = None,
                 same_day: list | None = None) -> dict:
    """Fill ``ctx`` (practice, signer, payer already in) with the letter's content.

    ``kind`` (see ``KINDS``) decides what the letter argues and asks for: a medical-necessity or
    authorization appeal sets the claim against the policy's criteria; timely filing shows the
    dates; a coding or documentation denial becomes a reopening / corrected-claim cover letter
    (not an appeal); duplicate, eligibility, non-covered and bundling letters are short.  Every
    kind fills the same names, so a practice's older template still renders."""
    kind = kind or denial_kind(denial, code_tables)
    src = claim if claim is not None else denial
    payer_name = ctx["payer"]["name"]
    medicare = is_medicare(payer.get("Payer Type"))
    level2 = text(denial.get("Status")).casefold() == "upheld"
    cpt = text(src.get("CPT/HCPCS")) or text(denial.get("CPT/HCPCS"))
    dos = as_date(src.get("Date of Service")) or as_date(denial.get("Date of Service"))
    claim_id, line = text(denial.get("Claim ID")), int(number(denial.get("Line")) or 1)
    policy_ref = text(rule.get("Policy")) if rule is not None else ""
    codes = split_codes(src.get("Dx Codes")) or split_codes(denial.get("Dx Codes"))
    units = number(src.get("Units")) if claim is not None else None
    mods = split_modifiers(src.get("Modifiers"))
    practice = ctx["practice"]["name"]
    patient = _patient(claim, denial)
    the_line = (f"line {line} of claim {claim_id} ({cpt}, date of service {short_date(dos) or NOT_ON_FILE})")

    # The denial, quoted.
    group, carc = text(denial.get("Group Code")).upper(), text(denial.get("CARC"))
    rarcs = split_codes(denial.get("RARC"))
    reason = text(denial.get("Reason"))
    known = code_tables.carc.get(carc.upper())
    carc_meaning = _meaning(known.reason) if known and known.reason else (reason or "see the remittance")
    quote = (f"Your remittance dated {long_date(denial.get('Denial Date')) or NOT_ON_FILE} denied this line"
             + (f" ({money(denial.get('Denied Amount'))})" if money(denial.get("Denied Amount")) else "")
             + (f" with group code {group} ({GROUP_MEANING.get(group, 'adjustment group')})" if group else "")
             + (f", claim adjustment reason code {carc}: {carc_meaning}" if carc else f": {reason or NOT_ON_FILE}"))
    if rarcs:
        quote += "; remark code" + ("s " if len(rarcs) > 1 else " ") + "; ".join(
            f"{r}: {_meaning(code_tables.rarc.get(r.upper(), '')) or 'see the remittance'}" for r in rarcs)
    rows = criteria(rule, claim, denial, codesets) if kind in POLICY_KINDS else []
    all_met = all(r["met"] == "Yes" for r in rows)

    deadline, days = _deadline(denial, payer, medicare, level2)
    title, level_text, asks = _level(denial, payer, payer_name, medicare, level2, days)
    deadline_text = _deadline_text(deadline, today)
    document = "Appeal of"  # the footer: "<document> claim C1001, line 1 · denial D-000001"
    denied = money(denial.get("Denied Amount"))
    for_payment = " for payment" + (f" of the denied amount of {denied}" if denied else "")
    pa_number = text(claim.get("Prior Auth Number")) if claim is not None else ""
    argument: list[str] = []
    corrections: list[str] = []
    salutation = "Dear Appeals Reviewer:" if not medicare else "Dear Redetermination Reviewer:"
    enclosures = [f"Remittance advice dated {short_date(denial.get('Denial Date')) or NOT_ON_FILE} showing the denial",
                  f"Claim {claim_id} (CMS-1500), line {line}"]
    office_note = f"Office note for the date of service, {short_date(dos) or NOT_ON_FILE}"

    if kind in POLICY_KINDS:
        quote += (". We disagree: the service met each of the policy's criteria, as shown below." if all_met else
                  ". We disagree, for the reasons below.")
        opening = (f"On behalf of our patient, {practice} requests {asks} of the denial of the service below. "
                   f"The service was medically necessary under {payer_name}'s policy {policy_ref}, "
                   + ("and the enclosed records show that each of its criteria was met." if all_met else
                      "as the enclosed records document."))
        argument = _argument(rule, claim, denial, codesets, policy_ref, payer_name)
        requested = (f"Please reverse the denial and reprocess line {line} of claim {claim_id} ({cpt}, date of "
                     f"service {short_date(dos) or NOT_ON_FILE}){for_payment} under the payer's policy.")
        enclosures.append(office_note)
        weeks = number(claim.get("Therapy Weeks")) if claim is not None else None
        if weeks is not None or number(rule.get("Min Therapy Weeks")):
            enclosures.append("Conservative therapy records" + (f" ({plain_number(weeks)} weeks)" if weeks else ""))
        img = as_date(claim.get("Imaging Date")) if claim is not None else None
        if img or yes(rule.get("Imaging Required")):
            kind_img = (text(claim.get("Imaging Type")) if claim is not None else "") or "Imaging"
            enclosures.append(f"{kind_img} report" + (f" dated {short_date(img)}" if img else ""))
        if kind == "authorization":
            exceeded = carc == "198"
            if pa_number and exceeded:
                title += f": authorization {pa_number} to be extended"
                argument.insert(0, f"The service was authorized under number {pa_number}; the patient's condition "
                                   "required more services than the authorization allowed, as the enclosed records "
                                   "document.")
                requested = (f"Please extend authorization number {pa_number} to cover this service and reprocess "
                             f"line {line} of claim {claim_id}{for_payment.replace(' the denied amount of', '')}.")
            elif pa_number:
                title += f": authorization {pa_number} on file"
                argument.insert(0, f"The service was authorized before it was performed, under number {pa_number}; "
                                   "the approval is enclosed.")
                requested = (f"Please recognise authorization number {pa_number}, obtained before the service, "
                             f"and reprocess line {line} of claim {claim_id}"
                             + (f" for payment of {denied}" if denied else " for payment") + ".")
            else:
                title += ": request for retroactive authorization"
                argument.insert(0, "No authorization could be obtained before the service because [state why, "
                                   "e.g. the patient's condition was urgent and the procedure could not be "
                                   "delayed]. The service met the policy's criteria on the date it was performed, "
                                   "as shown below.")
                requested = (f"Please grant a retroactive authorization for {cpt} on "
                             f"{short_date(dos) or NOT_ON_FILE}, apply it to line {line} of claim {claim_id}, and "
                             f"reprocess the line{for_payment}.")
                enclosures.append("Record of the urgent circumstances that prevented authorization in advance")
        if pa_number:
            enclosures.append(f"Prior authorization approval {pa_number}")
        if medicare and claim is not None and yes(claim.get("ABN on File")):
            enclosures.append("Signed Advance Beneficiary Notice (CMS-R-131)")
        enclosures.append(f"{payer_name} policy {policy_ref}: coverage criteria")

    elif kind == "timely_filing":
        submitted = as_date(claim.get("Submitted Date")) if claim is not None else None
        limit = number(payer.get("Timely Filing Days")) or (MEDICARE_FILING_DAYS if medicare else None)
        limit = int(limit) if limit else None
        last_day = dos + dt.timedelta(days=limit) if dos and limit else None
        on_time = bool(submitted and dos and last_day and submitted <= last_day)
        title += ": proof of timely filing"
        limit_text = (f"{payer_name}'s filing limit of {limit} days from the date of service"
                      + (f", which ended on {long_date(last_day)}" if last_day else "")) if limit else \
            f"{payer_name}'s filing limit (not on file)"
        if submitted and dos:
            gap = (submitted - dos).days
            argument.append(f"The claim was first submitted on {long_date(submitted)}, {gap} days after the date of "
                            f"service ({long_date(dos)}), " + ("within " if on_time else "after ") + limit_text + ".")
        else:
            argument.append(f"The claim was first submitted on [enter the date the clearinghouse accepted the "
                            f"claim], within {limit_text}.")
        if on_time or not submitted:
            argument.append(f"The enclosed clearinghouse acceptance report shows the date the claim was accepted "
                            f"for delivery to {payer_name}.")
            quote += ". We disagree: the claim was filed within the time limit, as shown below."
        else:
            argument.append("The claim could not be filed sooner because [state why, e.g. the patient gave other "
                            "insurance at the visit, and enclose the proof].")
            quote += ". We ask you to reconsider, for the reason below."
        opening = (f"On behalf of our patient, {practice} requests {asks} of the denial of the service below for "
                   "late filing. " + ("The claim reached the payer within its filing limit, as the enclosed proof "
                                      "shows." if on_time or not submitted else
                                      "The reason the claim could not be filed sooner is set out below."))
        requested = (f"Please accept the enclosed proof of timely filing, reverse the timely-filing denial and "
                     f"reprocess {the_line}{for_payment}.")
        enclosures += ["Clearinghouse acceptance report" + (f" dated {short_date(submitted)}" if submitted else "")
                       + " (proof of timely filing)",
                       "Proof of the original submission (the payer's acknowledgement or claim status response)"]

    elif kind == "correction":
        corrections = _corrections(denial, claim, codesets, code_tables, carc, rarcs)
        unprocessable = "MA130" in [r.upper() for r in rarcs]
        salutation = "Dear Claims Reviewer:"
        quote += ". The line has been corrected as listed below."
        if medicare and unprocessable:
            document = "Corrected-claim cover letter for"
            title = "Corrected claim: resubmission of a claim returned as unprocessable (remark code MA130)"
            opening = (f"The claim below was returned as unprocessable. {practice} has corrected it and resubmits "
                       "it as a new claim; this is not an appeal.")
            level_text = ("An unprocessable claim (remark code MA130) carries no appeal rights: it is corrected and "
                          "resubmitted as a new claim, not appealed.")
            limit = int(number(payer.get("Timely Filing Days")) or MEDICARE_FILING_DAYS)
            deadline = dos + dt.timedelta(days=limit) if dos else None
            deadline_text = _deadline_text(deadline, today, "filing").replace(
                "filing window", "filing limit")
            requested = f"Please process the enclosed corrected claim as a new claim for {the_line}."
        elif medicare:
            document = "Reopening request for"
            title = "Request for Reopening: correction of a clerical error (not an appeal)"
            opening = (f"{practice} asks you to reopen the initial determination of the service below to correct a "
                       "clerical error. This is a request for a reopening, not a request for redetermination.")
            level_text = (f"Medicare corrects clerical errors through a reopening rather than an appeal. A reopening "
                          f"may be requested within one year of the initial determination (remittance dated "
                          f"{long_date(denial.get('Denial Date')) or NOT_ON_FILE}).")
            denied_on = as_date(denial.get("Denial Date"))
            deadline = denied_on + dt.timedelta(days=MEDICARE_REOPENING_DAYS) if denied_on else None
            deadline_text = _deadline_text(deadline, today, "reopening")
            requested = (f"Please reopen the initial determination for {the_line}, apply the corrections listed "
                         f"above and reprocess the line{for_payment}.")
        else:
            document = "Corrected-claim cover letter for"
            title = "Corrected claim (replacement of the original claim, frequency code 7)"
            opening = (f"{practice} submits a corrected claim for the service below; it replaces the original "
                       "claim. This is a corrected claim, not an appeal.")
            level_text = (f"The enclosed claim is a replacement of claim {claim_id} (claim frequency code 7) under "
                          f"{payer_name}'s corrected-claim process.")
            deadline = as_date(denial.get("Appeal Deadline"))
            deadline_text = (f"Please process it by {long_date(deadline)}." if deadline else
                             "Please process it under the plan's corrected-claim rules (no deadline is on file).")
            requested = (f"Please process the enclosed corrected claim, which replaces claim {claim_id}, and "
                         f"reprocess line {line}{for_payment}.")
        enclosures[1] = f"Corrected claim {claim_id} (CMS-1500), line {line}"
        enclosures.append(office_note + ", supporting the corrected codes")

    elif kind == "duplicate":
        title += ": not a duplicate service"
        same = [o for o in (same_day or []) if text(o.get("CPT/HCPCS")) == cpt]
        quote += ". The line is not a duplicate: it is a separate service, as explained below."
        if same:
            others = "; ".join(_line_label(o) for o in same)
            argument.append(f"On {long_date(dos) or NOT_ON_FILE} the patient also had {others}. This line, "
                            f"{_line_label(src)}, is a separate service, not a second bill for the same one.")
            own, theirs = set(mods), {m for o in same for m in split_modifiers(o.get("Modifiers"))}
            if own != theirs and own:
                argument.append(f"Its modifier{'s' if len(mods) > 1 else ''} {_mods_text(mods)} "
                                + ("distinguish" if len(mods) > 1 else "distinguishes") + " it from the other line.")
            else:
                argument.append("The two services differ as follows: [state the different site, session or "
                                "time documented in the note].")
        else:
            argument.append(f"Our records show one {cpt} billed for this patient on {long_date(dos) or NOT_ON_FILE}: "
                            f"line {line} of claim {claim_id}. It is not a repeat of an earlier claim; if your records "
                            "hold another claim for this service, please send us its number so we can compare them.")
        opening = (f"On behalf of our patient, {practice} requests {asks} of the denial of the service below as a "
                   "duplicate. The line is a separate service, not a repeat of one already processed.")
        requested = f"Please reprocess {the_line} as a separate service, not a duplicate,{for_payment}."
        enclosures.append(office_note + ", documenting each service performed")

    elif kind == "eligibility":
        title += ": request to re-check coverage"
        quote += ". We ask you to check the patient's coverage again with the details below."
        why = {"26": "the service was before the patient's coverage began",
               "27": "the service was after the patient's coverage ended",
               "31": "the plan cannot identify the patient as its insured"}.get(
            carc, "the patient was not eligible on the date of service")
        argument.append(f"Your remittance says {why}. The patient's details, as on the member's card: member ID "
                        f"{patient['member_id']}, name {patient['name']}, date of birth {patient['dob']}.")
        argument.append(f"Please check the coverage in force on the date of service, {long_date(dos) or NOT_ON_FILE}, "
                        "against these details; a copy of the card is enclosed.")
        opening = (f"On behalf of our patient, {practice} requests {asks} of the eligibility denial of the service "
                   "below and asks you to check the patient's coverage on the date of service again.")
        requested = (f"Please re-check the patient's coverage on {short_date(dos) or NOT_ON_FILE} with member ID "
                     f"{patient['member_id']} and reprocess line {line} of claim {claim_id}{for_payment}.")
        enclosures += ["Copy of the patient's insurance card (front and back)",
                       "Eligibility verification for the date of service"]

    elif kind == "noncovered":
        title += ": coverage review"
        quote += ". We ask you to review this decision, for the reasons below."
        if rule is not None and policy_ref:
            sup = _supporting_dx(codes, rule)
            argument.append(f"{payer_name}'s policy {policy_ref} covers {cpt}"
                            + (f" for {describe_dx(sup, codesets)}" if sup else "")
                            + " when its criteria are met; the enclosed records document them.")
        else:
            argument.append(f"{cpt} is a covered benefit of the patient's plan for the diagnoses treated "
                            f"({', '.join(codes) or NOT_ON_FILE}): [cite the plan provision that covers it].")
        opening = (f"On behalf of our patient, {practice} requests {asks} of the decision that the service below "
                   "is not covered under the patient's plan.")
        requested = (f"Please review the coverage decision for {the_line} and reprocess the line{for_payment}; if "
                     "the plan excludes the service, please send us the plan provision that excludes it.")
        enclosures.append(office_note)
        if policy_ref:
            enclosures.append(f"{payer_name} policy {policy_ref}: coverage criteria")

    else:  # bundling
        title += ": distinct, separately payable service"
        quote += ". The service is distinct from the other services billed that day, as explained below."
        others = [o for o in (same_day or []) if text(o.get("CPT/HCPCS")) != cpt]
        ncci = [m for m in mods if m in _NCCI_MODIFIERS]
        other_text = "; ".join(_line_label(o) for o in others)
        if ncci:
            argument.append(f"Line {line} carries modifier{'s' if len(ncci) > 1 else ''} {_mods_text(ncci)}: "
                            f"{cpt} was a distinct service" + (f" from {other_text}" if others else "")
                            + ", as the enclosed note documents.")
        else:
            argument.append(f"{cpt} was a distinct service" + (f" from {other_text}" if others else "")
                            + ": [state the separate session, anatomic site or encounter documented in the note].")
        argument.append("The National Correct Coding Initiative allows such a pair to be paid separately when the "
                        "services are distinct and the line carries the appropriate modifier.")
        opening = (f"On behalf of our patient, {practice} requests {asks} of the denial of the service below as "
                   "bundled with another service on the same day. It was a distinct service, payable separately.")
        requested = f"Please reprocess {the_line} as a distinct, separately payable service{for_payment}."
        enclosures.append(office_note + ", documenting the distinct service")

    ctx.update({
        "kind": kind,
        "letter_date": long_date(today),
        "patient": patient,
        "claim": {
            "id": claim_id, "line": str(line), "dos": short_date(dos) or NOT_ON_FILE,
            "procedure": _procedure(cpt, mods, rule),
            "units": plain_number(units) if units is not None else "1",
            "billed": money(denial.get("Billed Amount")) or NOT_ON_FILE,
            "diagnoses": "\n".join(describe_dx(c, codesets) for c in codes) or NOT_ON_FILE,
            "provider": (text(claim.get("Rendering Provider")) if claim is not None else "") or NOT_ON_FILE,
            "submitted": (short_date(claim.get("Submitted Date")) if claim is not None else "") or NOT_ON_FILE,
            "prior_auth": pa_number,
        },
        "denial": {
            "id": text(denial.get("Denial ID")), "date": short_date(denial.get("Denial Date")) or NOT_ON_FILE,
            "group": group, "carc": carc, "rarc": ", ".join(rarcs), "reason": reason, "quote": quote,
            "denied_amount": denied,
        },
        "appeal": {
            "kind": kind,
            "document": document,
            "title": title,
            "salutation": salutation,
            "opening": opening,
            "requested_action": requested,
            "level_text": level_text,
            "deadline_text": deadline_text,
            "deadline": short_date(deadline),
            "level": 2 if level2 else 1,
            "contact_text": (f"Please direct any questions about this {'appeal' if kind != 'correction' else 'request'}"
                             f" to {ctx['signer']['name']} at {ctx['practice']['phone']}."),
        },
        "argument": argument,
        "corrections": corrections,
        "policy": {
            "reference": policy_ref,
            "sentence": (f"{payer_name} policy {policy_ref} (in force on the date of service) sets the criteria "
                         f"below for {cpt}" + ("; the claim meets each one as shown." if all_met else
                                                ", set against what the claim and the enclosed records show."))
            if rows else "",
        },
        "criteria": rows,
        "enclosures": enclosures,
    })
    return ctx


def build_prior_auth(ctx: dict, claim: pd.Series, rule: pd.Series, payer: pd.Series, codesets,
                     today: dt.date) -> dict:
    """Fill ``ctx`` with a prior-authorization request for one claim line."""
    payer_name = ctx["payer"]["name"]
    cpt = text(claim.get("CPT/HCPCS"))
    dos = as_date(claim.get("Date of Service"))
    codes = split_codes(claim.get("Dx Codes"))
    units = number(claim.get("Units"))
    policy_ref = text(rule.get("Policy"))
    line = int(number(claim.get("Line")) or 1)
    rows = criteria(rule, claim, None, codesets)
    for r in rows:
        if r["name"] == "Prior authorization":
            r["evidence"], r["met"] = "Requested by this letter", "Pending"
    enclosures = ["Office note documenting the history, examination, assessment and plan"]
    if number(claim.get("Therapy Weeks")) is not None or number(rule.get("Min Therapy Weeks")):
        enclosures.append("Conservative therapy records")
    if as_date(claim.get("Imaging Date")) or yes(rule.get("Imaging Required")):
        enclosures.append((text(claim.get("Imaging Type")) or "Imaging") + " report"
                          + (f" dated {short_date(claim.get('Imaging Date'))}" if as_date(claim.get("Imaging Date")) else ""))
    argument = _argument(rule, claim, None, codesets, policy_ref, payer_name)
    argument[-1] = ("The enclosed office note records the history, examination findings, assessment and plan that "
                    "establish the medical necessity of the procedure.")
    ctx.update({
        "letter_date": long_date(today),
        "patient": _patient(claim, None),
        "claim": {
            "id": text(claim.get("Claim ID")), "line": str(line), "dos": short_date(dos) or NOT_ON_FILE,
            "procedure": _procedure(cpt, split_modifiers(claim.get("Modifiers")), rule),
            "units": plain_number(units) if units is not None else "1",
            "diagnoses": "\n".join(describe_dx(c, codesets) for c in codes) or NOT_ON_FILE,
            "provider": text(claim.get("Rendering Provider")) or NOT_ON_FILE,
        },
        "request": {
            "opening": (f"{ctx['practice']['name']} requests prior authorization for the service below. "
                        f"{payer_name}'s policy {policy_ref} requires authorization before {cpt} is performed; the "
                        "clinical information and the policy criteria follow."),
            "contact_text": (f"Please send the authorization decision to {ctx['signer']['name']} at "
                             f"{ctx['practice']['phone']}."),
        },
        "argument": argument,
        "policy": {"reference": policy_ref,
                   "sentence": f"{payer_name} policy {policy_ref} sets these criteria for {cpt}:"},
        "criteria": rows,
        "enclosures": enclosures,
    })
    return ctx
