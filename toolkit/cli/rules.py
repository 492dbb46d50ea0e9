"""``mednec rules import-mcd`` and ``mednec rules suggest``: thin layers over ``toolkit.jobs.rules``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from . import iso_date

EXAMPLES = """
\b
Examples:
  mednec rules import-mcd current_article.zip --article A58745 --payer Medicare --workbook my.xlsm
  mednec rules import-mcd current_article_csv --article A58745 --payer Medicare --out rules.csv --cpt 62323
  mednec rules import-mcd current_article.zip --article A58745 --payer Medicare --workbook my.xlsm \\
      --group-map 1:1,2 --group-map 2:3 --replace
"""


@click.group()
def rules():
    """Fill the Rules sheet (the payer-specific medical-necessity matrix) from published policies."""


def _codes(values) -> list[str]:
    return [c.strip() for v in values for c in str(v).replace(";", ",").split(",") if c.strip()]


@rules.command("import-mcd", epilog=EXAMPLES)
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--article", required=True, metavar="A12345",
              help="The billing-and-coding article, e.g. A58745 (as shown on the CMS website).")
@click.option("--payer", required=True, help="The payer name exactly as in your Payers sheet, e.g. Medicare.")
@click.option("--workbook", "-w", type=click.Path(dir_okay=False, path_type=Path),
              help="Add the rules to this workbook's Rules table (close it in Excel first).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write (or add to) a Rules CSV instead of a workbook.")
@click.option("--cpt", "cpts", multiple=True, metavar="CODE",
              help="Only these CPT/HCPCS codes of the article (repeat, or separate with commas).")
@click.option("--group-map", "group_map", multiple=True, metavar="SPEC",
              help="Which ICD-10 groups support which code group, e.g. 1:1,2 = codes of group 1 are covered "
                   "by ICD-10 groups 1 and 2. Repeat for each code group. Default: all groups for all codes.")
@click.option("--replace", is_flag=True,
              help="Rules already imported from this article get the new Covered Dx and dates "
                   "(your own criteria columns stay as they are).")
def import_mcd(source, article, payer, workbook, out, cpts, group_map, replace):
    """Load the covered diagnoses of a CMS Medicare Coverage Database article into Rules.

    SOURCE is the 'Current Articles' CSV download from the CMS Medicare Coverage Database
    (the zip as downloaded, or the folder you unzipped it to).

    One rule is added per CPT/HCPCS code of the article, with its covered ICD-10 codes, the
    Policy (LCD and article numbers) and the article's effective dates. Description and the
    other criteria (therapy weeks, imaging, prior auth, ...) are left blank for you to fill.
    Codes marked in the article as needing a second (dual) diagnosis are listed in Notes.
    A rule already in the table for the same payer, code and Policy is not added twice.

    The article's code groups are printed with the first line of their paragraphs: when the
    article says which diagnosis group goes with which procedure group, use --group-map.
    """
    from ..jobs.rules import CsvRules, import_mcd_rules

    if bool(workbook) == bool(out):
        raise InputError("give either --workbook WB or --out rules.csv (one of them)")
    from ..workbook.lock import refuse_overwriting_input, updating

    refuse_overwriting_input(workbook or out, [source])
    with updating(workbook or out):
        if workbook:
            from ..workbook.files import WorkbookFile

            book = WorkbookFile(workbook)
        else:
            book = CsvRules(out)
        summary = import_mcd_rules(book, source, article=article, payer=payer, cpts=_codes(cpts),
                                   group_map=list(group_map), replace=replace)
    click.echo(str(summary))


SUGGEST_EXAMPLES = """
\b
Examples:
  mednec rules suggest --workbook my.xlsm
  mednec rules suggest --workbook my.xlsm --out suggestions.csv --as-of 2026-11-27
"""


@rules.command("suggest", epilog=SUGGEST_EXAMPLES)
@click.option("--workbook", "-w", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The workbook with the Denials, Rules and Claims sheets (close it in Excel first).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the suggestions to this CSV file instead of the workbook's Rule Suggestions sheet.")
@click.option("--as-of", callback=iso_date, metavar="YYYY-MM-DD",
              help="Look at the denials of the months before this date (default: today).")
def suggest(workbook, out, as_of):
    """Propose changes to Rules from clusters of your own denials.

    Each suggestion names the payer, the code, the Rules column, its current and proposed
    value, and the evidence: how many denials, which ones (Denial IDs), the dollars and the
    dates. Kinds: take a diagnosis out of Covered Dx (repeated CO-50/N115 on a covered code),
    Prior Auth Required = Y (CO-197/CO-15), Laterality Required = Y (CO-4 without RT/LT/50),
    Max Units (CO-151/N362) and Min Therapy Weeks (CO-50 on lines with too few weeks).

    The suggestions go to the Rule Suggestions sheet (or --out); Rules itself is never
    changed: check the payer's policy and copy a change yourself. Settings 'Denial History
    Min' (default 2) and 'Denial History Months' (default 12) set how many denials, over how
    long, make a cluster.
    """
    from contextlib import nullcontext

    from ..jobs.rules import suggest_rule_changes
    from ..workbook.files import WorkbookFile
    from ..workbook.lock import refuse_overwriting_input, updating

    if not workbook.exists():
        raise InputError("file not found", file=workbook)
    refuse_overwriting_input(out, [workbook])
    # Writing the Rule Suggestions sheet replaces the workbook: hold its lock from read to replace.
    with updating(workbook) if out is None else nullcontext():
        book = WorkbookFile(workbook, writable=out is None)
        click.echo(str(suggest_rule_changes(book, out=out, as_of=as_of)))

