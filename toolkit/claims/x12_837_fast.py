"""The fast path of the 837P reader: a batch's service lines as a Claims frame from column
operations on the whole file, not a Python step per segment (``mednec validate FILE.837``).

Why hand-written, and why numpy: pyx12 (the validator the tests use) walks every segment through
its map and takes minutes on a 100,000-line batch; the reference reader ``x12_837._Reader`` takes
a Python step per segment (about 5 s for 100,000 lines).  pyarrow is not a runtime dependency and
``pyarrow.compute`` alone costs 0.15 s to import, so this path uses numpy (there with pandas):
the file's bytes are one uint8 array; the positions of every segment terminator and element
separator come from one comparison each; a segment's id, its loop (forward-filled HL, CLM and LX
positions) and the elements the Claims columns need are index arithmetic on those positions.
Python runs only over distinct values (dates, SV101 composites, payers, diagnosis lists, names).

The reference reader stays the definition: this path reads what it reads, the same way, and
returns None for anything it does not handle (non-ASCII text, a byte-order mark, fixed-width line
wrapping, odd envelopes, a segment outside its loop, a refusal of any kind), so the caller falls
back to the reference reader, which gives every refusal its one-line message naming the segment.
tests/test_claims_837_fast.py compares the two on every fixture and on a generated batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..values import first_positions
from ..x12 import _separators_from_isa
from .x12_837 import (
    PROCEDURE_QUALIFIERS,
    _date,
    _dx,
    _icd9,
    _number,
    hi_diagnoses,
    payer_matcher,
    person_name,
    pointer_numbers,
    provider_name,
    separator_used,
    sv101_procedure,
)

#: Python's str.strip() whitespace among ASCII bytes (\x1c-\x1f included, as in the tokenizer).
_WS = np.array([chr(c).isspace() for c in range(256)], dtype=bool)
_PY_WS = bytes(c for c in range(128) if chr(c).isspace())


def _upper(b: np.ndarray) -> np.ndarray:
    return (b - np.uint8(65)) < 26  # uint8 arithmetic wraps: below "A" becomes large


def _alnum(b: np.ndarray) -> np.ndarray:
    return _upper(b) | ((b - np.uint8(48)) < 10)


def _code(name: str) -> int:
    """A segment id as its segments' ``code``: its 2 or 3 ASCII bytes as a little-endian number."""
    return int.from_bytes(name.encode("ascii"), "little")


#: Little-endian masks keeping a word's first 0..8 bytes.
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype="<u8")
#: The widest element value read column-wise (an HI segment's codes, a name); wider: the reference reader.
_WIDEST = 512
_ENVELOPES = ("ISA", "GS", "ST", "SE", "GE", "IEA", "TA1")
#: (previous envelope segment, must it be the segment right before?) for each envelope segment.
_ENVELOPE_AFTER = {"ISA": ("IEA", None), "GS": ("ISA", "GE"), "ST": ("GS", "SE"), "SE": ("ST",),
                   "GE": ("SE",), "IEA": ("GE",)}


Spans = tuple[np.ndarray, np.ndarray]  # [start, end) of values in the file's bytes


class _Fallback(Exception):
    """The reference reader must read this file (it may refuse it with its own message)."""


#: Bytes per step when listing a separator's positions (a few MB: the steps reuse their memory).
_CHUNK = 1 << 22


