"""Remittances → Denials rows (CONTRACT §1), linked to Claims, decoded, with appeal deadlines.

What counts as a denial (domain.md): a claim with CLP02 = 4, or a service line / claim reduced
by a CARC whose ``Denial`` flag in carc.csv is Y (routine codes — patient share, contractual and
fee-schedule reductions, withholds, sequestration, penalties, negotiated discounts — are not).  A
CARC the table does not know is a denial only when the line (or claim) paid nothing, and is listed
in the import summary.  Each denied service line gives one row; adjustments at claim level (no
service lines, or a claim-level CAS that no line explains) give one claim-level row.  Reversals
(CLP02 = 22) never add a row.

A transaction set repeated inside one file (the same interchange sent twice) is read once.  Two
identical lines inside one claim stay two rows: their key holds the line control number (REF*6R)
or the line's position in the claim.

Idempotency: each row carries a ``Remit Key`` (check/trace number, payer claim number, line
control number or position, group-CARC) kept in an extra column of the Denials table; rows
whose key is already in the log are not added again.  A key longer than ``KEY_MAX`` characters
is shortened with a hash, and every cell is kept within Excel's 32,767-character limit, so a
hostile value cannot make a re-import miss its key.

Later remittances close the loop (``Resolution``): a payment on a logged denial's claim line
marks it Paid; a new denial of an Appealed line marks it Upheld.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from ..tables import DENIALS
from ..values import is_blank, parse_date
from .deadlines import PayerDirectory
from .decode import CodeTables
from .x12_835 import Adjustment, ClaimPayment, Remittance, ServiceLine

KEY_COLUMN = "Remit Key"
KEY_SEPARATOR = " || "  # a row that absorbed a later re-denial keeps both keys
KEY_MAX = 400
EXCEL_CELL_MAX = 32_767
NO_REASON = "Denied; the payer gave no reason code"
_ID = re.compile(r"^D-(\d+)$", re.I)


_blank = is_blank




def cell(text: str) -> str:
    """A value from a file, cut to fit one Excel cell (Excel refuses longer text)."""
    return text if len(text) <= EXCEL_CELL_MAX else text[:EXCEL_CELL_MAX - 1] + "…"


def remit_key(parts: list[str]) -> str:
    """The idempotency key; a hash stands in for over-long parts so it always fits a cell."""
    key = "|".join(parts)
    if len(key) <= KEY_MAX:
        return key
    return key[:KEY_MAX - 42] + "#" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


def logged_keys(values: Iterable) -> set[str]:
    out: set[str] = set()
    for v in values:
        if not _blank(v):
            out.update(k.strip() for k in str(v).split(KEY_SEPARATOR.strip()) if k.strip())
    return out


def _money(value: Decimal) -> float:
    """Decimal → the float a spreadsheet cell holds, exact to the cent."""
    return float(value.quantize(Decimal("0.01")))


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
            dos = parse_date(rec.get("Date of Service"))
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
            if len(same) == 1 and (dos is None or parse_date(same[0].get("Date of Service")) in (None, dos)):
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
    repeated_sets: int = 0  # transaction sets sent twice inside one file, read once
    unknown_codes: Counter = field(default_factory=Counter)  # CARCs not in carc.csv
    unmapped_payers: dict = field(default_factory=dict)  # 835 payer name → payer ID


def _merge(total: ImportCounts, part: ImportCounts) -> None:
    for name in ("claims", "paid_claims", "reversals", "remittances", "repeated_sets"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.unknown_codes.update(part.unknown_codes)
    for name, pid in part.unmapped_payers.items():
        total.unmapped_payers.setdefault(name, pid)


@dataclass(frozen=True)
class Payment:
    """A later remittance paying (part of) a claim line: it may resolve a logged denial."""
    claim_id: str
    cpt: str
    service_date: dt.date | None
    paid: Decimal
    date: dt.date | None
    trace: str


class DenialBuilder:
    """Turns parsed remittances into Denials rows, one transaction set at a time.

    ``watch`` holds the Claim IDs already in the log: payments on those claims are kept in
    ``payments`` so the job can close the loop."""

    def __init__(self, tables: CodeTables, payers: PayerDirectory, claims: ClaimIndex,
                 watch: set[str] | None = None):
        self.tables, self.payers, self.claims = tables, payers, claims
        self.watch = watch or set()
        self.payments: list[Payment] = []

    def _denying(self, adjustments: list[Adjustment], paid_nothing: bool, counts: ImportCounts) -> list[Adjustment]:
        out = []
        for a in adjustments:
            if a.amount <= 0:
                continue
            if not self.tables.is_known(a.reason):
                counts.unknown_codes[f"{a.group}-{a.reason}"] += 1
            if self.tables.is_denial(a.group, a.reason, paid_nothing):
                out.append(a)
        return out

    def rows(self, remits: Iterable[Remittance], *, source: str, file_date: dt.date | None,
             counts: ImportCounts | None = None) -> list[dict]:
        """Rows of whole remittances (each with its claims)."""
        return self.stream_rows(((r, c) for r in remits for c in [*r.claims, None]), source=source,
                                file_date=file_date, counts=counts)

    def stream_rows(self, claims: Iterable[tuple[Remittance, ClaimPayment | None]], *, source: str,
                    file_date: dt.date | None, counts: ImportCounts | None = None) -> list[dict]:
        """Rows from ``iter_835_claims``: one claim at a time; a transaction set's rows (and the
        payments it records) are kept only once its SE shows it is not a repeated transmission."""
        counts = counts if counts is not None else ImportCounts()
        out: list[dict] = []
        pending: list[dict] = []
        pending_counts = ImportCounts()
        payments_mark = len(self.payments)
        payer: str | None = None
        current: Remittance | None = None
        for remit, claim in claims:
            if remit is not current:
                current, payer = remit, self._payer(remit, pending_counts)
            if claim is not None:
                pending.extend(self.claim_rows(remit, claim, source=source, file_date=file_date, payer=payer,
                                               counts=pending_counts))
                continue
            if remit.repeat:  # the same transaction set again: forget what it gave
                counts.repeated_sets += 1
                del self.payments[payments_mark:]
            else:
                counts.remittances += 1
                out.extend(pending)
                _merge(counts, pending_counts)
            pending, pending_counts, payments_mark, current = [], ImportCounts(), len(self.payments), None
        counts.denial_rows += len(out)
        return out

    def _payer(self, remit: Remittance, counts: ImportCounts) -> str | None:
        payer = self.payers.match(remit.payer_name, remit.payer_id)
        if payer is None and (remit.payer_name or remit.payer_id):
            counts.unmapped_payers.setdefault(remit.payer_name or "?", remit.payer_id)
        return payer

    def claim_rows(self, remit: Remittance, claim: ClaimPayment, *, source: str, file_date: dt.date | None,
                   payer: str | None, counts: ImportCounts) -> list[dict]:
        denial_date = remit.remit_date or file_date
        counts.claims += 1
        if claim.is_reversal:
            counts.reversals += 1
            return []
        if claim.patient_control_number in self.watch:
            self._note_payments(claim, denial_date, remit.trace_number or source)
        rows = self._claim_rows(remit, claim, denial_date, source, payer, counts)
        if not rows:
            counts.paid_claims += 1
        return rows

    def _note_payments(self, claim: ClaimPayment, when, trace: str) -> None:
        for line in claim.lines:
            if line.paid > 0:
                dos = line.service_date or claim.service_date
                self.payments.append(Payment(claim.patient_control_number, line.procedure, dos, line.paid, when,
                                             trace))
        if claim.paid > 0:
            self.payments.append(Payment(claim.patient_control_number, "", claim.service_date, claim.paid, when,
                                         trace))

    def _claim_rows(self, remit: Remittance, claim: ClaimPayment, denial_date, source: str, payer: str | None,
                    counts: ImportCounts) -> list[dict]:
        claim_adj = self._denying(claim.adjustments, claim.paid <= 0, counts)
        rows = []
        for position, line in enumerate(claim.lines, start=1):
            line_adj = self._denying(line.adjustments, line.paid <= 0, counts)
            if line_adj:
                rows.append(self._row(remit, claim, line, position, line_adj, denial_date, source, payer))
            elif claim.is_denied and line.paid <= 0:
                # a denied claim's unpaid line: explained by the claim-level CAS, else by its own
                explain = claim_adj or [a for a in line.adjustments if a.amount > 0]
                rows.append(self._row(remit, claim, line, position, explain, denial_date, source, payer,
                                      denied=line.charge - line.paid))
        if claim_adj and not rows:
            rows.append(self._row(remit, claim, None, 0, claim_adj, denial_date, source, payer))
        elif claim.is_denied and not claim.lines and not rows:
            rows.append(self._row(remit, claim, None, 0, list(claim.adjustments), denial_date, source, payer,
                                  denied=claim.charge - claim.paid))
        return rows

    def _row(self, remit: Remittance, claim: ClaimPayment, line: ServiceLine | None, position: int,
             adjustments: list[Adjustment], denial_date, source: str, payer_row: str | None,
             denied: Decimal | None = None) -> dict:
        """One Denials row.  Long (~65 lines) because it is the one place the row's 25 columns are
        assembled from the remittance, the linked Claims line and the code tables."""
        primary = max(adjustments, key=lambda a: a.amount) if adjustments else None
        others = [a for a in adjustments if a is not primary]
        dos = (line.service_date if line is not None else None) or claim.service_date
        cpt = line.procedure if line is not None else ""
        remarks = list(dict.fromkeys((line.remarks if line is not None else []) or claim.remarks))
        linked = self.claims.find(claim.patient_control_number, dos, cpt) if (cpt or line is None) else None
        findings = str(linked.get("Finding Codes") or "") if linked else ""
        payer = (payer_row
                 or (str(linked.get("Payer") or "").strip() if linked else "")
                 or remit.payer_name)
        carc = primary.reason if primary else ""
        modifiers = ", ".join(line.modifiers) if line is not None and line.modifiers else ""
        if not modifiers and linked:
            modifiers = str(linked.get("Modifiers") or "")
        billed = line.charge if line is not None else claim.charge
        paid = line.paid if line is not None else claim.paid
        denied_amount = sum((a.amount for a in adjustments), Decimal(0)) if denied is None else denied
        line_no = linked.get("Line") if linked else None
        if _blank(line_no):
            line_no = position or None
        control = (line.control_number if line is not None else "") or (f"{cpt}@{dos}#{position}" if line else "claim")
        if line is not None and line.control_number and sum(
                1 for other in claim.lines if other.control_number == line.control_number) > 1:
            control += f"#{position}"  # two lines sent with one control number stay two
        key = remit_key([remit.trace_number or source, claim.payer_claim_number or claim.patient_control_number,
                         claim.patient_control_number, control,
                         f"{primary.group}-{primary.reason}" if primary else f"CLP{claim.status}"])
        deadline = self.payers.deadline(payer, denial_date)
        notes = [f"also {a.group}-{a.reason} {_money(a.amount):.2f}" for a in others]
        notes.append(deadline.rule)
        if carc and not self.tables.is_known(carc):
            notes.append(f"CARC {carc} is not in the practice's CARC table: logged because the line paid nothing")
        denial_carc = primary is not None and self.tables.is_denial(primary.group, carc, paid <= 0)
        reason = self.tables.reason(carc, remarks) if carc else (
            NO_REASON + (". " + self.tables.reason("", remarks) if remarks else ""))
        return {
            "Claim ID": cell(claim.patient_control_number),
            "Line": int(line_no) if line_no is not None and not _blank(line_no) else None,
            "Patient ID": str(linked.get("Patient ID") or "") if linked else "",
            "Payer": cell(payer),
            "Date of Service": dos,
            "CPT/HCPCS": cell(cpt),
            "Modifiers": cell(modifiers),
            "Dx Codes": str(linked.get("Dx Codes") or "") if linked else "",
            "Billed Amount": _money(billed),
            "Paid Amount": _money(paid),
            "Denied Amount": _money(denied_amount),
            "Denial Date": denial_date,
            "Group Code": cell(primary.group) if primary else "",
            "CARC": cell(carc),
            "RARC": cell("; ".join(remarks)),
            "Reason": cell(reason),
            # a CLP02=4 claim explained only by routine codes is still a denied claim
            "Category": self.tables.category(carc) if denial_carc else "denied claim",
            "Root Cause": self.tables.root_cause(carc, remarks, findings, cpt) if carc else "",
            "Status": "Open",
            "Appeal Deadline": deadline.date,
            "Notes": cell("; ".join(n for n in notes if n)),
            "Source": cell(source),
            KEY_COLUMN: key,
        }


OPEN_STATUSES = ("", "open", "appealed", "resubmitted")


@dataclass
class Resolution:
    """What later remittances say about denials already in the log: cells to write per row."""
    updates: dict = field(default_factory=dict)  # row index → {column: value}
    absorbed: set = field(default_factory=set)  # keys of new re-denial rows folded into an Upheld row

    @property
    def paid(self) -> int:
        return sum(1 for u in self.updates.values() if u.get("Status") == "Paid")

    @property
    def upheld(self) -> int:
        return sum(1 for u in self.updates.values() if u.get("Status") == "Upheld")


def trace_of_key(log: pd.DataFrame, row, key_col: str | None) -> str:
    """The row's Remit Key as stored ("" when none)."""
    if not key_col or key_col not in log.columns or _blank(log.at[row, key_col]):
        return ""
    return str(log.at[row, key_col])


