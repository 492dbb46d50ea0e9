"""X12 837P professional claims (005010X222A1) → Claims rows, one per service line.

Segments come from the shared tokenizer ``toolkit.x12`` (why not pyx12: see there).  The reader
keeps, beside the rows, where each claim sits in the file (its segments, its HL parents, its
envelopes), so ``toolkit.claims.scrub`` can write a subset of the claims with everything but the
envelopes and counts exactly as received.

Where each Claims column comes from (docs/837p.md says the same for billers):

* Claim ID = CLM01; Line = LX01; Units, charge, procedure and up to four modifiers = SV1.
* Patient ID = NM109 of NM1*QC (2010CA, the patient loop 2000C) when the file carries one,
  else the subscriber's member ID, NM109 of NM1*IL (2010BA, loop 2000B).  Patient Name, Date of
  Birth and Sex: from the patient loop when there is one, else the subscriber's.
* Payer: the Payers row whose ``Payer ID`` or ``Also Known As`` matches NM1*PR (2010BB), else the
  NM1*PR name as it stands (flagged in the summary).
* Date of Service: the line's DTP*472 (2400), else a claim-level DTP*472 or DTP*434 (2300).
* Dx Codes: HI (2300) codes with qualifiers ABK/ABF (ICD-10-CM) or BK/BF (ICD-9-CM, flagged),
  in the order of the line's SV107 pointers first, then the claim's other codes; dots inserted.
* Prior Auth Number: REF*G1 of the line (2400), else of the claim (2300).
* Rendering Provider: NM1*82 of the line (2420A), else of the claim (2310B), else the billing
  provider NM1*85 (2010AA).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..x12 import Separators, tokenize

# Every segment the 005010X222A1 837P may carry: anything else is noted and passed through.
KNOWN_SEGMENTS = frozenset((
    "ISA", "GS", "ST", "BHT", "NM1", "PER", "HL", "PRV", "N3", "N4", "REF", "SBR", "PAT", "DMG", "CLM", "DTP",
    "PWK", "CN1", "AMT", "K3", "NTE", "CR1", "CR2", "CRC", "HI", "HCP", "CAS", "OI", "MOA", "MIA", "LX", "SV1",
    "SV5", "CR3", "QTY", "MEA", "PS1", "LIN", "CTP", "SVD", "LQ", "FRM", "SE", "GE", "IEA", "TA1"))
DIAGNOSIS_QUALIFIERS = {"ABK": "10", "ABF": "10", "BK": "9", "BF": "9"}
PROCEDURE_QUALIFIERS = {"HC", "ER", "IV", "WK"}
IMPORTED_COLUMNS = ("Patient ID", "Patient Name", "Date of Birth", "Sex", "Payer", "Date of Service",
                    "CPT/HCPCS", "Modifiers", "Units", "Dx Codes", "Prior Auth Number", "Rendering Provider",
                    "Charge")
X12_SUFFIXES = (".837", ".x12", ".edi")
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")


# ---------------------------------------------------------------- what the reader keeps

@dataclass
class HLNode:
    """One HL loop: its own segments [start, end) (HL up to the first child HL or CLM)."""
    index: int  # segment index of the HL
    end: int
    hl_id: str
    parent_id: str
    level: str  # 20 billing provider, 22 subscriber, 23 patient
    parent: int | None  # position of the parent node in Transaction.nodes


@dataclass
class ClaimUnit:
    """One CLM loop: segments [start, end), the HL node it hangs under, its lines' rows."""
    start: int
    end: int
    node: int  # position in Transaction.nodes
    transaction: int  # position in Batch837.transactions
    claim_id: str
    charge: float
    rows: list[int] = field(default_factory=list)  # positions in Batch837.rows


@dataclass
class Transaction:
    st: int
    se: int = -1
    header_end: int = -1  # first HL (the header is ST+1 .. header_end)
    nodes: list[HLNode] = field(default_factory=list)
    claims: list[int] = field(default_factory=list)  # positions in Batch837.claims


@dataclass
class Group:
    gs: int
    ge: int = -1
    transactions: list[int] = field(default_factory=list)


@dataclass
class Interchange:
    isa: int
    iea: int = -1
    groups: list[Group] = field(default_factory=list)


