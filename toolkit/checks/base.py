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
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import pandas as pd

from ..codesets.icd10cm import DX_SHAPE, CodeSets, DxInfo, format_dx, normalize_dx
from ..rules import CoveredDx, match_rules, payer_key
from ..values import map_unique

RED, AMBER = "RED", "AMBER"
SEVERITY_RANK = {RED: 0, AMBER: 1}

_MOD_SPLIT = re.compile(r"[,\s:;]+")
_DX_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class Check:
    """One checklist item: ``when`` flags lines; ``say`` explains each flagged line."""

    code: str
    severity: str
    family: str
    meaning: str
    when: Callable[["ClaimLines"], pd.Series]
    say: str  # a str.format template over ClaimLines.field(...) names

    def fields(self) -> list[str]:
        return [f for _, f, _, _ in string.Formatter().parse(self.say) if f]


REGISTRY: dict[str, Check] = {}
FIELDS: dict[str, Callable[["ClaimLines", pd.Index], pd.Series]] = {}


def check(code: str, severity: str, family: str, meaning: str, say: str):
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


class ClaimLines:
    """Typed claim lines plus everything the checks derive from them, computed on first use."""

    def __init__(self, claims: pd.DataFrame, rules: pd.DataFrame, payers: pd.DataFrame, *,
                 today: dt.date, codesets: CodeSets):
        self.c = claims
        self.index = claims.index
        self.rules = rules
        self.payers = payers
        self.today = pd.Timestamp(today)
        self.codesets = codesets
        self._masks: dict[str, pd.Series] = {}

    # ---- generic helpers
    def mask(self, code: str) -> pd.Series:
        """The mask of another check (for checks that depend on findings, e.g. ABN)."""
        if code not in self._masks:
            self._masks[code] = REGISTRY[code].when(self).fillna(False).astype(bool)
        return self._masks[code]

    def yes(self, header: str) -> pd.Series:
        return self.c[header].fillna(False).astype(bool)

    def blank(self, header: str) -> pd.Series:
        return self.c[header].astype(str).str.strip() == ""

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
    def payer_row(self) -> pd.DataFrame:
        keys = map_unique(self.c["Payer"], payer_key)
        known = keys.isin(self.payers.index)
        cols = ["Payer Type", "Timely Filing Days", "Appeal Window Days"]
        frame = self.payers.reindex(keys.to_numpy())[cols]
        frame.index = self.index
        frame["_known"] = known.to_numpy()
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

    def rule_yes(self, header: str) -> pd.Series:
        return self.rule[header].fillna(False).astype(bool) & self.has_rule

    def rule_number(self, header: str) -> pd.Series:
        return pd.to_numeric(self.rule[header], errors="coerce")

    # ---- diagnoses
    @cached_property
    def dx(self) -> pd.Series:
        """Each line's diagnoses, normalised (no dot, upper case), primary first."""
        return map_unique(self.c["Dx Codes"], lambda t: _split_dx(t or ""))

    @cached_property
    def codeset_of_line(self) -> pd.Series:
        """Which code-set release applies on each line's date of service."""
        if len(self.codesets.sets) == 1:
            return pd.Series(0, index=self.index)
        pos = {id(s): i for i, s in enumerate(self.codesets.sets)}
        days = pd.unique(self.dos.dropna().dt.date.to_numpy()) if len(self.dos.dropna()) else []
        chosen = {d: pos[id(self.codesets.for_date(d))] for d in days}
        newest = len(self.codesets.sets) - 1
        return self.dos.dt.date.map(chosen).fillna(newest).astype(int)

    @cached_property
    def dx_info(self) -> pd.Series:
        """Per line, a tuple of DxInfo (or None for a code not in the release) per diagnosis."""
        out = pd.Series([()] * len(self.index), index=self.index, dtype=object)
        for i, s in enumerate(self.codesets.sets):
            lines = self.codeset_of_line == i
            if not lines.any():
                continue
            dx = self.dx[lines]
            codes = {c for t in pd.unique(dx.to_numpy()) for c in t}
            info = s.lookup(sorted(c for c in codes if DX_SHAPE.fullmatch(c)))
            out[lines] = map_unique(dx, lambda t: tuple(info.get(c) for c in t or ()))
        return out

    def _per_dx_and_rule(self, fn) -> pd.Series:
        """``fn(diagnoses, CoveredDx or None)`` once per distinct (diagnoses, rule) pair."""
        covered = self.rules["_covered"].tolist() if "_covered" in self.rules else []
        dx_codes, dx_uniques = pd.factorize(self.dx.to_numpy(dtype=object))
        key = dx_codes.astype("int64") * (len(covered) + 1) + (self.rule_pos.to_numpy() + 1)
        codes, uniques = pd.factorize(key)
        values = np.empty(len(uniques), dtype=object)
        for i, k in enumerate(uniques):
            d, r = divmod(int(k), len(covered) + 1)
            values[i] = fn(dx_uniques[d], covered[r - 1] if r else None)
        return pd.Series(values[codes], index=self.index, dtype=object)

    @cached_property
    def supporting_pos(self) -> pd.Series:
        """Position of the supporting diagnosis: the first the rule covers, else the primary."""
        def first_covered(dx, cov):
            if cov is None:
                return 0
            return next((i for i, c in enumerate(dx) if cov.covers(c)), 0)
        return self._per_dx_and_rule(first_covered).astype("int64")

    @cached_property
    def any_covered(self) -> pd.Series:
        def covered(dx, cov):
            return cov is None or cov.unrestricted or any(cov.covers(c) for c in dx)
        return self._per_dx_and_rule(covered).astype(bool)

    @cached_property
    def supporting(self) -> pd.Series:
        """The supporting diagnosis's DxInfo (None when absent or not a code)."""
        return pd.Series([infos[p] if p < len(infos) else None
                          for infos, p in zip(self.dx_info.to_numpy(), self.supporting_pos.to_numpy())],
                         index=self.index, dtype=object)

    @cached_property
    def supporting_code(self) -> pd.Series:
        return pd.Series([dx[p] if p < len(dx) else "" for dx, p in zip(self.dx.to_numpy(),
                                                                       self.supporting_pos.to_numpy())],
                         index=self.index, dtype=object)

    # ---- modifiers
    @cached_property
    def mods(self) -> pd.Series:
        return map_unique(self.c["Modifiers"], lambda t: _split_mods(t or ""))

    def has_mod(self, *codes: str) -> pd.Series:
        wanted = set(codes)
        return map_unique(self.mods, lambda t: bool(wanted.intersection(t or ()))).astype(bool)

    @cached_property
    def units(self) -> pd.Series:
        return self.c["Units"].fillna(1.0)

    # ---- messages
    def render(self, chk: Check, flagged: pd.Index) -> list[str]:
        """The check's message for each flagged line, built column-wise (no per-row formatting)."""
        out = np.full(len(flagged), "", dtype=object)
        for literal, name, spec, _ in string.Formatter().parse(chk.say):
            out = out + literal
            if name:
                values = FIELDS[name](self, flagged).reindex(flagged).to_numpy(dtype=object)
                if spec:
                    values = np.array([format(v, spec) for v in values], dtype=object)
                out = out + values.astype(str).astype(object)
        return out.tolist()


def dx_list(codes) -> str:
    return ", ".join(format_dx(c) for c in codes)


def info_ok(info: DxInfo | None) -> bool:
    return info is not None
