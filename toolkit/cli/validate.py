"""``mednec validate`` and ``mednec codeset``: thin layers over ``toolkit.jobs.validate``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import click

from ..errors import InputError

EXAMPLES = """
\b
Examples:
  mednec validate workbooks/medical_necessity.xlsm
  mednec validate claims.csv --rules rules.csv --payers payers.csv --report results.csv
  mednec validate claims.xlsx --report results.xlsx --as-of 2026-11-27
  mednec validate month.parquet --rules rules.csv --payers payers.csv --report results.parquet
  mednec validate month.parquet --rules rules.csv --payers payers.csv --report results.parquet --dask local
"""


def _as_of(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use the form YYYY-MM-DD, e.g. 2026-11-27") from None


@click.command(epilog=EXAMPLES)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rules table from another workbook or a CSV (instead of the workbook's own).")
@click.option("--payers", "payers_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Payers table from another workbook or a CSV (instead of the workbook's own).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results to this .csv, .parquet or .xlsx file and leave FILE untouched.")
@click.option("--as-of", callback=_as_of, metavar="YYYY-MM-DD",
              help="Treat this date as today (timely filing, future dates of service).")
@click.option("--codeset", "codeset_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An extra ICD-10-CM index (from 'mednec codeset build') for a newer fiscal year.")
@click.option("--ncci", "ncci_path", type=click.Path(dir_okay=False, path_type=Path),
              help="An NCCI index (from 'mednec codeset ncci-build'): also check code pairs billed "
                   "together (PTP) and units per code (MUE). Default: the Settings key 'NCCI Index'.")
@click.option("--chunk-lines", type=click.IntRange(min=1), metavar="N",
              help="A CSV or Parquet FILE with --report .csv/.parquet is read, checked and written N lines "
                   "at a time, whole claims together (default 150,000: about 1 GB of memory).")
@click.option("--dask", "dask", metavar="SCHEDULER",
              help="Run on a Dask cluster: its scheduler address (tcp://host:8786), or 'local' for the "
                   "cores of this machine. Needs --report and the scale extra (pip install \"mednec[scale]\").")
def validate(file, rules_path, payers_path, report, as_of, codeset_paths, ncci_path, chunk_lines, dask):
    """Check every claim line in FILE and mark it GREEN, AMBER or RED.

    FILE is the workbook (.xlsx/.xlsm) with the Claims, Rules and Payers sheets, or a Claims
    CSV exported from the practice-management system, or a Claims Parquet file (then give
    --rules and --payers).

    Without --report the Status, Finding Codes, Findings, Policy and Validated At columns of
    the Claims table are filled in place; nothing else in the file changes. Close the
    workbook in Excel first.

    A CSV or Parquet FILE of any size with a .csv or .parquet --report is checked in chunks of
    whole claims: the file should list each claim's lines together (as exports do); if it
    does not, validate stops and says so, and writes nothing.

    GREEN = ready to submit. AMBER = fix the documentation first. RED = will be denied as it
    stands. Each finding says what is wrong and what to do.
    """
    from ..jobs import validate as job

    with _ProgressBar() as progress:
        outcome = job.run_validate(job.ValidateRequest(
            file, report=report, rules_path=rules_path, payers_path=payers_path, as_of=as_of,
            codeset_paths=tuple(codeset_paths), ncci_path=ncci_path, chunk_lines=chunk_lines, dask=dask,
            progress=progress))
    click.echo(job.summary_text(outcome.validation, where=outcome.where))


class _ProgressBar:
    """A bar on the terminal (stderr) through the checks, or through the lines with lines per
    second when a file is streamed; nothing when output is not a terminal."""

    def __enter__(self):
        self.bar = None
        self.started = time.perf_counter()
        return self

    def __call__(self, done: int, total: int, unit: str = "checks") -> None:
        if self.bar is None and not click.get_text_stream("stderr").isatty():
            return
        if self.bar is None:
            show = None
            if unit == "lines":
                def show(_item):
                    rate = self.bar.pos / max(time.perf_counter() - self.started, 1e-9)
                    return f"{self.bar.pos:,} lines, {rate:,.0f} lines/s"
            self.bar = click.progressbar(length=total, label="Checking claim lines", item_show_func=show,
                                         file=click.get_text_stream("stderr"))
            self.bar.__enter__()
        if total > self.bar.length:  # an estimate (CSV size) that fell short
            self.bar.length = total
        self.bar.update(done - self.bar.pos, current_item=done)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
            click.echo(err=True)
        return False


@click.group()
def codeset():
    """ICD-10-CM code sets: show which are in use, or add a newer fiscal year; build the NCCI edit index."""


@codeset.command("list")
@click.option("--codeset", "codeset_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path))
def codeset_list(codeset_paths):
    """List the ICD-10-CM releases Validate will use, oldest first."""
    from ..codesets.icd10cm import CodeSets

    for s in CodeSets.default(list(codeset_paths)).sets:
        eff = s.effective_from.isoformat() if s.effective_from else "always"
        click.echo(f"{s.label}  (from {eff})  {s.path}")


@codeset.command("build")
@click.argument("order_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--effective-from", required=True, callback=_as_of, metavar="YYYY-MM-DD",
              help="First date of service the release applies to, e.g. 2026-10-01 for FY2027.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the index (.sqlite). Point Validate to it with --codeset, the "
                   "Settings key 'ICD-10-CM Index' or $MEDNEC_ICD10CM_INDEX.")
@click.option("--label", help="Name shown in reports, e.g. 'ICD-10-CM FY2027'.")
def codeset_build(order_file, effective_from, out, label):
    """Build an index from a CMS ICD-10-CM order file (icd10cm_order_YYYY.txt)."""
    from ..codesets.build_icd10cm import build_from_order_file

    path = build_from_order_file(order_file, out, effective_from=effective_from.isoformat(), label=label)
    click.echo(f"Wrote {path}")


@codeset.command("ncci-build")
@click.argument("ptp_files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mue", "mue_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The CMS practitioner MUE file (MCR_MUE_PractitionerServices_Eff_....xlsx or .csv).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the index (.sqlite). Point Validate to it with --ncci or the "
                   "Settings key 'NCCI Index'.")
@click.option("--label", help="Name shown in reports, e.g. 'NCCI 2026 Q4'.")
def codeset_ncci_build(ptp_files, mue_file, out, label):
    """Build the NCCI edit index from the CMS quarterly files.

    PTP_FILES are the practitioner PTP files ccipra-v...-f1 to -f4 (.xlsx or .txt) from the CMS
    "Medicare NCCI Procedure to Procedure (PTP) Edits" page; --mue is the practitioner MUE file.
    Build it again each quarter when CMS publishes new files.
    """
    from ..codesets.build_ncci import build_ncci_index
    from ..codesets.ncci import NcciEdits

    if not ptp_files and mue_file is None:
        raise InputError("give the PTP files (ccipra-...-f1 to -f4) and/or --mue FILE")
    path = build_ncci_index(list(ptp_files), out, mue_file=mue_file, label=label)
    edits = NcciEdits.open(path)
    counts = edits.counts()
    click.echo(f"Wrote {path}: {edits.label}, {counts['ptp']:,} PTP edits, {counts['mue']:,} MUE values")