def _positions(arr: np.ndarray, byte: int) -> np.ndarray:
    """Where ``byte`` occurs, as int32 (half the memory of flatnonzero's int64 and of every
    gather from it: 6 million element separators in a 28 MB batch), listed a chunk at a time."""
    parts = [np.flatnonzero(arr[lo: lo + _CHUNK] == byte).astype(np.int32) + np.int32(lo)
             for lo in range(0, len(arr), _CHUNK)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


class _File:
    """The bytes of one batch: segment spans [starts, ends), element separator positions."""

    def __init__(self, data: bytes, element: str):
        self.element = element
        self.arr = arr = np.frombuffer(data, dtype=np.uint8)
        self.n = len(arr)
        if self.n >= 2**31 - _CHUNK:
            raise _Fallback  # positions are int32
        self.elements = _positions(arr, ord(element))
        # the 8 bytes from every offset as one little-endian word (an unaligned view, no copy)
        self.words = np.ndarray((self.n - 7,), dtype="<u8", buffer=arr, strides=(1,))

    def strip(self, a: np.ndarray, b: np.ndarray) -> None:
        """Narrow the spans [a, b) in place past leading and trailing whitespace.  Whole-array
        steps while many spans move (every segment after a line break: half the time of index
        lists), then an index list of the few left (a long run of blanks in one value)."""
        arr, last = self.arr, self.n - 1
        for end in (False, True):
            while True:
                at = b - 1 if end else a
                ws = _WS[arr[np.clip(at, 0, last)]] & (a < b)
                moving = int(np.count_nonzero(ws))
                if not moving:
                    break
                if end:
                    b -= ws
                else:
                    a += ws
                if moving * 16 < len(a):
                    self._strip_few(a, b, np.flatnonzero(ws), end)
                    break

    def _strip_few(self, a: np.ndarray, b: np.ndarray, todo: np.ndarray, end: bool) -> None:
        arr = self.arr
        while todo.size:
            todo = todo[a[todo] < b[todo]]
            todo = todo[_WS[arr[b[todo] - 1 if end else a[todo]]]]
            if end:
                b[todo] -= 1
            else:
                a[todo] += 1

    def bytes(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The spans as a numpy bytes array (one fixed width, at least 8 for values up to 8 bytes;
        trailing NULs are padding, which numpy's bytes comparisons and ``tolist`` ignore)."""
        lengths = b - a
        width = int(lengths.max()) if len(lengths) else 0
        if width == 0:
            return np.zeros(len(a), dtype="S1")
        if width > _WIDEST:
            raise _Fallback
        if width > self.n:
            raise _Fallback
        if width <= 8:  # (qualifiers, IDs, dates, amounts) one word each from the word view, cut by a mask
            last = self.n - 8
            word = self.words[np.minimum(a, last)]
            for row in np.flatnonzero((a > last) & (lengths > 0)).tolist():  # in the file's last 7 bytes
                word[row] = int.from_bytes(self.arr[a[row]: b[row]].tobytes().ljust(8, b"\0"), "little")
            word &= _MASKS[lengths]
            return word.view("S8")
        # each row one `width`-byte record from an overlapping record view of the file (a copy
        # per row, no index per byte; 2-3x faster than rows of a sliding window view), then cut
        # by its length's row of a byte mask; a value in the file's last `width` bytes is shifted
        # into the last record
        shift = np.maximum(a - (self.n - width), 0)
        records = np.ndarray((self.n - width + 1,), dtype=f"S{width}", buffer=self.arr, strides=(1,))
        out = records[a - shift]
        grid = out.view(np.uint8).reshape(len(a), width)
        for row in np.flatnonzero(shift).tolist():
            grid[row, : width - shift[row]] = grid[row, shift[row]:].copy()
        grid &= _keep_mask(width).take(lengths, axis=0)
        return out


@lru_cache(maxsize=64)
def _keep_mask(width: int) -> np.ndarray:
    """Row k: 0xFF in a value's first k bytes, 0 after (k = 0 … width)."""
    return np.where(np.arange(width)[None, :] < np.arange(width + 1)[:, None], 255, 0).astype(np.uint8)


class _Segments:
    """Every segment's span, id code and first element separator."""

    def __init__(self, f: _File, starts: np.ndarray, ends: np.ndarray):
        self.f, self.starts, self.ends = f, starts, ends
        e = f.elements
        self.first = np.searchsorted(e, starts)  # index in f.elements of the separator ending the id
        arr, sep = f.arr, f.arr.dtype.type(ord(f.element))
        if ((ends - starts) < 2).any():
            raise _Fallback  # a one-letter id
        if len(starts) and int(starts[-1]) > f.n - 4:
            raise _Fallback  # a two-letter segment in the file's last bytes (not an IEA)
        # each segment's first 4 bytes as one little-endian word (one gather, no lookup table)
        word = np.ndarray((f.n - 3,), dtype="<u4", buffer=arr, strides=(1,))[starts]
        b = word.view(np.uint8).reshape(-1, 4)
        short = (ends == starts + 2) | (b[:, 2] == sep)  # a two-character id (N3, HL, LX …)
        if not (short | (ends == starts + 3) | (b[:, 3] == sep)).all():
            raise _Fallback  # an id the tokenizer would clean or refuse
        if not (_upper(b[:, 0]) & _alnum(b[:, 1]) & (short | _alnum(b[:, 2]))).all():
            raise _Fallback
        self.code = word & np.where(short, np.uint32(0xFFFF), np.uint32(0xFFFFFF))
        self.count = len(starts)
        # Separators inside each segment: an element separator is never whitespace, so none lies
        # between one segment's end and the next one's start.
        self.seps = np.diff(np.r_[self.first, len(e)])
        self.clean = self._clean()

    def _clean(self) -> bool:
        """No whitespace next to an element separator outside the ISA (whose fields are padded):
        then no element value has space to strip (a segment's own ends are stripped already), and
        ``spans`` skips the strip, two gathers per call.  The file is ASCII: whitespace is <= 32."""
        f = self.f
        arr, sep = f.arr, f.arr.dtype.type(ord(f.element))
        parts = []
        for lo in range(0, f.n - 1, _CHUNK):  # pairs (i, i+1) of one whitespace byte and one separator
            c = arr[lo: lo + _CHUNK + 1]  # a chunk at a time: no position list of every blank
            ws, at = c <= 32, c == sep
            pair = (ws[1:] & at[:-1]) | (ws[:-1] & at[1:])
            if pair.any():
                parts.append(np.flatnonzero(pair) + lo)
        if not parts:
            return True
        near = np.concatenate(parts)  # both bytes of a pair lie in one segment (ids are letters)
        seg = np.searchsorted(self.starts, near, side="right") - 1
        return bool(((seg >= 0) & (self.code[np.maximum(seg, 0)] == _code("ISA"))).all())

    def of(self, name: str) -> np.ndarray:
        return self.code == _code(name)

    def spans(self, pos: np.ndarray, k: int, *, rest: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Stripped spans of element ``k`` (``rest``: elements k… as one text) of the segments at
        ``pos``; an empty span where the segment is shorter or ``pos`` is -1."""
        e = self.f.elements
        ok = pos >= 0
        p = pos if ok.all() else np.where(ok, pos, 0)
        first, end, seps = self.first[p], self.ends[p], self.seps[p]
        ok &= seps >= k
        last = len(e) - 1
        if ok.all():  # (most calls) every segment has the element: no clipping, no blanks to place
            at = first + (k - 1)
            a = e[at] + 1
            if rest:
                b = end
            else:
                more = seps > k
                b = e[at + 1] if more.all() else np.where(more, e[np.minimum(at + 1, last)], end)
            if not self.clean:
                self.f.strip(a, b)
            return a, b
        a = np.where(ok, e[np.clip(first + k - 1, 0, last)] + 1, 0)
        b = end if rest else np.where(seps > k, e[np.clip(first + k, 0, last)], end)
        b = np.where(ok, b, 0)
        if not self.clean:
            self.f.strip(a, b)
        return a, b

    def values(self, pos: np.ndarray, k: int, *, rest: bool = False) -> np.ndarray:
        return self.f.bytes(*self.spans(pos, k, rest=rest))

    def map(self, fn: Callable[..., object], pos: np.ndarray, *elements: int) -> np.ndarray:
        """``fn`` of elements ``elements`` of the segments at ``pos`` (-1: blanks); each distinct
        position read once (a billing provider, a blank, serves thousands of rows)."""
        import pandas as pd

        if len(pos) and pos[0] >= 0 and (pos[1:] > pos[:-1]).all():  # a segment per row (SV1, DTP)
            return self._map_at(fn, pos, elements)
        inv, distinct = pd.factorize(pos)
        return self._map_at(fn, distinct, elements)[inv]

    def _map_at(self, fn: Callable[..., object], pos: np.ndarray, elements: tuple[int, ...]) -> np.ndarray:
        """``map`` on positions read as they are.  Several elements of clean segments that all have
        the last of them: the text from the first to the last element (separators included) is
        factorized once and split per distinct text (one factorization, not one per element and
        one more for their combinations: an NM1's name and ID, 100,000 segments)."""
        k1, k2 = elements[0], elements[-1]
        if len(elements) > 1 and self.clean and list(elements) == sorted(set(elements)):
            present = pos[pos >= 0]
            if (self.seps[present] >= k2).all():
                a, b = self.spans(pos, k1)[0], self.spans(pos, k2)[1]  # both 0 where pos is -1
                if not len(a) or int((b - a).max()) <= _WIDEST:
                    codes, texts = _factor(self.f.bytes(a, b))
                    sep, at = self.f.element, [k - k1 for k in elements]
                    values = []
                    for text in texts:
                        parts = text.split(sep)
                        values.append(fn(*(parts[i] if i < len(parts) else "" for i in at)))
                    return np.fromiter(values, dtype=object, count=len(values))[codes]
        return _map(fn, *(self.values(pos, k) for k in elements))

    def numbers(self, pos: np.ndarray, k: int) -> np.ndarray:
        """Element ``k`` as numbers, as the reference's from_records makes them: float64 with NaN
        for the blanks, or a column of None when every value is blank.  Each distinct text is
        read once and its float placed per row (no object column per row)."""
        codes, distinct = _factor(self.values(pos, k))
        found = [_number(v) for v in distinct]
        if all(x is None or x != x for x in found):  # every value blank (None, or "NaN" read as NaN)
            return np.array(found, dtype=object)[codes] if found else np.full(len(codes), None)
        return np.array([np.nan if x is None else x for x in found], dtype=float)[codes]

    def text(self, pos: np.ndarray, k: int) -> np.ndarray:
        """Element ``k`` of the segments at ``pos`` as str ("" where absent)."""
        return self.map(_same, pos, k)


def _factor(values: np.ndarray, *, texts: bool = True) -> tuple[np.ndarray, list[str]]:
    """(codes, distinct values in code order) of a numpy bytes array: pandas.factorize hashes its
    8-byte words (sorting 100,000 strings, as numpy.unique does, costs ten times more).
    ``texts=False``: the codes alone (the list empty), where no value is read as text."""
    import pandas as pd

    m, width = len(values), values.dtype.itemsize
    if m == 0:
        return np.zeros(0, dtype=np.int64), []
    words = -(-width // 8)
    grid = values if width == words * 8 else values.astype(f"S{words * 8}")  # NUL-padded to whole words
    codes: np.ndarray | None = None
    for word in np.ascontiguousarray(grid).view(np.uint64).reshape(m, words).T:
        part, distinct = pd.factorize(word)
        codes = part if codes is None else pd.factorize(codes * len(distinct) + part)[0]
    assert codes is not None
    if not texts:
        return codes, []
    return codes, _strings(values[first_positions(codes)])


def _combine(fn: Callable[..., object], factors: list[tuple[np.ndarray, list[str]]]) -> np.ndarray:
    """``fn`` of each row's values, called once per distinct combination."""
    import pandas as pd

    if len(factors) == 1:
        codes, distinct = factors[0]
        values = distinct if fn is _same else [fn(v) for v in distinct]
        return np.fromiter(values, dtype=object, count=len(values))[codes]
    combined = np.zeros(len(factors[0][0]), dtype=np.int64)
    for codes, distinct in factors:
        combined = combined * max(len(distinct), 1) + codes
    inv, keys = pd.factorize(combined)
    args = []
    for _, distinct in reversed(factors):
        keys, r = np.divmod(keys, max(len(distinct), 1))
        args.append(np.array(distinct + [""], dtype=object)[r])
    values = [fn(*row) for row in zip(*reversed(args))]
    return np.fromiter(values, dtype=object, count=len(values))[inv]


def _map(fn: Callable[..., object], *columns: np.ndarray) -> np.ndarray:
    return _combine(fn, [_factor(c) for c in columns])


def _same(value: str) -> str:
    return value


def _last_of(events: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each position in ``at``, the last of the (sorted) ``events`` at or before it, else -1."""
    i = np.searchsorted(events, at, side="right") - 1
    return np.where(i >= 0, events[np.maximum(i, 0)] if len(events) else -1, -1)


def _last_at(mask: np.ndarray) -> np.ndarray:
    """For each segment, the position of the last segment at or before it where ``mask`` holds (-1)."""
    return np.maximum.accumulate(np.where(mask, np.arange(len(mask), dtype=np.int32), np.int32(-1)))


def _pick(events: np.ndarray, owners: np.ndarray, targets: np.ndarray, *, last: bool) -> np.ndarray:
    """Per target position (sorted), the first or last of ``events`` it owns, else -1."""
    out = np.full(len(targets), -1, dtype=np.int64)
    if len(events):
        change = owners[1:] != owners[:-1]
        keep = np.r_[change, True] if last else np.r_[True, change]
        out[np.searchsorted(targets, owners[keep])] = events[keep]
    return out


# ---------------------------------------------------------------- reading

def read_claims_fast(path: str | Path, payers=None, without: Collection[str] = ()):
    """The batch as a Claims frame equal to ``claims_frame(read_837(path))`` (the columns named in
    ``without`` left blank, not read), or None when the reference reader must read it (see the
    module docstring)."""
    try:
        return _read(Path(path), payers, without)
    except _Fallback:
        return None


def _split(path: Path) -> tuple[_Segments, str, str]:
    """The file's segments (as the tokenizer splits them) and its element and component separators."""
    try:
        data = path.read_bytes()
    except OSError:
        raise _Fallback from None
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip(_PY_WS).rstrip(b"\x00\x1a")
    if len(data) < 200 or not data.startswith(b"ISA") or not data.isascii() or b"\x00" in data:
        raise _Fallback
    try:
        seps = _separators_from_isa(data[:4096].decode("ascii"))
    except (ValueError, IndexError):
        raise _Fallback from None
    chars = (seps.element, seps.component, seps.segment)
    if len(set(chars)) < 3 or any(c.isspace() or c.isalnum() for c in chars):
        raise _Fallback
    f = _File(data, seps.element)
    arr = f.arr
    one = data.find(b"\n")
    two = data.find(b"\n", one + 1) if one >= 0 else -1
    same = two >= 0 and len(data[:one].rstrip(b"\r")) == len(data[one + 1: two].rstrip(b"\r"))
    # the first two lines differ in width (or there are not three): not wrapped, no need to look further
    breaks = np.flatnonzero(arr == 10) if same else np.zeros(0, dtype=np.int64)
    if len(breaks) >= 2:  # a batch wrapped at a fixed width: the reference reader joins the lines
        line_ends = np.r_[breaks, f.n]
        line_starts = np.r_[0, breaks + 1]
        widths = line_ends - line_starts
        widths -= (widths > 0) & (arr[np.maximum(line_ends - 1, 0)] == 13)
        if widths[0] >= 40 and (widths[:-1] == widths[0]).all():
            raise _Fallback
    terms = _positions(arr, ord(seps.segment))
    starts = np.concatenate([np.zeros(1, dtype=np.int32), terms + 1])
    ends = np.concatenate([terms, np.full(1, f.n, dtype=np.int32)])
    if not _WS[arr[starts[-1]:]].all():
        raise _Fallback  # text after the last terminator: a truncated file
    starts, ends = starts[:-1], ends[:-1]
    f.strip(starts, ends)
    keep = starts < ends
    return _Segments(f, starts[keep], ends[keep]), seps.element, seps.component


def _check_envelopes(s: _Segments, element: str) -> None:
    """ISA (GS (ST…SE)+ GE)+ IEA, nothing between the envelopes, and the versions the reference
    reader accepts; anything else is for the reference reader to read or refuse."""
    names = {_code(n): n for n in _ENVELOPES}
    pos = np.flatnonzero(np.isin(s.code, list(names)))
    if not len(pos) or pos[0] != 0 or pos[-1] != s.count - 1:
        raise _Fallback
    text = s.f.arr
    prev: tuple[str, int] = ("IEA", -1)
    for p, c in zip(pos.tolist(), s.code[pos].tolist()):
        name = names[c]
        allowed = _ENVELOPE_AFTER.get(name)
        if allowed is None or prev[0] not in allowed or (name != "SE" and p != prev[1] + 1):
            raise _Fallback
        if name in ("ISA", "GS", "ST"):
            seg = text[s.starts[p]: s.ends[p]].tobytes().decode("ascii").split(element)
            if not _envelope_ok(name, seg):
                raise _Fallback
        prev = (name, p)
    if prev[0] != "IEA":
        raise _Fallback  # the file ends inside an envelope: truncated


def _version_ok(version: str) -> bool:
    return version.startswith("005010X222") and "X223" not in version and "X224" not in version


def _envelope_ok(name: str, seg: list[str]) -> bool:
    def el(i: int) -> str:
        return seg[i].strip() if len(seg) > i else ""

    if name == "ISA":
        return len(seg) == 17 and el(12) == "00501"
    if name == "GS":
        return el(1) == "HC" and _version_ok(el(8))
    return el(1) == "837" and (not el(3) or _version_ok(el(3)))


def _read(path: Path, payers, without: Collection[str] = ()):  # noqa: C901 - one pass of column steps, in file order, reads best whole
    """Long on purpose: each block below is one Claims column family of the reference reader,
    in the order ``_Reader.read`` meets its segments; splitting it would scatter the loop masks."""
    import pandas as pd

    from ..tables import CLAIMS

    s, element, component = _split(path)
    _check_envelopes(s, element)
    n = s.count
    is_hl, is_clm, is_lx, is_st = s.of("HL"), s.of("CLM"), s.of("LX"), s.of("ST")
    is_nm1, is_sv1, is_sbr = s.of("NM1"), s.of("SV1"), s.of("SBR")
    last_st, last_hl, last_clm, last_lx = _last_at(is_st), _last_at(is_hl), _last_at(is_clm), _last_at(is_lx)
    in_hl = last_hl > last_st  # past the transaction header (BHT, submitter, receiver)
    in_claim = in_hl & (last_clm > last_hl)
    in_line = in_claim & (last_lx > last_clm)
    pre_claim = in_hl & ~in_claim & ~is_hl  # an HL loop before its first claim
    claim_zone = in_claim & ~in_line & ~is_clm  # 2300 and its 2310-2330 loops
    line_zone = in_line & ~is_lx  # 2400 and its 2410-2440 loops
    if (is_clm & ~in_hl).any() or (is_lx & ~in_claim).any() or (is_sv1 & ~line_zone).any():
        raise _Fallback  # a claim, line or SV1 outside its loop

    # HL tree: every parent named earlier in the same transaction; claims under 22/23 only.
    hl_pos = np.flatnonzero(is_hl)
    hl_id, hl_parent, hl_level = s.values(hl_pos, 1), s.values(hl_pos, 2), s.values(hl_pos, 3)
    inv, _ = _factor(np.concatenate([hl_id, hl_parent]), texts=False)  # 100,000 distinct IDs: no str each
    ids = int(inv.max()) + 1 if len(inv) else 1
    tx = last_st[hl_pos]
    own, parent = tx * ids + inv[: len(hl_pos)], tx * ids + inv[len(hl_pos):]
    order = np.argsort(own, kind="stable")
    if (own[order][1:] == own[order][:-1]).any():
        raise _Fallback  # one HL01 twice in a transaction
    has_parent = hl_parent != b""
    at = np.minimum(np.searchsorted(own[order], parent[has_parent]), len(own) - 1)
    found = order[at]
    if not ((own[found] == parent[has_parent]) & (found < np.flatnonzero(has_parent))).all():
        raise _Fallback
    clm_pos = np.flatnonzero(is_clm)
    clm_level = hl_level[np.searchsorted(hl_pos, last_hl[clm_pos])]
    if not ((clm_level == b"22") | (clm_level == b"23")).all():
        raise _Fallback
    level_at = np.zeros(n, dtype="S3")
    level_at[hl_pos] = hl_level
    level_22 = np.zeros(n, dtype=bool)
    level_22[hl_pos[hl_level == b"22"]] = True

    # Rows: one per LX, exactly one SV1 each.
    lx_pos = np.flatnonzero(is_lx)
    sv1_pos = np.flatnonzero(is_sv1)
    if not len(lx_pos) or not np.array_equal(last_lx[sv1_pos], lx_pos):
        raise _Fallback
    row_claim = np.searchsorted(clm_pos, last_clm[lx_pos])

    # Subscriber, patient, payer and billing provider: the HL loops before each claim.
    nm1_pos = np.flatnonzero(is_nm1)
    nm1_q = np.zeros(n, dtype="S3")
    nm1_q[nm1_pos] = s.values(nm1_pos, 1)

    def last_before_claim(mask: np.ndarray, scope: np.ndarray) -> np.ndarray:
        at = _last_of(np.flatnonzero(mask & pre_claim), clm_pos)
        return np.where(at > scope, at, -1)

    sub_scope = np.maximum(_last_of(np.flatnonzero(level_22), clm_pos), last_st[clm_pos])
    pat_scope = last_hl[clm_pos]
    dmg = s.of("DMG") & pre_claim
    dmg_pos = np.flatnonzero(dmg)
    dmg_d8 = s.values(dmg_pos, 1) == b"D8"
    seen = _last_of(nm1_pos, dmg_pos)
    q = np.where(seen > last_hl[dmg_pos], nm1_q[np.maximum(seen, 0)], b"")
    to_pat = dmg_d8 & (level_at[last_hl[dmg_pos]] == b"23") & (q == b"QC")
    to_sub = dmg_d8 & ~to_pat & (q == b"IL")
    dmg_sub, dmg_pat = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    dmg_sub[dmg_pos[to_sub]] = True
    dmg_pat[dmg_pos[to_pat]] = True
    under_23 = clm_level == b"23"
    sub_nm1 = last_before_claim(nm1_q == b"IL", sub_scope)
    payer_nm1 = last_before_claim(nm1_q == b"PR", sub_scope)
    sub_dmg = last_before_claim(dmg_sub, sub_scope)
    pat_nm1 = np.where(under_23, last_before_claim(nm1_q == b"QC", pat_scope), -1)
    pat_dmg = np.where(under_23, last_before_claim(dmg_pat, pat_scope), -1)
    billing_nm1 = last_before_claim(nm1_q == b"85", last_st[clm_pos])

    # Claim level (2300 before its first NM1/SBR loop): HI, REF*G1, DTP*472/434, NM1*82.
    loops = np.cumsum(is_nm1 | is_sbr, dtype=np.int32)
    sbrs = np.cumsum(is_sbr, dtype=np.int32)
    claim_free = claim_zone & (loops == loops[last_clm])
    ref = s.of("REF")
    ref_pos = np.flatnonzero(ref & (claim_zone | line_zone))
    ref_q = np.zeros(n, dtype=bool)
    ref_q[ref_pos] = s.values(ref_pos, 1) == b"G1"
    dtp_pos = np.flatnonzero(s.of("DTP") & (claim_zone | line_zone))
    dtp_q = np.zeros(n, dtype="S3")
    dtp_q[dtp_pos] = s.values(dtp_pos, 1)
    dtp_date = np.empty(n, dtype=object)
    dtp_date[dtp_pos] = s.map(_date, dtp_pos, 3)
    has_date = np.zeros(n, dtype=bool)
    has_date[dtp_pos] = dtp_date[dtp_pos] != None  # noqa: E711 - elementwise

    def per_claim(mask: np.ndarray, *, last: bool) -> np.ndarray:
        ev = np.flatnonzero(mask)
        return _pick(ev, last_clm[ev], clm_pos, last=last)

    claim_auth = per_claim(claim_free & ref_q, last=True)
    claim_dtp = per_claim(claim_free & ((dtp_q == b"472") | (dtp_q == b"434")) & has_date, last=False)
    nm1_82 = nm1_q == b"82"
    r_pos = np.flatnonzero(nm1_82 & claim_zone & (sbrs == sbrs[last_clm]))
    named = np.zeros(n, dtype=bool)
    named[r_pos] = (s.values(r_pos, 3) != b"") | (s.values(r_pos, 4) != b"") | (s.values(r_pos, 9) != b"")
    claim_rendering = per_claim(named, last=False)
    hi_pos = np.flatnonzero(s.of("HI") & claim_free)
    hi_claim = np.searchsorted(clm_pos, last_clm[hi_pos])
    claim_hi = np.full(len(clm_pos), "", dtype=object)
    hi_codes, hi_distinct = _factor(s.values(hi_pos, 1, rest=True))
    hi_text = np.array(hi_distinct, dtype=object)[hi_codes]
    first_hi = np.r_[True, hi_claim[1:] != hi_claim[:-1]] if len(hi_pos) else np.zeros(0, dtype=bool)
    claim_hi[hi_claim[first_hi]] = hi_text[first_hi]
    for k in np.flatnonzero(~first_hi).tolist():  # a second HI of a claim: its codes follow the first's
        claim_hi[hi_claim[k]] += element + hi_text[k]

    # Line level (2400 before its first NM1/SVD/LIN loop): DTP*472, REF*G1; NM1*82 anywhere in it.
    line_loops = np.cumsum(is_nm1 | s.of("SVD") | s.of("LIN"), dtype=np.int32)
    line_free = line_zone & (line_loops == line_loops[last_lx])

    def per_line(mask: np.ndarray) -> np.ndarray:
        ev = np.flatnonzero(mask)
        return _pick(ev, last_lx[ev], lx_pos, last=True)

    line_dtp = per_line(line_free & (dtp_q == b"472"))
    line_auth = per_line(line_free & ref_q)
    line_rendering = per_line(line_zone & nm1_82)

    # Columns.
    lx_spans = s.spans(lx_pos, 1)
    lx_codes, lx_distinct = _factor(s.f.bytes(*lx_spans))  # line numbers: a few distinct values
    if not all(v.isdigit() for v in lx_distinct) or int((lx_spans[1] - lx_spans[0]).max()) > 18:
        raise _Fallback  # a non-numeric LX01: the reference reader leaves Line blank
    sv101_codes, sv101_distinct = _factor(s.values(sv1_pos, 1))
    procedures = [_procedure(c, component) for c in sv101_distinct]
    if any(p is None for p in procedures):
        raise _Fallback  # SV101 without HC: the reference reader refuses it by name
    rc = row_claim

    def person(nm1: np.ndarray) -> np.ndarray:
        return s.map(person_name, nm1, 3, 4)

    def provider(nm1: np.ndarray) -> np.ndarray:
        return s.map(provider_name, nm1, 3, 4, 9)

    def date(dmg_at: np.ndarray) -> np.ndarray:
        return s.map(_date, dmg_at, 2)

    def pick(use: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(use, a, b)

    def choose(use: np.ndarray, x: Spans, y: Spans) -> Spans:
        return np.where(use, x[0], y[0]), np.where(use, x[1], y[1])

    def per_row(x: Spans) -> Spans:
        return x[0][rc], x[1][rc]

    has_pat = (pat_nm1 >= 0)[rc]
    pat_id = s.spans(pat_nm1, 9)  # per claim, like the other spans before per_row
    patient_id = choose(pat_id[1] > pat_id[0], pat_id, s.spans(sub_nm1, 9))
    sex = choose(pat_nm1 >= 0, s.spans(pat_dmg, 3), s.spans(sub_dmg, 3))
    match = payer_matcher(payers)
    line_date = np.where(line_dtp >= 0, dtp_date[np.maximum(line_dtp, 0)], None)
    claim_date = np.where(claim_dtp >= 0, dtp_date[np.maximum(claim_dtp, 0)], None)[rc]
    line_auth_span = s.spans(line_auth, 2)
    auth = choose(line_auth_span[1] > line_auth_span[0], line_auth_span, per_row(s.spans(claim_auth, 2)))
    rendering = provider(line_rendering)
    claim_rendering_text = provider(claim_rendering)[rc]
    billing = provider(billing_nm1)[rc]
    rendering = np.where(rendering != "", rendering, np.where(claim_rendering_text != "", claim_rendering_text,
                                                              billing))
    line_numbers = np.array([int(v) for v in lx_distinct], dtype=np.int64)[lx_codes]
    claim_ids = _factor(s.f.bytes(*s.spans(clm_pos, 1)), texts=False)[0][rc].astype(np.int64)
    if len(np.unique(claim_ids * (int(line_numbers.max(initial=0)) + 1) + line_numbers)) < len(line_numbers):
        raise _Fallback  # one Claim ID and Line on two rows: the reference reader numbers them apart
    claim_codes, claim_distinct = pd.factorize(claim_hi)
    dx = _line_dx_column(claim_codes[rc], [_claim_codes(hi, element, component) for hi in claim_distinct],
                         *_factor(s.values(sv1_pos, 7)), component)
    # Each column made only when asked for (``without``: columns the caller leaves blank).
    columns: dict[str, Callable[[], np.ndarray | Spans]] = {
        "Claim ID": lambda: per_row(s.spans(clm_pos, 1)),
        "Line": lambda: line_numbers,
        "Patient ID": lambda: per_row(patient_id),
        "Patient Name": lambda: pick(has_pat, person(pat_nm1)[rc], person(sub_nm1)[rc]),
        "Date of Birth": lambda: pick(has_pat, date(pat_dmg)[rc], date(sub_dmg)[rc]),
        "Sex": lambda: per_row(sex),
        "Payer": lambda: s.map(lambda name, pid: match(pid, name) or name, payer_nm1, 3, 9)[rc],
        "Date of Service": lambda: np.where(line_date != None, line_date, claim_date),  # noqa: E711 - elementwise
        "CPT/HCPCS": lambda: np.array([p[0] for p in procedures if p], dtype=object)[sv101_codes],
        "Modifiers": lambda: np.array([p[1] for p in procedures if p], dtype=object)[sv101_codes],
        "Units": lambda: s.numbers(sv1_pos, 4),
        "Dx Codes": lambda: dx,
        "Prior Auth Number": lambda: auth,
        "Rendering Provider": lambda: rendering,
        "Charge": lambda: s.numbers(sv1_pos, 2),
    }
    text_dtype = pd.Series(["x"]).dtype  # what the reference's from_records infers for text
    headers = CLAIMS.headers + [c for c in ("Charge",) if c not in CLAIMS.headers]
    data = {}
    for h in headers:
        make = columns.get(h) if h not in without else None
        values = make() if make is not None else None
        if values is None:
            data[h] = pd.Series(np.full(len(lx_pos), np.nan))
        elif isinstance(values, tuple):
            data[h] = _text_column(s.f, *values, text_dtype)
        elif h not in ("Line", "Date of Birth", "Date of Service", "Units", "Charge"):
            data[h] = pd.Series(values, dtype=text_dtype)
        else:
            data[h] = pd.Series(values)
    frame = pd.DataFrame(data, columns=headers)
    frame.attrs["file"] = str(path)
    return frame


def _text_column(f: _File, a: np.ndarray, b: np.ndarray, dtype):
    """The spans as a text column of ``dtype``: when pandas keeps text in Arrow (pandas 3 with
    pyarrow, already imported by pandas), built straight from the file's bytes, with no Python
    string per row; else through numpy's text arrays."""
    import pandas as pd

    lengths = b - a
    if getattr(dtype, "storage", None) == "pyarrow" and lengths.sum() < 2**31:
        import pyarrow as pa

        offsets = np.zeros(len(a) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = f.arr[np.repeat(a - offsets[:-1], lengths) + np.arange(offsets[-1])]
        array = pa.StringArray.from_buffers(len(a), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))
        return pd.Series(array, dtype=dtype)
    values = f.bytes(a, b)
    codes, distinct = _factor(values, texts=False)
    if len(codes) and int(codes.max()) < len(codes) // 4:  # few values (Sex, most authorizations blank)
        return pd.Series(np.array(_strings(values[first_positions(codes)]), dtype=object)[codes], dtype=dtype)
    return pd.Series(np.array(_strings(values), dtype=object), dtype=dtype)


def _strings(values: np.ndarray) -> list[str]:
    """A numpy bytes array as str: the values, each followed by a NUL (the file has none, see
    ``_split``), decoded and split as one text; two to three times faster than numpy's
    ``astype("U").astype(object)`` or a decode per value."""
    m, width = len(values), values.dtype.itemsize
    grid = np.zeros((m, width + 1), dtype=np.uint8)
    grid[:, :width] = np.ascontiguousarray(values).view(np.uint8).reshape(m, width)
    keep = grid != 0
    keep[:, width] = True  # the NUL after each value
    return grid[keep].tobytes().decode("ascii").split("\0")[:m]


def _procedure(composite: str, component: str) -> tuple[str, str] | None:
    """SV101 → (CPT/HCPCS, 'M1, M2, …'), or None when its qualifier is not a procedure code's."""
    qualifier, procedure, modifiers = sv101_procedure(composite, component)
    return (procedure, modifiers) if qualifier in PROCEDURE_QUALIFIERS else None


@lru_cache(maxsize=65536)
def _claim_codes(hi: str, element: str, component: str) -> tuple[str, ...]:
    """The claim's diagnosis codes as Claims writes them (dots inserted), in HI order."""
    if not hi:
        return ()
    found = (_composite_code(composite, component) for composite in hi.split(element))
    return tuple(code for code in found if code is not None)


@lru_cache(maxsize=65536)
def _composite_code(composite: str, component: str) -> str | None:
    """One HI composite → its code as Claims writes it, or None (not a diagnosis qualifier, no
    code): ``_diagnoses`` on one composite.  Cached: a batch repeats a few hundred codes across
    100,000 claims, most of whose HI segments differ."""
    if separator_used(composite, component) is not None:
        raise _Fallback  # other separators than the ISA's: the reference reader refuses the file
    found = _diagnoses(composite, "\x00", component)
    if not found:
        return None
    version, code = found[0]
    return _dx(code) if version == "10" else _icd9(code)


_pointers = lru_cache(maxsize=4096)(pointer_numbers)  # a batch repeats a few pointer texts


def _line_dx_column(claim_of_row: np.ndarray, claim_dx: list[tuple[str, ...]], pointers_of_row: np.ndarray,
                    pointer_texts: list[str], component: str) -> np.ndarray:
    """Each line's Dx Codes, as ``x12_837._dx_text`` writes them: its claim's codes (``claim_dx``, one
    tuple per distinct HI) with the ones its SV107 points at first, in pointer order
    (``x12_837.pointed_order``; tests/test_claims_837_fast.py holds the two to the same
    result), each code once, joined by ", ".

    Array steps over a lines x codes grid, not a call per line: in a batch of several lines a
    claim each line points in its own order, so (claim, pointers) pairs are nearly as many as the
    lines (70,000 of 100,000), and a Python call each cost 0.45 s of a 0.95 s read."""
    import pandas as pd

    rows = len(claim_of_row)
    lengths = np.fromiter(map(len, claim_dx), dtype=np.int64, count=len(claim_dx))
    width = int(lengths.max()) if len(lengths) else 0
    if rows == 0 or width == 0:
        return np.full(rows, "", dtype=object)
    # the claims' codes as numbers into `vocab` (a batch names a few hundred codes), -1 past the last
    flat_ids, vocab = pd.factorize(np.array([c for codes in claim_dx for c in codes], dtype=object))
    grid = np.full((len(claim_dx), width), -1, dtype=np.int64)
    ends = np.cumsum(lengths)
    column = np.arange(ends[-1]) - np.repeat(ends - lengths, lengths)
    grid[np.repeat(np.arange(len(claim_dx)), lengths), column] = flat_ids
    codes, n = grid[claim_of_row], lengths[claim_of_row]
    # each position's place: its first pointer's rank (0, 1, …), else after every pointer, in HI order
    parsed = [_pointers(text, component) for text in pointer_texts]
    most = max(map(len, parsed), default=0)
    table = np.zeros((len(parsed), max(most, 1)), dtype=np.int64)
    for i, numbers in enumerate(parsed):
        table[i, : len(numbers)] = numbers
    place = np.broadcast_to(np.arange(most, most + width, dtype=np.int64), (rows, width)).copy()
    line = np.arange(rows)
    for rank in range(most - 1, -1, -1):  # the first of repeated pointers is written last and wins
        number = table[pointers_of_row, rank]
        valid = (number >= 1) & (number <= n)
        place[line[valid], number[valid] - 1] = rank
    order = np.take_along_axis(codes, np.argsort(place, axis=1, kind="stable"), axis=1)
    keep = order >= 0  # positions past the claim's last code sort last (their place is the largest)
    for k in range(1, width):  # each code once: drop a code already listed earlier in the line
        keep[:, k] &= ~(order[:, :k] == order[:, k: k + 1]).any(axis=1)
    return _joined(order, keep, list(vocab))


def _joined(ids: np.ndarray, keep: np.ndarray, vocab: list[str]) -> np.ndarray:
    """Per row of ``ids`` (numbers into ``vocab``), the kept ones' texts joined by ", ", built
    as one byte string with a NUL after each row and split once (``_strings``' way).  Not
    ``checks.dxcodes.join_runs`` (object additions rank by rank, for any text): on the reader's
    ASCII codes this is 20-30 ms faster at 100,000 lines, measured."""
    rows = len(ids)
    tokens = [", " + v for v in vocab]
    pool = np.frombuffer(("".join(tokens) + "\0").encode("ascii"), dtype=np.uint8)
    size = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    start = np.cumsum(size) - size
    row, col = np.nonzero(keep)  # row by row, in order
    token = ids[row, col]
    first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, dtype=bool)
    pieces = len(token) + rows  # each row's tokens, then its NUL
    nul = np.cumsum(np.bincount(row, minlength=rows) + 1) - 1
    is_nul = np.zeros(pieces, dtype=bool)
    is_nul[nul] = True
    piece_start = np.full(pieces, len(pool) - 1, dtype=np.int64)
    piece_size = np.ones(pieces, dtype=np.int64)
    piece_start[~is_nul] = start[token] + 2 * first  # a row's first code without its ", "
    piece_size[~is_nul] = size[token] - 2 * first
    at = np.cumsum(piece_size) - piece_size
    text = pool[np.repeat(piece_start - at, piece_size) + np.arange(int(piece_size.sum()))]
    return np.array(text.tobytes().decode("ascii").split("\0")[:rows], dtype=object)


def _diagnoses(hi: str, element: str, component: str) -> tuple[tuple[str, str], ...]:
    """The claim's HI composites → ((ICD version, code), …), as ``_Reader.read_hi`` reads them."""
    return hi_diagnoses(hi.split(element) if hi else [], component)
