"""X12 835 remittance advice (005010X221A1) → plain objects.

Segments come from the shared tokenizer in ``toolkit.x12`` (why not pyx12: see there).

The parser knows the 835 loops only as far as a denial log needs: payer (N1*PR), check/trace
number (TRN02), payment and production dates (BPR16, DTM*405), claims (CLP) with their
claim-level adjustments (CAS) and remarks (MOA/MIA), and service lines (SVC) with their
adjustments, dates (DTM*472/150), control numbers (REF*6R) and remarks (LQ*HE).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..x12 import element as _el
from ..x12 import tokenize


@dataclass
class Adjustment:
    """One CAS triplet: group code (CO/PR/OA/PI), reason code (CARC), amount, quantity."""
    group: str
    reason: str
    amount: float
    quantity: float | None = None


@dataclass
class ServiceLine:
    procedure: str = ""
    qualifier: str = ""
    modifiers: list[str] = field(default_factory=list)
    charge: float = 0.0
    paid: float = 0.0
    units: float | None = None
    service_date: dt.date | None = None
    control_number: str = ""  # REF*6R: the line item control number the provider sent
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LQ*HE remark codes (RARC)


@dataclass
class ClaimPayment:
    patient_control_number: str  # CLP01 = the practice's Claim ID
    status: str  # CLP02: 1/2/3 processed, 4 denied, 22 reversal
    charge: float = 0.0
    paid: float = 0.0
    patient_responsibility: float = 0.0
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
    payer_name: str = ""
    payee_name: str = ""
    trace_number: str = ""  # TRN02: check or EFT trace number
    payment_date: dt.date | None = None  # BPR16
    production_date: dt.date | None = None  # DTM*405
    total_paid: float = 0.0
    claims: list[ClaimPayment] = field(default_factory=list)

    @property
    def remit_date(self) -> dt.date | None:
        return self.payment_date or self.production_date


# ---------------------------------------------------------------- parser

def _money(text: str) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0


def _date(text: str) -> dt.date | None:
    if len(text) == 8 and text.isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None


def _cas(seg: list[str]) -> list[Adjustment]:
    """CAS*group*reason*amount*qty*reason*amount*qty… (up to six triplets in one segment)."""
    group = _el(seg, 1).upper()
    out = []
    for i in range(2, len(seg), 3):
        reason = _el(seg, i).upper()
        if not reason:
            continue
        qty = _el(seg, i + 2)
        out.append(Adjustment(group, reason, _money(_el(seg, i + 1)), _money(qty) if qty else None))
    return out


def _refuse_version(version: str, file) -> None:
    if version.startswith(("004", "003", "4010")):
        raise InputError(
            f"this is an X12 {version[:6]} (4010-era) remittance; only 5010 files (005010X221A1) can be "
            "imported: ask the payer or clearinghouse for the 5010 version", file=file)


def parse_835(data: bytes | str, *, file: str | Path | None = None) -> list[Remittance]:
    """All ST…SE transaction sets of an 835 file (with or without ISA/GS envelope)."""
    segments, seps = tokenize(data, file=file, kind="X12 835 remittance")
    isa_version = gs_version = ""
    remits: list[Remittance] = []
    remit: Remittance | None = None
    claim: ClaimPayment | None = None
    line: ServiceLine | None = None
    comp = seps.component
    for seg in segments:
        sid = seg[0]
        if sid == "ISA":
            isa_version = _el(seg, 12)
        elif sid == "GS":
            gs_version = _el(seg, 8)
            if _el(seg, 1) and _el(seg, 1) != "HP":
                raise InputError(f"not an 835 remittance file (functional group {_el(seg, 1)}, expected HP)",
                                 file=file)
            _refuse_version(gs_version, file)
        elif sid == "ST":
            if _el(seg, 1) != "835":
                raise InputError(f"not an 835 remittance file (transaction set {_el(seg, 1) or '?'})", file=file)
            version = _el(seg, 3) or gs_version
            _refuse_version(version, file)
            if not version and isa_version == "00401":
                _refuse_version("004010", file)
            remit = Remittance(control_number=_el(seg, 2), version=version)
            remits.append(remit)
            claim = line = None
        elif remit is None:
            continue  # envelope segments (GE, IEA, TA1) outside a transaction set
        elif sid == "SE":
            remit = claim = line = None
        elif sid == "BPR":
            remit.total_paid = _money(_el(seg, 2))
            remit.payment_date = _date(_el(seg, 16))
        elif sid == "TRN":
            remit.trace_number = _el(seg, 2)
        elif sid == "DTM" and claim is None:
            if _el(seg, 1) == "405":
                remit.production_date = _date(_el(seg, 2))
        elif sid == "N1" and claim is None:
            if _el(seg, 1) == "PR":
                remit.payer_name = _el(seg, 2)
            elif _el(seg, 1) == "PE":
                remit.payee_name = _el(seg, 2)
        elif sid == "CLP":
            claim = ClaimPayment(
                patient_control_number=_el(seg, 1), status=_el(seg, 2), charge=_money(_el(seg, 3)),
                paid=_money(_el(seg, 4)), patient_responsibility=_money(_el(seg, 5)),
                payer_claim_number=_el(seg, 7))
            remit.claims.append(claim)
            line = None
        elif claim is None:
            continue
        elif sid == "SVC":
            parts = _el(seg, 1).split(comp)
            line = ServiceLine(
                qualifier=parts[0].strip(), procedure=(parts[1].strip().upper() if len(parts) > 1 else ""),
                modifiers=[m.strip().upper() for m in parts[2:6] if m.strip()],
                charge=_money(_el(seg, 2)), paid=_money(_el(seg, 3)),
                units=_money(_el(seg, 5)) if _el(seg, 5) else None)
            claim.lines.append(line)
        elif sid == "CAS":
            (line.adjustments if line is not None else claim.adjustments).extend(_cas(seg))
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
    if not remits:
        raise InputError("not an 835 remittance file (no ST*835 transaction set found)", file=file)
    return remits


def read_835(path: Path | str) -> list[Remittance]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    return parse_835(data, file=path)