@dataclass
class Batch837:
    """A read 837P file: raw segment texts, their elements, the envelopes, claims and rows."""
    path: Path
    separators: Separators
    text: str  # the file as read (BOM and leading blanks dropped)
    segments: list[list[str]]
    encoding: str = "utf-8"
    interchanges: list[Interchange] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    claims: list[ClaimUnit] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    row_claim: list[int] = field(default_factory=list)  # claim position of each row
    payer_names: list[tuple[str, str]] = field(default_factory=list)  # (NM1*PR name, id) of each row
    notes: list[str] = field(default_factory=list)
    icd9_lines: int = 0
    _raw: tuple[list[str], str] | None = field(default=None, repr=False)

    def raw_segments(self) -> tuple[list[str], str]:
        """Each segment's text as received (leading line breaks kept, terminator dropped), one per
        tokenized segment, and what followed the last terminator.  Only scrub needs them."""
        if self._raw is not None:
            return self._raw
        pieces = self.text.split(self.separators.segment)
        trailing = pieces.pop() if pieces and not pieces[-1].strip() else ""
        raw = [p for p in pieces if p.strip()]
        if len(raw) != len(self.segments):  # the tokenizer and this split must agree one to one
            raise InputError("the segments could not be told apart (wrong separators?)", file=self.path)
        self._raw = (raw, trailing)
        return self._raw


# ---------------------------------------------------------------- payers

def payer_matcher(payers) -> Callable[[str, str], str | None]:
    """(NM1*PR payer ID, NM1*PR name) → the practice's Payer name, or None.

    The 835 import's lookup (``PayerDirectory``: Payer ID, then name, then Also Known As), memoised
    per distinct pair because a batch names a handful of payers on every line.
    """
    from ..denials.deadlines import PayerDirectory

    directory = PayerDirectory(payers)
    seen: dict[tuple[str, str], str | None] = {}

    def match(payer_id: str, name: str) -> str | None:
        key = (payer_id, name)
        if key not in seen:
            seen[key] = directory.match(name, payer_id)
        return seen[key]

    return match


# ---------------------------------------------------------------- small converters

@lru_cache(maxsize=4096)
def _date(text: str) -> dt.date | None:
    """D8 ``CCYYMMDD`` or the first date of an RD8 range ``CCYYMMDD-CCYYMMDD``."""
    text = text[:8]
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def _dx(code: str) -> str:
    from ..codesets.icd10cm import format_dx

    return format_dx(code)


def _icd9(code: str) -> str:
    """ICD-9-CM's dot: after the 3rd character, the 4th for E codes (E888.8)."""
    code = code.strip().upper().replace(".", "")
    cut = 4 if code.startswith("E") else 3
    return code if len(code) <= cut else f"{code[:cut]}.{code[cut:]}"


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _el(seg: list[str], i: int) -> str:
    return seg[i].strip() if len(seg) > i else ""


def person_name(last: str, first: str) -> str:
    """NM1 name as billers write it: 'LAST, FIRST' for a person, the name for an organisation.
    (Both readers use it: this one and the column-wise ``x12_837_fast``.)"""
    return f"{last}, {first}" if first else last


def provider_name(last: str, first: str, npi: str) -> str:
    """NM1 provider as 'First Last (NPI …)'."""
    name = f"{first} {last}".strip() if first else last
    return f"{name} (NPI {npi})" if npi and name else name or npi


def _person(seg: list[str]) -> str:
    return person_name(_el(seg, 3), _el(seg, 4))


def _provider(seg: list[str]) -> str:
    return provider_name(_el(seg, 3), _el(seg, 4), _el(seg, 9))


def hi_diagnoses(composites, component: str) -> tuple[tuple[str, str], ...]:
    """HI composites → ((ICD version "10" or "9", code), …) for the diagnosis qualifiers, in order."""
    out = []
    for composite in composites:
        parts = composite.split(component)
        qual = parts[0].strip().upper()  # some PM systems write 'abk:m545': the codes are the same
        if qual in DIAGNOSIS_QUALIFIERS and len(parts) > 1 and parts[1].strip():
            out.append((DIAGNOSIS_QUALIFIERS[qual], parts[1].strip().upper()))
    return tuple(out)


