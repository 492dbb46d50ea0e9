"""``mednec appeal``, ``checklists``, ``prior-auth``, ``soap-templates``: Word documents from the workbook."""

from __future__ import annotations

from pathlib import Path

import click

_WORKBOOK = click.option("--workbook", "workbook", required=True, type=click.Path(dir_okay=False, path_type=Path),
                         help="The mednec workbook (.xlsm or .xlsx) with the Denials, Claims, Rules, Payers and "
                              "Settings sheets.")
_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                    help="Folder for the documents. Default: the Output Folder in Settings, else a Documents "
                         "folder next to the workbook.")


def _open(workbook: Path, writable: bool = False):
    from ..workbook.files import WorkbookFile

    return WorkbookFile(workbook, writable=writable)


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
              help="Also set the denial's Status to Appealed in the workbook (close the workbook in Excel first).")
def appeal(workbook, denial_id, all_open, out_dir, mark_appealed):
    """Write the appeal letter (Word) for a denial and print where it is.

    The letter takes the practice letterhead and signer from Settings, the payer's address from
    Payers, and argues the claim against the payer's policy from Rules, criterion by criterion.
    Check it, print it on letterhead, sign it, and add the enclosures it lists.

    Example: mednec appeal --workbook denials.xlsm --denial D-000123
    """
    from ..jobs.documents import appeal_letter, appeal_letters_all_open

    if bool(denial_id) == bool(all_open):
        raise click.UsageError("give either --denial ID or --all-open")
    from contextlib import nullcontext

    from ..workbook.lock import updating

    with updating(workbook) if mark_appealed else nullcontext():
        book = _open(workbook, writable=mark_appealed)
        if all_open:
            _print(appeal_letters_all_open(book, out_dir, mark_appealed=mark_appealed),
                   "No open denials: nothing to write.")
        else:
            _print([appeal_letter(book, denial_id, out_dir, mark_appealed=mark_appealed)], "")


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
