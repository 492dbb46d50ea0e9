"""Diagnosis checks: is each code a real, billable ICD-10-CM code that can establish necessity?"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from ..codesets.icd10cm import format_dx
from ..values import map_unique
from .base import AMBER, RED, check, dx_list, field


@check("DX_MISSING", RED, "diagnosis", "no diagnosis on the line",
       "No diagnosis on the line. Add the ICD-10-CM code(s) that support the service, primary first.")
def dx_missing(lines):
    return lines.dx.map(len) == 0


@check("DX_INVALID", RED, "diagnosis", "a diagnosis is not a code in the ICD-10-CM code set in use",
       "{invalid_dx} not a code in {codeset}. Look up the correct code in the tabular list.")
def dx_invalid(lines):
    return map_unique(lines.dx_info, lambda infos: any(i is None for i in infos)).astype(bool)


@field("invalid_dx")
def _invalid_dx(lines, idx):
    bad = [[c for c, i in zip(dx, infos) if i is None]
           for dx, infos in zip(lines.dx[idx], lines.dx_info[idx])]
    return pd.Series([f"{dx_list(b)} {'is' if len(b) == 1 else 'are'}" for b in bad], index=idx)


@field("codeset")
def _codeset(lines, idx):
    labels = [s.label for s in lines.codesets.sets]
    return lines.codeset_of_line[idx].map(lambda i: labels[i])


@check("DX_NOT_BILLABLE", RED, "diagnosis",
       "a diagnosis is a category or subcategory that needs more characters",
       "{not_billable_dx}. Code to the highest specificity the documentation supports.")
def dx_not_billable(lines):
    return map_unique(lines.dx_info, lambda infos: any(i is not None and not i.billable for i in infos)).astype(bool)


@field("not_billable_dx")
def _not_billable(lines, idx):
    out = []
    for infos, cs in zip(lines.dx_info[idx], lines.codeset_of_line[idx]):
        parts = []
        for info in infos:
            if info is not None and not info.billable:
                kids = lines.codesets.sets[cs].billable_under(info.code, limit=4)
                hint = f" (e.g. {dx_list(kids)})" if kids else ""
                parts.append(f"{info.dotted} is a header code that needs more characters{hint}")
        out.append("; ".join(parts))
    return pd.Series(out, index=idx)


@check("DX_UNSPECIFIED", AMBER, "diagnosis", 'the supporting diagnosis is an "unspecified" code',
       "The supporting diagnosis {support_dx} ({support_desc}) is an unspecified code, which payers "
       "often reject as support. Document and code the specific condition (type, site, side).")
def dx_unspecified(lines):
    return map_unique(lines.supporting, lambda i: i is not None and i.unspecified).astype(bool)


@field("support_dx")
def _support_dx(lines, idx):
    return map_unique(lines.supporting_code[idx], format_dx)


@field("support_desc")
def _support_desc(lines, idx):
    return map_unique(lines.supporting[idx], lambda i: i.description if i is not None else "not a known code")


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


def _claim_dx(lines) -> pd.Series:
    """Per line: the known diagnoses (DxInfo) on the *other* lines of the same claim (same Claim ID).

    ICD-10-CM Excludes1 applies to the diagnoses reported for the encounter, not to one line.
    Lines without a Claim ID stand alone.
    """
    claim = lines.c["Claim ID"].fillna("").astype(str).str.strip()
    out = pd.Series([()] * len(lines.index), index=lines.index, dtype=object)
    shared = claim.ne("") & claim.duplicated(keep=False)
    if not shared.any():
        return out
    infos = lines.dx_info[shared]
    union: dict[str, dict[str, object]] = {}
    for cid, t in zip(claim[shared], infos):
        seen = union.setdefault(cid, {})
        for i in t:
            if i is not None:
                seen.setdefault(i.code, i)
    out[shared] = [tuple(union[cid].values()) for cid in claim[shared]]
    return out


def _pairs_of(lines) -> pd.Series:
    """Per line, the Excludes1 pairs it takes part in (own diagnoses first, then across the claim)."""
    others = lines.derived("claim_dx", _claim_dx)
    cache: dict[tuple, list[tuple[str, str]]] = {}
    out = []
    for t, o in zip(lines.dx_info, others):
        if len(t) + len(o) < 2 or not t:
            out.append([])
            continue
        key = (t, o)
        if key not in cache:
            cache[key] = _excludes1_pairs(t, o)
        out.append(cache[key])
    return pd.Series(out, index=lines.index, dtype=object)


@check("DX_EXCLUDES1", AMBER, "diagnosis",
       "two diagnoses on the line, or on the lines of the same claim, are in an ICD-10-CM Excludes1 relation",
       "{excludes_pairs} {excludes_verb} in an ICD-10-CM Excludes1 relation: usually not coded together. "
       "Both may be reported only when the conditions are unrelated (guideline I.A.12.a): query the "
       "provider and keep the code(s) the documentation supports.")
def dx_excludes1(lines):
    pairs = lines.derived("excludes1_pairs", _pairs_of)
    return pairs.map(bool).astype(bool)


@field("excludes_pairs")
def _excludes_pairs(lines, idx):
    pairs = lines.derived("excludes1_pairs", _pairs_of)[idx]
    return pairs.map(lambda t: "; ".join(f"{a} and {b}" for a, b in t))


@field("excludes_verb")
def _excludes_verb(lines, idx):
    return lines.derived("excludes1_pairs", _pairs_of)[idx].map(lambda t: "are each" if len(t) > 1 else "are")
