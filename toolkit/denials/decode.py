"""CARC/RARC → Reason, Category, and the checklist item (Root Cause) that would have prevented it.

All meanings live in data files the practice can edit (X12 publishes code-list updates about
three times a year; a payer's habits differ): ``toolkit/data/carc.csv``, ``rarc.csv`` and
``root_causes.csv``.  A practice can point to its own copies with the Settings keys
``CARC Table``, ``RARC Table`` and ``Root Cause Table`` (a CSV path, relative to the
workbook's folder); its file then replaces the shipped one.

root_causes.csv is read top to bottom and the first matching row wins.  A row matches when its
CARC equals the denial's (``*`` = any), its RARC (if given) is among the denial's remark codes,
and its Claim Finding (if given) is among the Finding Codes that Validate wrote on the linked
claim line: so "CO-50 and the claim had been flagged THERAPY_TOO_SHORT" can say so, and put
more specific rows above the general ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SETTING_KEYS = {"carc": "CARC Table", "rarc": "RARC Table", "root_causes": "Root Cause Table"}
_YES = {"y", "yes", "true", "1", "x"}


@dataclass(frozen=True)
class CarcInfo:
    reason: str
    category: str
    is_denial: bool


@dataclass(frozen=True)
class RootCauseRule:
    carc: str
    rarc: str
    finding: str
    root_cause: str


def _rows(path: Path) -> list[dict[str, str]]:
    from ..tables import header_key
    from ..values import to_text
    from ..workbook.files import read_csv

    frame = read_csv(path)
    frame.columns = [header_key(c) for c in frame.columns]
    return [{k: to_text(v) for k, v in rec.items()} for rec in frame.to_dict("records")]


def _split_codes(text) -> list[str]:
    import re

    return [c for c in re.split(r"[\s,;:/]+", str(text or "").upper()) if c]


class CodeTables:
    """The three code tables, loaded once per job."""

    def __init__(self, carc: dict[str, CarcInfo], rarc: dict[str, str], rules: list[RootCauseRule]):
        self.carc, self.rarc, self.rules = carc, rarc, rules

    @classmethod
    def load(cls, settings: dict[str, str] | None = None, base_dir: Path | None = None) -> "CodeTables":
        paths = {}
        settings = {k.strip().casefold(): v for k, v in (settings or {}).items()}
        for name, key in SETTING_KEYS.items():
            override = settings.get(key.casefold(), "").strip()
            if override:
                p = Path(override).expanduser()
                if not p.is_absolute() and base_dir is not None:
                    p = Path(base_dir) / p
                paths[name] = p
            else:
                paths[name] = DATA_DIR / f"{name}.csv"
        carc = {}
        for r in _rows(paths["carc"]):
            code = r.get("carc", "").upper()
            if code:
                carc[code] = CarcInfo(r.get("reason", ""), r.get("category", "").lower() or "other",
                                      r.get("denial", "y").casefold() in _YES or not r.get("denial"))
        rarc = {r.get("rarc", "").upper(): r.get("reason", "") for r in _rows(paths["rarc"]) if r.get("rarc")}
        rules = [RootCauseRule(r.get("carc", "").upper(), r.get("rarc", "").upper(),
                               r.get("claim finding", "").upper(), r.get("root cause", "").upper())
                 for r in _rows(paths["root_causes"]) if r.get("carc")]
        return cls(carc, rarc, rules)

    def is_denial(self, group: str, carc: str) -> bool:
        """A CARC outside the routine set (deductible, coinsurance, copay, contractual, prior payer)."""
        info = self.carc.get(carc.upper())
        return True if info is None else info.is_denial

    def category(self, carc: str) -> str:
        info = self.carc.get(str(carc).upper())
        return info.category if info else ("other" if carc else "")

    def reason(self, carc: str, rarcs=()) -> str:
        carc = str(carc or "").upper()
        parts = []
        if carc:
            info = self.carc.get(carc)
            parts.append(f"{info.reason} (CARC {carc})" if info and info.reason
                         else f"CARC {carc}: see the X12 code list (not in the practice's CARC table)")
        for code in _split_codes(rarcs) if isinstance(rarcs, str) else rarcs:
            text = self.rarc.get(code)
            parts.append(f"{text} ({code})" if text else f"Remark {code}")
        return ". ".join(parts)

    def root_cause(self, carc: str, rarcs=(), findings=()) -> str:
        carc = str(carc or "").upper()
        rarcs = set(_split_codes(rarcs) if isinstance(rarcs, str) else rarcs)
        findings = set(_split_codes(findings) if isinstance(findings, str) else findings)
        for rule in self.rules:
            if rule.carc not in ("*", carc):
                continue
            if rule.rarc and rule.rarc not in rarcs:
                continue
            if rule.finding and rule.finding not in findings:
                continue
            return rule.root_cause
        return ""
