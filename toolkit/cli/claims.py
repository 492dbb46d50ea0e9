"""``mednec claims import-837`` and ``mednec scrub``: thin layers over ``toolkit.jobs.claims``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from . import iso_date, report_import

SCRUB_EXAMPLES = """
\b
Examples:
  mednec scrub batch.837 --ready READY.837 --held HELD.837 --workbook medical_necessity.xlsm
  mednec scrub batch.837 --ready READY.837 --held HELD.837 --rules rules.csv --payers payers.csv \\
      --report scrub.xlsx
"""


@click.group()
def claims():
    """Claim lines: read the 837P batch your practice-management system writes into Claims."""


@claims.command("import-837")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--workbook", "-w", "workbook", required=True, type=click.Path(dir_okay=False),
              help="The practice workbook (.xlsm/.xlsx).")
def import_837(files, workbook):
    """Add every service line of one or more 837P claim files (005010X222A1) to the Claims table.

    Each line becomes one row: Claim ID, Line, patient, payer, date of service, CPT/HCPCS,
    modifiers, units, charge, diagnoses (in the line's pointer order), prior auth and rendering
    provider. Importing the same file again adds nothing; a line already in Claims is updated
    only in these columns, never in what you typed (therapy, imaging, notes, ABN). A file that
    cannot be read is named with the reason; the other files are still imported. Close the
    workbook in Excel first.
    """
    from ..jobs.claims import import_837_files
    from ..workbook.files import WorkbookFile
    from ..workbook.lock import refuse_overwriting_input, updating

    refuse_overwriting_input(workbook, [Path(f) for f in files])
    with updating(workbook):  # from the read to the replace: no other command's update is lost
        summary = import_837_files(WorkbookFile(workbook), [Path(f) for f in files])
    report_import(summary)



@click.command("scrub", epilog=SCRUB_EXAMPLES)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--ready", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the claims that may go out now here (upload it to your clearinghouse).")
@click.option("--held", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the claims held back (any RED line) here.")
@click.option("--workbook", "-w", type=click.Path(dir_okay=False, path_type=Path),
              help="Take Rules, Payers and what you typed in Claims (therapy, imaging, ABN, …) from this workbook.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rules table from a workbook or a CSV (instead of the workbook's).")
@click.option("--payers", "payers_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Payers table from a workbook or a CSV (instead of the workbook's).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write one row per service line with its status and findings (.csv or .xlsx).")
@click.option("--as-of", callback=iso_date, metavar="YYYY-MM-DD", help="Treat this date as today.")
@click.option("--codeset", "codeset_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An extra ICD-10-CM index (from 'mednec codeset build').")
@click.option("--ncci", "ncci_path", type=click.Path(dir_okay=False, path_type=Path),
              help="An NCCI index (from 'mednec codeset ncci-build') for the PTP and MUE checks.")
def scrub(file, ready, held, workbook, rules_path, payers_path, report, as_of, codeset_paths, ncci_path):
    """Split an 837P claim batch into claims ready to send and claims held back.

    Every service line of FILE is checked like a Claims row. A claim with any RED line goes to
    --held; every other claim goes to --ready. Both are valid 837P files (005010X222A1): the
    envelopes and counts are recomputed, every other segment is exactly as received, so READY
    can be uploaded to the clearinghouse at once. The summary says how many claims and dollars
    were held and why. Nothing is written when FILE cannot be read.
    """
    from ..jobs.claims import scrub_file
    from ..jobs.validate import read_override
    from ..tables import PAYERS, RULES

    if not file.exists():
        raise InputError("file not found", file=file)
    rules_path = rules_path or workbook
    payers_path = payers_path or workbook
    if rules_path is None or payers_path is None:
        missing = " and ".join(o for o, p in (("--rules", rules_path), ("--payers", payers_path)) if p is None)
        raise InputError(f"give --workbook, or {missing}", file=file)
    summary = scrub_file(file, ready, held, rules=read_override(rules_path, RULES),
                         payers=read_override(payers_path, PAYERS), workbook=workbook, report=report,
                         as_of=as_of, codeset_paths=list(codeset_paths), ncci_path=ncci_path)
    click.echo(str(summary))