def _line_key(claim_id, cpt, dos) -> tuple:
    return (str(claim_id or "").strip(), str(cpt or "").strip().upper(), parse_date(dos))


def resolve(log: pd.DataFrame, payments: list[Payment], new_rows: list[dict], key_col: str | None) -> Resolution:
    """Close the loop: a later payment on a logged denial's line (or, for a claim-level row, on its
    claim) → Paid; a new denial of a line whose row is Appealed → Upheld (the new row is not added:
    its key joins the Upheld row's, so a re-import changes nothing).  A remittance never resolves
    a denial it created itself (same trace number) nor one dated after it."""
    out = Resolution()
    if log is None or not len(log) or not (payments or new_rows):
        return out

    def column(name: str) -> list:
        return log[name].tolist() if name in log.columns else [None] * len(log)

    index: dict[tuple, list] = defaultdict(list)
    denial_dates, traces = {}, {}
    for row, cid, cpt, dos, status, denied_on, key in zip(
            log.index, column("Claim ID"), column("CPT/HCPCS"), column("Date of Service"), column("Status"),
            column("Denial Date"), column(key_col) if key_col else [None] * len(log)):
        if ("" if _blank(status) else str(status).strip().casefold()) not in OPEN_STATUSES:
            continue
        blank_cpt = _blank(cpt)
        index[_line_key(cid, "" if blank_cpt else cpt, dos)].append(row)
        if blank_cpt:
            index[_line_key(cid, "", None)].append(row)
        denial_dates[row] = parse_date(denied_on)
        traces[row] = "" if _blank(key) else str(key).split("|", 1)[0]

    def trace_of(row) -> str:
        return traces.get(row, "")

    def later(row, when) -> bool:
        logged = denial_dates.get(row)
        return when is None or logged is None or when >= logged

    for pay in payments:
        keys = [_line_key(pay.claim_id, pay.cpt, pay.service_date)] if pay.cpt else [_line_key(pay.claim_id, "", None)]
        for row in (r for k in keys for r in index.get(k, [])):
            if row in out.updates or trace_of(row) == pay.trace or not later(row, pay.date):
                continue
            out.updates[row] = {"Status": "Paid", "Resolved Date": pay.date,
                                "Outcome": f"Paid {_money(pay.paid):.2f} on the remittance of "
                                           f"{pay.date.isoformat() if pay.date else '?'} (trace {pay.trace})"}
    for new in new_rows:
        k = _line_key(new["Claim ID"], new["CPT/HCPCS"], new["Date of Service"])
        for row in index.get(k, []):
            status = str(log.at[row, "Status"] or "").strip().casefold()
            if status != "appealed" or row in out.updates or trace_of(row) == new[KEY_COLUMN].split("|", 1)[0]:
                continue
            when = new["Denial Date"]
            out.updates[row] = {"Status": "Upheld", "Resolved Date": when,
                                "Outcome": f"Denied again on the remittance of {when.isoformat() if when else '?'}"
                                           f" ({new['Group Code']}-{new['CARC']})".replace(" (-)", ""),
                                "_key": (f"{trace_of_key(log, row, key_col)}{KEY_SEPARATOR}{new[KEY_COLUMN]}"
                                         .lstrip(" |"))}
            out.absorbed.add(new[KEY_COLUMN])
            break
    return out


