"""Payer rules (the medical-necessity matrix) and payers: which rule applies to a claim line.

A rule applies when Payer and CPT/HCPCS match and the date of service lies within
[Effective From, Effective To].  Where several versions apply, the one with the latest
Effective From wins (it is the newer policy version), then the first in the table.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .codesets.icd10cm import format_dx, normalize_dx
from .tables import PAYERS, RULES
from .values import coerce_table


def payer_key(name) -> str:
    """Payer names match case-insensitively and ignoring extra spaces."""
    return " ".join(str(name).split()).casefold()


MEDICARE = "medicare"


def is_medicare(payer_type) -> bool:
    """Payer Type names Original Medicare ("Medicare", in any case and spacing).

    The one predicate for ABN advice, appeal deadlines and letters: Medicare Advantage,
    Medicaid and commercial plans are not Original Medicare.
    """
    if payer_type is None or (isinstance(payer_type, float) and payer_type != payer_type):
        return False
    return payer_key(payer_type) == MEDICARE


MEDICARE_ADVANTAGE = "medicare advantage"


def is_medicare_or_advantage(payer_type) -> bool:
    """Original Medicare (``is_medicare``) or a Medicare Advantage plan: both apply the CMS
    therapy modifier edits; only Original Medicare uses the ABN."""
    if is_medicare(payer_type):
        return True
    if payer_type is None or (isinstance(payer_type, float) and payer_type != payer_type):
        return False
    return payer_key(payer_type) == MEDICARE_ADVANTAGE


_ENTRY_CODE = r"[A-Z](?:\d[0-9A-Z]|A\d)(?:\.?[0-9A-Z]{1,4})?"  # QA0-: FY2026 genetic variants
# One Covered Dx entry as billers and CMS articles write it: a code (M17.11), a prefix with a star
# (M48.06*) or with the ICD "and all codes below" dash (M17.1-, M17.-), a range (M17.0-M17.9), or a
# star alone (any diagnosis).
_ENTRY = re.compile(rf"(?P<code>{_ENTRY_CODE})(?P<tail>\.?-|\*)?|(?P<lo>{_ENTRY_CODE})-(?P<hi>{_ENTRY_CODE})|\*")
# "M17.0 - M17.9" (spaces around the range dash) is one entry, not three.
_SPACED_RANGE = re.compile(r"(?<=[0-9A-Z])\s+-\s*(?=[A-Z]\d)")


class CoveredDxError(ValueError):
    """A Covered Dx entry that is not a code, prefix or range (the caller names the row)."""


@dataclass(frozen=True)
class CoveredDx:
    """A rule's Covered Dx list: exact codes, prefixes (``M48.06*``, ``M17.1-``) and ranges (``M17.0-M17.9``)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    ranges: tuple[tuple[str, str], ...]
    entries: tuple[str, ...]  # as the practice wrote them, normalised for display

    @classmethod
    def parse(cls, text: str, *, strict: bool = False) -> CoveredDx:
        """Parse a Covered Dx cell; with ``strict`` an entry that is not a code, prefix or range
        (or a range whose end is before its start) raises ``CoveredDxError``, else it is kept as
        an exact entry (it then matches only itself)."""
        exact: set[str] = set()
        prefixes: list[str] = []
        ranges: list[tuple[str, str]] = []
        entries: list[str] = []
        text = _SPACED_RANGE.sub("-", str(text or "").upper())
        for item in re.split(r"[,;\s]+", text):
            item = item.strip()
            if item.endswith(".") and not item.endswith("-."):
                item = item.rstrip(".")  # "M17.11." as typed: the dot is optional anyway
            if not item:
                continue
            m = _ENTRY.fullmatch(item)
            if m is None and strict:
                raise CoveredDxError(f"'{item[:20]}' is not an ICD-10-CM code, prefix (M48.06* or M17.1-) "
                                     f"or range (M17.0-M17.9)")
            if m is not None and m.group("lo"):
                lo, hi = normalize_dx(m.group("lo")), normalize_dx(m.group("hi"))
                if strict and lo > hi and not lo.startswith(hi):
                    raise CoveredDxError(f"the range {format_dx(lo)}-{format_dx(hi)} is reversed: "
                                         f"write the lower code first")
                ranges.append((lo, hi))
                entries.append(f"{format_dx(lo)}-{format_dx(hi)}")
            elif m is not None and (item == "*" or m.group("tail")):
                code = normalize_dx(m.group("code")) if item != "*" else ""
                prefixes.append(code)
                entries.append(format_dx(code) + "*" if code else "*")
            elif item.endswith("*"):  # not strict: the old reading of a star entry
                code = normalize_dx(item.rstrip("*"))
                prefixes.append(code)
                entries.append(format_dx(code) + "*")
            else:
                exact.add(normalize_dx(item))
                entries.append(format_dx(item))
        return cls(frozenset(exact), tuple(prefixes), tuple(ranges), tuple(entries))

    @property
    def unrestricted(self) -> bool:
        """``*`` alone covers every diagnosis (a blank list covers none, as the contract reads)."""
        return "" in self.prefixes

    def covers(self, code: str) -> bool:
        return (
            code in self.exact
            or any(code.startswith(p) for p in self.prefixes)
            or any(lo <= code and code[: len(hi)] <= hi for lo, hi in self.ranges)
        )


