"""Which claim lines must be checked together: the grouping key of the checks that look across lines.

Most checks read one line. A few look across lines (NCCI pairs and MUE per claim and date of
service; "rules" widens them). Streaming in chunks and Dask partitions keep every group whole
by this key, so such a check sees the same lines as in one in-memory run.

A check that looks across lines declares its scope, the columns its lines share:
``looks_across("NCCI_PTP_CONFLICT", "Claim ID")``. The grouping key is the columns every scope
shares (a scope of Claim ID + Patient ID and one of Patient ID + Rendering Provider + Date of
Service are both kept whole by Patient ID). No shared column is a programming error, raised here.
"""

from __future__ import annotations

CLAIM_ID = "Claim ID"

# code → the columns the lines it compares share; CONTRACT's claim-level checks look within a claim.
SCOPES: dict[str, tuple[str, ...]] = {
    "NCCI_PTP_CONFLICT": (CLAIM_ID,),
    "MUE_EXCEEDED": (CLAIM_ID,),
}


def looks_across(code: str, *headers: str) -> None:
    """Declare that check ``code`` compares lines sharing ``headers`` (contract spelling)."""
    if not headers:
        raise ValueError(f"{code}: give the columns its lines share")
    SCOPES[code] = tuple(headers)
    grouping_key()  # fail at import time, not in the middle of a 10-million-line run


def grouping_key() -> tuple[str, ...]:
    """The columns that keep every declared scope whole (default: Claim ID)."""
    scopes = list(SCOPES.values())
    if not scopes:
        return (CLAIM_ID,)
    shared = [h for h in scopes[0] if all(h in s for s in scopes[1:])]
    if not shared:
        raise ValueError(f"the checks' scopes share no column ({sorted(SCOPES.items())}): "
                         "add a common column (e.g. Patient ID) to each scope")
    return tuple(shared)
