"""Appeal deadlines, and the practice's Payers row for a payer as a remittance names it.

Windows are per payer contract, so they live in the Payers table.  Original Medicare counts the
redetermination window (120 days) from the day the notice is received, which it presumes is 5
days after the notice date (42 CFR 405.942); a Medicare payer's deadline is therefore the
remittance date + 5 + its window (120 when Payers gives none).  Other payers without a window get
no deadline (a blank the biller sees, rather than a guess).  Every deadline comes with a sentence
naming the rule it used, written into the denial's Notes.

835s name payers their own way ("MEDICARE JH", "NORIDIAN JE PART B") and carry a payer ID
(N1*PR…XV, REF*2U).  ``PayerDirectory.match`` finds the practice's row by Payer ID first, then by
name, then by the Payers column ``Also Known As`` (names separated by ``;``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from ..rules import is_medicare
from ..values import as_date

MEDICARE_REDETERMINATION_DAYS = 120
MEDICARE_RECONSIDERATION_DAYS = 180
MEDICARE_RECEIPT_DAYS = 5  # a notice is presumed received 5 days after its date


def _key(name) -> str:
    return " ".join(str(name or "").split()).casefold()


def _names(cell) -> list[str]:
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return []
    return [p.strip() for p in re.split(r"[;\n|]+", str(cell)) if p.strip()]


@dataclass(frozen=True)
class Deadline:
    date: dt.date | None
    rule: str  # which rule gave it (or why there is none), for the Notes


class PayerDirectory:
    """Payers rows by Payer ID, name and Also Known As (case- and spacing-insensitive)."""

    def __init__(self, payers=None):
        self._rows: dict[str, dict] = {}
        self._alias: dict[str, dict] = {}
        self._ids: dict[str, dict] = {}
        if payers is not None and len(payers):
            for rec in payers.to_dict("records"):
                name = str(rec.get("Payer") or "").strip()
                if not name:
                    continue
                self._rows.setdefault(_key(name), rec)
                for alias in _names(rec.get("Also Known As")):
                    self._alias.setdefault(_key(alias), rec)
                for pid in _names(str(rec.get("Payer ID") or "").replace(",", ";")):
                    self._ids.setdefault(_key(pid), rec)

    def _find(self, name, payer_id: str = "") -> dict | None:
        if payer_id and _key(payer_id) in self._ids:
            return self._ids[_key(payer_id)]
        return self._rows.get(_key(name)) or self._alias.get(_key(name))

    def match(self, name, payer_id: str = "") -> str | None:
        rec = self._find(name, payer_id)
        return str(rec["Payer"]).strip() if rec else None

    def appeal_window(self, name) -> int | None:
        rec = self._find(name)
        if rec is None:
            return None
        window = rec.get("Appeal Window Days")
        if window is not None and not (isinstance(window, float) and math.isnan(window)):
            return int(window)
        if is_medicare(rec.get("Payer Type")):
            return MEDICARE_REDETERMINATION_DAYS
        return None

    def deadline(self, name, denial_date) -> Deadline:
        """The first-level appeal deadline for a denial of payer ``name`` dated ``denial_date``."""
        day = as_date(denial_date)
        rec = self._find(name)
        if rec is None:
            return Deadline(None, f"no deadline: payer {str(name or '?')!r} is not in Payers")
        window = self.appeal_window(name)
        if day is None:
            return Deadline(None, "no deadline: no denial date")
        if is_medicare(rec.get("Payer Type")):
            days = window or MEDICARE_REDETERMINATION_DAYS
            return Deadline(day + dt.timedelta(days=days + MEDICARE_RECEIPT_DAYS),
                            f"deadline: Medicare redetermination, {days} days from receipt (remittance date + "
                            f"{MEDICARE_RECEIPT_DAYS} days)")
        if window is None:
            return Deadline(None, f"no deadline: no Appeal Window Days for {rec.get('Payer')} in Payers")
        return Deadline(day + dt.timedelta(days=window),
                        f"deadline: {rec.get('Payer')} appeal window, {window} days from the denial date")




def appeal_deadline(denial_date, window_days: int | None) -> dt.date | None:
    """Denial date + a window (kept for callers that already know the window)."""
    day = as_date(denial_date)
    if day is None or window_days is None:
        return None
    return day + dt.timedelta(days=int(window_days))
