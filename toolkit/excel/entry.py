"""What the workbook's buttons run (through xlwings' ``RunPython``, see ``vba/Mednec.bas``).

Each click starts a fresh Python process, so this module imports almost nothing at the top:
pandas, openpyxl and the job modules load only inside the function that needs them.

Every entry function does the same four things: find the workbook whose button was pressed,
run ONE job on it (the same job function the ``mednec`` command runs), show the outcome in
Excel's status bar, and turn a failure into one short sentence for the biller.  RunPython
shows what a failing process wrote to stderr in a message box, so a failure ends the process
with ``SystemExit(message)``; the details go to ``mednec.log`` next to the workbook — error
type and code location only, never cell values, so no patient data lands in the log.

Finding the workbook: ``xw.Book.caller()`` (live Excel).  When the environment variable
``MEDNEC_CALLER_FILE`` names a workbook file, that file is opened with ``WorkbookFile`` instead
and saved after the job.  That is the stand-in for Excel's COM boundary used by the tests that
run a button's real command line on a machine without Excel; everything after it is the same code.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import NoReturn

CALLER_FILE_ENV = "MEDNEC_CALLER_FILE"
LOG_NAME = "mednec.log"


# ---------------------------------------------------------------- the buttons

def validate() -> None:
    """Validate Claims: fill Status, Finding Codes, Findings, Policy and Validated At of every line."""

    def job(book):
        from ..jobs.validate import validate_book

        _status(book, "mednec: validating the claim lines…")
        validation = validate_book(book, as_of=None)
        counts = validation.counts()
        return (f"Validated {sum(counts.values())} claim lines: {counts.get('GREEN', 0)} GREEN, "
                f"{counts.get('AMBER', 0)} AMBER, {counts.get('RED', 0)} RED."
                + "".join(f" Note: {note}." for note in getattr(validation, "codeset_notes", ())))

    _run("Validate Claims", job)


def import_835(paths: list[str] | tuple[str, ...] = ()) -> None:
    """Import 835 Files: add the denials of the chosen remittance files to the Denials table."""

    def job(book):
        from ..errors import InputError
        from ..jobs.denials import import_835_files

        if not paths:
            raise InputError("no 835 file was chosen")
        _status(book, f"mednec: importing {len(paths)} remittance file{'s' if len(paths) != 1 else ''}…")
        return _summary_text(import_835_files(book, [Path(p) for p in paths]))

    _run("Import 835 Files", job)


def import_837(paths: list[str] | tuple[str, ...] = ()) -> None:
    """Import 837 Files: add the service lines of the chosen 837P claim files to the Claims table."""

    def job(book):
        from ..errors import InputError
        from ..jobs.claims import import_837_files

        if not paths:
            raise InputError("no 837 file was chosen")
        _status(book, f"mednec: importing {len(paths)} claim file{'s' if len(paths) != 1 else ''}…")
        summary = import_837_files(book, [Path(p) for p in paths])
        refused = f" Refused: {'; '.join(summary.refused)}" if summary.refused else ""
        return _summary_text(summary) + refused

    _run("Import 837 Files", job)


def appeal_selected(row: int) -> None:
    """Appeal Letter for Selected Denial: ``row`` is the Excel row of the active cell on Denials."""

    def job(book):
        from ..errors import InputError
        from ..jobs.documents import appeal_letter
        from ..tables import DENIALS
        from ..values import to_text

        denial_id = ""
        frame = book.read_table(DENIALS)
        if int(row) in frame.index and "Denial ID" in frame.columns:
            denial_id = to_text(frame.at[int(row), "Denial ID"])
        if not denial_id:
            raise InputError("click a cell in a denial's row of the Denials table (one with a Denial ID), "
                             "then press the button again", sheet="Denials", row=int(row))
        _status(book, f"mednec: writing the appeal letter for {denial_id}…")
        return _written(appeal_letter(book, denial_id), f"Appeal letter for {denial_id}")

    _run("Appeal Letter", job)


def checklists() -> None:
    """Build Checklists: one medical-necessity checklist (.docx) per rule."""

    def job(book):
        from ..jobs.documents import build_checklists

        _status(book, "mednec: writing the checklists…")
        return _written(build_checklists(book), "Checklists")

    _run("Build Checklists", job)


def dashboard() -> None:
    """Refresh Dashboard: recompute the denial figures on the Dashboard sheet."""

    def job(book):
        from ..jobs.denials import refresh_dashboard

        _status(book, "mednec: refreshing the dashboard…")
        refresh_dashboard(book)
        return f"Dashboard refreshed ({dt.date.today():%Y-%m-%d})."

    _run("Refresh Dashboard", job)


def digest(month: str | None = None) -> None:
    """Monthly Digest: write last month's "Did you know?" e-mail as a draft (.eml) in the outbox."""

    def job(book):
        from ..jobs.digest import build_digest

        chosen = month or last_month()
        _status(book, f"mednec: writing the digest for {chosen}…")
        result = build_digest(book, chosen)
        return f"Digest {result.summary}; draft e-mail written to {result.path}"

    _run("Monthly Digest", job)


