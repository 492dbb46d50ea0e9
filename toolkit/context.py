"""Everything the checks need besides the claim lines, read once and shared by every chunk or partition.

The in-memory run, each streamed chunk and each Dask partition call ``CheckContext.run`` with
their lines, so they all check with the same rules, payers, code sets, NCCI index, "today" and
time stamp. A new input of the checks (a denial log, …) is one more field here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .codesets.icd10cm import CodeSets

if TYPE_CHECKING:
    from .checks.history import DenialHistory
    from .codesets.ncci import NcciEdits


@dataclass
class CheckContext:
    rules: pd.DataFrame | None
    payers: pd.DataFrame | None
    codesets: CodeSets
    edits: NcciEdits | None = None  # an NcciEdits index, or None: the NCCI checks are off
    as_of: dt.date | None = None
    denials: DenialHistory | None = None  # a DenialHistory (the practice's denial log), or None: DENIAL_HISTORY is off
    now: dt.datetime = field(default_factory=dt.datetime.now)  # one "Validated At" for every chunk
    therapy_codes: frozenset[str] | None = None  # the Settings' "always therapy" list, or None: the default

    def run(self, claims: pd.DataFrame, progress=None):
        """The checks over ``claims`` (raw or typed lines): a ``Validation``."""
        from .validation import run_checks

        return run_checks(claims, self.rules, self.payers, as_of=self.as_of, codesets=self.codesets,
                          now=self.now, progress=progress, edits=self.edits, denials=self.denials,
                          therapy_codes=self.therapy_codes)

    def labels(self, seen: list[str]) -> list[str]:
        """The run's code-set labels in the in-memory order (releases oldest first, then NCCI)."""
        ordered = [s.label for s in self.codesets.sets if s.label in seen]
        return ordered + [label for label in seen if label not in ordered]
