"""Diagnosis checks: is each code a real, billable ICD-10-CM code that can establish necessity?"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..codesets.icd10cm import format_dx
from ..values import first_positions
from .base import AMBER, RED, Coded, check, field, map_coded
from .dxcodes import DxInfos, distinct_small, join_runs, lookup_small, run_of, within_runs


@check("DX_MISSING", RED, "diagnosis", "no diagnosis on the line",
       "No diagnosis on the line. Add the ICD-10-CM code(s) that support the service, primary first.")
def dx_missing(lines):
    t = lines.dx_codes
    return lines.series(t.lens[t.line] == 0)


@check("DX_INVALID", RED, "diagnosis", "a diagnosis is not a code in the ICD-10-CM code set in use",
       "{invalid_dx} not a code in {codeset}. Look up the correct code in the tabular list.")
def dx_invalid(lines):
    return lines.dx_any(~lines.dx_infos.known)


def _said_per_pair(lines, idx, per_entry: np.ndarray, text_of: np.ndarray, sep: str) -> tuple[Coded, np.ndarray]:
    """For the lines of ``idx``: the texts (``text_of``, per (code, release) number) of the line's
    diagnoses that have ``per_entry`` true, joined by ``sep`` in the line's order, once per distinct
    (diagnoses, release); and how many were joined, per text."""
    d = lines.dx_infos
    at, used = pd.factorize(d.line[lines.index.get_indexer(idx)])
    entries, run = d.entries_of(used.astype("int64"))
    hit = per_entry[entries]
    joined = join_runs(text_of[entries[hit]], run[hit], len(used), sep)
    return Coded(at, joined), np.bincount(run[hit], minlength=len(used))


@field("invalid_dx")
def _invalid_dx(lines, idx):
    d = lines.dx_infos
    said, n = _said_per_pair(lines, idx, ~d.known, lines.dx_codes.dotted[np.arange(len(d.info)) // d.n_sets], ", ")
    verb = np.array([" are", " is"], dtype=object)[(n == 1).astype(int)]
    return Coded(said.codes, said.texts + verb)


@field("codeset")
def _codeset(lines, idx):
    labels = [s.label for s in lines.codesets.sets]
    return pd.Series(np.array(labels, dtype=object)[lines.codeset_of_line[idx].to_numpy()], index=idx, dtype=object)


def _header_codes(d: DxInfos) -> np.ndarray:
    """Per (code, release) number: a category or subcategory of that release (not billable)."""
    return np.fromiter((i is not None and not i.billable for i in d.info.tolist()), dtype=bool, count=len(d.info))


@check("DX_NOT_BILLABLE", RED, "diagnosis",
       "a diagnosis is a category or subcategory that needs more characters",
       "{not_billable_dx}. Code to the highest specificity the documentation supports.")
def dx_not_billable(lines):
    return lines.dx_any(_header_codes(lines.dx_infos))


@field("not_billable_dx")
def _not_billable(lines, idx):
    # What to say of each header code is asked once per (code, release); joined per distinct
    # (diagnoses, release) in the line's order.
    d = lines.dx_infos
    header = _header_codes(d)
    said = np.full(len(d.info), "", dtype=object)
    for k in np.flatnonzero(header).tolist():
        info = d.info[k]
        kids = lines.codesets.sets[k % d.n_sets].billable_under(info.code, limit=4)
        hint = f" (e.g. {', '.join(format_dx(c) for c in kids)})" if kids else ""
        said[k] = f"{info.dotted} is a header code that needs more characters{hint}"
    return _said_per_pair(lines, idx, header, said, "; ")[0]


@check("DX_UNSPECIFIED", AMBER, "diagnosis", 'the supporting diagnosis is an "unspecified" code',
       "The supporting diagnosis {support_dx} ({support_desc}) is an unspecified code, which payers "
       "often reject as support. Document and code the specific condition (type, site, side).")
def dx_unspecified(lines):
    return lines.map_supporting(lambda i: i is not None and i.unspecified).astype(bool)


@field("support_dx")
def _support_dx(lines, idx):
    return map_coded(lines.supporting_code[idx], format_dx)


@field("support_desc")
def _support_desc(lines, idx):
    return map_coded(lines.supporting[idx], lambda i: i.description if i is not None else "not a known code")


@check("DX_RULE_OUT", RED, "diagnosis", 'Rule-Out Dx = Y: a provisional diagnosis cannot establish necessity',
       "The diagnosis is marked rule-out (provisional), which cannot establish medical necessity. "
       "Code the confirmed diagnosis, or the signs and symptoms that were documented.")
def dx_rule_out(lines):
    return lines.yes("Rule-Out Dx")


@lru_cache(maxsize=65536)
def _excluded(x, y) -> bool:
    return x.code != y.code and (x.excludes(y.code) or y.excludes(x.code))


def _excluded_pairs(d: DxInfos, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per (x, y) of known (code, release) numbers: whether the two are in an Excludes1 relation,
    ``_excluded`` asked once per distinct unordered pair (the relation is symmetric)."""
    width = max(len(d.info), 1)
    return lookup_small(np.minimum(x, y) * width + np.maximum(x, y), width * width,
                        lambda k: _excluded(d.info[k // width], d.info[k % width]))


@dataclass(frozen=True)
class _Excludes1:
    """Every Excludes1 pair a line takes part in, in the order its finding lists them.

    ICD-10-CM Excludes1 applies to the diagnoses reported for the encounter, not to one line: a
    line's pairs are those among its own known diagnoses (in its order: first, then second code),
    then, where other lines share its Claim ID, those between each of its diagnoses and the claim's
    other known diagnoses (the claim's codes in order of first appearance over its lines, each code
    as first seen).  Own pairs are kept per distinct (diagnoses, release); pairs across the claim
    per line."""

    own_pair: np.ndarray  # per own hit: its (diagnoses, release) pair, hits sorted by pair then order
    own_text: np.ndarray  # "M54.16 and M51.16"
    own_start: np.ndarray  # per pair: its first hit
    own_count: np.ndarray  # per pair
    cross_line: np.ndarray  # per cross hit: the line's position, sorted, then the finding's order
    cross_text: np.ndarray


def _excludes1(lines) -> _Excludes1:
    d = lines.dx_infos
    dotted = np.empty(len(d.info), dtype=object)
    dotted[:] = [i.dotted if i is not None else "" for i in d.info.tolist()]
    # Own pairs: every two known diagnoses of a pair, the earlier first.
    e = np.flatnonzero(d.known[d.entry])  # known entries, pair by pair in position order
    p = run_of(d.lens)[e]
    n = np.bincount(p, minlength=len(d.lens))
    later = n[p] - within_runs(n) - 1
    left = np.repeat(np.arange(len(e)), later)
    right = left + 1 + within_runs(later)
    x, y = d.entry[e[left]], d.entry[e[right]]
    hit = _excluded_pairs(d, x, y)
    own_pair = p[left[hit]]
    own_count = np.bincount(own_pair, minlength=len(d.lens))
    # How many distinct known codes each pair has: a code repeated later in the pair counts once.
    repeated = np.zeros(len(e), dtype=bool)
    repeated[right[d.code_of(x) == d.code_of(y)]] = True
    n_distinct = np.bincount(p, weights=~repeated, minlength=len(d.lens)).astype("int64")
    cross_line, cross_x, cross_y = _across_claims(lines, d, n_distinct)
    return _Excludes1(own_pair, dotted[x[hit]] + " and " + dotted[y[hit]], np.cumsum(own_count) - own_count,
                      own_count, cross_line, dotted[cross_x] + " and " + dotted[cross_y])


def _across_claims(lines, d: DxInfos, n_distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Excludes1 pairs between a line's known diagnoses (x) and the other known diagnoses of
    its claim (y, a code not on the line): each line's position, x and y, ordered by line, then x's
    place on the line, then y's place in the claim.  Lines without a Claim ID stand alone.
    ``n_distinct``: per (diagnoses, release) pair, its distinct known codes.

    Array work: only a line lacking one of its claim's codes can pair across the claim (a PM
    system's export or an 837P batch lists every code of the claim on each line: then none does);
    for the claims with such lines the pairs are looked for once per claim (the claim's distinct
    diagnoses against its codes), then joined to the lines holding x.  A Python call per line cost
    ~1 s at 100,000 lines."""
    empty = np.empty(0, dtype="int64")
    claim = lines.c["Claim ID"].fillna("")  # text, stripped by coerce_table
    ids = claim.to_numpy(dtype=object)
    shared = np.flatnonzero((ids != "") & claim.duplicated(keep=False).to_numpy())
    if not len(shared):
        return empty, empty, empty
    claim_of, _ = pd.factorize(ids[shared])
    n_claims = int(claim_of.max()) + 1
    pair = d.line[shared]
    entries, at = d.entries_of(pair)
    known = d.known[entries]
    entries, at = entries[known], at[known]  # line by line, in position order
    ent_claim = claim_of[at]
    codes = d.code_of(entries)
    n_codes = int(codes.max()) + 1 if len(codes) else 1
    # The claim's distinct codes against each line's.
    claim_codes = distinct_small(ent_claim * n_codes + codes, n_claims * n_codes)
    u_count = np.bincount(claim_codes // n_codes, minlength=n_claims)
    lacks = n_distinct[pair] < u_count[claim_of]
    if not lacks.any():
        return empty, empty, empty
    # Only the claims with such a line: their codes in order of first appearance over their lines.
    keep = np.flatnonzero((np.bincount(claim_of[lacks], minlength=n_claims) > 0)[ent_claim])
    entries, at, ent_claim, codes = entries[keep], at[keep], ent_claim[keep], codes[keep]
    u_at, _ = pd.factorize(ent_claim * n_codes + codes)
    first = first_positions(u_at)
    first = first[np.argsort(ent_claim[first], kind="stable")]  # claim by claim, in order of appearance
    u_claim, u_entry = ent_claim[first], entries[first]
    u_count = np.bincount(u_claim, minlength=n_claims)
    mine = lacks[at]
    # Each distinct (claim, x) of the lacking lines against the claim's codes.
    width = max(len(d.info), 1)
    xs = np.sort(pd.unique(ent_claim[mine] * width + entries[mine]))  # (hashing, then sorting the few distinct)
    x_claim, x_entry = np.divmod(xs, width)
    k = u_count[x_claim]
    left = np.repeat(np.arange(len(xs)), k)
    right = np.repeat((np.cumsum(u_count) - u_count)[x_claim], k) + within_runs(k)
    x, y = x_entry[left], u_entry[right]
    other = d.code_of(x) != d.code_of(y)
    left, right, x, y = left[other], right[other], x[other], y[other]
    hit = _excluded_pairs(d, x, y)
    h_key, h_y = xs[left[hit]], y[hit]  # sorted by (claim, x), then y's place in the claim
    # Joined to each line entry holding x, then y kept where its code is not on the line.
    keys = np.where(mine, ent_claim * width + entries, -1)
    lo = np.searchsorted(h_key, keys, "left")
    cnt = np.searchsorted(h_key, keys, "right") - lo
    rows = np.repeat(np.arange(len(entries)), cnt)
    h = np.repeat(lo, cnt) + within_runs(cnt)
    line, cx, cy = at[rows], entries[rows], h_y[h]
    if not len(line):
        return empty, empty, empty
    on_line = pd.Index(pd.unique(at * n_codes + codes)).get_indexer(line * n_codes + d.code_of(cy)) >= 0
    return shared[line[~on_line]], cx[~on_line], cy[~on_line]


@check("DX_EXCLUDES1", AMBER, "diagnosis",
       "two diagnoses on the line, or on the lines of the same claim, are in an ICD-10-CM Excludes1 relation",
       "{excludes_pairs} in an ICD-10-CM Excludes1 relation: usually not coded together. "
       "Both may be reported only when the conditions are unrelated (guideline I.A.12.a): query the "
       "provider and keep the code(s) the documentation supports.")
def dx_excludes1(lines):
    found = lines.derived("excludes1", _excludes1)
    flagged = found.own_count[lines.dx_infos.line] > 0
    flagged[found.cross_line] = True
    return lines.series(flagged)


@field("excludes_pairs")
def _excludes_pairs(lines, idx):
    found = lines.derived("excludes1", _excludes1)
    pos = lines.index.get_indexer(idx)
    pair = lines.dx_infos.line[pos]
    own_n = found.own_count[pair]
    lo = np.searchsorted(found.cross_line, pos, "left")
    cross_n = np.searchsorted(found.cross_line, pos, "right") - lo
    parts = np.concatenate([found.own_text[np.repeat(found.own_start[pair], own_n) + within_runs(own_n)],
                            found.cross_text[np.repeat(lo, cross_n) + within_runs(cross_n)]])
    run = np.concatenate([run_of(own_n), run_of(cross_n)])
    order = np.argsort(run, kind="stable")  # a line's own pairs, then those across its claim
    said = join_runs(parts[order], run[order], len(pos), "; ")
    tail = np.array([" are", " are each"], dtype=object)[(own_n + cross_n > 1).astype(int)]
    return pd.Series(said + tail, index=idx, dtype=object)