def suggest_rules() -> None:
    """Suggest Rule Changes: proposals from the Denials log onto the Rule Suggestions sheet (never into Rules)."""

    def job(book):
        from ..jobs.rules import suggest_rule_changes

        _status(book, "mednec: looking for denial clusters…")
        result = suggest_rule_changes(book)
        return str(result).splitlines()[0]

    _run("Suggest Rule Changes", job)


# ---------------------------------------------------------------- shared plumbing

def caller_book():
    """The workbook whose button was pressed (see the module docstring for the file stand-in)."""
    file = os.environ.get(CALLER_FILE_ENV)
    if file:
        from ..workbook.fastxlsx import open_book

        return open_book(file)
    import xlwings as xw

    from .live import LiveBook

    return LiveBook(xw.Book.caller())


def last_month(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    first = today.replace(day=1) - dt.timedelta(days=1)
    return f"{first:%Y-%m}"


def _summary_text(result) -> str:
    """A job's own one-line summary: its ``__str__`` when it defines one."""
    if result is None or type(result).__str__ is object.__str__:
        return ""
    return str(result)


def _written(result, what: str) -> str:
    """'<what>: written to <folder>' for a path, a list of paths or a result with ``.path``."""
    paths = result if isinstance(result, (list, tuple)) else [getattr(result, "path", result)]
    paths = [Path(p) for p in paths if isinstance(p, (str, os.PathLike))]
    if not paths:
        return f"{what}: done."
    if len(paths) == 1:
        return f"{what}: written to {paths[0]}"
    return f"{what}: {len(paths)} files written to {paths[0].parent}"


def _status(book, text: str | None) -> None:
    status = getattr(book, "status", None)
    if status is not None:
        status(text)


def _run(action: str, job) -> None:
    """Open the caller's workbook, run the job (it saves what it changed), report; never a traceback."""
    from contextlib import nullcontext

    book = None
    try:
        with _holding_caller_file():
            book = caller_book()
            with (book.busy() if hasattr(book, "busy") else nullcontext()):
                message = job(book)
    except Exception as exc:
        from ..errors import MednecError

        if isinstance(exc, MednecError):
            _fail(book, action, exc, f"{action} could not finish: {exc}")
        _fail(book, action, exc, _unexpected(action))
    message = message or f"{action}: done."
    if getattr(book, "fallback_note", None):  # the fast in-place writer handed over to openpyxl
        message = f"{message} ({book.fallback_note})"
    _status(book, message)
    tell = getattr(book, "tell", None)
    if tell is None:
        print(message)  # file mode: the command line shows it


def _holding_caller_file():
    """File mode holds the workbook's lock from the read to the replace, like every ``mednec``
    command (no update of another command is lost); live Excel holds its own workbook open."""
    from contextlib import nullcontext

    file = os.environ.get(CALLER_FILE_ENV)
    if not file:
        return nullcontext()
    from ..workbook.lock import updating

    return updating(file)


def _unexpected(action: str) -> str:
    return (f"{action} stopped because of an unexpected error. Nothing was saved by mednec. "
            f"Details for support are in {LOG_NAME} next to the workbook.")


def _fail(book, action: str, exc: BaseException, message: str) -> NoReturn:
    _status(book, None)
    log_error(book, action, exc)
    raise SystemExit(message)


def log_path(book) -> Path:
    if book is not None and getattr(book, "path", None):
        return Path(book.path).with_name(LOG_NAME)
    file = os.environ.get(CALLER_FILE_ENV)
    return Path(file).with_name(LOG_NAME) if file else Path.home() / LOG_NAME


def log_error(book, action: str, exc: BaseException) -> Path | None:
    """Append what failed and where in the code; no cell values (no PHI).

    The message of our own errors is kept (it names sheet, row and column) with any quoted cell
    value blanked out; any other exception keeps only its type: its text may quote a cell.
    """
    import re
    import traceback

    from ..errors import MednecError

    lines = [f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {action} failed: {type(exc).__name__}"]
    if isinstance(exc, MednecError):
        lines.append("  " + re.sub(r"'[^']*'", "'…'", str(exc)))
    lines += [f"  at {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__)]
    lines.append(f"  python {sys.version.split()[0]} on {sys.platform}")
    path = log_path(book)
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    except OSError:
        return None
    return path
