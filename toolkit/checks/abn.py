"""Medicare ABN checks: the liability modifiers must match the Advance Beneficiary Notice."""

from __future__ import annotations

from .base import AMBER, RED, check

NECESSITY_FINDINGS = ("DX_NOT_COVERED", "THERAPY_TOO_SHORT", "UNITS_EXCEEDED")


@check("GA_WITHOUT_ABN", RED, "abn", "modifier GA is present but ABN on File is not Y",
       "Modifier GA says an ABN signed before the service is on file, but ABN on File is not Y. If the "
       "patient signed one (form CMS-R-131) before the service, file it and set ABN on File to Y; otherwise "
       "remove GA (an ABN signed after the service is not valid).")
def ga_without_abn(lines):
    return lines.has_mod("GA") & ~lines.yes("ABN on File")


@check("ABN_MODIFIER_MISSING", AMBER, "abn",
       "Medicare payer, a RED medical-necessity finding applies, ABN on File = Y, and GA is absent",
       "A signed ABN is on file but modifier GA is missing: add GA so that a necessity denial becomes "
       "the patient's responsibility (PR-50) instead of the practice's (CO-50).")
def abn_modifier_missing(lines):
    medicare = lines.medicare
    necessity = lines.mask(NECESSITY_FINDINGS[0])
    for code in NECESSITY_FINDINGS[1:]:
        necessity = necessity | lines.mask(code)
    return medicare & necessity & lines.yes("ABN on File") & ~lines.has_mod("GA")