def fill_blanks(denials: pd.DataFrame, *, tables: CodeTables, payers: PayerDirectory,
                claims: ClaimIndex) -> pd.DataFrame:
    """For rows typed by hand: the values to put into BLANK cells only (index = row numbers).

    Returns a frame with the columns Denial ID, Patient ID, Modifiers, Dx Codes, Reason,
    Category, Root Cause, Appeal Deadline, Status, Source; a cell is None where nothing is to
    be written (the biller's own entries are never overwritten).
    """
    cols = ["Denial ID", "Patient ID", "Line", "Modifiers", "Dx Codes", "Reason", "Category", "Root Cause",
            "Appeal Deadline", "Status", "Source", "Notes"]
    number = next_denial_number(denials["Denial ID"] if "Denial ID" in denials.columns else [])
    out: dict[str, list] = {c: [] for c in cols}
    for _, rec in denials.iterrows():
        def get(c, rec=rec):
            return rec.get(c) if c in rec.index else None
        carc = str(get("CARC") or "").strip().upper()
        rarc = str(get("RARC") or "")
        linked = claims.find(get("Claim ID"), parse_date(get("Date of Service")), str(get("CPT/HCPCS") or ""))
        findings = str(linked.get("Finding Codes") or "") if linked else ""
        deadline = payers.deadline(get("Payer"), get("Denial Date"))
        proposed = {
            "Patient ID": str(linked.get("Patient ID") or "") if linked else None,
            "Line": linked.get("Line") if linked and not _blank(linked.get("Line")) else None,
            "Modifiers": str(linked.get("Modifiers") or "") if linked else None,
            "Dx Codes": str(linked.get("Dx Codes") or "") if linked else None,
            "Reason": tables.reason(carc, rarc) if carc else None,
            "Category": tables.category(carc) if carc else None,
            "Root Cause": tables.root_cause(carc, rarc, findings, str(get("CPT/HCPCS") or "")) if carc else None,
            "Appeal Deadline": deadline.date,
            "Notes": deadline.rule if deadline.date is not None else None,
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


__all__ = ["DenialBuilder", "ClaimIndex", "ImportCounts", "Payment", "Resolution", "resolve", "fill_blanks",
           "next_denial_number", "format_denial_id", "logged_keys", "KEY_COLUMN", "DENIALS"]
