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
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

SHIPPED_INDEX = Path(__file__).with_name("data") / "icd10cm.sqlite"
ENV_EXTRA = "MEDNEC_ICD10CM_INDEX"  # os.pathsep-separated extra index files

_SIDE_WORDS = {"right": "R", "left": "L", "bilateral": "B"}
_SIDE_RE = re.compile(r"\b(right|left|bilateral)\b", re.I)
_UNSPECIFIED_RE = re.compile(r"\bunspecified\b", re.I)
DX_SHAPE = re.compile(r"[A-Z](?:\d[0-9A-Z]|A\d)[0-9A-Z]{0,4}")  # QA0-: FY2026 genetic variants


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


class _IndexFile:
    """One index file, holding one release or several (a bitmask per code says in which).

    Rows are read once per code and shared by the releases' views, so a code unchanged between
    releases is one ``DxInfo`` object (cheap identity hashing in the checks).
    """

    _open: dict[str, _IndexFile] = {}

    def __init__(self, path: Path, releases: list[dict], multi: bool):
        self.path, self.releases, self.multi = path, releases, multi
        self._rows: dict[str, list[tuple[int, int, DxInfo]]] = {}
        self._children: dict[tuple[str, int, int], list[str]] = {}

    @classmethod
    def open(cls, path: Path | str) -> _IndexFile:
        from ..errors import InputError

        path = Path(path)
        if path.exists():  # a file rebuilt in place (same path) is read afresh
            stat = path.stat()
            key = f"{path.resolve()}|{stat.st_mtime_ns}|{stat.st_size}"
        else:
            key = str(path)
        if key in cls._open:
            return cls._open[key]
        if not path.exists():
            raise InputError("ICD-10-CM index not found", file=path)
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                meta = dict(con.execute("SELECT key, value FROM meta"))
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "releases" in tables:
                    cols = ["id", "label", "fy", "effective_from", "effective_to", "source"]
                    releases = [dict(zip(cols, r)) for r in con.execute(f"SELECT {', '.join(cols)} FROM releases "
                                                                        "ORDER BY id")]
                else:  # an index of one release built by an older mednec
                    releases = [{"id": 0, "label": meta.get("label", path.name), "fy": meta.get("fy", ""),
                                 "effective_from": meta.get("effective_from", ""),
                                 "effective_to": meta.get("effective_to", ""), "source": meta.get("source", "")}]
            finally:
                con.close()
        except sqlite3.DatabaseError:
            raise InputError("not an ICD-10-CM index built by mednec", file=path) from None
        made = cls._open[key] = cls(path, releases, "releases" in tables)
        return made

    def rows(self, codes) -> dict[str, list[tuple[int, int, DxInfo]]]:
        """Per code: (releases mask, billable mask, DxInfo) for each text variant of the code."""
        wanted = [c for c in dict.fromkeys(codes) if c not in self._rows]
        if wanted:
            sql = ("SELECT code, releases, billable, side, unspecified, description, excludes1 FROM codes "
                   if self.multi else
                   "SELECT code, 1, billable, side, unspecified, description, excludes1 FROM codes ")
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
                    chunk = wanted[start:start + 900]
                    for code, mask, bill, side, unsp, desc, excl in con.execute(
                            sql + f"WHERE code IN ({','.join('?' * len(chunk))})", chunk):
                        info = DxInfo(code, False, side, bool(unsp), desc, tuple(excl.split()))
                        self._rows.setdefault(code, []).append((int(mask), int(bill), info))
            finally:
                con.close()
            for c in wanted:
                self._rows.setdefault(c, [])
        return {c: self._rows[c] for c in codes}

    def billable_under(self, code: str, bit: int, limit: int) -> list[str]:
        key = (code, bit, limit)
        if key not in self._children:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                rows = con.execute("SELECT DISTINCT code FROM codes WHERE code > ? AND code < ? "
                                   "AND (billable & ?) != 0 ORDER BY code LIMIT ?",
                                   (code, code + "~", bit, limit)).fetchall()
            finally:
                con.close()
            self._children[key] = [r[0] for r in rows]
        return self._children[key]


