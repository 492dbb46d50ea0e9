"""Validate claim files of any size in bounded memory: read, check and write in chunks.

A chunk never splits a group of lines that a check looks across (``checks.grouping``: by default
a claim). Each chunk is cut where a claim ends: the lines of the claim still open at its end wait
for the next chunk. A file not grouped that way (a claim's lines far apart) is found out as soon
as a claim comes back after its chunk was checked; the run then stops with a one-line refusal
that says how to proceed, and the half-written report is discarded: pairs are never silently
missed. Results are the same, byte for byte, as one in-memory run (a test compares).

Sources are a registry keyed by file suffix: each turns a file into raw Claims chunks whose index
is the row number a user sees (CSV: the row in Excel, header = 1; Parquet: the record, from 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .tables import header_key

DEFAULT_CHUNK_LINES = 150_000  # about 1 GB peak on generated claims (1.2 GB measured at 200,000 lines per chunk)

Chunks = Iterator[pd.DataFrame]

# A source marks the chunk it knows to be its last (``frame.attrs[LAST_CHUNK] = True``): then
# ``whole_groups`` yields it whole, without holding its last claim back for a chunk that never
# comes (one run of the checks fewer; a file that fits in one chunk is not hashed at all).
LAST_CHUNK = "last chunk"


@dataclass
class SourceInfo:
    """What a source knows before reading: total lines when the format says so (Parquet), else an estimate."""

    lines: int | None = None
    estimated: bool = True


# ---------------------------------------------------------------- CSV

def _sniff_csv(path: Path) -> tuple[str, str, bool]:
    """Encoding, separator and byte-order mark, decided as ``workbook.files.read_csv`` decides them."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(65536)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    encoding = "utf-8-sig"
    try:
        head = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # not just a character cut at the 64 KB boundary
            encoding, head = "cp1252", raw.decode("cp1252", errors="replace")
        else:
            head = raw[:exc.start].decode(encoding)
    if not head.strip():
        raise InputError("the file is empty", file=path)
    first = head.lstrip("\r\n").splitlines()[0]
    delimiter = max((",", ";", "\t", "|"), key=first.count)
    return encoding, delimiter, bom


def csv_chunks(path: Path, chunk_lines: int) -> Chunks:
    """Raw Claims chunks from a CSV export (text as typed, blank rows dropped, Excel row numbers)."""
    encoding, delimiter, bom = _sniff_csv(path)
    attrs = {"file": str(path), "sheet": None, "delimiter": delimiter, "bom": bom}
    try:
        reader = pd.read_csv(path, sep=delimiter, header=None, dtype=str, keep_default_na=False, na_filter=False,
                             skip_blank_lines=False, encoding=encoding, engine="c", chunksize=chunk_lines)
        header: list[str] | None = None
        for grid in reader:
            last = len(grid) < chunk_lines  # pandas' chunks are full but for the file's last
            grid.index = grid.index + 1  # Excel's row numbers
            nonblank = grid[grid.columns[0]].to_numpy(dtype=object) != ""
            maybe = np.flatnonzero(~nonblank)  # only a row whose first cell is empty can be blank
            for col in grid.columns[1:]:
                if not len(maybe):
                    break
                filled = grid[col].to_numpy(dtype=object)[maybe] != ""
                nonblank[maybe[filled]] = True
                maybe = maybe[~filled]
            if header is None:
                if not nonblank.any():
                    continue
                at = int(np.argmax(nonblank))
                header = [str(h).strip() for h in grid.iloc[at].tolist()]
                keep = [i for i, h in enumerate(header) if h]
                grid, nonblank = grid.iloc[at + 1:], nonblank[at + 1:]
            body = grid[nonblank]
            frame = body.iloc[:, keep].copy()
            frame.columns = [header[i] for i in keep]
            frame.index = pd.Index(body.index, name="row")
            frame.attrs = dict(attrs)
            if last:
                frame.attrs[LAST_CHUNK] = True
            yield frame
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a readable CSV file ({str(exc).splitlines()[0]})", file=path) from None
    if header is None:
        raise InputError("the file is empty", file=path)


