"""Diagnosis checks: is each code a real, billable ICD-10-CM code that can establish necessity?"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..codesets.icd10cm import format_dx
from ..values import first_positions
from .base import AMBER, RED, Coded, check, dx_list, field, map_coded


@check("DX_MISSING", RED, "diagnosis", "no diagnosis on the line",
       "No diagnosis on the line. Add the ICD-10-CM code(s) that support the service, primary first.")
def dx_missing(lines):
    codes, uniques = lines._dx_factor  # once per distinct diagnosis tuple
    return lines.series(np.array([not t for t in uniques], dtype=bool)[codes])


@check("DX_INVALID", RED, "diagnosis", "a diagnosis is not a code in the ICD-10-CM code set in use",
       "{invalid_dx} not a code in {codeset}. Look up the correct code in the tabular list.")
def dx_invalid(lines):
    return lines.any_dx_info(lambda info: info is None)


@field("invalid_dx")
def _invalid_dx(lines, idx):
    # Once per distinct (diagnoses, release), the pair _dx_info_factor numbers.
    codes, infos_of = lines._dx_info_factor
    pos = lines.index.get_indexer(idx)
    at, used = pd.factorize(codes[pos])
    dx = lines.dx.to_numpy(dtype=object)[pos[first_positions(at)]]
    texts = np.empty(len(used), dtype=object)
    for k, (u, line_dx) in enumerate(zip(used.tolist(), dx.tolist())):
        bad = [c for c, i in zip(line_dx, infos_of[u]) if i is None]
        texts[k] = f"{dx_list(bad)} {'is' if len(bad) == 1 else 'are'}"
    return Coded(at, texts)


@field("codeset")
def _codeset(lines, idx):
    labels = [s.label for s in lines.codesets.sets]
    return lines.codeset_of_line[idx].map(lambda i: labels[i])


@check("DX_NOT_BILLABLE", RED, "diagnosis",
       "a diagnosis is a category or subcategory that needs more characters",
       "{not_billable_dx}. Code to the highest specificity the documentation supports.")
def dx_not_billable(lines):
    return lines.any_dx_info(lambda info: info is not None and not info.billable)


@field("not_billable_dx")
def _not_billable(lines, idx):
    # Once per distinct (diagnoses, release): that pair is what _dx_info_factor numbers.
    codes, infos_of = lines._dx_info_factor
    pos = lines.index.get_indexer(idx)
    at, used = pd.factorize(codes[pos])
    release = lines.codeset_of_line.to_numpy()[pos]
    first = first_positions(at)  # a line of each number, in the order of ``used``
    out = np.empty(len(used), dtype=object)
    for k, (u, line) in enumerate(zip(used.tolist(), first.tolist())):
        parts = []
        for info in infos_of[u]:
            if info is not None and not info.billable:
                kids = lines.codesets.sets[release[line]].billable_under(info.code, limit=4)
                hint = f" (e.g. {dx_list(kids)})" if kids else ""
                parts.append(f"{info.dotted} is a header code that needs more characters{hint}")
        out[k] = "; ".join(parts)
    return pd.Series(out[at], index=idx, dtype=object)


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


def _excludes1_pairs(infos, others=()) -> list[tuple[str, str]]:
    """Excludes1 pairs among the line's own diagnoses, then between them and ``others`` (the
    diagnoses of the claim's other lines)."""
    known = [i for i in infos if i is not None]
    pairs = [(known[a].dotted, known[b].dotted) for a in range(len(known)) for b in range(a + 1, len(known))
             if _excluded(known[a], known[b])]
    own = {i.code for i in known}
    pairs += [(x.dotted, y.dotted) for x in known for y in others if y.code not in own and _excluded(x, y)]
    return pairs


