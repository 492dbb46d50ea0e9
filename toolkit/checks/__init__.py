"""The checklist: every item of CONTRACT §2 as a registered ``Check``, one family per module.

``ORDER`` is the contract's order; within a severity, findings are listed in this order.
Adding a check: write it in the module of its family with ``@check(...)`` and add its code to
``ORDER``; a listed code's meaning never changes.
"""

from __future__ import annotations

from . import abn, diagnosis, documentation, filing, history, medicare, ncci, policy, procedure  # noqa: F401
from .base import AMBER, RED, REGISTRY, SEVERITY_RANK, Check, ClaimLines

ORDER = (
    "CPT_INVALID", "DX_MISSING", "DX_INVALID", "DX_NOT_BILLABLE", "DX_NOT_COVERED", "DX_UNSPECIFIED",
    "DX_RULE_OUT", "DX_EXCLUDES1", "THERAPY_UNDOCUMENTED", "THERAPY_TOO_SHORT", "IMAGING_MISSING",
    "IMAGING_STALE", "PRIOR_AUTH_MISSING", "LATERALITY_MISSING", "LATERALITY_CONFLICT",
    "MODIFIER_INVALID", "MODIFIER_CONFLICT", "UNITS_EXCEEDED", "NOTE_INCOMPLETE", "PATIENT_DECLINED",
    "NO_POLICY", "PAYER_UNKNOWN", "TIMELY_FILING", "DOS_FUTURE", "GA_WITHOUT_ABN",
    "ABN_MODIFIER_MISSING",
    # added after the contract's first list
    "FIELD_MISSING",
    # NCCI edit layers: only when the practice has loaded an NCCI index (CMS PTP and MUE files)
    "NCCI_PTP_CONFLICT", "MUE_EXCEEDED",
    # Medicare edits (issue 9)
    "THERAPY_MODIFIER_MISSING", "GZ_EXPECTED_DENIAL", "ABN_NOT_APPLICABLE", "BILATERAL_UNSUPPORTED",
    # the practice's own Denials log: only when the run has one
    "DENIAL_HISTORY",
)

assert set(ORDER) == set(REGISTRY), set(ORDER) ^ set(REGISTRY)
CHECKS: tuple[Check, ...] = tuple(REGISTRY[c] for c in ORDER)

__all__ = ["AMBER", "CHECKS", "ClaimLines", "ORDER", "RED", "SEVERITY_RANK", "Check"]
