"""Validate claim lines: every check over every line, a tidy findings table, a status per line.

This is the core behind the Validate button and ``mednec validate``; it knows nothing of Excel.

>>> from toolkit import validate_claims
>>> result = validate_claims(claims_df, rules_df, payers_df, as_of="2026-11-27")
>>> result[["Status", "Finding Codes"]]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .checks import CHECKS, ORDER, SEVERITY_RANK, ClaimLines
from .codesets.icd10cm import CodeSets
from .rules import prepare_payers, prepare_rules
from .tables import CLAIMS
from .values import coerce_table_numbered, first_positions, object_ids

Status = Literal["GREEN", "AMBER", "RED"]  # a line's Status column (CONTRACT §2)
GREEN: Status = "GREEN"
AMBER: Status = "AMBER"
RED: Status = "RED"
FINDING_COLUMNS = ["row", "code", "severity", "message", "policy"]
#: Claims columns no check reads: a reader that fills them only for validation may leave them
#: blank (the 837P reader does: less work, and no patient name or birth date held for nothing).
#: tests/test_checks.py holds every check to it; a check that starts reading one must drop it here.
NOT_CHECKED = ("Patient Name", "Date of Birth", "Sex", "Charge")


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
               progress=None, edits=None, denials=None, therapy_codes: frozenset[str] | None = None) -> Validation:
    """Run every check on every claim line (a report of all findings, not the first).

    ``progress(done, total)``, if given, is called after each check (for a progress bar).
    ``edits`` (an ``NcciEdits`` index) turns on the NCCI PTP and MUE checks; None leaves them off.
    ``denials`` (the Denials table, or a ``DenialHistory`` with the Settings thresholds) turns on
    DENIAL_HISTORY; None leaves it off and every result as it was.
    ``therapy_codes``: the practice's CMS "always therapy" list (Settings ``Therapy Code List``);
    None: ``$MEDNEC_THERAPY_CODES`` or the shipped list.
    """
    today = _as_date(as_of)
    codesets = codesets or CodeSets.default()
    if edits is not None and not hasattr(edits, "ptp"):  # a path to an index from 'mednec codeset ncci-build'
        from .codesets.ncci import NcciEdits
        edits = NcciEdits.open(edits)
    typed, numbering = coerce_table_numbered(CLAIMS, claims)
    original_index = None
    if not typed.index.is_unique:  # a caller's frame; lines are told apart by position
        original_index, typed = typed.index, typed.reset_index(drop=True)
    if denials is not None and not hasattr(denials, "real"):  # a Denials table: the default thresholds
        from .checks.history import DenialHistory
        denials = DenialHistory(denials)
    lines = ClaimLines(typed, prepare_rules(rules), prepare_payers(payers), today=today, codesets=codesets,
                       edits=edits, denials=denials, therapy_codes=therapy_codes, numbering=numbering)

    messages = []
    keys: list[list[np.ndarray]] = [[], [], [], []]  # per finding: line position, severity and contract rank, check
    contract_rank = {c: i for i, c in enumerate(ORDER)}
    for done, chk in enumerate(CHECKS, 1):
        if progress is not None:
            progress(done, len(CHECKS))
        mask = lines.mask(chk.code)
        if not mask.any():
            continue
        at = np.flatnonzero(mask.to_numpy())
        messages.append(lines.render(chk, typed.index[at]))
        keys[0].append(at)
        keys[1].append(np.full(len(at), SEVERITY_RANK[chk.severity], dtype=np.int64))
        keys[2].append(np.full(len(at), contract_rank.get(chk.code, len(ORDER)), dtype=np.int64))
        keys[3].append(np.full(len(at), done, dtype=np.int64))  # a number per check: its code's number
    at, severity, contract, check_number = (np.concatenate(k) if k else np.empty(0, dtype=np.int64) for k in keys)
    policy = lines.rule["Policy"].where(lines.has_rule, "").fillna("").astype(str)
    # The findings table is laid out once, already in its order, from the checks' arrays (a frame
    # per check, concatenated and then reordered, cost three times as much).
    order = _finding_order(at, severity, contract)
    at, severity, check_number = at[order], severity[order], check_number[order]
    findings = _findings_table(typed.index, at, check_number, np.concatenate(messages)[order] if messages else None,
                               policy)
    if denials is not None and len(findings):  # DENIAL_HISTORY cites the denials, not the rule
        from .checks.history import denial_citations
        policy = _cite_denials(findings, policy, denial_citations(lines))
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    results = _summarise(findings, typed.index, at=at, severity=severity, code_numbers=check_number)
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


def _findings_table(index: pd.Index, at: np.ndarray, check_number: np.ndarray, messages: np.ndarray | None,
                    policy: pd.Series) -> pd.DataFrame:
    """The tidy findings table from each finding's line position, check number (1-based into
    ``CHECKS``) and message, in the table's order; the policy is its line's."""
    if messages is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_COLUMNS})
    code = np.empty(len(CHECKS) + 1, dtype=object)
    code[1:] = [chk.code for chk in CHECKS]
    severity = np.empty(len(CHECKS) + 1, dtype=object)
    severity[1:] = [chk.severity for chk in CHECKS]
    return pd.DataFrame({"row": index[at], "code": code[check_number], "severity": severity[check_number],
                         "message": messages,
                         "policy": pd.Series(policy.to_numpy(dtype=object)[at], dtype=policy.dtype)})


def _cite_denials(findings: pd.DataFrame, policy: pd.Series, cites: pd.Series) -> pd.Series:
    """The DENIAL_HISTORY finding's policy is the denials it counted; the line's Policy adds them."""
    if not len(cites):
        return policy
    mine = findings["code"].to_numpy() == "DENIAL_HISTORY"
    findings.loc[mine, "policy"] = cites.reindex(findings["row"].to_numpy()[mine]).to_numpy(dtype=object)
    at = policy.index.get_indexer(cites.index)
    values = policy.to_numpy(dtype=object).copy()
    # One text per distinct (rule's policy, citation), shared by its lines: a few hundred, not 100,000.
    rule_codes, rules = pd.factorize(values[at])
    cite_codes, cited = pd.factorize(cites.to_numpy(dtype=object))
    pair, pairs = pd.factorize(rule_codes.astype(np.int64) * len(cited) + cite_codes)
    texts = np.empty(len(pairs), dtype=object)
    texts[:] = [f"{rules[p // len(cited)]}; {cited[p % len(cited)]}" if rules[p // len(cited)] != ""
                else cited[p % len(cited)] for p in pairs.tolist()]
    values[at] = texts[pair]
    return pd.Series(values, index=policy.index, name=policy.name, dtype=object)


def _finding_order(line: np.ndarray, severity: np.ndarray, contract: np.ndarray) -> np.ndarray:
    """The findings' order: by line, then most severe first, then the contract's order of checks."""
    return np.lexsort((contract, severity, line))




def _summarise(findings: pd.DataFrame, index: pd.Index, *, at: np.ndarray, severity: np.ndarray,
               code_numbers: np.ndarray) -> pd.DataFrame:
    """Status, Finding Codes and Findings per line, from the sorted findings table (``at``: each
    finding's line position, ``severity`` its rank and ``code_numbers`` a number per code, all in
    the table's order; ``run_checks`` has them already).

    Plain numpy and Python lists rather than pandas per-element operations: the lines with one
    finding (most of them) are filled by fancy indexing; lines with several are joined once per
    distinct sequence of codes or messages, and lines with the same sequence share the text."""
    n = len(index)
    status = np.empty(n, dtype=object)
    status[:] = GREEN  # one shared string (np.full would copy the text into each line: 100,000 objects)
    codes_out = np.full(n, "", dtype=object)
    messages_out = np.full(n, "", dtype=object)
    if len(findings):
        pos = at
        starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])  # findings are sorted by line
        sizes = np.diff(np.r_[starts, len(pos)])
        codes = findings["code"].to_numpy(dtype=object)
        messages = findings["message"].to_numpy(dtype=object)
        worst = np.minimum.reduceat(severity, starts)
        lines = pos[starts]
        status[lines] = np.array([RED, AMBER], dtype=object)[(worst != SEVERITY_RANK["RED"]).astype(np.int8)]
        single = sizes == 1  # most flagged lines have one finding: no joining needed
        codes_out[lines[single]] = codes[starts[single]]
        messages_out[lines[single]] = messages[starts[single]]
        many = np.flatnonzero(~single)
        if len(many):
            # A message's number is its object's: checks share one string among the lines that say
            # the same (ClaimLines.render); equal texts in two objects are merely joined twice.
            message_numbers = pd.factorize(object_ids(messages))[0]
            for numbers, texts, glue, out in ((code_numbers, codes, "; ", codes_out),
                                              (message_numbers, messages, " ", messages_out)):
                out[lines[many]] = _joined_runs(numbers, texts.tolist(), starts[many], sizes[many], glue)
    return pd.DataFrame({"Status": status, "Finding Codes": codes_out, "Findings": messages_out}, index=index)


def _joined_runs(numbers: np.ndarray, texts: list, starts: np.ndarray, sizes: np.ndarray, glue: str) -> np.ndarray:
    """``glue.join(texts[s:s + k])`` for each run (start ``s``, size ``k``), joined once per distinct
    sequence of ``numbers`` (the texts' numbers) and shared by the runs that repeat it."""
    width = int(numbers.max()) + 2
    key = np.zeros(len(starts), dtype=np.int64)
    # Each run's sequence, numbered as many positions at a time as fit in 62 bits (key < bound;
    # runs x texts stays far below 2**62, so one position always fits).
    bound, r, longest = 1, 0, int(sizes.max())
    while r < longest:
        while True:
            at = np.minimum(starts + r, len(numbers) - 1)
            key = key * width + np.where(sizes > r, numbers[at] + 1, 0)
            bound, r = bound * width, r + 1
            if r == longest or bound * width >= 2 ** 62:
                break
        key = pd.factorize(key)[0].astype(np.int64)
        bound = len(starts)
    first, which = first_positions(key), key
    table = np.empty(len(first), dtype=object)
    table[:] = [glue.join(texts[a:a + k]) for a, k in zip(starts[first].tolist(), sizes[first].tolist())]
    return table[which]


def validate_claims(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
                    as_of=None, codesets: CodeSets | None = None, edits=None, denials=None) -> pd.DataFrame:
    """Claim lines in, the five result columns out (same index as ``claims``).

    ``claims``, ``rules`` and ``payers`` use the contract's headers (any case); values may be
    raw (text, Excel numbers) or typed. ``as_of`` is "today" for the date checks. ``denials``
    (the Denials table) turns on DENIAL_HISTORY.
    """
    return run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, edits=edits, denials=denials).results


def find_findings(claims: pd.DataFrame, rules: pd.DataFrame | None = None, payers: pd.DataFrame | None = None, *,
                  as_of=None, codesets: CodeSets | None = None, edits=None, denials=None) -> pd.DataFrame:
    """The tidy findings table: one row per (claim line, finding) with code, severity, message, policy."""
    return run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, edits=edits,
                      denials=denials).findings
