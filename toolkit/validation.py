"""Validate claim lines: every check over every line, a tidy findings table, a status per line.

This is the core behind the Validate button and ``mednec validate``; it knows nothing of Excel.

>>> from toolkit import validate_claims
>>> result = validate_claims(claims_df, rules_df, payers_df, as_of="2026-11-27")
>>> result[["Status", "Finding Codes"]]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from .checks import CHECKS, ORDER, SEVERITY_RANK, ClaimLines
from .codesets.icd10cm import CodeSets
from .rules import prepare_payers, prepare_rules
from .tables import CLAIMS
from .values import coerce_table

GREEN, AMBER, RED = "GREEN", "AMBER", "RED"
FINDING_COLUMNS = ["row", "code", "severity", "message", "policy"]


@dataclass
class Validation:
    """The outcome of one run: per-line results, the tidy findings table, and what was used."""

    results: pd.DataFrame  # index = claim lines; Status, Finding Codes, Findings, Policy, Validated At
    findings: pd.DataFrame  # one row per finding: row, code, severity, message, policy
    codeset_labels: list[str]
    as_of: dt.date
    validated_at: str
    claims: pd.DataFrame = field(repr=False, default=None)

    def counts(self) -> dict[str, int]:
        vc = self.results["Status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in (GREEN, AMBER, RED)}

    def top_findings(self, n: int = 5) -> list[tuple[str, int]]:
        vc = self.findings["code"].value_counts()
        return [(str(k), int(v)) for k, v in vc.head(n).items()]


def _as_date(value) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def run_checks(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
               as_of=None, codesets: CodeSets | None = None, now: dt.datetime | None = None) -> Validation:
    """Run every check on every claim line (a report of all findings, not the first)."""
    today = _as_date(as_of)
    codesets = codesets or CodeSets.default()
    typed = coerce_table(CLAIMS, claims)
    lines = ClaimLines(typed, prepare_rules(rules), prepare_payers(payers), today=today, codesets=codesets)

    parts = []
    for chk in CHECKS:
        mask = lines.mask(chk.code)
        if not mask.any():
            continue
        flagged = typed.index[mask.to_numpy()]
        parts.append(pd.DataFrame({
            "row": flagged, "code": chk.code, "severity": chk.severity,
            "message": lines.render(chk, flagged),
        }))
    findings = (pd.concat(parts, ignore_index=True) if parts
                else pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS[:-1]}))
    policy = lines.rule["Policy"].where(lines.has_rule, "").fillna("").astype(str)
    findings["policy"] = findings["row"].map(policy).fillna("") if len(findings) else pd.Series(dtype=object)
    rank = {c: i for i, c in enumerate(ORDER)}
    if len(findings):
        findings = findings.assign(
            _sev=findings["severity"].map(SEVERITY_RANK), _ord=findings["code"].map(rank),
            _pos=findings["row"].map({r: i for i, r in enumerate(typed.index)}),
        ).sort_values(["_pos", "_sev", "_ord"], kind="stable").drop(columns=["_sev", "_ord", "_pos"])
        findings = findings.reset_index(drop=True)

    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    results = pd.DataFrame(index=typed.index)
    if len(findings):
        grouped = findings.groupby("row", sort=False)
        worst = grouped["severity"].agg(lambda s: RED if (s == RED).any() else AMBER)
        codes = grouped["code"].agg("; ".join)
        messages = grouped["message"].agg(" ".join)
    else:
        worst = codes = messages = pd.Series(dtype=object)
    results["Status"] = worst.reindex(typed.index).fillna(GREEN)
    results["Finding Codes"] = codes.reindex(typed.index).fillna("")
    results["Findings"] = messages.reindex(typed.index).fillna("")
    results["Policy"] = policy
    results["Validated At"] = stamp
    labels = [codesets.sets[i].label for i in sorted(pd.unique(lines.codeset_of_line))] if len(typed) else \
        [codesets.newest.label]
    return Validation(results, findings, labels, today, stamp, typed)


def validate_claims(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
                    as_of=None, codesets: CodeSets | None = None) -> pd.DataFrame:
    """Claim lines in, the five result columns out (same index as ``claims``).

    ``claims``, ``rules`` and ``payers`` use the contract's headers (any case); values may be
    raw (text, Excel numbers) or typed. ``as_of`` is "today" for the date checks.
    """
    return run_checks(claims, rules, payers, as_of=as_of, codesets=codesets).results


def find_findings(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
                  as_of=None, codesets: CodeSets | None = None) -> pd.DataFrame:
    """The tidy findings table: one row per (claim line, finding) with code, severity, message, policy."""
    return run_checks(claims, rules, payers, as_of=as_of, codesets=codesets).findings
