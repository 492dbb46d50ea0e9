"""X12 835 remittance advice (005010X221A1) → plain objects, one transaction set at a time.

Segments come from the shared streaming tokenizer in ``toolkit.x12`` (why not pyx12: see there),
so a 100 MB remittance is read a chunk at a time and each ST…SE transaction set is handed on as
soon as its SE trailer has been checked; nothing but the current transaction set is held.

The parser knows the 835 loops only as far as a denial log needs: payer (N1*PR, its ID from
N1*PR…XV or REF*2U), check/trace number (TRN02), payment and production dates (BPR16, DTM*405),
claims (CLP) with their claim-level adjustments (CAS) and remarks (MOA/MIA), and service lines
(SVC) with their adjustments, dates (DTM*472/150), control numbers (REF*6R) and remarks (LQ*HE).

A file is accepted whole or refused whole: every SE01 segment count, and the GE/IEA trailers
when the file has a GS/ISA envelope, are checked; a file that ends inside a transaction set is
incomplete (``InputError`` naming what is missing).  Money is ``Decimal``; an amount that is not
a number is an error naming the segment, never 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import InputError
from ..x12 import SegmentReader
from ..x12 import element as _el

ZERO = Decimal("0")


@dataclass
class Adjustment:
    """One CAS triplet: group code (CO/PR/OA/PI), reason code (CARC), amount, quantity."""
    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass
class ServiceLine:
    procedure: str = ""
    qualifier: str = ""
    modifiers: list[str] = field(default_factory=list)
    charge: Decimal = ZERO
    paid: Decimal = ZERO
    units: Decimal | None = None
    service_date: dt.date | None = None
    control_number: str = ""  # REF*6R: the line item control number the provider sent
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LQ*HE remark codes (RARC)


@dataclass
class ClaimPayment:
    patient_control_number: str  # CLP01 = the practice's Claim ID
    status: str  # CLP02: 1/2/3 processed, 4 denied, 22 reversal
    charge: Decimal = ZERO
    paid: Decimal = ZERO
    patient_responsibility: Decimal = ZERO
    payer_claim_number: str = ""  # CLP07
    service_date: dt.date | None = None  # DTM*232 (statement from) when lines carry none
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    remarks: list[str] = field(default_factory=list)  # MOA/MIA remark codes
    lines: list[ServiceLine] = field(default_factory=list)

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"

    @property
    def is_denied(self) -> bool:
        return self.status == "4"


@dataclass
class Remittance:
    """One ST…SE transaction set: one payment (or non-payment) from one payer."""
    control_number: str = ""
    version: str = ""
    interchange: str = ""  # ISA13 of the interchange that carried it
    payer_name: str = ""
    payer_id: str = ""  # N1*PR…XV/PI/FI (N104) or REF*2U
    payee_name: str = ""
    trace_number: str = ""  # TRN02: check or EFT trace number
    payment_date: dt.date | None = None  # BPR16
    production_date: dt.date | None = None  # DTM*405
    total_paid: Decimal = ZERO
    claims: list[ClaimPayment] = field(default_factory=list)
    repeat: bool = False  # the same transaction set already came earlier in this file

    @property
    def remit_date(self) -> dt.date | None:
        """The remittance's own date: production date (DTM*405), else payment date (BPR16)."""
        return self.production_date or self.payment_date

    @property
    def date_source(self) -> str:
        return "DTM*405" if self.production_date else ("BPR16" if self.payment_date else "")


# ---------------------------------------------------------------- parser

def _date(text: str) -> dt.date | None:
    if len(text) == 8 and text.isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None


def _refuse_version(version: str, file) -> None:
    if version.startswith(("004", "003", "4010")):
        raise InputError(
            f"this is an X12 {version[:6]} (4010-era) remittance; only 5010 files (005010X221A1) can be "
            "imported: ask the payer or clearinghouse for the 5010 version", file=file)


