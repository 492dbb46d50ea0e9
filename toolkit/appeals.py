"""Casefile: the tables an appeal letter or prior-authorization request draws on.

``Casefile`` gathers a denial, its claim line, the rule in force on the date of service, the payer
and the practice's Settings, checks that nothing a payer needs is missing, and hands them to the
letter builders in ``toolkit.letters`` (one builder per kind of letter, in a registry).

What stops a letter (an error naming the table and row): an unknown denial, for a medical-necessity
or authorization letter no rule or a rule without a Policy reference (it would cite nothing), a payer
missing from Payers or without an Address (nowhere to send it), Settings without practice name,
address or signer.  What the letter shows as "[not on file]" for the biller to complete in Word:
patient details when the claim line is no longer in Claims, the member ID when Claims has no such
column (``toolkit.letters.needs_input`` lists them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from pathlib import Path

import pandas as pd

from .checklists import as_date, joined, nobreak_phone, number, practice_context, require_policy, text
from .errors import InputError
from .letters import (
    KIND_OF_CATEGORY,
    KINDS,
    POLICY_KINDS,
    LetterKind,
    NoLetter,
    build_appeal,
    build_prior_auth,
    criteria,
    denial_kind,
    needs_input,
)
from .rules import is_medicare
from .tables import CLAIMS, DENIALS, header_key
from .values import coerce_table

CORRECTION_UNIT = {True: "Reopenings", False: "Corrected Claims"}

__all__ = ["Casefile", "address_lines", "build_appeal", "build_prior_auth", "criteria", "denial_kind", "needs_input",
           "KINDS", "KIND_OF_CATEGORY", "LetterKind", "NoLetter"]


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
        self.claims: pd.DataFrame | None = None
        if claims is not None and len(claims.columns):
            self.claims = coerce_table(CLAIMS, claims)
        self.rules = prepare_rules(rules)
        self._payer_rows: dict[str, int] = {}  # payer key -> its row in the Payers sheet
        if payers is not None:
            from .rules import payer_key

            self._payer_rows = {}
            for r, p in zip(payers.index, _raw_payer_names(payers)):
                self._payer_rows.setdefault(payer_key(p), int(r))
        self.payers = prepare_payers(payers)
        self._claim_index: dict[tuple[str, int], Hashable] = {}  # (Claim ID, Line) -> row of Claims
        self._denial_index: dict[str, Hashable] | None = None  # folded Denial ID -> row of Denials
        self._denial_pos: dict[Hashable, int] | None = None  # row of Denials -> position of its rule
        self._claim_pos: dict[Hashable, int] | None = None  # row of Claims -> position of its rule
        self._same_day: dict[tuple[str, dt.date | None], list[Hashable]] | None = None
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
        return None if row is None or self.claims is None else self.claims.loc[row]

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
                                           unit=CORRECTION_UNIT[medicare] if kind == LetterKind.CORRECTION else None)
        same_day = (self.same_day_lines(src, claim) if kind in (LetterKind.DUPLICATE, LetterKind.BUNDLING)
                    else [])
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
        if self.claims is None:
            raise InputError("no Claims table: a prior-authorization request is built from a claim line",
                             file=self.file, sheet="Claims")
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
            "contact_line": joined([f"Phone {nobreak_phone(text(payer.get('Phone')))}" if text(payer.get("Phone"))
                                    else "",
                                    f"Fax {nobreak_phone(text(payer.get('Fax')))}" if text(payer.get("Fax")) else "",
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
