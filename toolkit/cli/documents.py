"""``mednec appeal``, ``checklists``, ``prior-auth``, ``soap-templates``: Word documents from the workbook."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import iso_date

_WORKBOOK = click.option("--workbook", "workbook", required=True, type=click.Path(dir_okay=False, path_type=Path),
                         help="The mednec workbook (.xlsm or .xlsx) with the Denials, Claims, Rules, Payers and "
                              "Settings sheets.")
_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                    help="Folder for the documents. Default: the Output Folder in Settings, else a Documents "
                         "folder next to the workbook.")


def _open(workbook: Path, writable: bool = False):
    from ..workbook.fastxlsx import open_book

    return open_book(workbook, writable=writable)  # calamine reads; Status cells written in place


def _print(paths, none_message: str) -> None:
    if not paths:
        click.echo(none_message)
    for p in paths:
        click.echo(str(p))


@click.command()
@_WORKBOOK
@click.option("--denial", "denial_id", metavar="ID", help="The Denial ID to appeal, e.g. D-000123.")
@click.option("--all-open", is_flag=True, help="Write a letter for every denial whose Status is Open.")
@_OUT
@click.option("--mark-appealed", is_flag=True,
              help="Also set the Status to Appealed, but only for letters that need nothing more from you (no "
                   "[...] to fill in, no [not on file], no unmet criterion). Close the workbook in Excel first.")
@click.option("--as-of", "as_of", callback=iso_date, metavar="YYYY-MM-DD",
              help="Date the letters and count deadlines to this day (default today).")
def appeal(workbook, denial_id, all_open, out_dir, mark_appealed, as_of):
    """Write the appeal letter (Word) for a denial and print where it is.

    The letter takes the practice letterhead and signer from Settings, the payer's address from
    Payers, and argues the claim against the payer's policy from Rules, criterion by criterion.
    A coding denial gets a reopening or corrected-claim letter only once the Claims line is
    correct; Medicare timely filing and a patient liable under a signed ABN get no letter, just
    one line saying what to do. Letters that still hold a [...] placeholder or [not on file],
    or whose policy criteria are not all met, are listed as needing your input.
    Check each letter, print it on letterhead, sign it, and add the enclosures it lists.

    Example: mednec appeal --workbook denials.xlsm --denial D-000123
    """
    from contextlib import nullcontext

    from ..jobs.documents import appeal_batch
    from ..workbook.lock import updating

    if bool(denial_id) == bool(all_open):
        raise click.UsageError("give either --denial ID or --all-open")

    # Marking Appealed writes the workbook: hold its lock from the read to the replace.
    with updating(workbook) if mark_appealed else nullcontext():
        book = _open(workbook, writable=mark_appealed)
        batch = appeal_batch(book, None if all_open else [denial_id], out_dir, mark_appealed=mark_appealed,
                             today=as_of)
    if all_open and not batch.letters and not batch.no_letter:
        click.echo("No open denials: nothing to write.")
    for w in batch.letters:
        click.echo(str(w.path))
    for w in batch.letters:
        if w.needs:
            click.echo(f"Needs your input: {w.denial_id}: " + "; ".join(w.needs))
        if w.warnings:
            click.echo(f"Warning: {w.denial_id}: criteria not met, weigh before sending: " + "; ".join(w.warnings))
    for line in batch.no_letter:
        click.echo(f"No letter: {line}")
    if mark_appealed:
        held = [w.denial_id for w in batch.letters if not w.ready]
        click.echo(f"Marked Appealed: {', '.join(batch.marked) or 'none'}"
                   + (f" (not marked, they need your input first: {', '.join(held)})" if held else ""))
    if not all_open and batch.no_letter:
        sys.exit(1)


@click.command()
@_WORKBOOK
@click.option("--payer", help="Only the rules of this payer (name as in Payers).")
@click.option("--cpt", help="Only the rules for this CPT/HCPCS code.")
@_OUT
def checklists(workbook, payer, cpt, out_dir):
    """Write a medical-necessity checklist (Word) for each rule: covered diagnoses with their
    descriptions, therapy weeks, imaging, prior auth, laterality and the policy, with tick boxes.

    Example: mednec checklists --workbook rules.xlsm --payer "Medicare Part B"
    """
    from ..jobs.documents import build_checklists

    _print(build_checklists(_open(workbook), out_dir, payer=payer, cpt=cpt), "")


@click.command("prior-auth")
@_WORKBOOK
@_OUT
def prior_auth(workbook, out_dir):
    """Write a prior-authorization request (Word) for each claim line whose payer rule requires
    authorization and that has no Prior Auth Number yet.

    Example: mednec prior-auth --workbook claims.xlsm
    """
    from ..jobs.documents import prior_auth_requests

    _print(prior_auth_requests(_open(workbook), out_dir),
           "No claim line needs a prior-authorization request.")


@click.command("soap-templates")
@_WORKBOOK
@_OUT
def soap_templates(workbook, out_dir):
    """Write a SOAP note template (Word) per procedure for the providers, prompting for every
    point the payers' rules need (therapy, imaging, side, authorization, diagnosis).

    Example: mednec soap-templates --workbook rules.xlsm --out templates/
    """
    from ..jobs.documents import soap_templates as job

    _print(job(_open(workbook), out_dir), "")
