"""Where DENIAL_HISTORY's denial log comes from: the workbook's Denials table, or ``--denials FILE``.

The thresholds are the Settings keys ``Denial History Min``, ``Denial History Months`` and
``Denial History Rate`` (see ``toolkit.checks.history``).  No log, or an empty one: None, and
Validate runs exactly as before.
"""

from __future__ import annotations

from pathlib import Path


def book_denials(book, settings: dict | None = None):
    """The book's Denials log as a ``DenialHistory`` (None when it has no Denials table or rows)."""
    from ..errors import InputError
    from ..tables import DENIALS

    if not book.has_table(DENIALS):
        return None
    try:
        frame = book.read_table(DENIALS)
    except InputError:  # a Denials sheet that is not a log (no table, no header): the check stays off
        return None
    if frame.empty:
        return None
    from ..checks.history import DenialHistory

    return DenialHistory.from_settings(frame, settings if settings is not None else book.settings())


def file_denials(path: str | Path | None, settings: dict | None = None, *, optional: bool = False):
    """``--denials FILE``: a Denials CSV, or a workbook holding the Denials table (None: not given).

    ``optional``: the claims workbook's own log, which a practice may not have (then None)."""
    if path is None:
        return None
    from ..checks.history import DenialHistory
    from ..errors import InputError
    from ..tables import DENIALS
    from ..workbook.files import read_table

    try:
        frame = read_table(Path(path), DENIALS)
    except InputError:
        if optional:
            return None
        raise
    return DenialHistory.from_settings(frame, settings) if not frame.empty else None