class _Parser:
    """State of the walk over one file's segments (envelope, transaction set, claim, line).

    Why a class: the 835's loops nest (ISA > GS > ST > CLP > SVC) and each segment's meaning
    depends on which loop is open; one method per segment family keeps each step short."""

    def __init__(self, file, notes: list[str] | None = None, keep_claims: bool = True):
        self.file = file
        self.keep_claims = keep_claims  # False: claims only pass through ``finished``
        self.finished: list[ClaimPayment] = []
        self.notes = notes if notes is not None else []
        self.isa_version = self.gs_version = self.isa13 = self.gs06 = ""
        self.in_isa = self.in_gs = False
        self.groups = self.sets_in_group = 0
        self.remit: Remittance | None = None
        self.claim: ClaimPayment | None = None
        self.line: ServiceLine | None = None
        self.count = 0  # segments of the open transaction set, ST included
        self.digest = hashlib.sha1()
        self.seen: set[bytes] = set()
        self.segment_no = 0
        self.comp = ":"
        self.any_set = False

    def fail(self, what: str) -> InputError:
        return InputError(what, file=self.file)

    def money(self, seg: list[str], i: int) -> Decimal:
        text = _el(seg, i)
        if not text:
            return ZERO
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise self.fail(f"{seg[0]} segment {self.segment_no} (element {seg[0]}{i:02d}): the amount "
                            f"{text[:20]!r} is not a number")
        return value

    # -- envelope
    def envelope(self, sid: str, seg: list[str]) -> None:
        if sid == "ISA":
            if self.in_isa:
                raise self.fail(f"interchange {self.isa13 or '?'} has no IEA trailer before the next ISA: "
                                "the file is incomplete or damaged")
            self.in_isa, self.groups = True, 0
            self.isa_version, self.isa13 = _el(seg, 12), _el(seg, 13)
        elif sid == "GS":
            gs01 = _el(seg, 1)
            if gs01 and gs01 != "HP":
                raise self.fail(f"not an 835 remittance file: its functional group code (GS01) is {gs01}, "
                                "an 835 remittance has HP")
            if self.in_gs:
                raise self.fail(f"functional group {self.gs06 or '?'} has no GE trailer before the next GS: "
                                "the file is incomplete or damaged")
            self.gs_version = _el(seg, 8)
            _refuse_version(self.gs_version, self.file)
            self.in_gs, self.gs06, self.sets_in_group = True, _el(seg, 6), 0
            self.groups += 1
        elif sid == "GE":
            if not self.in_gs:
                raise self.fail("a GE trailer without its GS header: the file is damaged")
            if _el(seg, 1) != str(self.sets_in_group):
                raise self.fail(f"the GE trailer of functional group {self.gs06 or '?'} counts {_el(seg, 1) or '?'} "
                                f"transaction sets, the file holds {self.sets_in_group}: the file is incomplete "
                                "or damaged")
            self.in_gs = False
        elif sid == "IEA":
            if not self.in_isa:
                raise self.fail("an IEA trailer without its ISA header: the file is damaged")
            if self.in_gs:
                raise self.fail(f"functional group {self.gs06 or '?'} has no GE trailer: the file is incomplete")
            if _el(seg, 1) != str(self.groups):
                raise self.fail(f"the IEA trailer of interchange {self.isa13 or '?'} counts {_el(seg, 1) or '?'} "
                                f"functional groups, the file holds {self.groups}: the file is incomplete or damaged")
            self.in_isa = False

    def start(self, seg: list[str]) -> None:
        if self.remit is not None:
            raise self.fail(f"transaction set {self.remit.control_number or '?'} has no SE trailer before the next "
                            "ST: the file is incomplete or damaged")
        if _el(seg, 1) != "835":
            raise self.fail(f"not an 835 remittance file (transaction set {_el(seg, 1) or '?'})")
        version = _el(seg, 3) or self.gs_version
        _refuse_version(version, self.file)
        if not version and self.isa_version == "00401":
            _refuse_version("004010", self.file)
        self.remit = Remittance(control_number=_el(seg, 2), version=version, interchange=self.isa13)
        self.claim = self.line = None
        self.count = 0
        self.digest = hashlib.sha1()
        self.sets_in_group += 1
        self.any_set = True

    def end(self, seg: list[str]) -> Remittance:
        remit = self.remit
        assert remit is not None
        counted = _el(seg, 1)
        if counted.isdigit() and abs(int(counted) - self.count) == 1:
            # Off by one is a counting convention (ST or SE left out), not a lost segment: import,
            # and say so.
            self.notes.append(f"{Path(str(self.file)).name if self.file else 'the file'}: the SE trailer of "
                              f"transaction set {remit.control_number or '?'} counts {counted} segments, the set "
                              f"holds {self.count}; imported (an off-by-one count), check it against the paper "
                              "remittance")
        elif counted != str(self.count):
            raise self.fail(f"the SE trailer of transaction set {remit.control_number or '?'} counts "
                            f"{_el(seg, 1) or '?'} segments, the transaction set holds {self.count}: the file is "
                            "incomplete or damaged")
        if _el(seg, 2) and remit.control_number and _el(seg, 2) != remit.control_number:
            raise self.fail(f"the SE trailer closes transaction set {_el(seg, 2)}, the open one is "
                            f"{remit.control_number}: the file is damaged")
        key = self.digest.digest()
        remit.repeat = key in self.seen  # the same interchange sent again inside one file
        self.seen.add(key)
        self.remit = self.claim = self.line = None
        return remit

    # -- inside a transaction set
    def header(self, sid: str, seg: list[str]) -> None:
        remit = self.remit
        assert remit is not None
        if sid == "BPR":
            remit.total_paid = self.money(seg, 2)
            remit.payment_date = _date(_el(seg, 16))
        elif sid == "TRN":
            remit.trace_number = _el(seg, 2)
        elif sid == "DTM" and _el(seg, 1) == "405":
            remit.production_date = _date(_el(seg, 2))
        elif sid == "N1" and _el(seg, 1) == "PR":
            remit.payer_name = _el(seg, 2)
            remit.payer_id = _el(seg, 4)
            self._n1 = "PR"
        elif sid == "N1":
            self._n1 = _el(seg, 1)
            if self._n1 == "PE":
                remit.payee_name = _el(seg, 2)
        elif sid == "REF" and _el(seg, 1) == "2U" and getattr(self, "_n1", "") == "PR":
            remit.payer_id = remit.payer_id or _el(seg, 2)

    def claim_segment(self, sid: str, seg: list[str]) -> None:
        claim = self.claim
        assert claim is not None
        line = self.line
        if sid == "SVC":
            parts = _el(seg, 1).split(self.comp)
            self.line = ServiceLine(
                qualifier=parts[0].strip(), procedure=(parts[1].strip().upper() if len(parts) > 1 else ""),
                modifiers=[m.strip().upper() for m in parts[2:6] if m.strip()],
                charge=self.money(seg, 2), paid=self.money(seg, 3),
                units=self.money(seg, 5) if _el(seg, 5) else None)
            claim.lines.append(self.line)
        elif sid == "CAS":
            (line.adjustments if line is not None else claim.adjustments).extend(self.cas(seg))
        elif sid == "DTM":
            qual, when = _el(seg, 1), _date(_el(seg, 2))
            if line is not None and qual in ("472", "150") and line.service_date is None:
                line.service_date = when
            elif line is None and qual in ("232", "472") and claim.service_date is None:
                claim.service_date = when
        elif sid == "REF" and line is not None and _el(seg, 1) == "6R":
            line.control_number = _el(seg, 2)
        elif sid == "LQ" and line is not None and _el(seg, 1) in ("HE", "RX"):
            line.remarks.append(_el(seg, 2).upper())
        elif sid == "MOA" and line is None:
            claim.remarks.extend(_el(seg, i).upper() for i in range(3, 8) if _el(seg, i))
        elif sid == "MIA" and line is None:
            claim.remarks.extend(_el(seg, i).upper() for i in (5, 20, 21, 22, 23) if _el(seg, i))

    def cas(self, seg: list[str]) -> list[Adjustment]:
        """CAS*group*reason*amount*qty*reason*amount*qty… (up to six triplets in one segment)."""
        group = _el(seg, 1).upper()
        out = []
        for i in range(2, len(seg), 3):
            reason = _el(seg, i).upper()
            if not reason:
                continue
            out.append(Adjustment(group, reason, self.money(seg, i + 1),
                                  self.money(seg, i + 2) if _el(seg, i + 2) else None))
        return out

    def segment(self, seg: list[str]) -> Remittance | None:
        """Take one segment; return the transaction set it completes, if any.  A claim that is
        complete (the next CLP or the SE came) goes to ``self.finished`` for streaming readers."""
        self.segment_no += 1
        sid = seg[0]
        if sid in ("ISA", "GS", "GE", "IEA"):
            if self.remit is not None:
                raise self.fail(f"transaction set {self.remit.control_number or '?'} has no SE trailer "
                                f"(a {sid} segment came first): the file is incomplete or damaged")
            self.envelope(sid, seg)
            return None
        if sid == "ST":
            self.start(seg)
        if self.remit is None:
            return None  # TA1 and other segments outside a transaction set
        self.count += 1
        if sid == "SE":
            if self.claim is not None:
                self.finished.append(self.claim)
            return self.end(seg)
        if sid != "ST":
            self.digest.update("\x1d".join(seg).encode("utf-8", "surrogatepass") + b"\x1e")
        if sid == "CLP":
            if self.claim is not None:
                self.finished.append(self.claim)
            self.claim = ClaimPayment(
                patient_control_number=_el(seg, 1), status=_el(seg, 2), charge=self.money(seg, 3),
                paid=self.money(seg, 4), patient_responsibility=self.money(seg, 5),
                payer_claim_number=_el(seg, 7))
            if self.keep_claims:
                self.remit.claims.append(self.claim)
            self.line = None
        elif self.claim is None:
            self.header(sid, seg)
        else:
            self.claim_segment(sid, seg)
        return None

    def finish(self) -> None:
        if self.remit is not None:
            raise self.fail(f"the file ends inside transaction set {self.remit.control_number or '?'} (no SE "
                            "trailer): the file is incomplete; ask the payer or clearinghouse for it again")
        if self.in_gs:
            raise self.fail(f"the file ends without the GE trailer of functional group {self.gs06 or '?'}: "
                            "the file is incomplete")
        if self.in_isa:
            raise self.fail(f"the file ends without the IEA trailer of interchange {self.isa13 or '?'}: "
                            "the file is incomplete")
        if not self.any_set:
            raise self.fail("not an 835 remittance file (no ST*835 transaction set found)")