def _parse_covered(typed: pd.DataFrame) -> pd.Series:
    """Covered Dx of every rule, strictly: a bad entry is one InputError naming its row and column."""
    from .errors import InputError

    out = []
    for row, text in zip(typed.index, typed["Covered Dx"]):
        try:
            out.append(CoveredDx.parse(text, strict=True))
        except CoveredDxError as exc:
            raise InputError(str(exc), file=typed.attrs.get("file"), sheet=typed.attrs.get("sheet"),
                             row=int(row) if isinstance(row, numbers.Integral) else None, column="Covered Dx") from None
    return pd.Series(out, index=typed.index, dtype=object)


def prepare_rules(rules: pd.DataFrame | None) -> pd.DataFrame:
    """Typed rules with a payer key and parsed Covered Dx; an empty frame when none are given."""
    if rules is None:
        rules = pd.DataFrame(columns=RULES.headers)
    typed = coerce_table(RULES, rules)
    typed = typed.assign(
        _payer=typed["Payer"].map(payer_key),
        _cpt=typed["CPT/HCPCS"].astype(str).str.upper(),
        _covered=_parse_covered(typed),
        _source_row=typed.index,
    ).reset_index(drop=True)
    typed.attrs = rules.attrs
    return typed


def prepare_payers(payers: pd.DataFrame | None) -> pd.DataFrame:
    """Typed payers keyed by payer key (first row wins if a name repeats)."""
    if payers is None:
        payers = pd.DataFrame(columns=PAYERS.headers)
    typed = coerce_table(PAYERS, payers)
    typed = typed.assign(_payer=typed["Payer"].map(payer_key))
    typed = typed[typed["_payer"] != ""].drop_duplicates("_payer").set_index("_payer")
    return typed


def match_rules(payer: pd.Series, cpt: pd.Series, dos: pd.Series, rules: pd.DataFrame) -> pd.Series:
    """For each claim line, the position in ``rules`` of the rule that applies (−1 for none).

    Matched once per distinct (payer, code, date of service), a few thousand at 100,000 lines,
    and spread to the lines: the rule depends on nothing else."""
    from .values import first_positions, map_distinct

    if rules.empty or not len(payer):
        return pd.Series(-1, index=payer.index, dtype="int64")
    payer_codes, payer_keys = map_distinct(payer, payer_key)
    combo = np.zeros(len(payer), dtype=np.int64)
    for codes in (payer_codes, pd.factorize(cpt.to_numpy(dtype=object))[0], pd.factorize(dos.to_numpy())[0]):
        combo = pd.factorize(combo * (int(codes.max()) + 2) + codes + 1)[0].astype(np.int64)  # −1 (missing): 0
    first = first_positions(combo)
    chosen = _match_distinct(payer_keys[payer_codes[first]], cpt.to_numpy()[first], dos.to_numpy()[first], rules)
    return pd.Series(chosen[combo], index=payer.index, dtype="int64")


def _match_distinct(payer_keys: np.ndarray, cpt: np.ndarray, dos: np.ndarray, rules: pd.DataFrame) -> np.ndarray:
    """``match_rules`` for lines given by their payer key, code and date (distinct lines)."""
    lines = pd.DataFrame({"_payer": payer_keys, "_cpt": cpt, "_dos": dos, "_line": range(len(payer_keys))})
    cand = lines.merge(
        rules[["_payer", "_cpt", "Effective From", "Effective To"]].assign(_rule=range(len(rules))),
        on=["_payer", "_cpt"], how="inner")
    ok = ((cand["Effective From"].isna() | (cand["Effective From"] <= cand["_dos"]))
          & (cand["Effective To"].isna() | (cand["_dos"] <= cand["Effective To"])) & cand["_dos"].notna())
    cand = cand[ok].sort_values(["_line", "Effective From", "_rule"], ascending=[True, False, True],
                                na_position="last")
    first = cand.drop_duplicates("_line")
    out = np.full(len(payer_keys), -1, dtype=np.int64)
    out[first["_line"].to_numpy()] = first["_rule"].to_numpy()
    return out
