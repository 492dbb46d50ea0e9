"""Checks as named, declarative objects, and the facts they look at.

A ``Check`` has the code, severity and meaning of one checklist item (CONTRACT §2), a
``when`` that returns a boolean mask over *all* claim lines at once, and a message template
filled only for the lines it flags.  ``ClaimLines`` derives, once and lazily, the facts the
checks share (the applicable rule, the supporting diagnosis, parsed modifiers, …).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from ..codesets.icd10cm import CodeSets, format_dx, normalize_dx
from ..rules import is_medicare, match_rules, payer_key
from ..values import blank_numbered, factorize_objects, first_positions, map_distinct, map_unique, object_ids
from .dxcodes import DxCodes, DxInfos, dx_infos, join_runs, parse_dx, run_of, tuples, within_runs

Severity = Literal["RED", "AMBER"]  # a finding's; a line's Status adds GREEN (validation.Status)
RED: Severity = "RED"
AMBER: Severity = "AMBER"
SEVERITY_RANK = {RED: 0, AMBER: 1}

_MOD_SPLIT = re.compile(r"[,\s:;]+")
_DX_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class Check:
    """One checklist item: ``when`` flags lines; ``say`` explains each flagged line."""

    code: str
    severity: Severity
    family: str
    meaning: str
    when: Callable[[ClaimLines], pd.Series]
    say: str  # a str.format template over ClaimLines.field(...) names


REGISTRY: dict[str, Check] = {}
FIELDS: dict[str, Callable[[ClaimLines, pd.Index], pd.Series]] = {}


def check(code: str, severity: Severity, family: str, meaning: str, say: str):
    """Decorator registering a check; the decorated function is its ``when``."""

    def register(fn):
        if code in REGISTRY:
            raise ValueError(f"check {code} registered twice")
        REGISTRY[code] = Check(code, severity, family, meaning, fn, say)
        return fn

    return register


def field(name: str):
    """Decorator registering a message field computed for flagged lines only."""

    def register(fn):
        FIELDS[name] = fn
        return fn

    return register


def _split_dx(text: str) -> tuple[str, ...]:
    return tuple(normalize_dx(c) for c in _DX_SPLIT.split(text) if c.strip())


def _split_mods(text: str) -> tuple[str, ...]:
    return tuple(m.upper() for m in _MOD_SPLIT.split(text) if m.strip())


class Coded(NamedTuple):
    """A message field already numbered by distinct value: each flagged line's number into
    ``texts``.  What ``render`` needs, so a field computed per distinct value is not spread to
    every line and numbered again."""

    codes: np.ndarray
    texts: np.ndarray  # object array


def _coded(codes: np.ndarray, values: list | np.ndarray, fn: Callable[[Any], object]) -> Coded:
    """A message field from each flagged line's number into ``values``: ``fn`` of each value used."""
    at, used = pd.factorize(codes)
    texts = np.empty(len(used), dtype=object)
    for i, u in enumerate(used.tolist()):
        texts[i] = fn(values[u])
    return Coded(at, texts)


def map_coded(series: pd.Series, fn: Callable[[object], object]) -> Coded:
    """``map_unique`` for a message field: ``fn`` once per distinct value (blanks as ``fn(None)``)."""
    return Coded(*blank_numbered(*map_distinct(series, fn)))


