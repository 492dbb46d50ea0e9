"""ICD-10-CM code set: validity, billable, side, "unspecified" and Excludes1, by code.

Loaded from a compact SQLite index (see ``build_icd10cm``): opening it costs a millisecond and
only the codes that appear on the claims are read.  Which code set applies is date-effective:
a practice may add the index of a newer fiscal year, and each claim line is checked against the
newest code set in force on its date of service.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path

SHIPPED_INDEX = Path(__file__).with_name("data") / "icd10cm.sqlite"
ENV_EXTRA = "MEDNEC_ICD10CM_INDEX"  # os.pathsep-separated extra index files

_SIDE_WORDS = {"right": "R", "left": "L", "bilateral": "B"}
_SIDE_RE = re.compile(r"\b(right|left|bilateral)\b", re.I)
_UNSPECIFIED_RE = re.compile(r"\bunspecified\b", re.I)
DX_SHAPE = re.compile(r"[A-Z]\d[0-9A-Z]{1,5}")


@lru_cache(maxsize=65536)
def normalize_dx(code: str) -> str:
    """``" m54.50 "`` → ``"M5450"``: the dot is optional and case does not matter."""
    return str(code).strip().upper().replace(".", "")


@lru_cache(maxsize=65536)
def format_dx(code: str) -> str:
    """``"M5450"`` → ``"M54.50"`` (the dot after the third character)."""
    code = normalize_dx(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def describe_side(description: str) -> str:
    """The body side a description names: R, L, B (bilateral or both) or ''."""
    sides = {_SIDE_WORDS[w.lower()] for w in _SIDE_RE.findall(description)}
    if "B" in sides or {"R", "L"} <= sides:
        return "B"
    return sides.pop() if sides else ""


def is_unspecified(description: str) -> bool:
    return bool(_UNSPECIFIED_RE.search(description))


@dataclass(frozen=True, eq=False)  # one object per code and release: identity is equality, hashing is cheap
class DxInfo:
    code: str  # normalised, no dot
    billable: bool
    side: str
    unspecified: bool
    description: str
    excludes1: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return format_dx(self.code)

    def excludes(self, other: str) -> bool:
        """Whether this code's Excludes1 notes (inherited ones included) name ``other``."""
        return any(_ref_matches(ref, other) for ref in self.excludes1)


def _ref_matches(ref: str, code: str) -> bool:
    if "-" in ref:
        lo, hi = ref.split("-", 1)
        return code >= lo and code[: len(hi)] <= hi
    return code.startswith(ref)


@dataclass
class CodeSet:
    """One ICD-10-CM release, read lazily from its index file."""

    path: Path
    label: str
    effective_from: dt.date | None
    source: str = ""
    _cache: dict[str, DxInfo | None] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path | str) -> "CodeSet":
        path = Path(path)
        if not path.exists():
            from ..errors import InputError
            raise InputError("ICD-10-CM index not found", file=path)
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            meta = dict(con.execute("SELECT key, value FROM meta"))
            con.close()
        except sqlite3.DatabaseError:
            from ..errors import InputError
            raise InputError("not an ICD-10-CM index built by mednec", file=path) from None
        eff = meta.get("effective_from") or None
        return cls(path, meta.get("label", path.name), dt.date.fromisoformat(eff) if eff else None,
                   meta.get("source", ""))

    def lookup(self, codes) -> dict[str, DxInfo | None]:
        """Information for each (normalised) code; ``None`` for a code not in this release."""
        wanted = [c for c in dict.fromkeys(codes) if c not in self._cache]
        if wanted:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
                    chunk = wanted[start:start + 900]
                    marks = ",".join("?" * len(chunk))
                    for row in con.execute(
                        f"SELECT code, billable, side, unspecified, description, excludes1 FROM codes WHERE code IN ({marks})",
                        chunk,
                    ):
                        self._cache[row[0]] = DxInfo(row[0], bool(row[1]), row[2], bool(row[3]), row[4],
                                                     tuple(row[5].split()))
            finally:
                con.close()
            for c in wanted:
                self._cache.setdefault(c, None)
        return {c: self._cache[c] for c in codes}

    def billable_under(self, code: str, limit: int = 4) -> list[str]:
        """The first billable codes under a header code, to suggest in a finding."""
        key = f"children:{code}:{limit}"
        if key in self._cache:
            return self._cache[key]
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT code FROM codes WHERE code > ? AND code < ? AND billable = 1 "
                               "ORDER BY code LIMIT ?", (code, code + "~", limit)).fetchall()
        finally:
            con.close()
        self._cache[key] = [r[0] for r in rows]
        return self._cache[key]

    def get(self, code: str) -> DxInfo | None:
        code = normalize_dx(code)
        return self.lookup([code])[code]

    def describe(self, code: str) -> str:
        info = self.get(code)
        return info.description if info else ""


class CodeSets:
    """The releases available, newest effective date last; picks the one in force on a date."""

    def __init__(self, sets: list[CodeSet]):
        if not sets:
            raise ValueError("at least one code set is needed")
        self.sets = sorted(sets, key=lambda s: s.effective_from or dt.date.min)

    @classmethod
    def default(cls, extra: list[Path | str] | None = None) -> "CodeSets":
        """The shipped release plus any given here or in ``$MEDNEC_ICD10CM_INDEX``."""
        paths = [SHIPPED_INDEX, *(extra or [])]
        env = os.environ.get(ENV_EXTRA, "")
        paths += [p for p in env.split(os.pathsep) if p]
        return cls([CodeSet.open(p) for p in dict.fromkeys(map(str, paths))])

    def for_date(self, day: dt.date | None) -> CodeSet:
        chosen = self.sets[0]
        for s in self.sets:
            if day is not None and s.effective_from is not None and s.effective_from <= day:
                chosen = s
        return chosen

    @property
    def newest(self) -> CodeSet:
        return self.sets[-1]

    def describe(self, code: str) -> str:
        """Description from the newest release that knows the code."""
        for s in reversed(self.sets):
            d = s.describe(code)
            if d:
                return d
        return ""