def csv_info(path: Path) -> SourceInfo:
    """Lines estimated from the file size and the first 1 MB (for the progress bar only)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    lines = max(head.count(b"\n"), 1)
    return SourceInfo(int(size * lines / max(len(head), 1)), estimated=size > len(head))


# ---------------------------------------------------------------- Parquet

def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        from .errors import MednecError

        raise MednecError('Parquet files need pyarrow: pip install "mednec[scale]"') from None
    return pq


def parquet_chunks(path: Path, chunk_lines: int) -> Chunks:
    """Claims chunks from Parquet, typed columns kept (dates stay dates, numbers numbers)."""
    pq = _pyarrow_parquet()

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged or foreign file
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", file=path) from None
    start, total = 1, pf.metadata.num_rows
    for batch in pf.iter_batches(batch_size=chunk_lines):
        frame = batch.to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame), name="row")
        frame.attrs = {"file": str(path), "sheet": None}
        start += len(frame)
        if start > total:
            frame.attrs[LAST_CHUNK] = True
        yield frame


def parquet_info(path: Path) -> SourceInfo:
    pq = _pyarrow_parquet()
    try:
        return SourceInfo(pq.ParquetFile(path).metadata.num_rows, estimated=False)
    except Exception as exc:  # pyarrow raises several types for a damaged or foreign file
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", file=path) from None


@dataclass(frozen=True)
class Source:
    chunks: Callable[[Path, int], Chunks]
    info: Callable[[Path], SourceInfo]


# suffix → how to read Claims from it in chunks (an 837P reader adds ".837" here)
SOURCES: dict[str, Source] = {
    ".csv": Source(csv_chunks, csv_info),
    ".txt": Source(csv_chunks, csv_info),
    ".parquet": Source(parquet_chunks, parquet_info),
    ".pq": Source(parquet_chunks, parquet_info),
}


def source_for(path: Path) -> Source:
    try:
        return SOURCES[path.suffix.lower()]
    except KeyError:
        raise InputError(f"cannot stream a {path.suffix or 'suffix-less'} file; give a CSV or Parquet file",
                         file=path) from None


# ---------------------------------------------------------------- whole groups

class NotGrouped(InputError):
    """The file's lines are not grouped by the key the checks look across."""


