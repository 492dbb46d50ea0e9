"""Remittances → Denials rows (CONTRACT §1), linked to Claims, decoded, with appeal deadlines.

What counts as a denial (domain.md): a claim with CLP02 = 4, or a service line / claim whose
payment is zero or reduced by a CARC outside the routine set (the ``Denial`` column of
carc.csv: deductible, coinsurance, copay, contractual, prior payer … are routine).  Each denied
service line gives one row; adjustments at claim level (no service lines, or a claim-level CAS
that no line explains) give one claim-level row.  Reversals (CLP02 = 22) only undo an earlier
payment: they never add a row, so a reversed-and-reprocessed claim is counted once.

Idempotency: each row carries a ``Remit Key`` (check/trace number, payer claim number, line
control number or position, group-CARC) kept in an extra column of the Denials table; rows
whose key is already in the log are not added again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from ..tables import DENIALS
from .deadlines import PayerDirectory, appeal_deadline
from .decode import CodeTables
from ..values import is_blank, parse_date
from .x12_835 import Adjustment, ClaimPayment, Remittance, ServiceLine

KEY_COLUMN = "Remit Key"
_ID = re.compile(r"^D-(\d+)$", re.I)


_blank = is_blank


def _date(value) -> dt.date | None:
    return parse_date(value)


class ClaimIndex:
    """Claims lines by (Claim ID, Date of Service, CPT/HCPCS), with looser fallbacks."""

    def __init__(self, claims: pd.DataFrame | None):
        self.exact: dict = {}
        self.by_cpt: dict = defaultdict(list)
        self.by_claim: dict = defaultdict(list)
        if claims is None or not len(claims):
            return
        for rec in claims.to_dict("records"):
            cid = str(rec.get("Claim ID") or "").strip()
            if not cid:
                continue
            cpt = str(rec.get("CPT/HCPCS") or "").strip().upper()
            dos = _date(rec.get("Date of Service"))
            self.exact.setdefault((cid, dos, cpt), rec)
            self.by_cpt[(cid, cpt)].append(rec)
            self.by_claim[cid].append(rec)

    def find(self, claim_id: str, dos: dt.date | None, cpt: str) -> dict | None:
        claim_id = str(claim_id or "").strip()
        cpt = str(cpt or "").strip().upper()
        if cpt:
            rec = self.exact.get((claim_id, dos, cpt))
            if rec is not None:
                return rec
            same = self.by_cpt.get((claim_id, cpt), [])
            if len(same) == 1 and (dos is None or _date(same[0].get("Date of Service")) in (None, dos)):
                return same[0]
            return None
        lines = self.by_claim.get(claim_id, [])
        return lines[0] if len(lines) == 1 else None


def next_denial_number(existing_ids) -> int:
    """One more than the highest ``D-000123`` in the log (IDs are never reused)."""
    highest = 0
    for value in existing_ids:
        m = _ID.match(str(value or "").strip())
        if m:
            highest = max(highest, int(m.group(1)))
    return highest + 1


def format_denial_id(n: int) -> str:
    return f"D-{n:06d}"


@dataclass
class ImportCounts:
    claims: int = 0
    paid_claims: int = 0
    reversals: int = 0
    denial_rows: int = 0
    remittances: int = 0


class DenialBuilder:
    """Turns parsed remittances into Denials rows for one 835 file."""

    def __init__(self, tables: CodeTables, payers: PayerDirectory, claims: ClaimIndex):
        self.tables, self.payers, self.claims = tables, payers, claims

    def _denying(self, adjustments: list[Adjustment]) -> list[Adjustment]:
        return [a for a in adjustments if a.amount > 0 and self.tables.is_denial(a.group, a.reason)]

    def rows(self, remits: list[Remittance], *, source: str, file_date: dt.date | None,
             counts: ImportCounts | None = None) -> list[dict]:
        counts = counts if counts is not None else ImportCounts()
        out = []
        for remit in remits:
            counts.remittances += 1
            denial_date = remit.remit_date or file_date
            for claim in remit.claims:
                counts.claims += 1
                if claim.is_reversal:
                    counts.reversals += 1
                    continue
                rows = self._claim_rows(remit, claim, denial_date, source)
                if not rows:
                    counts.paid_claims += 1
                out.extend(rows)
        counts.denial_rows += len(out)
        return out

    def _claim_rows(self, remit: Remittance, claim: ClaimPayment, denial_date, source: str) -> list[dict]:
        claim_adj = self._denying(claim.adjustments)
        rows = []
        for position, line in enumerate(claim.lines, start=1):
            line_adj = self._denying(line.adjustments)
            if line_adj:
                rows.append(self._row(remit, claim, line, position, line_adj, denial_date, source))
            elif claim.is_denied and line.paid <= 0:
                # a denied claim's unpaid line: explained by the claim-level CAS, else by its own
                explain = claim_adj or [a for a in line.adjustments if a.amount > 0]
                rows.append(self._row(remit, claim, line, position, explain, denial_date, source,
                                      denied=line.charge - line.paid))
        if claim_adj and not rows:
            rows.append(self._row(remit, claim, None, 0, claim_adj, denial_date, source))
        elif claim.is_denied and not claim.lines and not rows:
            rows.append(self._row(remit, claim, None, 0, [], denial_date, source,
                                  denied=claim.charge - claim.paid))
        return rows

    def _row(self, remit, claim: ClaimPayment, line: ServiceLine | None, position: int,
             adjustments: list[Adjustment], denial_date, source: str, denied: float | None = None) -> dict:
        primary = max(adjustments, key=lambda a: a.amount) if adjustments else None
        others = [a for a in adjustments if a is not primary]
        dos = (line.service_date if line is not None else None) or claim.service_date
        cpt = line.procedure if line is not None else ""
        remarks = (line.remarks if line is not None else []) or claim.remarks
        linked = self.claims.find(claim.patient_control_number, dos, cpt) if (cpt or line is None) else None
        findings = str(linked.get("Finding Codes") or "") if linked else ""
        payer = (self.payers.match(remit.payer_name)
                 or (str(linked.get("Payer") or "").strip() if linked else "")
                 or remit.payer_name)
        carc = primary.reason if primary else ""
        modifiers = ", ".join(line.modifiers) if line is not None and line.modifiers else ""
        if not modifiers and linked:
            modifiers = str(linked.get("Modifiers") or "")
        billed = line.charge if line is not None else claim.charge
        paid = line.paid if line is not None else claim.paid
        denied_amount = sum(a.amount for a in adjustments) if denied is None else denied
        line_no = linked.get("Line") if linked else None
        if _blank(line_no):
            line_no = position or None
        control = (line.control_number if line is not None else "") or (f"{cpt}@{dos}#{position}" if line else "claim")
        key = "|".join([remit.trace_number or source, claim.payer_claim_number or claim.patient_control_number,
                        claim.patient_control_number, control,
                        f"{primary.group}-{primary.reason}" if primary else f"CLP{claim.status}"])
        notes = "; ".join(f"also {a.group}-{a.reason} {a.amount:.2f}" for a in others)
        return {
            "Claim ID": claim.patient_control_number,
            "Line": int(line_no) if not _blank(line_no) else None,
            "Patient ID": str(linked.get("Patient ID") or "") if linked else "",
            "Payer": payer,
            "Date of Service": dos,
            "CPT/HCPCS": cpt,
            "Modifiers": modifiers,
            "Dx Codes": str(linked.get("Dx Codes") or "") if linked else "",
            "Billed Amount": round(billed, 2),
            "Paid Amount": round(paid, 2),
            "Denied Amount": round(denied_amount, 2),
            "Denial Date": denial_date,
            "Group Code": primary.group if primary else "",
            "CARC": carc,
            "RARC": "; ".join(dict.fromkeys(remarks)),
            "Reason": self.tables.reason(carc, list(dict.fromkeys(remarks))),
            # a CLP02=4 claim explained only by routine codes is still a denied claim
            "Category": (self.tables.category(carc) if carc and self.tables.is_denial(primary.group, carc)
                         else "denied claim"),
            "Root Cause": self.tables.root_cause(carc, remarks, findings) if carc else "",
            "Status": "Open",
            "Appeal Deadline": appeal_deadline(denial_date, self.payers.appeal_window(payer)),
            "Notes": notes,
            "Source": source,
            KEY_COLUMN: key,
        }


def fill_blanks(denials: pd.DataFrame, *, tables: CodeTables, payers: PayerDirectory,
                claims: ClaimIndex) -> pd.DataFrame:
    """For rows typed by hand: the values to put into BLANK cells only (index = row numbers).

    Returns a frame with the columns Denial ID, Patient ID, Modifiers, Dx Codes, Reason,
    Category, Root Cause, Appeal Deadline, Status, Source; a cell is None where nothing is to
    be written (the biller's own entries are never overwritten).
    """
    cols = ["Denial ID", "Patient ID", "Line", "Modifiers", "Dx Codes", "Reason", "Category", "Root Cause",
            "Appeal Deadline", "Status", "Source"]
    number = next_denial_number(denials["Denial ID"] if "Denial ID" in denials else [])
    out = {c: [] for c in cols}
    for _, rec in denials.iterrows():
        get = lambda c: rec.get(c) if c in rec.index else None  # noqa: E731
        carc = str(get("CARC") or "").strip().upper()
        rarc = str(get("RARC") or "")
        linked = claims.find(get("Claim ID"), _date(get("Date of Service")), str(get("CPT/HCPCS") or ""))
        findings = str(linked.get("Finding Codes") or "") if linked else ""
        proposed = {
            "Patient ID": str(linked.get("Patient ID") or "") if linked else None,
            "Line": linked.get("Line") if linked and not _blank(linked.get("Line")) else None,
            "Modifiers": str(linked.get("Modifiers") or "") if linked else None,
            "Dx Codes": str(linked.get("Dx Codes") or "") if linked else None,
            "Reason": tables.reason(carc, rarc) if carc else None,
            "Category": tables.category(carc) if carc else None,
            "Root Cause": tables.root_cause(carc, rarc, findings) if carc else None,
            "Appeal Deadline": appeal_deadline(get("Denial Date"), payers.appeal_window(get("Payer"))),
            "Status": "Open",
            "Source": "manual",
        }
        if _blank(get("Denial ID")):
            proposed["Denial ID"] = format_denial_id(number)
            number += 1
        for c in cols:
            value = proposed.get(c)
            out[c].append(value if _blank(get(c)) and not _blank(value) else None)
    return pd.DataFrame(out, index=denials.index, dtype=object)


__all__ = ["DenialBuilder", "ClaimIndex", "ImportCounts", "fill_blanks", "next_denial_number",
           "format_denial_id", "KEY_COLUMN", "DENIALS"]
