"""The first status each claim line got, kept beside the workbook.

The clean-claim rate counts claims that were GREEN the *first* time they were validated, but
Validate may write only its five result columns into Claims, and those are overwritten on
every run.  So an in-place Validate also notes, in ``<workbook>.validation-history.csv`` next
to the workbook, the Status of each (Claim ID, Line) it sees for the first time.  The file
holds claim IDs, statuses and timestamps only: no patient names or IDs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = ["Claim ID", "Line", "First Status", "First Validated At"]


def history_path(workbook: Path | str) -> Path:
    workbook = Path(workbook)
    return workbook.with_name(f"{workbook.stem}.validation-history.csv")


def _keys(claims: pd.DataFrame) -> pd.Series:
    line = claims["Line"].fillna(1).astype(int).astype(str)
    return claims["Claim ID"].astype(str) + "\x1f" + line


def read_history(workbook: Path | str) -> pd.DataFrame:
    path = history_path(workbook)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    from ..values import csv_unguard

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[[c for c in COLUMNS if c in frame.columns]]
    if "Claim ID" in frame.columns:  # written through csv_guard: '=1 stands for the Claim ID =1
        frame["Claim ID"] = frame["Claim ID"].map(csv_unguard)
    return frame


def record_first_status(workbook: Path | str, claims: pd.DataFrame, results: pd.DataFrame) -> Path:
    """Add the lines validated for the first time (typed ``claims``, ``results`` of the run)."""
    from .files import write_csv

    old = read_history(workbook)
    seen = set(old["Claim ID"] + "\x1f" + old["Line"])
    keys = _keys(claims)
    new = ~keys.isin(seen) & (claims["Claim ID"].astype(str) != "")
    added = pd.DataFrame({
        "Claim ID": claims.loc[new, "Claim ID"].astype(str),
        "Line": claims.loc[new, "Line"].fillna(1).astype(int).astype(str),
        "First Status": results.loc[new, "Status"],
        "First Validated At": results.loc[new, "Validated At"],
    }).drop_duplicates(["Claim ID", "Line"])
    if added.empty and history_path(workbook).exists():
        return history_path(workbook)
    return write_csv(pd.concat([old, added], ignore_index=True), history_path(workbook))


def first_status(workbook: Path | str, claims: pd.DataFrame) -> pd.Series | None:
    """Each claim line's first status (blank where not recorded); None without a history file."""
    if not history_path(workbook).exists():
        return None
    history = read_history(workbook)
    lookup = dict(zip(history["Claim ID"] + "\x1f" + history["Line"], history["First Status"]))
    return _keys(claims).map(lookup).fillna("")
