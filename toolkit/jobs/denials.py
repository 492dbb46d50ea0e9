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

from ..collector import collector_paused
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
    resolved_paid: int = 0
    resolved_upheld: int = 0
    refused: list[str] = field(default_factory=list)  # one line per refused file
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        s = lambda n: "s" if n != 1 else ""  # noqa: E731
        text = (f"{self.added} denial{s(self.added)} added from {self.files} file{s(self.files)} ({self.claims} "
                f"claims: {self.paid_claims} paid without denial, {self.reversals} reversal{s(self.reversals)} "
                f"skipped; {self.already_logged} already in the log).")
        if self.repeated_sets:
            text += (f" {self.repeated_sets} repeated transmission{s(self.repeated_sets)} of the same remittance "
                     "read once.")
        if self.resolved_paid or self.resolved_upheld:
            text += (f" Closed from later remittances: {self.resolved_paid} Paid, {self.resolved_upheld} "
                     "Upheld.")
        return text

    def advice(self) -> list[str]:
        """Lines the biller should act on: unknown codes, payers the Payers table does not know."""
        out = []
        if self.unknown_codes:
            codes = ", ".join(f"{c} ({n})" for c, n in sorted(self.unknown_codes.items()))
            out.append(f"codes not in the CARC table: {codes}: logged as denials only where the line paid nothing; "
                       "add them (with a Denial flag) to the CARC table")
        for name, pid in sorted(self.unmapped_payers.items()):
            out.append(f"payer {name!r}" + (f" (payer ID {pid})" if pid else "") + " is not in Payers: add it, or "
                       "an Also Known As, to Payers so deadlines and letters work")
        return out


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


@collector_paused()
def import_835_files(book: WritableBook, paths, as_of=None) -> ImportSummary:
    """Add the denials of each 835 file to the Denials table; rows already logged are skipped, and
    logged denials that a later remittance pays (or denies again after an appeal) are closed.

    A file that cannot be read whole (not an 835, a 4010 file, truncated, damaged) is refused with
    a one-line reason in ``summary.refused`` and adds nothing; the other files are still imported.
    The Denial Date is the remittance's production date (DTM*405), else its payment date (BPR16),
    else ``as_of`` or the file's modification date.
    """
    from ..denials.log import KEY_COLUMN, format_denial_id, next_denial_number

    if not book.has_table(DENIALS):
        raise InputError("no Denials sheet or tblDenials table in the workbook", file=book.path)
    summary = ImportSummary()
    existing = book.read_table(DENIALS)
    key_col = next((c for c in existing.columns if str(c).strip().casefold() == KEY_COLUMN.casefold()), None)
    id_col = next((c for c in existing.columns if str(c).strip().casefold() == "denial id"), None)
    builder = _builder(book, summary, existing)
    new_rows = _read_files(builder, paths, existing, key_col, as_of, summary)
    resolution = _resolve(existing, builder, new_rows, key_col)
    new_rows = [r for r in new_rows if r[KEY_COLUMN] not in resolution.absorbed]
    number = next_denial_number(existing[id_col] if id_col else [])
    for row in new_rows:
        row["Denial ID"] = format_denial_id(number)
        number += 1
    _write(book, new_rows, resolution, key_col)
    summary.added = len(new_rows)
    summary.resolved_paid, summary.resolved_upheld = resolution.paid, resolution.upheld
    summary.notes.extend(summary.advice())
    return summary


def _builder(book, summary: ImportSummary, existing):
    from ..denials.log import DenialBuilder

    tables, payers, claims = _context(book, summary.notes)
    watch = set(existing["Claim ID"].dropna().astype(str).str.strip()) if "Claim ID" in existing.columns else set()
    return DenialBuilder(tables, payers, claims, watch=watch)


def _read_files(builder, paths, existing, key_col, as_of, summary: ImportSummary) -> list[dict]:
    """Rows of every file, all-or-nothing per file (a file refused half-way adds nothing)."""
    from ..denials.log import KEY_COLUMN, ImportCounts, logged_keys
    from ..denials.x12_835 import iter_835_claims

    seen = logged_keys(existing[key_col]) if key_col else set()
    new_rows: list[dict] = []
    for path in paths:
        path = Path(path)
        summary.files += 1
        counts, notes, payments_before = ImportCounts(), list[str](), len(builder.payments)
        try:
            file_date = as_of or dt.date.fromtimestamp(path.stat().st_mtime)
            rows = builder.stream_rows(iter_835_claims(path, file=path, notes=notes), source=path.name,
                                       file_date=file_date, counts=counts)
        except OSError as exc:
            summary.refused.append(str(InputError(f"cannot read the file ({exc.strerror})", file=path)))
            continue
        except MednecError as exc:
            summary.refused.append(str(exc))
            del builder.payments[payments_before:]
            continue
        _add_counts(summary, counts)
        summary.notes.extend(notes)
        in_file: dict[str, int] = {}
        for row in rows:
            # Identical keys inside one file (not a repeated transmission: those are read once) are
            # distinct denials of masked or sloppy payer data: number them in file order.
            key = row[KEY_COLUMN]
            in_file[key] = in_file.get(key, 0) + 1
            if in_file[key] > 1:
                row[KEY_COLUMN] = key = f"{key}#{in_file[key]}"
            if key in seen:
                summary.already_logged += 1
                continue
            new_rows.append(row)
        seen |= {row[KEY_COLUMN] for row in rows}
    return new_rows


def _add_counts(summary: ImportSummary, counts) -> None:
    for name in ("claims", "paid_claims", "reversals", "denial_rows", "remittances", "repeated_sets"):
        setattr(summary, name, getattr(summary, name) + getattr(counts, name))
    summary.unknown_codes.update(counts.unknown_codes)
    for name, pid in counts.unmapped_payers.items():
        summary.unmapped_payers.setdefault(name, pid)


def _resolve(existing, builder, new_rows, key_col):
    from ..denials.log import resolve

    return resolve(existing, builder.payments, new_rows, key_col)


def _write(book, new_rows: list[dict], resolution, key_col) -> None:
    import pandas as pd

    from ..denials.log import KEY_COLUMN

    changed = False
    if resolution.updates:
        rows = sorted(resolution.updates)
        for column in ("Status", "Resolved Date", "Outcome"):
            book.write_columns(DENIALS, pd.DataFrame({column: [resolution.updates[r][column] for r in rows]},
                                                     index=rows))
        upheld = [r for r in rows if "_key" in resolution.updates[r]]
        if upheld and key_col:
            book.write_columns(DENIALS, pd.DataFrame({key_col: [resolution.updates[r]["_key"] for r in upheld]},
                                                     index=upheld))
        changed = True
    if new_rows:
        columns = [h for h in DENIALS.headers if h in new_rows[0]] + [KEY_COLUMN]
        columns.insert(0, columns.pop(columns.index("Denial ID")))
        book.append_rows(DENIALS, pd.DataFrame(new_rows, columns=columns))
        changed = True
    if changed:
        _save(book)


@dataclass
class RefreshSummary:
    rows: int = 0
    cells_filled: int = 0

    def __str__(self) -> str:
        return (f"{self.cells_filled} blank cell{'s' if self.cells_filled != 1 else ''} filled in {self.rows} "
                "denial rows.")


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
