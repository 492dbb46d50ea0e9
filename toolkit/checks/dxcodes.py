"""Diagnoses as numbers, so the diagnosis checks scale with the distinct codes, not with the lines.

A practice-management export or an 837P batch lists a claim's diagnoses on each of its lines, each
line in its own pointer order ("M48.062, M54.16, M51.16" on line 1, "M51.16, M48.062, M54.16" on
line 2): 100,000 lines three to a claim hold ~70,000 distinct Dx Codes texts but a few hundred
distinct codes.  Here the distinct texts are split by one ``str.split`` over all of them joined,
each distinct spelling is normalised once, and the diagnoses become code numbers laid end to end
(flat numbers plus each tuple's start and length), which the checks read with numpy.  A Python call
per line or per distinct text is what this module exists to avoid (it cost ~1 s at 100,000 lines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat

import numpy as np
import pandas as pd

from ..codesets.icd10cm import DX_SHAPE, CodeSets, format_dx, normalize_dx
from ..collector import collector_paused
from ..values import first_positions


@dataclass(frozen=True)
class DxCodes:
    """Each line's diagnoses (normalised, primary first) as a number into the distinct tuples, and
    those tuples as code numbers laid end to end."""

    line: np.ndarray  # int64 per line: its tuple, numbered in order of first appearance
    flat: np.ndarray  # int64: the tuples' code numbers, tuple after tuple
    starts: np.ndarray  # int64 per tuple
    lens: np.ndarray  # int64 per tuple
    codes: np.ndarray  # object: the normalised code of each code number ("M5416")

    @cached_property
    def dotted(self) -> np.ndarray:
        """Each code number's code as messages write it ("M54.16"), once per distinct code."""
        out = np.empty(len(self.codes), dtype=object)
        out[:] = [format_dx(c) for c in self.codes.tolist()]
        return out


