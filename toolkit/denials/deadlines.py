"""Appeal deadlines: Denial Date + the payer's Appeal Window Days.

Windows are per payer contract, so they live in the Payers table.  Original Medicare's
redetermination window (120 days from the remittance) is used when the payer's type is
Medicare and no window is set; other payers without a window get no deadline (a blank the
biller sees, rather than a guess).
"""

from __future__ import annotations

import datetime as dt
import math

from ..rules import is_medicare

MEDICARE_REDETERMINATION_DAYS = 120


def _key(name) -> str:
    return " ".join(str(name or "").split()).casefold()


class PayerDirectory:
    """Payers rows by case-insensitive name (the 835's N1*PR name or the Claims' Payer)."""

    def __init__(self, payers=None):
        self._rows: dict[str, dict] = {}
        if payers is not None and len(payers):
            for rec in payers.to_dict("records"):
                name = str(rec.get("Payer") or "").strip()
                if name and _key(name) not in self._rows:
                    self._rows[_key(name)] = rec

    def match(self, name) -> str | None:
        rec = self._rows.get(_key(name))
        return str(rec["Payer"]).strip() if rec else None

    def appeal_window(self, name) -> int | None:
        rec = self._rows.get(_key(name))
        if rec is None:
            return None
        window = rec.get("Appeal Window Days")
        if window is not None and not (isinstance(window, float) and math.isnan(window)):
            return int(window)
        if is_medicare(rec.get("Payer Type")):
            return MEDICARE_REDETERMINATION_DAYS
        return None


def appeal_deadline(denial_date, window_days: int | None) -> dt.date | None:
    if denial_date is None or window_days is None:
        return None
    try:
        import pandas as pd

        if pd.isna(denial_date):
            return None
        denial_date = pd.Timestamp(denial_date).date()
    except (TypeError, ValueError):
        return None
    return denial_date + dt.timedelta(days=int(window_days))
