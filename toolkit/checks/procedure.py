"""Procedure coding checks: the CPT/HCPCS code's shape, modifiers, and the side of the body."""

from __future__ import annotations

import re

import pandas as pd

from .base import AMBER, RED, check, field

CPT_SHAPE = re.compile(r"\d{5}|\d{4}[FTU]|[A-V]\d{4}")
MODIFIER_SHAPE = re.compile(r"[A-Z0-9]{2}")
SIDE_MODIFIERS = {"RT", "LT", "50"}
# Anatomic modifiers also state the site (eyelids, fingers, toes, coronary arteries).
ANATOMIC_MODIFIERS = {"E1", "E2", "E3", "E4", "FA", "TA", "LC", "LD", "LM", "RC", "RI",
                      *(f"F{i}" for i in range(1, 10)), *(f"T{i}" for i in range(1, 10))}
X_MODIFIERS = {"XE", "XS", "XP", "XU"}
LIABILITY_MODIFIERS = {"GA", "GZ", "GY"}


@check("CPT_INVALID", RED, "procedure", "the procedure code does not have a valid CPT/HCPCS shape",
       "{cpt_problem} (5 characters: five digits, four digits and F/T/U, or a letter A-V and four "
       "digits). Correct the code.")
def cpt_invalid(lines):
    return lines.map_column("CPT/HCPCS", lambda c: not CPT_SHAPE.fullmatch(c or "")).astype(bool)


@field("cpt_problem")
def _cpt_problem(lines, idx):
    return lines.coded("CPT/HCPCS", idx, lambda c: f"Procedure code '{c}' is not a valid CPT/HCPCS code" if c
                      else "The procedure code is blank: enter the CPT/HCPCS code")


def _bad_modifiers(mods: tuple[str, ...]) -> bool:
    return len(mods) > 4 or any(not MODIFIER_SHAPE.fullmatch(m) for m in mods)


@check("MODIFIER_INVALID", RED, "procedure", "a modifier is not two letters/digits, or there are more than four",
       "{modifier_problem} Each modifier is two letters or digits, at most four per line.")
def modifier_invalid(lines):
    return lines.map_mods(_bad_modifiers).astype(bool)


@field("modifier_problem")
def _modifier_problem(lines, idx):
    def say(mods):
        bad = [m for m in mods if not MODIFIER_SHAPE.fullmatch(m)]
        parts = []
        if bad:
            parts.append(f"Modifier{'s' if len(bad) > 1 else ''} {', '.join(repr(b) for b in bad)} "
                         f"{'are' if len(bad) > 1 else 'is'} not valid.")
        if len(mods) > 4:
            parts.append(f"{len(mods)} modifiers on one line.")
        return " ".join(parts)
    return lines.coded_mods(idx, say)


def _conflicts(mods: tuple[str, ...]) -> list[str]:
    found, s = [], set(mods)
    if "59" in s and s & X_MODIFIERS:
        found.append(f"59 with {'/'.join(sorted(s & X_MODIFIERS))} (use the X modifier alone)")
    if len(s & LIABILITY_MODIFIERS) > 1:
        found.append(f"{' and '.join(sorted(s & LIABILITY_MODIFIERS))} (one liability modifier per line)")
    if {"RT", "LT"} <= s:
        found.append("RT with LT (use 50 for a bilateral procedure, or one line per side)")
    return found


@check("MODIFIER_CONFLICT", AMBER, "procedure",
       "mutually exclusive modifiers together: 59 with XE/XS/XP/XU; GA, GZ, GY together; RT with LT",
       "Modifiers that exclude each other: {modifier_conflicts}. Keep the one the documentation supports.")
def modifier_conflict(lines):
    return lines.map_mods(lambda m: bool(_conflicts(m))).astype(bool)


@field("modifier_conflicts")
def _modifier_conflicts(lines, idx):
    return lines.coded_mods(idx, lambda m: "; ".join(_conflicts(m)))


@check("LATERALITY_MISSING", AMBER, "procedure",
       "the rule requires laterality and no RT, LT or 50 modifier is present",
       "{payer}'s policy for {cpt} requires the side: add RT, LT or 50 (bilateral) to the modifiers.")
def laterality_missing(lines):
    return lines.rule_yes("Laterality Required") & ~lines.has_mod(*SIDE_MODIFIERS, *ANATOMIC_MODIFIERS)


_SIDE_NAME = {"R": "right", "L": "left"}


def _side_conflict(lines) -> pd.Series:
    side = lines.map_supporting(lambda i: i.side if i is not None else "")
    return (lines.has_mod("RT") & (side == "L")) | (lines.has_mod("LT") & (side == "R"))


@check("LATERALITY_CONFLICT", RED, "procedure",
       "the modifier's side contradicts the side in the supporting diagnosis",
       "Modifier {side_modifier} contradicts the {dx_side}-side diagnosis {support_dx}. Correct the "
       "modifier or the diagnosis so both name the side treated.")
def laterality_conflict(lines):
    return _side_conflict(lines)


@field("side_modifier")
def _side_modifier(lines, idx):
    side = lines.supporting[idx].map(lambda i: i.side if i is not None else "")
    return side.map({"L": "RT", "R": "LT"})


@field("dx_side")
def _dx_side(lines, idx):
    return lines.coded_supporting(idx, lambda i: _SIDE_NAME.get(i.side, "") if i is not None else "")