@dataclass(frozen=True)
class DxInfos:
    """What the code set in use says of each line's diagnoses: per distinct (tuple, release) "pair"
    its entries, each a (code, release) number into ``info`` (DxInfo, or None: not a code)."""

    line: np.ndarray  # int64 per line: its pair
    tuple_of: np.ndarray  # int64 per pair: its diagnosis tuple (DxCodes numbering)
    release: np.ndarray  # int64 per pair: index into CodeSets.sets
    starts: np.ndarray  # int64 per pair: its first entry
    lens: np.ndarray  # int64 per pair
    entry: np.ndarray  # int64 per entry: code number * n_sets + release
    info: np.ndarray  # object per (code, release) number: DxInfo or None
    n_sets: int

    @cached_property
    def known(self) -> np.ndarray:
        """Per (code, release) number: a code of that release."""
        return np.fromiter((i is not None for i in self.info.tolist()), dtype=bool, count=len(self.info))

    def code_of(self, entries: np.ndarray) -> np.ndarray:
        """The code number of (code, release) numbers."""
        return entries // self.n_sets

    def entries_of(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entries of ``pairs`` laid end to end (pair after pair, in position order), and each
        entry's place in ``pairs``."""
        lens = self.lens[pairs]
        return self.entry[np.repeat(self.starts[pairs], lens) + within_runs(lens)], run_of(lens)


def parse_dx(values: np.ndarray) -> DxCodes:
    """Each line's Dx Codes text (object array; missing values: no diagnosis) as numbers."""
    text_of_line, texts = pd.factorize(values, use_na_sentinel=True)
    texts = list(texts)
    t_flat, t_lens, codes = _split_texts(texts)
    text_of_line = text_of_line.astype("int64")
    if (text_of_line < 0).any():  # a missing value: a last, empty text (what "" would give)
        text_of_line[text_of_line < 0] = len(texts)
        t_lens = np.append(t_lens, 0)
    t_starts = np.cumsum(t_lens) - t_lens
    tuple_of_text = number_runs(t_flat, t_starts, t_lens, len(codes))
    first = first_positions(tuple_of_text)  # a text of each tuple (the first)
    lens = t_lens[first]
    flat = t_flat[np.repeat(t_starts[first], lens) + within_runs(lens)]
    return DxCodes(tuple_of_text[text_of_line] if len(text_of_line) else text_of_line, flat,
                   np.cumsum(lens) - lens, lens, codes)


def _split_texts(texts: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct texts split as ``base._split_dx`` splits one: each text's code numbers laid end
    to end, each text's count, and the normalised codes.  One split of all the texts joined (a
    text holding NUL, or a value that is not text, is split on its own, as before)."""
    # NUL between spaces ends each text; "," and ";" become spaces; ``str.split`` then splits on
    # whitespace as ``\s`` does (both ask Py_UNICODE_ISSPACE).  C loops: 4x faster than ``findall``.
    text_only = len(texts) and pd.api.types.infer_dtype(texts, skipna=False) == "string"  # (a C loop)
    joined = " \x00 ".join(texts) + " \x00" if text_only else ""
    if text_only and joined.count("\x00") == len(texts):
        found = joined.replace(",", " ").replace(";", " ").split()
        tokens = np.empty(len(found), dtype=object)
        tokens[:] = found
        tok, distinct = pd.factorize(tokens)
        # (not ``distinct == "\x00"``: numpy turns that scalar into "", as it drops trailing NULs)
        is_end = np.fromiter((c == "\x00" for c in distinct.tolist()), dtype=bool, count=len(distinct))
        end = is_end[tok]
        text_of = np.cumsum(end)[~end]  # ends before each token: the token's text
        tok = tok[~end]
    else:  # rare: a text that is not text, or holds NUL; split one by one
        from .base import _DX_SPLIT

        pieces = [[c for c in _DX_SPLIT.split(t or "") if c.strip()] for t in texts]
        found = [c for p in pieces for c in p]
        tokens = np.empty(len(found), dtype=object)
        tokens[:] = found
        tok, distinct = pd.factorize(tokens) if len(found) else (np.empty(0, dtype="int64"), [])
        is_end = np.zeros(len(distinct), dtype=bool)
        text_of = np.repeat(np.arange(len(texts)), [len(p) for p in pieces])
    norm = np.empty(len(distinct), dtype=object)
    norm[:] = [normalize_dx(c) if not e else "" for c, e in zip(list(distinct), is_end.tolist())]
    code_of_tok, codes = pd.factorize(norm[~is_end]) if (~is_end).any() else (np.empty(0, "int64"), [])
    tok_code = np.full(len(distinct), -1, dtype="int64")
    tok_code[~is_end] = code_of_tok
    lens = np.bincount(text_of, minlength=len(texts)).astype("int64") if len(texts) else np.empty(0, "int64")
    return tok_code[tok], lens, np.asarray(codes, dtype=object)


def number_runs(flat: np.ndarray, starts: np.ndarray, lens: np.ndarray, width: int) -> np.ndarray:
    """Equal runs of ``flat`` (runs given by start and length) get equal numbers, in order of first
    appearance (as ``pd.factorize`` of the tuples would number them, without building a tuple):
    position by position, each run's number so far is combined with its next item."""
    combo = lens.astype("int64").copy()
    rows = np.arange(len(lens))
    j = 0
    while len(rows):
        rows = rows[lens[rows] > j]
        if not len(rows):
            break
        top = int(combo.max()) + 1
        fresh, _ = small_numbers(combo[rows] * (width + 1) + flat[starts[rows] + j], top * (width + 1))
        combo[rows] = fresh + top  # apart from the runs that ended (they keep theirs)
        combo = small_numbers(combo, top + len(rows))[0]  # numbers kept below the count of runs
        j += 1
    return pd.factorize(combo)[0].astype("int64")


def dx_infos(codes: DxCodes, release_of_line: np.ndarray, codesets: CodeSets) -> DxInfos:
    """The DxInfo of each line's diagnoses under the release in use on its date of service; each
    release looks up the codes used under it once."""
    n_sets = len(codesets.sets)
    line, uniques = pd.factorize(codes.line * n_sets + release_of_line.astype("int64"))
    tuple_of, release = np.divmod(uniques.astype("int64"), n_sets)
    lens = codes.lens[tuple_of]
    entry_code = codes.flat[np.repeat(codes.starts[tuple_of], lens) + within_runs(lens)]
    entry_release = np.repeat(release, lens)
    info = np.full(len(codes.codes) * n_sets, None, dtype=object)
    for i, s in enumerate(codesets.sets):
        used = np.sort(pd.unique(entry_code[entry_release == i]))  # (hashing, then sorting the few hundred)
        if not len(used):
            continue
        texts = codes.codes[used].tolist()
        found = s.lookup(sorted(c for c in texts if DX_SHAPE.fullmatch(c)))
        looked = np.empty(len(texts), dtype=object)
        looked[:] = [found.get(c) for c in texts]
        info[used * n_sets + i] = looked
    return DxInfos(line.astype("int64"), tuple_of, release, np.cumsum(lens) - lens, lens,
                   entry_code * n_sets + entry_release, info, n_sets)


DENSE_LIMIT = 1 << 23  # keys below this are told apart by tables (8 MB of booleans, 32 MB of int32), not hashed


def small_numbers(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Numbered like ``pd.factorize`` but with the distinct keys in ascending order: each key's
    number and the distinct keys.  Keys below ``size`` (codes × releases, claims × codes) are told
    apart by a table of ``size`` booleans, 30x cheaper than hashing each key; larger ``size``s are
    hashed."""
    keys = np.asarray(keys, dtype="int64")
    if size <= DENSE_LIMIT:
        present = np.zeros(max(size, 1), dtype=bool)
        present[keys] = True
        distinct = np.flatnonzero(present)
        number = np.zeros(max(size, 1), dtype="int32")  # (only the pages the keys touch are ever written)
        number[distinct] = np.arange(len(distinct))
        return number[keys].astype("int64"), distinct  # (int64: callers multiply these numbers)
    at, distinct = pd.factorize(keys)
    order = np.argsort(distinct)
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    return rank[at], np.asarray(distinct, dtype="int64")[order]


def distinct_small(keys: np.ndarray, size: int) -> np.ndarray:
    """The distinct keys, ascending: a table of ``size`` booleans where that is small (see
    ``small_numbers``), else a hash."""
    keys = np.asarray(keys, dtype="int64")
    if size <= DENSE_LIMIT:
        present = np.zeros(max(size, 1), dtype=bool)
        present[keys] = True
        return np.flatnonzero(present)
    return np.sort(pd.unique(keys))


def lookup_small(keys: np.ndarray, size: int, ask: Callable[[int], bool]) -> np.ndarray:
    """``ask(key)`` for each key (a boolean per key), asked once per distinct key; keys below
    ``size``, told apart as ``distinct_small`` does."""
    keys = np.asarray(keys, dtype="int64")
    distinct = distinct_small(keys, size)
    said = np.fromiter((ask(k) for k in distinct.tolist()), dtype=bool, count=len(distinct))
    if size <= DENSE_LIMIT:
        table = np.zeros(max(size, 1), dtype=bool)
        table[distinct] = said
        return table[keys]
    return said[np.searchsorted(distinct, keys)]


def within_runs(lens: np.ndarray) -> np.ndarray:
    """Each item's position inside its run, for runs of the given lengths laid end to end
    ([2, 3] → 0 1 0 1 2)."""
    lens = np.asarray(lens, dtype="int64")
    return np.arange(int(lens.sum()), dtype="int64") - np.repeat(np.cumsum(lens) - lens, lens)


def run_of(lens: np.ndarray) -> np.ndarray:
    """Each item's run, for runs of the given lengths laid end to end ([2, 3] → 0 0 1 1 1)."""
    return np.repeat(np.arange(len(lens), dtype="int64"), lens)


def join_runs(parts: np.ndarray, run: np.ndarray, n_runs: int, sep: str) -> np.ndarray:
    """``sep.join`` of each run's parts: ``parts`` (object array of text) belong to runs ``run``
    (non-decreasing, parts in order inside a run); an empty run gives "".  Joined by object-array
    additions, rank by rank: numpy's loop calls ``str.__add__``, no Python call per run."""
    out = np.full(n_runs, "", dtype=object)
    if not len(parts):
        return out
    rank = within_runs(np.bincount(run, minlength=n_runs))
    order = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order], np.arange(int(rank.max()) + 2))
    for j in range(len(bounds) - 1):
        at = order[bounds[j]: bounds[j + 1]]
        out[run[at]] = parts[at] if j == 0 else out[run[at]] + sep + parts[at]
    return out


def tuples(flat: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Consecutive runs of ``flat`` of the given lengths, as tuples (an object array), built a
    length at a time by ``zip`` rather than a slice per tuple.

    The cycle collector is paused meanwhile (``collector``): 76,000 new tuples set off collections
    that cost 3x the building (0.045 s vs 0.013 s at 100,000 lines three to a claim), and a caller
    of ``run_checks`` outside the jobs may not have paused it."""
    out = np.empty(len(lens), dtype=object)
    starts = np.cumsum(lens) - lens
    with collector_paused():
        for n in np.unique(lens).tolist():
            rows = np.flatnonzero(lens == n)
            items = zip(*(flat[starts[rows] + j].tolist() for j in range(n))) if n else repeat((), len(rows))
            out[rows] = np.fromiter(items, dtype=object, count=len(rows))  # (3x a slice assignment of a list)
    return out