def separator_used(composite: str, component: str) -> str | None:
    """When a composite (HI's qualifier and code, SV101) is not split by the component separator
    the ISA declares, the separator it does use ('>' where ISA16 says ':'), or '' when it has none;
    None when it is split as declared (or blank).  Such a file is refused, not read with its
    diagnoses or procedure silently missing: the clearinghouse would reject it too."""
    text = composite.strip()
    if not text or component in text:
        return None
    used = re.search(r"[^A-Za-z0-9 .\-]", text)
    return used.group(0) if used else ""


@lru_cache(maxsize=65536)  # a batch repeats a few hundred procedure/modifier texts
def sv101_procedure(composite: str, component: str) -> tuple[str, str, str]:
    """SV101 → (qualifier, CPT/HCPCS, modifiers as Claims writes them: 'M1, M2', up to four).

    Upper-cased: a batch written 'hc:99213:25' names the same code and modifier as 'HC:99213:25'
    (CPT, HCPCS and modifier codes have no lower-case forms); scrub passes the bytes on unchanged."""
    parts = [part.upper() for part in composite.split(component)]
    modifiers = [m.strip() for m in parts[2:6] if m.strip()]
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else ""), ", ".join(modifiers)


def pointer_numbers(text: str, component: str) -> tuple[int, ...]:
    """SV107's diagnosis pointers as numbers (what is not a number is skipped)."""
    return tuple(int(p) for p in (piece.strip() for piece in text.split(component)) if p.isdigit())


def pointed_order(pointers: tuple[int, ...], n: int) -> list[int]:
    """The claim's diagnosis positions a line lists: those its pointers name (in pointer order,
    each once), then the claim's others."""
    order: list[int] = []
    for p in pointers:
        if 1 <= p <= n and p - 1 not in order:
            order.append(p - 1)
    return order + [k for k in range(n) if k not in order]


# ---------------------------------------------------------------- reading

def is_837_file(path: str | Path) -> bool:
    """The validate/scrub dispatch: .837/.x12/.edi, or any other file but a workbook, CSV or Parquet
    whose text starts like an X12 file (ISA, or an ST/GS fragment).  PM systems and clearinghouses
    name batches .txt, .dat, .clm, .837i…: by content, an 837I or 835 under such a name gets the
    837P reader's one-line refusal naming the segment instead of "give a workbook"."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in X12_SUFFIXES:
        return True
    if suffix in _TABLE_SUFFIXES:
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf\xff\xfe \r\n\t")
    except OSError:
        return False
    if head[:6] in (b"I\x00S\x00A\x00", b"\x00I\x00S\x00A"):  # UTF-16 (its byte-order mark dropped above)
        return True
    return head[:3] == b"ISA" or bool(_FRAGMENT_START.match(head))


_TABLE_SUFFIXES = frozenset((".xlsx", ".xlsm", ".xls", ".xlsb", ".csv", ".parquet", ".pq"))
_FRAGMENT_START = re.compile(rb"(?:ST|GS)([^A-Za-z0-9\s,;\"'])[A-Z0-9]+\1")


def _unwrap(text: str) -> str:
    """Some PM systems wrap a batch at a fixed width (80 characters a line), cutting segments in
    two; such a file is every line the same length but the last: join the lines again."""
    lines = text.split("\n")
    width = len(lines[0].rstrip("\r"))
    if len(lines) > 2 and width >= 40 and all(len(line.rstrip("\r")) == width for line in lines[:-1]):
        return text.replace("\r\n", "").replace("\n", "")
    return text


def _text(path: Path) -> tuple[str, str]:
    """The file's text and the encoding it was read with (scrub writes its output back in it).

    NUL and Ctrl-Z padding after the last segment (old transfer tools) is dropped."""
    text, encoding = _decoded(path)
    return _unwrap(text.rstrip("\x00\x1a")), encoding


def _decoded(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Windows tools sometimes save "Unicode" (UTF-16)
        try:
            return data.decode("utf-16").lstrip("\ufeff").lstrip(), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding, isa in (("utf-16-le", b"I\x00S\x00A\x00"), ("utf-16-be", b"\x00I\x00S\x00A")):
        if data[:6] == isa:  # the same without a byte-order mark: written back without one
            try:
                return data.decode(encoding).lstrip(), encoding
            except UnicodeDecodeError:
                pass
    try:
        return data.decode("utf-8-sig").lstrip("\ufeff").lstrip(), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1").lstrip(), "latin-1"


def read_837(path: str | Path, *, payers=None) -> Batch837:
    """Read one 837P file; any reason to refuse it is an ``InputError`` naming file and segment."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    text, encoding = _text(path)
    segments, seps = tokenize(text, file=path, kind="837P")
    batch = Batch837(path, seps, text, segments, encoding)
    _Reader(batch, payer_matcher(payers)).read()
    return batch


