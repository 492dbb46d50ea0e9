"""``mednec denials import-835 | refresh`` and ``mednec dashboard``."""

from __future__ import annotations

import datetime as dt
import sys

import click

from ..errors import InputError

_WORKBOOK = click.option("--workbook", "-w", "workbook", required=True,
                         type=click.Path(dir_okay=False), help="The practice workbook (.xlsm/.xlsx).")


def _as_of(value):
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of '{value}' is not a date like 2026-03-31") from None


def _open(path):
    from ..workbook.files import WorkbookFile

    return WorkbookFile(path)


@click.group()
def denials():
    """Work the denial log: import 835 remittance files, fill in hand-typed denials."""


@denials.command("import-835")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_WORKBOOK
def import_835(files, workbook):
    """Add the denials in one or more 835 remittance files (ERA) to the Denials table.

    Each denied service line becomes one row with the reason in plain English, the checklist
    item that would have prevented it, and the appeal deadline. Importing the same file again
    adds nothing. Paid claims and reversals are not logged.
    """
    from ..jobs.denials import import_835_files
    from ..workbook.lock import updating

    with updating(workbook):
        summary = import_835_files(_open(workbook), list(files))
    click.echo(str(summary))
    for note in summary.notes:
        click.echo(f"Note: {note}")
    for line in summary.refused:
        click.echo(f"Refused: {line}", err=True)
    if summary.refused:
        sys.exit(2)


@denials.command("refresh")
@_WORKBOOK
def refresh(workbook):
    """Fill Reason, Category, Root Cause and Appeal Deadline for denials you typed in by hand
    (paper EOBs). Only blank cells are filled; what you typed stays as it is."""
    from ..jobs.denials import refresh_denials
    from ..workbook.lock import updating

    with updating(workbook):
        click.echo(str(refresh_denials(_open(workbook))))


@click.command("dashboard")
@_WORKBOOK
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Count days left and weeks up to this date (default today).")
def dashboard(workbook, as_of):
    """Recompute the Dashboard sheet: denial rate by month, payer and procedure, top reasons,
    open appeals with days left, and how each figure compares with the practice's targets."""
    from ..jobs.denials import refresh_dashboard
    from ..workbook.lock import updating

    with updating(workbook):
        kpis = refresh_dashboard(_open(workbook), as_of=_as_of(as_of))
    click.echo(kpis.summary_line())
