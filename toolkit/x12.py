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
    reader = SegmentReader(data, file=file, kind=kind)
    segments = list(reader)
    assert reader.separators is not None  # set by the first segment
    return segments, reader.separators


# ---------------------------------------------------------------- streaming

#: Files above this size are refused in one line (a remittance or claim batch from a payer or
#: clearinghouse is a few MB; 100 MB already holds ~400,000 claims).  Documented in docs/denials.md.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: A "segment" longer than this means the file has no usable segment terminator.
MAX_SEGMENT_CHARS = 1024 * 1024
CHUNK_BYTES = 1 << 20


class _Decoder:
    """Incremental bytes → text: UTF-16 when the file starts with its byte-order mark, else UTF-8,
    falling back to Latin-1 from the first undecodable chunk on (what ``_decode`` does for a
    whole file)."""

    def __init__(self, head: bytes):
        import codecs

        self.name = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
        self._dec = codecs.getincrementaldecoder(self.name)()

    def __call__(self, chunk: bytes, final: bool = False) -> str:
        import codecs

        try:
            return self._dec.decode(chunk, final)
        except UnicodeDecodeError:
            if self.name == "latin-1":
                raise
            self.name = "latin-1"
            self._dec = codecs.getincrementaldecoder("latin-1")()
            return self._dec.decode(chunk, final)


class SegmentReader:
    """Segments of an X12 file, read incrementally (a chunk at a time), so a 100 MB remittance
    never sits in memory whole.  ``separators`` is set once the first segment is read.

    ``source`` is bytes, text, a path or a binary file object.  Why hand-written: see the module
    docstring (pyx12 cannot read fragments or unpadded ISAs, and is far slower)."""

    def __init__(self, source, *, file: str | Path | None = None, kind: str = "X12",
                 chunk_bytes: int = CHUNK_BYTES):
        self.file, self.kind, self.chunk_bytes = file, kind, chunk_bytes
        self.source = source
        self.separators: Separators | None = None
        self.segments_read = 0

    def _chunks(self):
        src = self.source
        if isinstance(src, str):
            yield src.lstrip("\ufeff")
            return
        if isinstance(src, (bytes, bytearray)):
            text = _decode(bytes(src))
            yield text
            return
        close = False
        if isinstance(src, (str, Path)) or hasattr(src, "__fspath__"):
            path = Path(src)
            try:
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:
                    raise InputError(f"the file is {size / 1e6:.0f} MB, above the {MAX_FILE_BYTES // 2**20} MB "
                                     f"limit for one {self.kind} file: ask for it in smaller files", file=self.file)
                src = path.open("rb")
            except OSError as exc:
                raise InputError(f"cannot read the file ({exc.strerror})", file=self.file) from None
            close = True
        try:
            first = src.read(self.chunk_bytes)
            decode = _Decoder(first)
            total = len(first)
            chunk = first
            while chunk:
                nxt = src.read(self.chunk_bytes)
                total += len(nxt)
                if total > MAX_FILE_BYTES:
                    raise InputError(f"the file is above the {MAX_FILE_BYTES // 2**20} MB limit for one "
                                     f"{self.kind} file: ask for it in smaller files", file=self.file)
                yield decode(chunk, final=not nxt)
                chunk = nxt
        finally:
            if close:
                src.close()

    def __iter__(self):
        seps: Separators | None = None
        pending = ""
        started = False
        for text in self._chunks():
            if not started:
                text = (pending + text).lstrip().lstrip("\ufeff").lstrip()
                pending = ""
                if not text:
                    continue
                if len(text) < 200 and not text.startswith("ST"):
                    pending = text  # an ISA needs ~106 characters: wait for more
                    continue
                seps = self._separators(text)
                started = True
            else:
                text = pending + text
            assert seps is not None
            pieces = text.split(seps.segment)
            pending = pieces.pop()
            if len(pending) > MAX_SEGMENT_CHARS:
                raise InputError(f"a segment is longer than {MAX_SEGMENT_CHARS:,} characters: the file has no "
                                 "usable segment terminator or is damaged", file=self.file)
            for raw in pieces:
                seg = self._segment(raw, seps)
                if seg is not None:
                    yield seg
        if not started:
            if pending.strip():
                self._separators(pending.strip())
                started = True
                seps = self.separators
            else:
                raise InputError("the file is empty", file=self.file)
        if pending.strip() and seps is not None:
            seg = self._segment(pending, seps)
            if seg is not None:
                yield seg

    def _separators(self, text: str) -> Separators:
        try:
            seps = _separators_from_isa(text) if text.startswith("ISA") else _guess_separators(text)
        except (ValueError, IndexError):
            raise InputError(f"not an {self.kind} file (no ISA or ST segment at the start)", file=self.file) from None
        self.separators = seps
        return seps

    def _segment(self, raw: str, seps: Separators) -> list[str] | None:
        raw = raw.strip()
        if not raw:
            return None
        elements = raw.split(seps.element)
        head = elements[0]
        if not (head.isalnum() and head.isupper()):  # the regex only where it can change something:
            # some files put the terminator and a line break the "wrong" way round (…\n~GS…).
            elements[0] = _JUNK_BEFORE_ID.sub("", head).upper()
        self.segments_read += 1
        return elements


def element(seg: list[str], i: int) -> str:
    """Element ``i`` of a segment, stripped; "" when the segment is shorter."""
    return seg[i].strip() if len(seg) > i else ""
