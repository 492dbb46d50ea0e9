"""Payer rules (the medical-necessity matrix) and payers: which rule applies to a claim line.

A rule applies when Payer and CPT/HCPCS match and the date of service lies within
[Effective From, Effective To].  Where several versions apply, the one with the latest
Effective From wins (it is the newer policy version), then the first in the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


@dataclass(frozen=True)
class CoveredDx:
    """A rule's Covered Dx list: exact codes, prefixes (``M48.06*``) and ranges (``M17.0-M17.9``)."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    ranges: tuple[tuple[str, str], ...]
    entries: tuple[str, ...]  # as the practice wrote them, normalised for display

    @classmethod
    def parse(cls, text: str) -> "CoveredDx":
        exact, prefixes, ranges, entries = set(), [], [], []
        for item in re.split(r"[,;\s]+", str(text or "")):
            item = item.strip().upper()
            if not item:
                continue
            if item.endswith("*"):
                code = normalize_dx(item.rstrip("*"))
                prefixes.append(code)
                entries.append(format_dx(code) + "*")
            elif re.fullmatch(r"[A-Z0-9.]+-[A-Z0-9.]+", item):
                lo, hi = (normalize_dx(x) for x in item.split("-"))
                ranges.append((lo, hi))
                entries.append(f"{format_dx(lo)}-{format_dx(hi)}")
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


def prepare_rules(rules: pd.DataFrame | None) -> pd.DataFrame:
    """Typed rules with a payer key and parsed Covered Dx; an empty frame when none are given."""
    if rules is None:
        rules = pd.DataFrame(columns=RULES.headers)
    typed = coerce_table(RULES, rules)
    typed = typed.assign(
        _payer=typed["Payer"].map(payer_key),
        _cpt=typed["CPT/HCPCS"].astype(str).str.upper(),
        _covered=typed["Covered Dx"].map(CoveredDx.parse),
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
    """For each claim line, the position in ``rules`` of the rule that applies (−1 for none)."""
    from .values import map_unique

    lines = pd.DataFrame({"_payer": map_unique(payer, payer_key).to_numpy(), "_cpt": cpt.to_numpy(),
                          "_dos": dos.to_numpy(), "_line": range(len(payer))})
    if rules.empty or lines.empty:
        return pd.Series(-1, index=payer.index, dtype="int64")
    cand = lines.merge(
        rules[["_payer", "_cpt", "Effective From", "Effective To"]].assign(_rule=range(len(rules))),
        on=["_payer", "_cpt"], how="inner")
    ok = ((cand["Effective From"].isna() | (cand["Effective From"] <= cand["_dos"]))
          & (cand["Effective To"].isna() | (cand["_dos"] <= cand["Effective To"])) & cand["_dos"].notna())
    cand = cand[ok].sort_values(["_line", "Effective From", "_rule"], ascending=[True, False, True],
                                na_position="last")
    first = cand.drop_duplicates("_line")
    out = pd.Series(-1, index=range(len(payer)), dtype="int64")
    out.loc[first["_line"].to_numpy()] = first["_rule"].to_numpy()
    out.index = payer.index
    return out
