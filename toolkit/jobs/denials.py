"""Denial log jobs: import 835 remittances, fill in hand-typed denials, refresh the Dashboard.

Each takes a "book" (``toolkit.workbook.files.WorkbookFile`` or the live-Excel twin), reads the
tables it needs, calls the core (``toolkit.denials``, ``toolkit.kpi``) and writes back only
new rows or blank cells.  Saving is the caller's business for the live book; a file book is
saved here (atomically).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..denials.log import ImportCounts
from ..errors import InputError, MednecError
from ..tables import CLAIMS, DENIALS, PAYERS
from ..workbook.book import WritableBook


@dataclass
class ImportSummary(ImportCounts):
    """The builder's counts over all files, plus what the import did with the rows."""

    files: int = 0
    added: int = 0
    already_logged: int = 0
    refused: list[str] = field(default_factory=list)  # one line per refused file
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"{self.added} denial{'s' if self.added != 1 else ''} added from {self.files} file"
                f"{'s' if self.files != 1 else ''} ({self.claims} claims: {self.paid_claims} paid without denial, "
                f"{self.reversals} reversal{'s' if self.reversals != 1 else ''} skipped; "
                f"{self.already_logged} already in the log).")
        return text


def _table(book, spec):
    from ..values import coerce_table

    if not book.has_table(spec):
        return None
    return coerce_table(spec, book.read_table(spec))


def _claims(book, notes: list[str]):
    try:
        return _table(book, CLAIMS)
    except InputError as exc:
        notes.append(f"Claims not linked ({exc})")
        return None


def _context(book, notes):
    from ..denials.deadlines import PayerDirectory
    from ..denials.decode import CodeTables
    from ..denials.log import ClaimIndex

    settings = book.settings()
    base = Path(book.path).parent
    tables = CodeTables.load(settings, base)
    payers = PayerDirectory(_table(book, PAYERS))
    return tables, payers, ClaimIndex(_claims(book, notes))


def _save(book: WritableBook) -> None:
    book.save()


def import_835_files(book: WritableBook, paths, as_of=None) -> ImportSummary:
    """Add the denials of each 835 file to the Denials table; rows already logged are skipped.

    A file that cannot be read (not an 835, a 4010 file, damaged) is refused with a one-line
    reason in ``summary.refused``; the other files are still imported.  The Denial Date is the
    remittance's payment date (BPR16), else its production date (DTM*405), else ``as_of`` or
    the file's modification date.
    """
    import pandas as pd

    from ..denials.log import KEY_COLUMN, DenialBuilder, format_denial_id, next_denial_number
    from ..denials.x12_835 import read_835

    if not book.has_table(DENIALS):
        raise InputError("no Denials sheet or tblDenials table in the workbook", file=book.path)
    summary = ImportSummary()
    tables, payers, claims = _context(book, summary.notes)
    builder = DenialBuilder(tables, payers, claims)
    existing = book.read_table(DENIALS)
    key_col = next((c for c in existing.columns if str(c).strip().casefold() == KEY_COLUMN.casefold()), None)
    seen = set(existing[key_col].dropna().astype(str)) if key_col else set()
    id_col = next((c for c in existing.columns if str(c).strip().casefold() == "denial id"), None)
    number = next_denial_number(existing[id_col] if id_col else [])
    new_rows = []
    for path in paths:
        path = Path(path)
        summary.files += 1
        try:
            remits = read_835(path)
        except MednecError as exc:
            summary.refused.append(str(exc))
            continue
        file_date = dt.date.fromtimestamp(path.stat().st_mtime)
        file_keys: set[str] = set()
        rows = builder.rows(remits, source=path.name, file_date=as_of or file_date, counts=summary)
        in_file: dict[str, int] = {}
        for row in rows:
            # Identical keys inside one file are distinct denials (masked or sloppy payer data):
            # number them in file order, which a re-import of the same file repeats.
            key = row[KEY_COLUMN]
            in_file[key] = in_file.get(key, 0) + 1
            if in_file[key] > 1:
                row[KEY_COLUMN] = key = f"{key}#{in_file[key]}"
            if key in seen:
                summary.already_logged += 1
                continue
            file_keys.add(key)
            row["Denial ID"] = format_denial_id(number)
            number += 1
            new_rows.append(row)
        seen |= file_keys
    if new_rows:
        columns = [h for h in DENIALS.headers if h in new_rows[0]] + [KEY_COLUMN]
        columns.insert(0, columns.pop(columns.index("Denial ID")))
        book.append_rows(DENIALS, pd.DataFrame(new_rows, columns=columns))
        _save(book)
    summary.added = len(new_rows)
    return summary


@dataclass
class RefreshSummary:
    rows: int = 0
    cells_filled: int = 0

    def __str__(self) -> str:
        return f"{self.cells_filled} blank cell{'s' if self.cells_filled != 1 else ''} filled in {self.rows} denial rows."


def refresh_denials(book: WritableBook) -> RefreshSummary:
    """Fill Reason, Category, Root Cause, Appeal Deadline (and a Denial ID, Status, Source,
    claim details) into BLANK cells of the Denials table — e.g. denials typed from paper EOBs.
    Nothing the biller typed is overwritten."""
    from ..denials.log import fill_blanks

    notes: list[str] = []
    tables, payers, claims = _context(book, notes)
    denials = _table(book, DENIALS)
    if denials is None:
        raise InputError("no Denials sheet or tblDenials table in the workbook", file=book.path)
    summary = RefreshSummary(rows=len(denials))
    if not len(denials):
        return summary
    fills = fill_blanks(denials, tables=tables, payers=payers, claims=claims)
    for column in fills.columns:
        col = fills[column].dropna()
        if len(col):
            book.write_columns(DENIALS, col.to_frame(column))
            summary.cells_filled += len(col)
    if summary.cells_filled:
        _save(book)
    return summary


def refresh_dashboard(book: WritableBook, as_of=None):
    """Recompute the KPIs and write them into the Dashboard sheet's fixed ranges (charts follow)."""
    from ..dashboard import write_dashboard
    from ..kpi import compute_kpis

    as_of = as_of or dt.date.today()
    denials = _table(book, DENIALS)
    claims = _table(book, CLAIMS)
    if claims is not None:
        from ..workbook.history import first_status

        first = first_status(book.path, claims)  # the clean-claim rate counts GREEN at first validation
        if first is not None and "First Status" not in claims.columns:
            claims = claims.assign(**{"First Status": first})
    settings = book.settings()
    kpis = compute_kpis(denials, claims, settings=settings, as_of=as_of)
    write_dashboard(book, kpis)
    _save(book)
    return kpis