class _Reader:
    """One pass over the segments: envelopes, HL tree, claims, lines.

    Long on purpose: a state machine over the 837P loops reads best as one loop with one branch
    per segment, and one pass keeps a 100,000-line batch fast.
    """

    def __init__(self, batch: Batch837, match_payer):
        self.b = batch
        self.match_payer = match_payer
        self.unknown: list[tuple[int, str]] = []
        self.lines_of: dict[str, set[int]] = {}  # Claim ID → Line numbers its rows already have
        self.renumbered: list[tuple[int, int, int]] = []  # (LX segment, LX, Line given)

    def fail(self, i: int, message: str) -> InputError:
        seg_id = self.b.segments[i][0] if 0 <= i < len(self.b.segments) else ""
        where = f"segment {i + 1}" + (f" ({seg_id})" if _SEGMENT_ID.match(seg_id) else "")
        return InputError(f"{where}: {message}", file=self.b.path)

    def read(self) -> None:  # noqa: C901 - see the class docstring
        b, segs = self.b, self.b.segments
        ix: Interchange | None = None
        grp: Group | None = None
        tx: Transaction | None = None
        fragment = segs[0][0] == "ST"
        if fragment:  # an ST…SE fragment without envelopes: readable, not scrubbable
            ix, grp = Interchange(-1), Group(-1)
            ix.groups.append(grp)
            b.interchanges.append(ix)
        node_of_id: dict[str, int] = {}
        sub: dict = {}
        pat: dict = {}
        billing = ""
        claim: dict | None = None
        line: dict | None = None
        unit: ClaimUnit | None = None
        nm1 = ""  # entity of the last NM1 (decides where DMG/REF belong)
        n_st = 0

        def close_claim(end: int) -> None:
            nonlocal claim, line, unit
            if line is not None and claim is not None:
                self.add_row(claim, line, unit)
            if unit is not None:
                unit.end = end
            claim = line = unit = None

        known = KNOWN_SEGMENTS
        for i, seg in enumerate(segs):
            sid = seg[0]
            q = seg[1].strip() if len(seg) > 1 else ""  # the qualifier most branches test
            if sid not in known and not _SEGMENT_ID.match(sid):
                raise self.fail(i, "not a segment id: wrong separators? (the ISA declares element "
                                   f"'{b.separators.element}', segment terminator '{_show(b.separators.segment)}')")
            if sid == "ISA":
                if ix is not None and ix.iea < 0:
                    raise self.fail(i, "a new interchange starts before the IEA of the last one: the file is truncated")
                self.check_isa(i, seg)
                ix = Interchange(i)
                b.interchanges.append(ix)
            elif sid == "GS":
                if ix is None or grp is not None and grp.ge < 0:
                    raise self.fail(i, "GS outside an interchange (ISA…IEA), or before the last GE")
                self.check_gs(i, seg)
                grp = Group(i)
                ix.groups.append(grp)
            elif sid == "ST":
                if grp is None or (tx is not None and tx.se < 0) or (grp.ge >= 0 and not fragment):
                    raise self.fail(i, "ST outside a functional group (GS…GE), or before the last SE")
                self.check_st(i, seg)
                tx = Transaction(i)
                grp.transactions.append(len(b.transactions))
                b.transactions.append(tx)
                node_of_id, sub, pat, billing, nm1 = {}, {}, {}, "", ""
                n_st += 1
            elif tx is None or tx.se >= 0:
                if sid == "GE" and grp is not None and grp.ge < 0 and not fragment:
                    grp.ge = i
                    self.check_count(i, seg, len(grp.transactions), "GE01", "transaction sets")
                    if _el(seg, 2) != _el(segs[grp.gs], 6):
                        b.notes.append(f"{b.path.name}: segment {i + 1} (GE): GE02 does not match GS06")
                    continue
                if sid == "IEA" and ix is not None and ix.iea < 0 and not fragment and (grp is None or grp.ge >= 0):
                    ix.iea = i
                    self.check_count(i, seg, len(ix.groups), "IEA01", "functional groups")
                    if _el(seg, 2) != _el(segs[ix.isa], 13):
                        b.notes.append(f"{b.path.name}: segment {i + 1} (IEA): IEA02 does not match ISA13")
                    grp = None
                    continue
                if sid == "TA1" and ix is not None:
                    continue
                raise self.fail(i, "outside a transaction set (ST…SE): the envelopes are out of order")
            elif sid == "SE":
                if tx.header_end < 0:
                    tx.header_end = i
                close_claim(i)
                if tx.nodes:
                    tx.nodes[-1].end = min(tx.nodes[-1].end, i) if tx.nodes[-1].end >= 0 else i
                tx.se = i
                self.check_count(i, seg, i - tx.st + 1, "SE01", "segments")
                if _el(seg, 2) != _el(segs[tx.st], 2):
                    b.notes.append(f"{b.path.name}: segment {i + 1} (SE): SE02 does not match ST02")
            elif sid == "HL":
                close_claim(i)
                if tx.header_end < 0:
                    tx.header_end = i
                if tx.nodes and tx.nodes[-1].end < 0:
                    tx.nodes[-1].end = i
                hl_id, parent_id, level = q, _el(seg, 2), _el(seg, 3)
                parent = node_of_id.get(parent_id) if parent_id else None
                if parent_id and parent is None:
                    raise self.fail(i, "HL02 names a parent HL that is not in this transaction")
                node_of_id[hl_id] = len(tx.nodes)
                tx.nodes.append(HLNode(i, -1, hl_id, parent_id, level, parent))
                nm1 = ""
                if level == "22":
                    sub, pat = {}, {}
                elif level == "23":
                    pat = {}
            elif tx.header_end < 0:
                if sid not in KNOWN_SEGMENTS:
                    self.unknown.append((i, sid))
                continue  # BHT, submitter and receiver loops: nothing for Claims
            elif sid == "CLM":
                close_claim(i)
                if not tx.nodes:
                    raise self.fail(i, "a claim (CLM) before any HL loop")
                node = tx.nodes[-1]
                if node.end < 0:
                    node.end = i
                if node.level not in ("22", "23"):
                    raise self.fail(i, "a claim (CLM) under a billing-provider HL (needs a subscriber or patient HL)")
                who = pat if node.level == "23" else {}
                claim = {"id": q, "charge": _number(_el(seg, 2)) or 0.0, "dx": [], "auth": "",
                         "rendering": "", "date": None, "sub": sub, "pat": who, "billing": billing, "loop": False}
                unit = ClaimUnit(i, -1, len(tx.nodes) - 1, len(b.transactions) - 1, claim["id"], claim["charge"])
                tx.claims.append(len(b.claims))
                b.claims.append(unit)
                nm1 = ""
            elif claim is None:
                # Inside an HL loop, before its claims: billing provider, subscriber, payer, patient.
                level = tx.nodes[-1].level if tx.nodes else ""
                if sid == "NM1":
                    nm1 = q
                    if nm1 == "85":
                        billing = _provider(seg)
                    elif nm1 == "IL":
                        sub.update(name=_person(seg), id=_el(seg, 9))
                    elif nm1 == "PR":
                        sub.update(payer=_el(seg, 3), payer_id=_el(seg, 9))
                    elif nm1 == "QC":
                        pat.update(name=_person(seg), id=_el(seg, 9))
                elif sid == "DMG" and q == "D8":
                    target = pat if (level == "23" and nm1 == "QC") else sub if nm1 == "IL" else None
                    if target is not None:
                        target.update(dob=_date(_el(seg, 2)), sex=_el(seg, 3))
                elif sid not in KNOWN_SEGMENTS:
                    self.unknown.append((i, sid))
            elif sid == "LX":
                if line is not None:
                    self.add_row(claim, line, unit)
                line = {"lx": q, "sv1": None, "date": None, "auth": "", "rendering": "", "loop": False,
                        "at": i}
            elif sid == "SV1" and line is None:
                raise self.fail(i, "a service line without its LX segment (loop 2400 starts with LX)")
            elif line is not None:
                if sid == "SV1":
                    line["sv1"] = seg
                    line["sv1_at"] = i
                elif sid == "NM1":
                    line["loop"] = True
                    if q == "82":
                        line["rendering"] = _provider(seg)
                elif line["loop"]:
                    pass  # 2410-2440 loops: drug, facility, other providers, adjudication, forms
                elif sid == "DTP" and q == "472":
                    line["date"] = _date(_el(seg, 3))
                elif sid == "REF" and q == "G1":
                    line["auth"] = _el(seg, 2)
                elif sid in ("SVD", "LIN"):
                    line["loop"] = True
                elif sid not in KNOWN_SEGMENTS:
                    self.unknown.append((i, sid))
            else:  # 2300 claim segments, then its 2310-2330 loops
                if sid in ("NM1", "SBR"):
                    claim["loop"] = True
                    if sid == "NM1" and q == "82" and not claim["rendering"] and not _other_payer(claim):
                        claim["rendering"] = _provider(seg)
                    if sid == "SBR":
                        claim["other_payer"] = True
                elif claim["loop"]:
                    if sid not in KNOWN_SEGMENTS:
                        self.unknown.append((i, sid))
                elif sid == "HI":
                    self.read_hi(i, seg, claim)
                elif sid == "REF" and q == "G1":
                    claim["auth"] = _el(seg, 2)
                elif sid == "DTP" and q in ("472", "434") and claim["date"] is None:
                    claim["date"] = _date(_el(seg, 3))
                elif sid not in KNOWN_SEGMENTS:
                    self.unknown.append((i, sid))
        self.finish(ix, grp, tx, n_st, fragment)

    # -- envelope checks ------------------------------------------------------------
    def check_isa(self, i: int, seg: list[str]) -> None:
        if len(seg) != 17:
            raise self.fail(i, f"the ISA has {len(seg) - 1} elements, not 16: wrong separators?")
        version = _el(seg, 12)
        if version == "00401":
            # GS08 says what the batch holds: an 837I/837D under a 4010 envelope is told so (exporting it
            # "again in 5010" would not help it)
            segs = self.b.segments
            gs08 = _el(segs[i + 1], 8) if i + 1 < len(segs) and segs[i + 1][0] == "GS" else ""
            if "X223" in gs08 or "X224" in gs08:
                self.check_version(i + 1, gs08, "GS08")
            raise self.fail(i, "a 4010 file (ISA12 00401): mednec reads 5010 837P files (005010X222A1); "
                               "export the batch again in 5010")
        if version != "00501":
            raise self.fail(i, f"ISA12 version '{version}' is not 00501 (5010)")
        seps = self.b.separators
        if len({seps.element, seps.component, seps.segment}) < 3 or seps.element.isalnum():
            raise self.fail(i, "the ISA declares the same character for two separators: wrong separators")

    def check_gs(self, i: int, seg: list[str]) -> None:
        # GS01 first: an 835 (HP) is told where it goes, not only that its version is not 837P's
        if _el(seg, 1) != "HC":
            raise self.fail(i, f"functional group '{_el(seg, 1)}' is not HC (health care claims)"
                               + ("; an 835 remittance goes to 'mednec denials import-835'" if _el(seg, 1) == "HP"
                                  else ""))
        self.check_version(i, _el(seg, 8), "GS08")

    def check_st(self, i: int, seg: list[str]) -> None:
        if _el(seg, 1) != "837":
            raise self.fail(i, f"transaction set {_el(seg, 1) or '(blank)'} is not an 837 claim")
        if _el(seg, 3):
            self.check_version(i, _el(seg, 3), "ST03")

    def check_version(self, i: int, version: str, where: str) -> None:
        if version.startswith("004010"):
            raise self.fail(i, f"a 4010 file ({where} {version}): mednec reads 5010 837P files (005010X222A1); "
                               "export the batch again in 5010")
        if "X223" in version:
            raise self.fail(i, f"an 837I institutional claim ({where} {version}), not an 837P professional claim")
        if "X224" in version:
            raise self.fail(i, f"an 837D dental claim ({where} {version}), not an 837P professional claim")
        if not version.startswith("005010X222"):
            raise self.fail(i, f"{where} '{version}' is not 005010X222A1 (837P professional)")

    def check_count(self, i: int, seg: list[str], counted: int, name: str, what: str) -> None:
        said = _el(seg, 1)
        if said != str(counted):
            self.b.notes.append(f"{self.b.path.name}: segment {i + 1} ({seg[0]}): {name} says {said or 'nothing'}, "
                                f"the file has {counted} {what} (corrected in scrub output)")

    def finish(self, ix, grp, tx, n_st: int, fragment: bool) -> None:
        b = self.b
        last = len(b.segments) - 1
        if n_st == 0:
            raise self.fail(last, "no transaction set (ST…SE): the file is empty or truncated")
        if tx is not None and tx.se < 0:
            raise self.fail(last, "the file ends inside a transaction set (no SE): it is truncated")
        if not fragment and grp is not None and grp.ge < 0:
            raise self.fail(last, "the file ends inside a functional group (no GE): it is truncated")
        if not fragment and (ix is None or ix.iea < 0):
            raise self.fail(last, "the file ends inside an interchange (no IEA): it is truncated")
        if not b.rows:
            raise self.fail(last, "no service line (LX/SV1) in the file")
        if self.unknown:
            first_i, first_id = self.unknown[0]
            n = len(self.unknown)
            b.notes.append(f"{b.path.name}: segment {first_i + 1} ({first_id})"
                           + (f" and {n - 1} more segment{'s' if n > 2 else ''}" if n > 1 else "")
                           + " not in the 837P guide: kept as received")
        if self.renumbered:
            # The claim is named by its segment, not its CLM01: here CLM01 is the patient's account number.
            at, lx, given = self.renumbered[0]
            more = len(self.renumbered) - 1
            b.notes.append(f"{b.path.name}: segment {at + 1} (LX): its claim's CLM01 already has a line {lx} in this "
                           f"file (two claims with one CLM01, or a repeated LX): read as Line {given} so that no "
                           "line is lost" + (f"; {more} more line{'s' if more > 1 else ''} likewise" if more else "")
                           + ". Give each claim its own patient control number (CLM01) in the PM system")
        if b.icd9_lines:
            verb = "s carry" if b.icd9_lines != 1 else " carries"
            b.notes.append(f"{b.path.name}: {b.icd9_lines} line{verb} ICD-9-CM "
                           "codes (HI qualifiers BK/BF), not accepted for services since 1 Oct 2015: recode in "
                           "ICD-10-CM")

    # -- claims and lines -------------------------------------------------------------
    def line_number(self, claim_id: str, line: dict) -> int | None:
        """LX01, unless a row of this file already has that Claim ID and Line: PM systems that put
        the patient's account number in CLM01 send two visits as two claims with one CLM01, whose
        lines would land on the same Claims row.  Such a line is numbered on after the claim ID's
        highest line (noted), so that no line is lost or overwritten."""
        if not line["lx"].isdigit():
            return None
        number = int(line["lx"])
        used = self.lines_of.setdefault(claim_id, set())
        if number in used:
            self.renumbered.append((line["at"], number, max(used) + 1))
            number = max(used) + 1
        used.add(number)
        return number

    def read_hi(self, i: int, seg: list[str], claim: dict) -> None:
        component = self.b.separators.component
        for k, composite in enumerate(seg[1:], start=1):
            used = separator_used(composite, component)
            if used == "":  # 'HI*BK*8901': skipping it would shift every later code under the pointers
                raise self.fail(i, f"HI{k:02d} has no code after its qualifier (the two are split by '{component}', "
                                   "ISA16): the lines' diagnosis pointers would name the wrong codes")
            if used is not None:
                raise self.fail(i, _separator_message("HI", used, component))
        claim["dx"].extend(hi_diagnoses(seg[1:], component))

    def add_row(self, claim: dict, line: dict, unit: ClaimUnit | None) -> None:
        b = self.b
        sv1 = line["sv1"]
        if sv1 is None:
            raise self.fail(line["at"], "a service line (LX) without SV1: mednec reads 837P professional lines only")
        qualifier, procedure, modifiers = sv101_procedure(_el(sv1, 1), b.separators.component)
        if qualifier not in PROCEDURE_QUALIFIERS:
            used = separator_used(_el(sv1, 1), b.separators.component)
            if used is not None:
                raise self.fail(line["sv1_at"], _separator_message("SV101", used, b.separators.component))
            raise self.fail(line["sv1_at"], f"SV101 qualifier '{qualifier}' is not a procedure code qualifier (HC)")
        dx_text, icd9 = _dx_text(tuple(claim["dx"]), sv1[7] if len(sv1) > 7 else "", b.separators.component)
        b.icd9_lines += icd9
        sub, pat = claim["sub"], claim["pat"]
        who = pat or sub
        payer_name, payer_id = sub.get("payer", ""), sub.get("payer_id", "")
        b.rows.append({
            "Claim ID": claim["id"],
            "Line": self.line_number(claim["id"], line),
            "Patient ID": pat.get("id") or sub.get("id", ""),
            "Patient Name": who.get("name", ""),
            "Date of Birth": who.get("dob"),
            "Sex": who.get("sex", ""),
            "Payer": self.match_payer(payer_id, payer_name) or payer_name,
            "Date of Service": line["date"] or claim["date"],
            "CPT/HCPCS": procedure,
            "Modifiers": modifiers,
            "Units": _number(sv1[4].strip() if len(sv1) > 4 else ""),
            "Dx Codes": dx_text,
            "Prior Auth Number": line["auth"] or claim["auth"],
            "Rendering Provider": line["rendering"] or claim["rendering"] or claim["billing"],
            "Charge": _number(sv1[2].strip() if len(sv1) > 2 else ""),
        })
        b.payer_names.append((payer_name, payer_id))
        if unit is not None:
            unit.rows.append(len(b.rows) - 1)
            b.row_claim.append(len(b.claims) - 1)