def group_keys(frame: pd.DataFrame, key: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each line's grouping key as a 64-bit hash (text as the checks read it: trimmed, N/A blank),
    and which lines have a blank key (no check pairs those: they belong to no group)."""
    from .values import map_unique, to_text

    columns = {header_key(c): c for c in frame.columns}
    parts = []
    blank = np.zeros(len(frame), dtype=bool)
    for header in key:
        col = columns.get(header_key(header))
        values = (map_unique(frame[col], to_text).to_numpy(dtype=object) if col is not None
                  else np.full(len(frame), "", dtype=object))
        blank |= values == ""
        parts.append(values)
    joined = parts[0] if len(parts) == 1 else np.array(["\x1f".join(t) for t in zip(*parts)], dtype=object)
    return pd.util.hash_array(joined, categorize=True), blank


@dataclass
class _SeenKeys:
    """Hashes of the groups already checked: sorted runs merged as they double (amortised n log n)."""

    runs: list[np.ndarray] = field(default_factory=list)

    def any_of(self, keys: np.ndarray) -> bool:
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, keys), len(run) - 1)
            if (run[at] == keys).any():
                return True
        return False

    def add(self, keys: np.ndarray) -> None:
        if not len(keys):
            return
        run = np.unique(keys)
        while self.runs and len(self.runs[-1]) <= len(run):
            run = np.unique(np.concatenate([self.runs.pop(), run]))
        self.runs.append(run)


def whole_groups(chunks: Chunks, key, *, max_carry: int) -> Chunks:
    """Re-cut ``chunks`` so that no group (equal ``key``) spans two of them.

    ``key`` is one tuple of column names, or a list of them: then no group of any of those keys
    spans two chunks (claims, and a patient's lines of one provider and day for NCCI pairs across
    claims).  The trailing lines of a chunk whose group may continue are carried into the next
    chunk.  A group that comes back after its chunk was yielded raises ``NotGrouped``; so does a
    carry longer than ``max_carry`` lines (one "group" that never ends).
    """
    specs: list[tuple[str, ...]] = [key] if key and isinstance(key[0], str) else list(key)
    seen = [_SeenKeys() for _ in specs]
    carry: pd.DataFrame | None = None
    carry_keys = [np.empty(0, dtype=np.uint64) for _ in specs]
    alone = 0  # lines with a blank key get keys of their own (top bit set: apart from the hashes, in practice)
    for chunk in chunks:
        last = bool(chunk.attrs.pop(LAST_CHUNK, False))
        if last and carry is None:  # the whole file in one chunk: no group can be split
            if len(chunk):
                yield chunk
            return
        keys = []
        for spec in specs:
            k, blank = group_keys(chunk, spec)
            if blank.any():
                k[blank] = np.uint64(1 << 63) | (np.arange(alone, alone + int(blank.sum()), dtype=np.uint64))
                alone += int(blank.sum())
            keys.append(k)
        if carry is not None and len(carry):
            chunk = pd.concat([carry, chunk])
            keys = [np.concatenate([c, k]) for c, k in zip(carry_keys, keys)]
        cut = len(chunk) if last else _cut(keys)
        if any(s.any_of(k[:cut]) for s, k in zip(seen, keys)) or (cut == 0 and len(chunk) > max_carry):
            raise _not_grouped(chunk, specs)
        if cut:
            for s_, k in zip(seen, keys):
                s_.add(k[:cut])
            yield chunk.iloc[:cut]
        carry, carry_keys = chunk.iloc[cut:], [k[cut:] for k in keys]
    if carry is not None and len(carry):
        if any(s.any_of(k) for s, k in zip(seen, carry_keys)):
            raise _not_grouped(carry, specs)
        yield carry


def _cut(keys: np.ndarray | list[np.ndarray]) -> int:
    """Where to cut so that every group (of every key) in ``[cut:]`` starts there or later: the
    lines from ``cut`` on wait for the next chunk (the last line's groups may go on)."""
    if isinstance(keys, np.ndarray):
        keys = [keys]
    n = len(keys[0])
    if n == 0:
        return 0
    reach = np.full(n, n, dtype=np.int64)
    for k in keys:
        codes, uniques = pd.factorize(k)
        first = np.full(len(uniques), n, dtype=np.int64)
        np.minimum.at(first, codes, np.arange(n))
        reach = np.minimum(reach, first[codes])
    reach = np.minimum.accumulate(reach[::-1])[::-1]  # earliest start of any group from i on
    cut = n - 1
    while reach[cut] < cut:
        cut = int(reach[cut])
    return cut


def _not_grouped(chunk: pd.DataFrame, specs: list[tuple[str, ...]]) -> NotGrouped:
    names = " + ".join(specs[0])
    also = "".join(f" (and the lines of one {' + '.join(spec)} together)" for spec in specs[1:])
    return NotGrouped(
        f"the lines are not grouped by {names}{also}: a claim's lines are far apart, so a chunk could split "
        f"a claim and miss its code pairs. Sort the file by {names}, give a larger --chunk-lines, or run "
        "with --dask local (which regroups claims); nothing was written",
        file=chunk.attrs.get("file"))


# ---------------------------------------------------------------- a running total across chunks

CODESET_NOTE_START = "DOS from "  # how ``CodeSets.notes`` sentences begin (in a report's Code Set column)


@dataclass
class RunTotals:
    """What the summary needs from a run made of chunks: the ``Validation`` methods it calls."""

    as_of: object = None
    codeset_labels: list[str] = field(default_factory=list)
    codeset_notes: list[str] = field(default_factory=list)  # dates of service no loaded release covers
    validated_at: str = ""
    status: dict[str, int] = field(default_factory=lambda: {"GREEN": 0, "AMBER": 0, "RED": 0})
    codes: dict[str, int] = field(default_factory=dict)  # first-seen order, as value_counts breaks ties
    lines: int = 0

    def add(self, validation) -> None:
        for s, n in validation.counts().items():
            self.status[s] += n
        for code, n in validation.findings["code"].value_counts(sort=False).items():
            self.codes[str(code)] = self.codes.get(str(code), 0) + int(n)
        for label in validation.codeset_labels:
            if label not in self.codeset_labels:
                self.codeset_labels.append(label)
        for note in validation.codeset_notes:
            if note not in self.codeset_notes:
                self.codeset_notes.append(note)
        self.as_of, self.validated_at = validation.as_of, validation.validated_at
        self.lines += len(validation.results)

    def add_report(self, report: pd.DataFrame) -> None:
        """The same totals from report rows (a Dask run gathers those, not ``Validation`` objects)."""
        for s, n in report["Status"].value_counts(sort=False).items():
            self.status[str(s)] += int(n)
        codes = report["Finding Codes"].to_numpy(dtype=object)
        for text in codes[codes != ""]:
            for code in text.split("; "):
                self.codes[code] = self.codes.get(code, 0) + 1
        for text in pd.unique(report["Code Set"].to_numpy(dtype=object)):
            for label in str(text).split("; "):
                seen = self.codeset_notes if label.startswith(CODESET_NOTE_START) else self.codeset_labels
                if label not in seen:
                    seen.append(label)
        self.lines += len(report)

    def counts(self) -> dict[str, int]:
        return dict(self.status)

    def top_findings(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.codes.items(), key=lambda kv: -kv[1])[:n]


def validate_chunks(chunks: Chunks, check, write, *, totals: RunTotals | None = None,
                    progress: Callable[[int], None] | None = None) -> RunTotals:
    """Check each chunk (``check(frame) -> Validation``), hand it to ``write``, add up the totals."""
    totals = totals or RunTotals()
    for chunk in chunks:
        validation = check(chunk)
        write(validation)
        totals.add(validation)
        if progress is not None:
            progress(totals.lines)
    return totals
