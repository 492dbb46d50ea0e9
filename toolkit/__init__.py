"""mednec: medical-necessity checks before claims leave the clinic, and denial work after.

    from toolkit import validate_claims
    results = validate_claims(claims, rules, payers, as_of="2026-11-27")

Names are imported on first use so that ``import toolkit`` stays cheap (a fresh Python
process runs on every Excel button press).
"""

__version__ = "0.1.0"

_LAZY = {
    "validate_claims": "toolkit.validation",
    "find_findings": "toolkit.validation",
    "run_checks": "toolkit.validation",
    "Validation": "toolkit.validation",
    "CHECKS": "toolkit.checks",
    "CodeSets": "toolkit.codesets.icd10cm",
    "MednecError": "toolkit.errors",
    "InputError": "toolkit.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