@lru_cache(maxsize=65536)
def _dx_text(dx: tuple[tuple[str, str], ...], pointers: str, component: str) -> tuple[str, bool]:
    """The line's Dx Codes: the codes its SV107 pointers name (in pointer order), then the claim's
    others; and whether any is ICD-9.  Cached: a batch repeats the same diagnoses and pointers."""
    order = pointed_order(pointer_numbers(pointers, component), len(dx))
    codes: list[str] = []
    for k in order:
        code = _dx(dx[k][1]) if dx[k][0] == "10" else _icd9(dx[k][1])
        if code not in codes:
            codes.append(code)
    return ", ".join(codes), any(dx[k][0] == "9" for k in order)


def _separator_message(what: str, used: str, component: str) -> str:
    """One line for a composite split by another separator than ISA16 (only separators are shown:
    never the code itself)."""
    but = f" but by '{used}'" if used else ""
    return (f"{what} is not split by the component separator '{component}' the ISA declares (ISA16){but}: "
            "wrong separators? Export the batch again from the PM system")


def _other_payer(claim: dict) -> bool:
    return bool(claim.get("other_payer"))


def _show(sep: str) -> str:
    return {"\n": "line break", "\r": "carriage return", "\t": "tab"}.get(sep, sep)


def unmatched_payers(batch: Batch837, payers) -> dict[tuple[str, str], int]:
    """(NM1*PR name, payer ID) → lines, for the payers no Payers row matched (the summary flags them)."""
    match = payer_matcher(payers)
    out: dict[tuple[str, str], int] = {}
    for name, pid in batch.payer_names:
        if match(pid, name) is None:
            out[(name, pid)] = out.get((name, pid), 0) + 1
    return out


def claims_frame(batch: Batch837):
    """The batch's rows as a Claims frame (the contract's headers, in order, plus Charge)."""
    import pandas as pd

    from ..tables import CLAIMS

    headers = CLAIMS.headers + [c for c in ("Charge",) if c not in CLAIMS.headers]
    frame = pd.DataFrame.from_records(batch.rows, columns=headers)
    frame.attrs["file"] = str(batch.path)
    return frame


def read_claims_837(path: str | Path, payers=None, without: Collection[str] = ()):
    """An 837P file → a Claims frame, one row per service line (the ``mednec validate`` source);
    the columns named in ``without`` blank (a caller that never reads them need not hold them).

    The column-wise reader (``x12_837_fast``) reads a 100,000-line batch in a fraction of the
    time; whatever it does not read the same way, this module's reader reads (or refuses)."""
    from .x12_837_fast import read_claims_fast

    frame = read_claims_fast(path, payers, without)
    if frame is None:
        frame = claims_frame(read_837(path, payers=payers))
        for column in without:
            if column in frame.columns:
                frame[column] = float("nan")
    return frame