class ClaimLines:
    """Typed claim lines plus everything the checks derive from them, computed on first use."""

    def __init__(self, claims: pd.DataFrame, rules: pd.DataFrame, payers: pd.DataFrame, *,
                 today: dt.date, codesets: CodeSets, edits=None, denials=None,
                 therapy_codes: frozenset[str] | None = None, numbering: dict | None = None):
        # The checks read the tables without their attrs (file, sheet, ...): pandas deep-copies a
        # frame's attrs into every column taken and every result, 500 copies a run.
        self.c = _without_attrs(claims)
        self.index = claims.index
        self.rules = _without_attrs(rules)
        self.payers = _without_attrs(payers)
        self.today = pd.Timestamp(today)
        self.codesets = codesets
        self.edits = edits  # an NcciEdits index (PTP pairs, MUE values), or None: those checks are off
        self.denials = denials  # a checks.history.DenialHistory, or None: DENIAL_HISTORY is off
        self.therapy_codes = therapy_codes  # the practice's "always therapy" list (Settings), or None: the default
        self._masks: dict[str, pd.Series] = {}
        # Columns coerce_table already numbered (values.coerce_table_numbered), for ``factor``.
        self._derived: dict[str, object] = {f"factor:{h}": f for h, f in (numbering or {}).items()}

    # ---- generic helpers
    def mask(self, code: str) -> pd.Series:
        """The mask of another check (for checks that depend on findings, e.g. ABN)."""
        if code not in self._masks:
            self._masks[code] = REGISTRY[code].when(self).fillna(False).astype(bool)
        return self._masks[code]

    def derived(self, name: str, compute: Callable[[ClaimLines], object]):
        """A fact a family module derives once per run and shares between its check and fields."""
        if name not in self._derived:
            self._derived[name] = compute(self)
        return self._derived[name]

    def factor(self, header: str) -> tuple[np.ndarray, np.ndarray]:
        """A Claims column numbered by distinct value (−1: blank) once per run, shared by the checks
        and message fields that read it (each hashed the column's 100,000 texts again)."""
        return self.derived("factor:" + header, lambda lines: factorize_objects(lines.c[header].to_numpy(dtype=object)))

    def map_column(self, header: str, fn: Callable[[object], object]) -> pd.Series:
        """``map_unique(self.c[header], fn)`` on the shared numbering (``factor``)."""
        codes, mapped = map_distinct(self.c[header], fn, self.factor(header))
        return pd.Series(mapped[codes], index=self.index, name=header, dtype=object)

    def coded(self, header: str, idx: pd.Index, fn: Callable[[object], object]) -> Coded:
        """``map_coded(self.c[header][idx], fn)`` on the shared numbering: ``fn`` once per distinct
        value of the flagged lines (blank: ``fn(None)``)."""
        codes, uniques = self.factor(header)
        return _coded(codes[self.index.get_indexer(idx)], [*uniques, None], fn)  # −1 (blank): the last, None

    def yes(self, header: str) -> pd.Series:
        return self.c[header].fillna(False).astype(bool)

    def blank(self, header: str) -> pd.Series:
        return pd.Series(self.c[header].to_numpy(dtype=object) == "", index=self.index)  # text is stripped

    def series(self, values, dtype=None) -> pd.Series:
        return pd.Series(values, index=self.index, dtype=dtype)

    # ---- procedure, payer, rule
    @cached_property
    def cpt(self) -> pd.Series:
        return self.c["CPT/HCPCS"]  # text, stripped and upper-cased by coerce_table

    @cached_property
    def dos(self) -> pd.Series:
        return self.c["Date of Service"]

    @cached_property
    def _payer_factor(self) -> tuple[np.ndarray, pd.DataFrame]:
        """Each line's number into its distinct payers, and their Payers rows (NaN: not in Payers)
        with ``_known``: looked up a few times, not reindexed over 100,000 lines."""
        codes, keys = blank_numbered(*map_distinct(self.c["Payer"], payer_key, self.factor("Payer")))
        cols = ["Payer Type", "Timely Filing Days", "Appeal Window Days"]
        frame = self.payers.reindex(keys)[cols]
        frame["_known"] = pd.Index(keys).isin(self.payers.index)
        return codes, frame

    @cached_property
    def payer_row(self) -> pd.DataFrame:
        codes, distinct = self._payer_factor
        frame = distinct.take(codes)
        frame.index = self.index
        return frame

    @cached_property
    def rule_pos(self) -> pd.Series:
        return match_rules(self.c["Payer"], self.cpt, self.dos, self.rules)

    @cached_property
    def has_rule(self) -> pd.Series:
        return self.rule_pos >= 0

    @cached_property
    def rule(self) -> pd.DataFrame:
        """The applicable rule's columns aligned to the claim lines (NaN where none)."""
        frame = self.rules.reindex(self.rule_pos.to_numpy())  # position −1: a row of NaN
        frame.index = self.index
        return frame

    @cached_property
    def medicare(self) -> pd.Series:
        """The line's payer is Original Medicare (Payer Type "Medicare" in Payers)."""
        return self.map_payer_type(is_medicare).astype(bool)

    def map_payer_type(self, fn: Callable[[object], object]) -> pd.Series:
        """``map_unique(self.payer_row["Payer Type"], fn)``, asked per distinct payer."""
        codes, distinct = self._payer_factor
        mapped = map_unique(distinct["Payer Type"], fn).to_numpy()
        return pd.Series(mapped[codes], index=self.index, name="Payer Type", dtype=object)

    def rule_yes(self, header: str) -> pd.Series:
        return self.rule[header].fillna(False).astype(bool) & self.has_rule

    def rule_number(self, header: str) -> pd.Series:
        return pd.to_numeric(self.rule[header], errors="coerce")

    # ---- diagnoses
    @cached_property
    def dx_codes(self) -> DxCodes:
        """Each line's diagnoses as code numbers (see ``dxcodes``): every distinct code parsed once."""
        return parse_dx(self.c["Dx Codes"].to_numpy(dtype=object))

    @cached_property
    def dx_infos(self) -> DxInfos:
        """Each line's diagnoses under the release in use on its date of service (see ``dxcodes``)."""
        return dx_infos(self.dx_codes, self.codeset_of_line.to_numpy(), self.codesets)

    def dx_lists(self, idx: pd.Index) -> tuple[Coded, np.ndarray]:
        """The diagnoses of each line of ``idx`` as ``dx_list`` writes them ("M54.16, M51.16"; ""
        for none), once per distinct tuple and joined by array work; and whether each of those
        tuples is empty (aligned to the texts)."""
        t = self.dx_codes
        at, used = pd.factorize(t.line[self.index.get_indexer(idx)])
        used = used.astype("int64")
        lens = t.lens[used]
        parts = t.dotted[t.flat[np.repeat(t.starts[used], lens) + within_runs(lens)]]
        return Coded(at, join_runs(parts, run_of(lens), len(used), ", ")), lens == 0

    @cached_property
    def codeset_of_line(self) -> pd.Series:
        """Which code-set release applies on each line's date of service (blank date: the newest)."""
        newest = len(self.codesets.sets) - 1
        if newest == 0:
            return pd.Series(0, index=self.index)
        pos = {id(s): i for i, s in enumerate(self.codesets.sets)}
        codes, days = pd.factorize(self.dos.to_numpy(), use_na_sentinel=True)  # a few hundred distinct days
        chosen = np.array([pos[id(self.codesets.for_date(d.date()))] for d in pd.DatetimeIndex(days)] + [newest],
                          dtype="int64")
        return pd.Series(chosen[codes], index=self.index)  # code −1 (no date) picks the last entry

    @cached_property
    def _dx_factor(self) -> tuple[np.ndarray, np.ndarray]:
        """Each line's diagnoses as a number, and the distinct diagnosis tuples (in order of first
        appearance; texts such as "M17.11" and "m1711" give one tuple).  Tuples are built only for
        the callers that want them; the checks read ``dx_codes``."""
        t = self.dx_codes
        return t.line, tuples(t.codes[t.flat], t.lens)

    @cached_property
    def _dx_info_factor(self) -> tuple[np.ndarray, np.ndarray]:
        """Each line's (diagnoses, release) as a number, and the DxInfo tuple (None: not a code) of
        each number.  Tuples are built only for the callers that want them; the checks read
        ``dx_infos``."""
        d = self.dx_infos
        return d.line, tuples(d.info[d.entry], d.lens)

    @cached_property
    def dx_info(self) -> pd.Series:
        """Per line, a tuple of DxInfo (or None for a code not in the release) per diagnosis."""
        codes, infos = self._dx_info_factor
        return pd.Series(infos[codes], index=self.index, dtype=object)

    def dx_any(self, per_code: np.ndarray) -> pd.Series:
        """Per line: whether any of its diagnoses has ``per_code`` (a boolean per (code, release)
        number of ``dx_infos``) true; once per distinct (diagnoses, release) by array work."""
        d = self.dx_infos
        hit = np.bincount(run_of(d.lens), weights=per_code[d.entry], minlength=len(d.lens)) > 0
        return pd.Series(hit[d.line], index=self.index)

    @cached_property
    def _support(self) -> dict[str, pd.Series]:
        """Per distinct (diagnoses, rule): the supporting diagnosis and whether any is covered; then
        each line's DxInfo at that position (the release does not change what a rule covers).

        "The supporting diagnosis" is the first diagnosis the applicable rule covers; where no
        rule applies, or none is covered, it is the primary (first) diagnosis.  Array work over
        the diagnoses of the distinct pairs, with ``covers`` asked once per distinct (rule, code):
        a Python loop per pair cost 0.05 s at 100,000 lines.
        """
        covered = self.rules["_covered"].tolist() if "_covered" in self.rules else []
        t = self.dx_codes
        n_rules = len(covered) + 1
        codes, uniques = pd.factorize(t.line * n_rules + (self.rule_pos.to_numpy() + 1))
        d_of, r_of = np.divmod(uniques.astype("int64"), n_rules)
        # One entry per (pair with a rule, position in its diagnoses), in pair then position order.
        ruled = np.flatnonzero(r_of > 0)
        n_per = t.lens[d_of[ruled]]
        entry_pair = np.repeat(ruled, n_per)
        entry_j = within_runs(n_per)
        entry_code = t.flat[t.starts[d_of[entry_pair]] + entry_j]
        width = max(len(t.codes), 1)
        rc, rc_keys = pd.factorize(r_of[entry_pair] * width + entry_code)
        rule_of, text_of = np.divmod(rc_keys.astype("int64"), width)
        hit = np.array([covered[r - 1].covers(t.codes[c]) for r, c in zip(rule_of.tolist(), text_of.tolist())],
                       dtype=bool)[rc]
        hit_pair, first = np.unique(entry_pair[hit], return_index=True)  # the first covered position per pair
        pos = np.zeros(len(uniques), dtype="int64")
        pos[hit_pair] = entry_j[hit][first]
        any_cov = np.empty(len(uniques), dtype=object)
        any_cov[:] = False
        any_cov[r_of == 0] = True  # no rule: nothing to cover
        any_cov[hit_pair] = True
        code = np.full(len(uniques), "", dtype=object)
        has = pos < t.lens[d_of]
        code[has] = t.codes[t.flat[t.starts[d_of[has]] + pos[has]]]
        line_pos = pos[codes]
        d = self.dx_infos
        p = d.line
        inside = line_pos < d.lens[p]
        info = np.full(len(p), None, dtype=object)
        info[inside] = d.info[d.entry[d.starts[p[inside]] + line_pos[inside]]]
        return {"pos": pd.Series(line_pos, index=self.index), "any": pd.Series(any_cov[codes], index=self.index),
                "code": pd.Series(code[codes], index=self.index, dtype=object),
                "info": pd.Series(info, index=self.index, dtype=object)}

    def map_supporting(self, fn: Callable[[object], object]) -> pd.Series:
        """``map_unique(self.supporting, fn)``, the supporting DxInfo numbered by identity (a few
        hundred objects) rather than by hashing 100,000 of them."""
        values = self.supporting.to_numpy(dtype=object)
        codes = pd.factorize(object_ids(values))[0]
        mapped = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=object)
        for i, info in enumerate(values[first_positions(codes)].tolist()):
            mapped[i] = fn(info)
        return pd.Series(mapped[codes], index=self.index, dtype=object)

    def coded_supporting(self, idx: pd.Index, fn: Callable[[object], object]) -> Coded:
        """``self.supporting[idx].map(fn)`` as a message field: ``fn`` once per distinct DxInfo."""
        values = self.supporting.to_numpy(dtype=object)[self.index.get_indexer(idx)]
        codes = pd.factorize(object_ids(values))[0]
        return _coded(codes, values[first_positions(codes)].tolist(), fn)

    @cached_property
    def any_covered(self) -> pd.Series:
        """The applicable rule covers one of the line's diagnoses (or puts no condition on them)."""
        return self._support["any"].astype(bool)

    @cached_property
    def supporting(self) -> pd.Series:
        """The supporting diagnosis's DxInfo (None when absent or not a code)."""
        return self._support["info"]

    @cached_property
    def supporting_code(self) -> pd.Series:
        return self._support["code"]

    # ---- modifiers
    @cached_property
    def mods(self) -> pd.Series:
        codes, uniques = self._mods_factor
        table = np.empty(len(uniques) + 1, dtype=object)  # (np.array would make tuples a 2-D array)
        table[:-1] = uniques
        table[-1] = ()
        return pd.Series(table[codes], index=self.index, dtype=object)

    @cached_property
    def _mods_factor(self) -> tuple[np.ndarray, list]:
        """Each line's modifiers as a number into the list of distinct modifier tuples."""
        codes, uniques = self.factor("Modifiers")
        parsed = [_split_mods(u or "") for u in uniques]
        return np.where(codes < 0, len(parsed), codes), parsed

    def map_mods(self, fn: Callable[[tuple[str, ...]], object]) -> pd.Series:
        """``map_unique(self.mods, fn)``: ``fn`` once per distinct Modifiers text's tuple (blank: ``()``)."""
        codes, uniques = self._mods_factor
        mapped = np.empty(len(uniques) + 1, dtype=object)
        for i, mods in enumerate([*uniques, ()]):
            mapped[i] = fn(mods)
        return pd.Series(mapped[codes], index=self.index, dtype=object)

    def coded_mods(self, idx: pd.Index, fn: Callable[[tuple[str, ...]], object]) -> Coded:
        """``self.mods[idx].map(fn)`` as a message field: ``fn`` once per distinct Modifiers text."""
        codes, uniques = self._mods_factor
        return _coded(codes[self.index.get_indexer(idx)], [*uniques, ()], fn)

    def has_mod(self, *codes: str) -> pd.Series:
        wanted = set(codes)
        line_codes, uniques = self._mods_factor
        hit = np.array([bool(wanted.intersection(t)) for t in uniques] + [False])
        return pd.Series(hit[line_codes], index=self.index)

    @cached_property
    def units(self) -> pd.Series:
        return self.c["Units"].fillna(1.0)

    # ---- messages
    def render(self, chk: Check, flagged: pd.Index) -> np.ndarray:
        """The check's message for each flagged line, made once per distinct combination of its
        fields: each field is computed column-wise and numbered by distinct value, the numbers are
        combined, and each distinct message is joined once and shared by every line that says it
        (fewer joins, a fraction of the memory, and the report writer escapes it once)."""
        parsed = list(string.Formatter().parse(chk.say))
        if len(parsed) == 1 and not parsed[0][0] and parsed[0][1] and not parsed[0][2]:  # "{field}": its text as it is
            result = FIELDS[parsed[0][1]](self, flagged)
            values = (result.texts[result.codes] if isinstance(result, Coded)
                      else result.reindex(flagged).to_numpy(dtype=object))
            if pd.api.types.infer_dtype(values, skipna=False) == "string":
                return values
        pieces: list[str | tuple[np.ndarray, list[str]]] = []  # a literal, or (codes, texts) of a field
        combo = np.zeros(len(flagged), dtype=np.int64)
        for literal, name, spec, _ in parsed:
            if literal:
                pieces.append(literal)
            if name:
                codes, texts = _field_texts(FIELDS[name](self, flagged), flagged, spec or "")
                pieces.append((codes, texts))
                combo = pd.factorize(combo * len(texts) + codes)[0] if len(texts) > 1 else combo
        if not len(flagged):
            return np.empty(0, dtype=object)
        first = first_positions(combo)  # a line per message (combo numbers them in order of first appearance)
        columns = [[p] * len(first) if isinstance(p, str) else np.asarray(p[1], dtype=object)[p[0][first]].tolist()
                   for p in pieces]
        messages = np.empty(len(first), dtype=object)
        messages[:] = list(map("".join, zip(*columns)))
        return messages[combo]


