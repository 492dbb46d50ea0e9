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
more specific rows above the general ones.  An optional ``CPT/HCPCS`` column narrows a row to a
code or a prefix (``97*``: the therapy codes), so "CO-4 on a therapy line" is not blamed on laterality.
A row with a blank Root Cause stops the search: no checklist item would have prevented that denial.

Lines starting with ``#`` are comments (the shipped tables say there which X12 list they follow).
A CARC missing from the table is "unknown": it counts as a denial only when the line paid
nothing (``CodeTables.is_denial``), and the import summary lists it.
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
    cpt: str = ""  # a code, or a prefix ending in "*"

    def fits_code(self, cpt: str) -> bool:
        if not self.cpt:
            return True
        if self.cpt.endswith("*"):
            return cpt.startswith(self.cpt[:-1])
        return cpt == self.cpt


def _rows(path: Path) -> list[dict[str, str]]:
    """A code table as dicts keyed by lower-case header; ``#`` comment lines skipped."""
    import csv
    import io

    from ..errors import InputError
    from ..tables import header_key

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the code table ({exc.strerror})", file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    delimiter = max((",", ";", "\t"), key=lines[0].count)
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [header_key(h) for h in next(reader)]
    return [{h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)} for row in reader]


def _split_codes(text) -> list[str]:
    import re

    return [c for c in re.split(r"[\s,;:/]+", str(text or "").upper()) if c]


class CodeTables:
    """The three code tables, loaded once per job."""

    def __init__(self, carc: dict[str, CarcInfo], rarc: dict[str, str], rules: list[RootCauseRule]):
        self.carc, self.rarc, self.rules = carc, rarc, rules

    @classmethod
    def load(cls, settings: dict[str, str] | None = None, base_dir: Path | None = None) -> CodeTables:
        paths = {}
        from ..values import setting_path

        for name, key in SETTING_KEYS.items():
            paths[name] = setting_path(settings, key, base_dir) or DATA_DIR / f"{name}.csv"
        carc = {}
        for r in _rows(paths["carc"]):
            code = r.get("carc", "").upper()
            if code:
                carc[code] = CarcInfo(r.get("reason", ""), r.get("category", "").lower() or "other",
                                      r.get("denial", "y").casefold() in _YES or not r.get("denial"))
        rarc = {r.get("rarc", "").upper(): r.get("reason", "") for r in _rows(paths["rarc"]) if r.get("rarc")}
        rules = [RootCauseRule(r.get("carc", "").upper(), r.get("rarc", "").upper(),
                               r.get("claim finding", "").upper(), r.get("root cause", "").upper(),
                               r.get("cpt/hcpcs", "").upper())
                 for r in _rows(paths["root_causes"]) if r.get("carc")]
        return cls(carc, rarc, rules)

    def is_denial(self, group: str, carc: str, paid_nothing: bool = True) -> bool:
        """A CARC outside the routine set (patient share, contractual and fee-schedule reductions,
        withholds, sequestration, penalties, prior payer).  A code the table does not know is a
        denial only when the line (or claim) paid nothing: a paid line reduced by an unknown code
        is far more often a routine adjustment than a refusal."""
        info = self.carc.get(carc.upper())
        return paid_nothing if info is None else info.is_denial

    def is_known(self, carc: str) -> bool:
        return str(carc).upper() in self.carc

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

    def root_cause(self, carc: str, rarcs=(), findings=(), cpt: str = "") -> str:
        carc = str(carc or "").upper()
        cpt = str(cpt or "").strip().upper()
        rarcs = set(_split_codes(rarcs) if isinstance(rarcs, str) else rarcs)
        findings = set(_split_codes(findings) if isinstance(findings, str) else findings)
        for rule in self.rules:
            if rule.carc not in ("*", carc):
                continue
            if rule.rarc and rule.rarc not in rarcs:
                continue
            if rule.finding and rule.finding not in findings:
                continue
            if not rule.fits_code(cpt):
                continue
            return rule.root_cause
        return ""
