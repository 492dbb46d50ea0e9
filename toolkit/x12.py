"""X12 (005010) files → segments: the one tokenizer the 835 and 837P readers share.

Why hand-written: pyx12 (installed, maintained) insists on a fixed-width 106-character ISA, so it
rejects files whose ISA is not space-padded, files that start with a byte-order mark, and
envelope-less ST…SE fragments (what many portals hand out); its validating walker is also far
slower than a remittance or claim batch needs.  Separators come from the ISA (element separator =
4th character, component separator = ISA16, segment terminator = the character after ISA16), or
are guessed for a fragment.  pyx12 stays the independent checker in the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_JUNK_BEFORE_ID = re.compile(r"^[^A-Za-z0-9]+")


@dataclass
class Separators:
    element: str
    component: str
    segment: str


# ---------------------------------------------------------------- tokenizer

def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _separators_from_isa(text: str) -> Separators:
    """ISA: element separator is its 4th character; ISA16 is the component separator and the
    character right after it ends the segment.  Counting separators (not fixed columns) also
    reads an ISA whose fields are not space-padded."""
    element = text[3]
    pos = 3
    for _ in range(15):  # ISA01 starts after the 1st separator; ISA16 after the 16th
        pos = text.find(element, pos + 1)
        if pos < 0:
            raise ValueError("short ISA")
    if pos + 2 >= len(text):
        raise ValueError("short ISA")
    component, segment = text[pos + 1], text[pos + 2]
    return Separators(element, component, segment)


def _guess_separators(text: str) -> Separators:
    """An ST…SE fragment has no ISA: the element separator follows 'ST', the terminator is the
    candidate after which every piece starts with a segment id, the component separator is the
    character after SVC01's qualifier (default ':')."""
    if not text.startswith("ST") or len(text) < 3:
        raise ValueError("no ST")
    element = text[2]
    if element.isalnum() or element.isspace():
        raise ValueError("no element separator")
    for candidate in ("~", "'", "!", "|", "\n"):
        if candidate == element or candidate not in text:
            continue
        pieces = [p.strip() for p in text.split(candidate) if p.strip()][:20]
        if pieces and all(_SEGMENT_ID.match(p.split(element, 1)[0]) for p in pieces):
            break
    else:
        raise ValueError("no segment terminator")
    m = re.search(re.escape(element) + r"(?:HC|AD|ER|IV|N4|NU|WK|ZZ)([^A-Za-z0-9\s])", text)
    component = m.group(1) if m and m.group(1) not in (element, candidate) else ":"
    return Separators(element, component, candidate)


def tokenize(data: bytes | str, *, file: str | Path | None = None,
             kind: str = "X12") -> tuple[list[list[str]], Separators]:
    """Bytes or text → segments (lists of elements) and the separators used."""
    text = _decode(data).lstrip()
    if not text:
        raise InputError("the file is empty", file=file)
    try:
        seps = _separators_from_isa(text) if text.startswith("ISA") else _guess_separators(text)
    except (ValueError, IndexError):
        raise InputError(f"not an {kind} file (no ISA or ST segment at the start)", file=file) from None
    segments = []
    for raw in text.split(seps.segment):
        raw = raw.strip()
        if not raw:
            continue
        elements = raw.split(seps.element)
        # Some files put the terminator and a line break the "wrong" way round (…\n~GS…).
        elements[0] = _JUNK_BEFORE_ID.sub("", elements[0]).upper()
        segments.append(elements)
    return segments, seps




def element(seg: list[str], i: int) -> str:
    """Element ``i`` of a segment, stripped; "" when the segment is shorter."""
    return seg[i].strip() if len(seg) > i else ""
