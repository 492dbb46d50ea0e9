"""``mednec denials import-835 | refresh`` and ``mednec dashboard``."""

from __future__ import annotations

import click

from . import iso_date, report_import

_WORKBOOK = click.option("--workbook", "-w", "workbook", required=True,
                         type=click.Path(dir_okay=False), help="The practice workbook (.xlsm/.xlsx).")


def _open(path):
    from ..workbook.fastxlsx import open_book

    return open_book(path)  # the fast in-place writer; openpyxl where it cannot


def _fallback(book) -> None:
    if getattr(book, "fallback_note", None):
        click.echo(f"Note: {book.fallback_note}")


@click.group()
def denials():
    """Work the denial log: import 835 remittance files, fill in hand-typed denials."""


@denials.command("import-835")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_WORKBOOK
def import_835(files, workbook):
    """Add the denials in one or more 835 remittance files (ERA) to the Denials table.

    Each denied service line becomes one row with the reason in plain English, the checklist
    item that would have prevented it, and the appeal deadline (Notes say which rule gave it).
    Importing the same file again adds nothing; a remittance repeated inside one file is read
    once. Paid claims, reversals and routine adjustments (deductible, coinsurance, contractual,
    sequestration, discounts ...) are not logged. A later remittance that pays a logged denial
    marks it Paid; one that denies an Appealed line again marks it Upheld.

    A file that is not a 5010 835, or is truncated or damaged, is refused whole (nothing added)
    with one line saying why; codes missing from the CARC table and payers missing from Payers
    are listed so you can add them.
    """
    from ..jobs.denials import import_835_files
    from ..workbook.lock import updating

    with updating(workbook):
        book = _open(workbook)
        summary = import_835_files(book, list(files))
    report_import(summary, (book.fallback_note,) if book.fallback_note else ())


@denials.command("refresh")
@_WORKBOOK
def refresh(workbook):
    """Fill Reason, Category, Root Cause and Appeal Deadline for denials you typed in by hand
    (paper EOBs). Only blank cells are filled; what you typed stays as it is."""
    from ..jobs.denials import refresh_denials
    from ..workbook.lock import updating

    with updating(workbook):
        book = _open(workbook)
        click.echo(str(refresh_denials(book)))
    _fallback(book)


@click.command("dashboard")
@_WORKBOOK
@click.option("--as-of", "as_of", callback=iso_date, metavar="YYYY-MM-DD",
              help="Count days left and weeks up to this date (default today).")
def dashboard(workbook, as_of):
    """Recompute the Dashboard sheet: denial rate by month, payer and procedure, top reasons,
    open appeals with days left, and how each figure compares with the practice's targets."""
    from ..jobs.denials import refresh_dashboard
    from ..workbook.lock import updating

    with updating(workbook):
        kpis = refresh_dashboard(_open(workbook), as_of=as_of)
    click.echo(kpis.summary_line())
