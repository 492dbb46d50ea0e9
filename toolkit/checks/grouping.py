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

CLAIM_ID, PATIENT_ID, DOS = "Claim ID", "Patient ID", "Date of Service"

# code → the columns the lines it compares share within a claim (Excludes1 reads all diagnoses of
# a claim; NCCI pairs and MUE sums the lines of a claim and date of service).
SCOPES: dict[str, tuple[str, ...]] = {
    "DX_EXCLUDES1": (CLAIM_ID,),
    "NCCI_PTP_CONFLICT": (CLAIM_ID,),
    "MUE_EXCEEDED": (CLAIM_ID,),
}
# NCCI pairs and MUE day sums also look across claims of the same patient, rendering provider and
# date of service (only with an NCCI index).  A claim has one patient, so Patient ID keeps both
# the claim and this wider scope whole: Dask shuffles by it.  A file streamed in chunks is cut
# only where neither a claim nor a patient's day goes on (``chunk_keys``): exports list a
# claim's lines, and a patient's claims of one day, together.


def patient_key() -> tuple[str, ...]:
    """The key that keeps claims and the cross-claim NCCI scope whole (for a shuffle)."""
    return (PATIENT_ID,)


def chunk_keys(*, ncci: bool) -> list[tuple[str, ...]]:
    """What a chunked run keeps whole: claims, and with an NCCI index each patient's lines of one
    date of service too (pairs across claims).  The day is coarser than the cross-claim scope
    (patient, provider, day) on purpose: a chunk boundary cannot know whether a later line of the
    day names the same provider, so all of a patient's claims of that day stay together."""
    keys = [grouping_key()]
    if ncci:
        keys.append((PATIENT_ID, DOS))
    return keys


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