def iter_835_claims(source, *, file: str | Path | None = None,
                    notes: list[str] | None = None) -> Iterator[tuple[Remittance, ClaimPayment | None]]:
    """The claims of an 835 one at a time, each with its transaction set's header, then
    ``(remittance, None)`` once the set's SE trailer is checked (``remittance.repeat`` tells a
    repeated transmission; its claims were already handed out, so a consumer keeps a set's rows
    pending until then).  Nothing but the current claim is held: a 100 MB remittance streams."""
    reader = SegmentReader(source, file=file, kind="X12 835 remittance")
    parser = _Parser(file, notes, keep_claims=False)
    for seg in reader:
        if parser.segment_no == 0 and reader.separators is not None:
            parser.comp = reader.separators.component
        remit_in = parser.remit
        done = parser.segment(seg)
        if parser.finished:
            owner = remit_in or done
            assert owner is not None
            for claim in parser.finished:
                yield owner, claim
            parser.finished.clear()
        if done is not None:
            yield done, None
    parser.finish()


def iter_835(source, *, file: str | Path | None = None, notes: list[str] | None = None) -> Iterator[Remittance]:
    """Each checked ST…SE transaction set of an 835 (bytes, text, a path or a binary file object),
    as soon as it is complete (``notes`` collects what was accepted with a doubt).  Raises
    ``InputError`` for a file that is not a 5010 835 or is
    incomplete; a consumer that wants all-or-nothing keeps what it built until the iterator ends."""
    reader = SegmentReader(source, file=file, kind="X12 835 remittance")
    parser = _Parser(file, notes)
    for seg in reader:
        if parser.segment_no == 0 and reader.separators is not None:
            parser.comp = reader.separators.component
        remit = parser.segment(seg)
        if remit is not None:
            yield remit
    parser.finish()


def parse_835(data: bytes | str, *, file: str | Path | None = None) -> list[Remittance]:
    """All ST…SE transaction sets of an 835 file held in memory (with or without ISA/GS envelope)."""
    return list(iter_835(data.encode("utf-8") if isinstance(data, str) else data, file=file))


def read_835(path: Path | str) -> list[Remittance]:
    path = Path(path)
    return list(iter_835(path, file=path))
