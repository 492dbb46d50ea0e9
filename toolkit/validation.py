"""Validate claim lines: every check over every line, a tidy findings table, a status per line.

This is the core behind the Validate button and ``mednec validate``; it knows nothing of Excel.

>>> from toolkit import validate_claims
>>> result = validate_claims(claims_df, rules_df, payers_df, as_of="2026-11-27")
>>> result[["Status", "Finding Codes"]]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
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
    # Lines whose date of service no loaded ICD-10-CM release covers: what they were checked
    # against and which release to load (shown in the summary, the report and Excel's message).
    codeset_notes: list[str] = field(default_factory=list)

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
               as_of=None, codesets: CodeSets | None = None, now: dt.datetime | None = None,
               progress=None, edits=None) -> Validation:
    """Run every check on every claim line (a report of all findings, not the first).

    ``progress(done, total)``, if given, is called after each check (for a progress bar).
    ``edits`` (an ``NcciEdits`` index) turns on the NCCI PTP and MUE checks; None leaves them off.
    """
    today = _as_date(as_of)
    codesets = codesets or CodeSets.default()
    if edits is not None and not hasattr(edits, "ptp"):  # a path to an index from 'mednec codeset ncci-build'
        from .codesets.ncci import NcciEdits
        edits = NcciEdits.open(edits)
    typed = coerce_table(CLAIMS, claims)
    original_index = None
    if not typed.index.is_unique:  # a caller's frame; lines are told apart by position
        original_index, typed = typed.index, typed.reset_index(drop=True)
    lines = ClaimLines(typed, prepare_rules(rules), prepare_payers(payers), today=today, codesets=codesets,
                       edits=edits)

    parts = []
    for done, chk in enumerate(CHECKS, 1):
        if progress is not None:
            progress(done, len(CHECKS))
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
    findings = _sorted_findings(findings, typed.index)
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    results = _summarise(findings, typed.index)
    results["Policy"] = policy
    results["Validated At"] = stamp
    labels = [codesets.sets[i].label for i in sorted(pd.unique(lines.codeset_of_line))] if len(typed) else \
        [codesets.newest.label]
    if edits is not None:
        labels.append(edits.label)
    notes = codesets.notes(d.date() for d in pd.DatetimeIndex(pd.unique(lines.dos.dropna().to_numpy())))
    if original_index is not None:
        findings["row"] = original_index[findings["row"].to_numpy(dtype=int)]
        results.index = typed.index = original_index
    return Validation(results, findings, labels, today, stamp, typed, notes)


def _sorted_findings(findings: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Findings in line order, then most severe first, then in the contract's order."""
    if not len(findings):
        return findings
    rank = {c: i for i, c in enumerate(ORDER)}
    position = pd.Series(np.arange(len(index)), index=index)
    order = np.lexsort((findings["code"].map(rank).to_numpy(), findings["severity"].map(SEVERITY_RANK).to_numpy(),
                        position.reindex(findings["row"]).to_numpy()))
    return findings.iloc[order].reset_index(drop=True)


def _summarise(findings: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Status, Finding Codes and Findings per line, from the sorted findings table."""
    status = np.full(len(index), GREEN, dtype=object)
    codes_out = np.full(len(index), "", dtype=object)
    messages_out = np.full(len(index), "", dtype=object)
    if len(findings):
        pos = pd.Series(np.arange(len(index)), index=index).reindex(findings["row"]).to_numpy()
        starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])  # findings are sorted by line
        ends = np.r_[starts[1:], len(pos)]
        codes = findings["code"].to_numpy(dtype=object)
        messages = findings["message"].to_numpy(dtype=object)
        worst = np.minimum.reduceat(findings["severity"].map(SEVERITY_RANK).to_numpy(), starts)
        lines = pos[starts]
        status[lines] = np.where(worst == SEVERITY_RANK[RED], RED, AMBER)
        single = ends - starts == 1  # most flagged lines have one finding: no joining needed
        codes_out[lines[single]] = codes[starts[single]]
        messages_out[lines[single]] = messages[starts[single]]
        many = ~single
        codes_out[lines[many]] = ["; ".join(codes[a:b]) for a, b in zip(starts[many], ends[many])]
        messages_out[lines[many]] = [" ".join(messages[a:b]) for a, b in zip(starts[many], ends[many])]
    return pd.DataFrame({"Status": status, "Finding Codes": codes_out, "Findings": messages_out}, index=index)


def validate_claims(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
                    as_of=None, codesets: CodeSets | None = None, edits=None) -> pd.DataFrame:
    """Claim lines in, the five result columns out (same index as ``claims``).

    ``claims``, ``rules`` and ``payers`` use the contract's headers (any case); values may be
    raw (text, Excel numbers) or typed. ``as_of`` is "today" for the date checks.
    """
    return run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, edits=edits).results


def find_findings(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
                  as_of=None, codesets: CodeSets | None = None, edits=None) -> pd.DataFrame:
    """The tidy findings table: one row per (claim line, finding) with code, severity, message, policy."""
    return run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, edits=edits).findings