def _has_own_excludes1(flattened: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Per DxInfo tuple: whether two of its known diagnoses are in an Excludes1 relation (what
    ``bool(_excludes1_pairs(t))`` says), with array work over the tuples' position pairs and
    ``_excluded`` asked once per distinct pair of DxInfo (a Python call per tuple cost 0.03 s
    at 100,000 lines).  ``flattened``: the tuples laid end to end (``ClaimLines.dx_info_flat``)."""
    flat, starts, lens = flattened
    ids, distinct = pd.factorize(flat, use_na_sentinel=True)  # DxInfo hashes by identity; None → −1
    width = max(len(distinct), 1)
    tuple_of, keys = [], []
    longest = int(lens.max()) if len(lens) else 0
    for a in range(longest):
        for b in range(a + 1, longest):
            t = np.flatnonzero(lens > b)
            x, y = ids[starts[t] + a], ids[starts[t] + b]
            known = (x >= 0) & (y >= 0)
            tuple_of.append(t[known])
            keys.append(x[known].astype("int64") * width + y[known])
    out = np.zeros(len(lens), dtype=bool)
    if not keys:
        return out
    at, pairs = pd.factorize(np.concatenate(keys))
    excluded = np.array([_excluded(distinct[k // width], distinct[k % width]) for k in pairs.tolist()], dtype=bool)
    out[np.concatenate(tuple_of)[excluded[at]]] = True
    return out


def _claim_dx(lines) -> pd.Series:
    """For the lines whose claim (same Claim ID) has other lines: the known diagnoses (DxInfo) on
    the claim's lines.  ICD-10-CM Excludes1 applies to the diagnoses reported for the encounter,
    not to one line.  Lines without a Claim ID stand alone (they are not in the result)."""
    claim = lines.c["Claim ID"].fillna("")  # text, stripped by coerce_table
    shared = (claim.to_numpy(dtype=object) != "") & claim.duplicated(keep=False).to_numpy()
    if not shared.any():
        return pd.Series(dtype=object)
    ids, infos = claim.to_numpy(dtype=object)[shared], lines.dx_info.to_numpy(dtype=object)[shared]
    union: dict[str, dict[str, object]] = {}
    for cid, t in zip(ids, infos):
        seen = union.setdefault(cid, {})
        for i in t:
            if i is not None:
                seen.setdefault(i.code, i)
    claim_infos = {cid: tuple(seen.values()) for cid, seen in union.items()}
    return pd.Series([claim_infos[cid] for cid in ids], index=lines.index[shared], dtype=object)


def _line_pairs(lines, idx) -> pd.Series:
    """The Excludes1 pairs each line of ``idx`` takes part in (own diagnoses first, then across the claim)."""
    claim = lines.derived("claim_dx", _claim_dx)
    others = claim.reindex(idx)
    cache: dict[tuple, list[tuple[str, str]]] = {}
    out = []
    for t, o in zip(lines.dx_info[idx], others):
        o = o if isinstance(o, tuple) else ()
        key = (t, o)
        if key not in cache:
            cache[key] = _excludes1_pairs(t, o) if t else []
        out.append(cache[key])
    return pd.Series(out, index=idx, dtype=object)


@check("DX_EXCLUDES1", AMBER, "diagnosis",
       "two diagnoses on the line, or on the lines of the same claim, are in an ICD-10-CM Excludes1 relation",
       "{excludes_pairs} in an ICD-10-CM Excludes1 relation: usually not coded together. "
       "Both may be reported only when the conditions are unrelated (guideline I.A.12.a): query the "
       "provider and keep the code(s) the documentation supports.")
def dx_excludes1(lines):
    # Most lines stand alone on their claim: once per distinct diagnosis tuple; the lines with
    # sibling lines are looked at with the claim's other diagnoses.
    codes, _ = lines._dx_info_factor
    flagged = lines.series(_has_own_excludes1(lines.dx_info_flat)[codes])
    claim = lines.derived("claim_dx", _claim_dx)
    if len(claim):
        flagged = flagged.copy()
        flagged[claim.index] = _line_pairs(lines, claim.index).map(bool).astype(bool)
    return flagged


@field("excludes_pairs")
def _excludes_pairs(lines, idx):
    def say(pairs) -> str:
        return "; ".join(f"{a} and {b}" for a, b in pairs) + (" are each" if len(pairs) > 1 else " are")
    return _line_pairs(lines, idx).map(say)
