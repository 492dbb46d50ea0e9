"""``mednec digest`` and ``mednec scheduler``: the monthly e-mail, and the jobs on a timetable."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import MednecError

_WORKBOOK = click.option("--workbook", "workbook", required=True, metavar="WB",
                         type=click.Path(dir_okay=False, path_type=Path),
                         help="The practice workbook (.xlsm/.xlsx) with the Denials and Claims sheets.")


@click.command()
@_WORKBOOK
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to report on, e.g. 2026-03.")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for the e-mail file (default: Settings' Outbox Folder, else 'outbox' beside the workbook).")
@click.option("--send", is_flag=True,
              help="Send it by e-mail now (SMTP settings from the Settings sheet; password from "
                   "MEDNEC_SMTP_PASSWORD or the system keyring). Without it, an .eml file you can open in Outlook.")
def digest(workbook, month, outbox, send):
    """Build the monthly "Did you know?" e-mail for the team.

    It tells the month's top denial reason and what to do about it, the denial trend (chart),
    how many appeals are due in the next 14 days, and the Denial-Free Weeks. Counts and codes
    only: no patient information is ever put in the e-mail.

    Example: mednec digest --workbook Practice.xlsm --month 2026-03
    """
    from ..jobs.digest import ReadOnlyBook, build_digest

    result = build_digest(ReadOnlyBook(workbook), month, outbox, send=send)
    click.echo(result.summary)
    for path in result.also_sent:
        click.echo(f"Also sent an e-mail that was waiting: {path.name}")
    if result.sent:
        click.echo(f"Sent; a copy is in {result.path}")
    elif send and result.path.parent.name == "failed":
        raise MednecError(f"{result.error}. The e-mail was not sent; it is kept in {result.path.parent}. "
                          "Check Digest Recipients in the Settings sheet.")
    elif send:
        raise MednecError(f"{result.error}. The e-mail is queued in {result.path.parent} and goes out on the "
                          "next run with --send (or the scheduler's next check).")
    else:
        click.echo(f"Saved {result.path} (open it in Outlook to review and send).")


@click.command()
@_WORKBOOK
@click.option("--once", is_flag=True,
              help="Run whatever is due (or was missed while the computer was off) and exit: for cron, "
                   "Windows Task Scheduler or a logon script.")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Where to remember which jobs ran (default: .WORKBOOK.scheduler.json beside the workbook).")
@click.option("--outbox", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for e-mails (default: Settings' Outbox Folder, else 'outbox' beside the workbook).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for the quarterly policy-huddle pack (default: Settings' Output Folder).")
def scheduler(workbook, once, state, outbox, out_dir):
    """Run the recurring jobs until stopped (Ctrl+C).

    \b
    - monthly digest e-mail: first business day of the month, 08:00
    - quarterly policy-huddle pack (.docx): first business day of the quarter, 08:00
    - appeal-deadline reminder to the billing manager: every business day, 08:00

    A job missed while the computer was off runs once when it is back; no job ever runs twice.
    E-mails are sent when an SMTP Host is in Settings, otherwise saved to the outbox.
    """
    from ..scheduler import Scheduler

    if not workbook.exists():
        raise MednecError(f"{workbook.name}: file not found")
    runner = Scheduler(workbook, state, outbox=outbox, out_dir=out_dir, log=click.echo)
    if once:
        ran = runner.run_due()
        click.echo(f"{len(ran)} job{'s' if len(ran) != 1 else ''} run." if ran else "Nothing due.")
        return
    click.echo(f"Scheduler running for {workbook.name}; press Ctrl+C to stop.")
    runner.run_forever()
    click.echo("Scheduler stopped.")


@click.command()
@_WORKBOOK
@click.option("--quarter", required=True, metavar="YYYYQn",
              help="The quarter the huddle looks back on, e.g. 2026Q4 (rule changes in it and in the next one).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for the pack (default: Settings' Output Folder, else 'Documents' beside the workbook).")
def huddle(workbook, quarter, out_dir):
    """Write the quarterly policy-huddle pack (.docx) now, without waiting for the scheduler.

    It lists the payer rules whose dates fall in the quarter and the next one, the top root
    causes of denials with their corrective action, open denials per owner, and the decisions
    to make. Counts and codes only, no patient information.

    Example: mednec huddle --workbook Practice.xlsm --quarter 2026Q4
    """
    from ..jobs.digest import ReadOnlyBook, huddle_pack

    if not workbook.exists():
        raise MednecError(f"{workbook.name}: file not found")
    path = huddle_pack(ReadOnlyBook(workbook), quarter, out_dir)
    click.echo(f"Wrote {path}")
