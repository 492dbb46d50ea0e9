"""Medicare edits billers are denied for every week: therapy plan-of-care modifiers, GZ lines
sent to be denied, ABN modifiers on plans where the ABN does not apply, and bilateral billing
with a one-sided diagnosis."""

from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..rules import is_medicare_or_advantage
from .base import AMBER, RED, check, field, map_coded

THERAPY_CODES_FILE = Path(__file__).resolve().parent.parent / "data" / "always_therapy_codes.csv"
ENV_THERAPY_CODES = "MEDNEC_THERAPY_CODES"  # a practice's own copy of the list (same columns)
THERAPY_MODIFIERS = ("GP", "GO", "GN")
SETTING_THERAPY_CODES = "Therapy Code List"  # Settings key: the practice's copy (a CSV path, beside the workbook)


def therapy_codes_from_settings(settings: dict | None, near: Path | None = None) -> frozenset[str] | None:
    """The list named by the Settings key ``Therapy Code List`` (a relative path is taken beside
    the workbook), or None: then ``$MEDNEC_THERAPY_CODES`` or the shipped list applies."""
    from ..errors import InputError
    from ..values import setting_path

    path = setting_path(settings, SETTING_THERAPY_CODES, near)
    if path is None:
        return None
    try:
        return always_therapy_codes(str(path))
    except InputError as exc:  # say where the name came from, so the biller knows what to correct
        raise InputError(f"{exc.message} (named by the Settings key '{SETTING_THERAPY_CODES}': correct the "
                         "path there, or clear it to use the shipped list)", file=exc.file) from None


@lru_cache(maxsize=4)
def always_therapy_codes(path: str | None = None) -> frozenset[str]:
    """The CMS "always therapy" codes: the shipped table, or the practice's copy named by
    ``$MEDNEC_THERAPY_CODES`` (CMS revises the list each year; the file says which year)."""
    from ..errors import InputError

    chosen = Path(path or os.environ.get(ENV_THERAPY_CODES) or THERAPY_CODES_FILE)
    try:
        with open(chosen, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            key = next((h for h in reader.fieldnames or () if h.strip().casefold() == "code"), None)
            if key is None:
                raise InputError("the therapy code list needs a 'Code' column", file=chosen)
            return frozenset(str(r[key]).strip().upper() for r in reader if str(r[key] or "").strip())
    except OSError:
        raise InputError("therapy code list not found", file=chosen) from None


@check("THERAPY_MODIFIER_MISSING", RED, "medicare",
       "(added) Medicare or Medicare Advantage line with a CMS \"always therapy\" code and no GP, GO or GN modifier",
       "{cpt} is an \"always therapy\" code on the CMS therapy code list: Medicare denies it without the "
       "therapy plan-of-care modifier. Add GP (physical therapy), GO (occupational therapy) or GN "
       "(speech-language pathology) for the discipline that furnished it.")
def therapy_modifier_missing(lines):
    codes = lines.therapy_codes if lines.therapy_codes is not None else always_therapy_codes()
    therapy = lines.cpt.isin(codes)
    payer = lines.map_payer_type(is_medicare_or_advantage).astype(bool)
    return therapy & payer & ~lines.has_mod(*THERAPY_MODIFIERS)


@check("GZ_EXPECTED_DENIAL", AMBER, "medicare", "(added) modifier GZ on a Medicare line",
       "Modifier GZ says no valid ABN was signed: Medicare denies the line automatically as not reasonable "
       "and necessary, the practice bears the loss and the patient may not be billed. Submit it only to "
       "obtain the denial; if an ABN was signed before the service, use GA and set ABN on File to Y instead.")
def gz_expected_denial(lines):
    return lines.medicare & lines.has_mod("GZ")


@check("ABN_NOT_APPLICABLE", AMBER, "medicare",
       "(added) GA, GZ or ABN on File = Y on a payer whose Payer Type is not Medicare",
       "{abn_items} on a {payer_type} payer: the ABN and the GA/GZ modifiers apply only to Original "
       "Medicare, not to Medicare Advantage, Medicaid or commercial plans. Remove GA/GZ and follow the "
       "plan's own rules before billing the patient (check the plan's pre-service notice or "
       "organization determination).")
def abn_not_applicable(lines):
    known = lines.payer_row["_known"].astype(bool)
    return known & ~lines.medicare & (lines.has_mod("GA", "GZ") | lines.yes("ABN on File"))


@field("abn_items")
def _abn_items(lines, idx):
    abn = lines.yes("ABN on File")[idx]
    mods = lines.mods[idx].map(lambda m: [x for x in ("GA", "GZ") if x in m])
    return pd.Series([
        " and ".join(([f"Modifier {'/'.join(m)}"] if m else []) + (["ABN on File = Y"] if a else []))
        for m, a in zip(mods, abn)], index=idx)


@field("payer_type")
def _payer_type(lines, idx):
    return map_coded(lines.payer_row["Payer Type"][idx],
                      lambda t: " ".join(t.split()) if isinstance(t, str) and t.strip() else "non-Medicare")


_SIDE_NAME = {"R": "right", "L": "left"}


def _sole_side(infos) -> str:
    """R or L when the diagnoses name exactly one side (and not both or bilateral), else ''."""
    sides = {i.side for i in infos if i is not None and i.side}
    return sides.pop() if len(sides) == 1 and sides <= {"R", "L"} else ""


def _bilateral_unsupported(lines) -> pd.Series:
    bilateral = lines.has_mod("50") | (lines.has_mod("RT") & lines.has_mod("LT"))
    out = pd.Series(False, index=lines.index)
    if not bilateral.any():
        return out
    idx = lines.index[bilateral.to_numpy()]  # few lines: looked at one by one
    sides = lines.dx_info[idx].map(_sole_side)
    support = lines.supporting[idx].map(lambda i: i.side if i is not None else "")
    out[idx] = (sides != "") & (support == sides)
    return out


@check("BILATERAL_UNSUPPORTED", AMBER, "medicare",
       "(added) modifier 50, or RT and LT on one line, and the supporting diagnosis names only the right "
       "or only the left side (no diagnosis on the line for the other side or both sides)",
       "The line is billed as bilateral ({bilateral_mods}) but the diagnosis {support_dx} names only the "
       "{one_side} side. Add the diagnosis for the other side if both were treated, or bill the one side "
       "(RT or LT) that was.")
def bilateral_unsupported(lines):
    return _bilateral_unsupported(lines)


@field("bilateral_mods")
def _bilateral_mods(lines, idx):
    return lines.coded_mods(idx, lambda m: "modifier 50" if "50" in m else "RT and LT")


@field("one_side")
def _one_side(lines, idx):
    return lines.coded_supporting(idx, lambda i: _SIDE_NAME.get(i.side, "one") if i is not None else "one")