def _date(text) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def fiscal_year(day: dt.date) -> int:
    """The ICD-10-CM fiscal year of a date (FY2027 = 2026-10-01 to 2027-09-30)."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_window(fy: int) -> tuple[dt.date, dt.date]:
    return dt.date(fy - 1, 10, 1), dt.date(fy, 9, 30)


@dataclass(eq=False)
class CodeSet:
    """One ICD-10-CM release: a view on its index file, read lazily, with the window it is in force."""

    path: Path
    label: str
    effective_from: dt.date | None
    source: str = ""
    effective_to: dt.date | None = None
    fy: int | None = None
    _file: _IndexFile | None = field(default=None, repr=False)
    _bit: int = 1
    _cache: dict[str, DxInfo | None] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path | str) -> CodeSet:
        """The newest release in an index file."""
        return cls.open_all(path)[-1]

    @classmethod
    def open_all(cls, path: Path | str) -> list[CodeSet]:
        """Every release in an index file, oldest first."""
        index = _IndexFile.open(path)
        out = []
        for r in index.releases:
            fy = int(r["fy"]) if str(r.get("fy") or "").isdigit() else None
            start, end = _date(r["effective_from"]), _date(r["effective_to"])
            if fy is None and start is not None:
                fy = fiscal_year(start)
            if end is None and fy is not None:
                end = fiscal_window(fy)[1]
            out.append(cls(index.path, r["label"], start, r["source"], end, fy, index, 1 << int(r["id"])))
        return sorted(out, key=lambda s: s.effective_from or dt.date.min)

    def lookup(self, codes) -> dict[str, DxInfo | None]:
        """Information for each (normalised) code; ``None`` for a code not in this release."""
        wanted = [c for c in dict.fromkeys(codes) if c not in self._cache]
        if wanted:
            assert self._file is not None, "a CodeSet comes from CodeSet.open_all"
            for code, variants in self._file.rows(wanted).items():
                info = None
                for mask, bill, base in variants:
                    if mask & self._bit:
                        info = base if bool(bill & self._bit) == base.billable else _with_billable(base)
                        break
                self._cache[code] = info
        return {c: self._cache[c] for c in codes}

    def billable_under(self, code: str, limit: int = 4) -> list[str]:
        """The first billable codes under a header code, to suggest in a finding."""
        assert self._file is not None, "a CodeSet comes from CodeSet.open_all"
        return self._file.billable_under(code, self._bit, limit)

    def get(self, code: str) -> DxInfo | None:
        code = normalize_dx(code)
        return self.lookup([code])[code]

    def describe(self, code: str) -> str:
        info = self.get(code)
        return info.description if info else ""

    def in_force(self, day: dt.date) -> bool:
        return ((self.effective_from is None or self.effective_from <= day)
                and (self.effective_to is None or day <= self.effective_to))


@cache
def _with_billable(base: DxInfo) -> DxInfo:
    """The same code text, billable (rows store one DxInfo per text; billable differs by release)."""
    return DxInfo(base.code, not base.billable, base.side, base.unspecified, base.description, base.excludes1)


CODESET_BUILD_HINT = "`mednec codeset build …`"


class CodeSets:
    """The releases available, oldest first; picks the one in force on a date of service."""

    def __init__(self, sets: list[CodeSet]):
        if not sets:
            raise ValueError("at least one code set is needed")
        # stable: of two releases with the same start, the one given later (a practice's own build) wins
        self.sets = sorted(sets, key=lambda s: s.effective_from or dt.date.min)

    @classmethod
    def default(cls, extra: list[Path | str] | None = None) -> CodeSets:
        """The shipped releases plus any given here or in ``$MEDNEC_ICD10CM_INDEX``."""
        paths = [SHIPPED_INDEX, *(extra or [])]
        env = os.environ.get(ENV_EXTRA, "")
        paths += [p for p in env.split(os.pathsep) if p]
        return cls([s for p in dict.fromkeys(map(str, paths)) for s in CodeSet.open_all(p)])

    def for_date(self, day: dt.date | None) -> CodeSet:
        """The release in force on ``day``; outside every window, the nearest one (see ``notes``)."""
        if day is None:
            return self.newest
        chosen = None
        for s in self.sets:
            if s.in_force(day):
                chosen = s
        if chosen is not None:
            return chosen
        if self.sets[0].effective_from is not None and day < self.sets[0].effective_from:
            return self.sets[0]
        return max((s for s in self.sets if s.effective_from is None or s.effective_from <= day),
                   key=lambda s: s.effective_from or dt.date.min, default=self.newest)

    def notes(self, days) -> list[str]:
        """One sentence per fiscal year of ``days`` that no loaded release covers: which release
        those lines were checked against, and what to load."""
        missing: dict[int, CodeSet] = {}
        for day in days:
            if day is None or any(s.in_force(day) for s in self.sets):
                continue
            missing.setdefault(fiscal_year(day), self.for_date(day))
        out = []
        for fy in sorted(missing):
            start = fiscal_window(fy)[0]
            used = missing[fy]
            out.append(f"DOS from {start.isoformat()} checked against {used.label}: load the FY{fy} code set — "
                       f"{CODESET_BUILD_HINT}")
        return out

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