def _without_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    """The same frame (its data shared, not copied) with no attrs."""
    if not frame.attrs:
        return frame
    bare = frame.copy(deep=False)
    bare.attrs = {}
    return bare


def per_distinct(fn: Callable[..., object], *columns: pd.Series) -> pd.Series:
    """``fn(*values)`` for each line of ``columns`` (aligned Series, as ``Series.map`` would pass
    the values), called once per distinct combination of values: a message field over 40,000
    flagged lines has a few hundred.  Numbers and dates are told apart by their bits, so values
    that ``format`` writes differently (0.0 and -0.0) stay apart; other values by equality, the
    missing ones by type."""
    index = columns[0].index
    combo = np.zeros(len(index), dtype="int64")
    for column in columns:
        values = column.to_numpy()
        if values.dtype.kind in "fmM":
            codes = pd.factorize(values.view("int64"))[0]
        elif values.dtype.kind in "iub":
            codes = pd.factorize(values.astype("int64"))[0]
        else:
            objects = column.to_numpy(dtype=object)
            codes, uniques = pd.factorize(objects, use_na_sentinel=True)
            missing = codes < 0
            if missing.any():  # None, NaN, NaT and pd.NA apart (each its own number, by type)
                codes[missing] = len(uniques) + pd.factorize(np.array([type(v) for v in objects[missing]],
                                                                      dtype=object))[0]
        combo = pd.factorize(combo * (int(codes.max()) + 1 if len(codes) else 1) + codes)[0]
    if not len(index):
        return pd.Series([], index=index, dtype=object)
    first = first_positions(combo)  # combo numbers them in order of first appearance
    picked = [column.iloc[first].tolist() for column in columns]
    out = np.empty(len(first), dtype=object)
    out[:] = [fn(*row) for row in zip(*picked)]
    return pd.Series(out[combo], index=index, dtype=object)


def _field_texts(result: pd.Series | Coded, flagged: pd.Index, spec: str) -> tuple[np.ndarray, list[str]]:
    """A message field's text per line, as numbers into its texts (distinct, or as a ``Coded``
    field numbered them).

    Values are numbered by equality only when they are all text: numbers would merge 1, 1.0 and
    True, and None with NaN, which ``format`` writes differently; those are formatted per line."""
    if isinstance(result, Coded):
        texts = result.texts.tolist()
        if all(type(t) is str for t in texts):
            return result.codes, [format(t, spec) for t in texts] if spec else texts
        result = pd.Series(result.texts[result.codes], index=flagged, dtype=object)
    raw = result.reindex(flagged).to_numpy(dtype=object)
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    if all(type(u) is str for u in uniques):
        return codes, [format(u, spec) for u in uniques] if spec else list(uniques)
    texts = [format(v, spec) if spec else (v if type(v) is str else str(v)) for v in raw.tolist()]
    codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
    return codes, list(uniques)


def dx_list(codes) -> str:
    return ", ".join(format_dx(c) for c in codes)

