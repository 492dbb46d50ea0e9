"""``mednec validate`` and ``mednec codeset``: thin layers over ``toolkit.jobs.validate``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..errors import InputError
from . import iso_date

EXAMPLES = """
\b
Examples:
  mednec validate workbooks/medical_necessity.xlsm
  mednec validate claims.csv --rules rules.csv --payers payers.csv --report results.csv
  mednec validate claims.xlsx --report results.xlsx --as-of 2026-11-27
  mednec validate month.parquet --rules rules.csv --payers payers.csv --report results.parquet
  mednec validate month.parquet --rules rules.csv --payers payers.csv --report results.parquet --dask local
  mednec validate claims.csv --rules rules.csv --payers payers.csv --denials denials.csv
  mednec validate batch.837 --workbook workbooks/medical_necessity.xlsm --report batch-results.csv
"""



@click.command(epilog=EXAMPLES)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rules table from another workbook or a CSV (instead of the workbook's own).")
@click.option("--payers", "payers_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Payers table from another workbook or a CSV (instead of the workbook's own).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results to this .csv, .parquet or .xlsx file and leave FILE untouched.")
@click.option("--workbook", "-w", type=click.Path(dir_okay=False, path_type=Path),
              help="For an 837P batch: take Rules, Payers and what you typed in Claims from this workbook.")
@click.option("--as-of", callback=iso_date, metavar="YYYY-MM-DD",
              help="Treat this date as today (timely filing, future dates of service).")
@click.option("--codeset", "codeset_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="An extra ICD-10-CM index (from 'mednec codeset build') for a newer fiscal year.")
@click.option("--ncci", "ncci_path", type=click.Path(dir_okay=False, path_type=Path),
              help="An NCCI index (from 'mednec codeset ncci-build'): also check code pairs billed "
                   "together (PTP) and units per code (MUE). Default: the Settings key 'NCCI Index'.")
@click.option("--denials", "denials_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The practice's denial log (a Denials CSV, or a workbook with the Denials sheet): warn "
                   "on lines like the ones the payer kept denying (DENIAL_HISTORY). Default: the "
                   "workbook's own Denials sheet.")
@click.option("--chunk-lines", type=click.IntRange(min=1), metavar="N",
              help="A CSV or Parquet FILE with --report .csv/.parquet is read, checked and written N lines "
                   "at a time, whole claims together (default 150,000: about 1 GB of memory).")
@click.option("--dask", "dask", metavar="SCHEDULER",
              help="Run on a Dask cluster: its scheduler address (tcp://host:8786), or 'local' for the "
                   "cores of this machine. Needs --report and the scale extra (pip install \"mednec[scale]\").")
def validate(file, rules_path, payers_path, report, workbook, as_of, codeset_paths, ncci_path, denials_path,
             chunk_lines, dask):
    """Check every claim line in FILE and mark it GREEN, AMBER or RED.

    FILE is the workbook (.xlsx/.xlsm) with the Claims, Rules and Payers sheets, or a Claims
    CSV exported from the practice-management system, or a Claims Parquet file (then give
    --rules and --payers), or an 837P claim batch (.837/.x12/.edi, or .txt starting with ISA;
    give --workbook, or --rules and --payers): one report row per service line, the batch
    itself is never changed.

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
            file, report=report, rules_path=rules_path or workbook, payers_path=payers_path or workbook,
            as_of=as_of, codeset_paths=tuple(codeset_paths), ncci_path=ncci_path, denials_path=denials_path,
            chunk_lines=chunk_lines, dask=dask, progress=progress))
    click.echo(job.summary_text(outcome.validation, where=outcome.where))


class _ProgressBar:
    """A bar on the terminal (stderr) through the checks, or through the lines with lines per
    second when a file is streamed; nothing when output is not a terminal."""

    def __enter__(self):
        self.bar = None
        self.started = time.perf_counter()
        return self

    def __call__(self, done: int, total: int, unit: str = "checks") -> None:
        if self.bar is None and not sys.stderr.isatty():
            return
        if self.bar is None:
            show = None
            if unit == "lines":
                def show(_item):
                    rate = self.bar.pos / max(time.perf_counter() - self.started, 1e-9)
                    return f"{self.bar.pos:,} lines, {rate:,.0f} lines/s"
            self.bar = click.progressbar(length=total, label="Checking claim lines", item_show_func=show,
                                         file=sys.stderr)
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
        to = f" to {s.effective_to.isoformat()}" if s.effective_to else ""
        click.echo(f"{s.label}  (from {eff}{to})  {s.path}")


@codeset.command("build")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the index (.sqlite). Point Validate to it with --codeset, the "
                   "Settings key 'ICD-10-CM Index' or $MEDNEC_ICD10CM_INDEX.")
@click.option("--fy", type=int, metavar="YYYY",
              help="Fiscal year of the release, e.g. 2028 (default: from the file names or the XML).")
@click.option("--effective-from", callback=iso_date, metavar="YYYY-MM-DD",
              help="First date of service the release applies to (default: October 1 before the fiscal year).")
@click.option("--effective-to", callback=iso_date, metavar="YYYY-MM-DD",
              help="Last date of service it applies to (default: September 30 of the fiscal year).")
@click.option("--label", help="Name shown in reports, e.g. 'ICD-10-CM FY2028'.")
def codeset_build(sources, out, fy, effective_from, effective_to, label):
    """Add an ICD-10-CM release (a new fiscal year) from the CMS downloads.

    SOURCES are the files from the CMS "ICD-10-CM" page, as downloaded: the "Code Descriptions
    in Tabular Order" zip (or the icd10cm_order_YYYY.txt file in it) and the "Code Tables,
    Tabular and Index" zip (or the icd10cm_tabular_YYYY.xml in it), which gives the Excludes1
    notes. Without the tabular file, Excludes1 notes come from the newest shipped release.

    Each claim line is checked against the release in force on its date of service
    (FY2028 = 2027-10-01 to 2028-09-30).
    """
    from ..codesets.build_icd10cm import release_from_cms, write_index
    from ..workbook.lock import refuse_overwriting_input

    refuse_overwriting_input(out, list(sources))
    release = release_from_cms(list(sources), fy=fy, effective_from=effective_from, effective_to=effective_to,
                               label=label)
    path = write_index(out, [release])
    click.echo(f"Wrote {path}: {release.label}, {len(release.codes):,} codes, for dates of service "
               f"{release.effective_from.isoformat()} to {release.effective_to.isoformat()}")


@codeset.command("ncci-build")
@click.argument("ptp_files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mue", "mue_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The CMS practitioner MUE file (MCR_MUE_PractitionerServices_Eff_....xlsx or .csv, or its zip).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the index (.sqlite). Point Validate to it with --ncci or the "
                   "Settings key 'NCCI Index'.")
@click.option("--label", help="Name shown in reports, e.g. 'NCCI 2026 Q4'.")
def codeset_ncci_build(ptp_files, mue_file, out, label):
    """Build the NCCI edit index from the CMS quarterly files.

    PTP_FILES are the practitioner PTP files ccipra-v...-f1 to -f4 (.xlsx or .txt) from the CMS
    "Medicare NCCI Procedure to Procedure (PTP) Edits" page, or the zips as downloaded; --mue is
    the practitioner MUE file (.xlsx or .csv) or its zip. An edit is in force through its
    Deletion Date (the last day).
    Build it again each quarter when CMS publishes new files.
    """
    from ..codesets.build_ncci import build_ncci_index
    from ..codesets.ncci import NcciEdits
    from ..workbook.lock import refuse_overwriting_input

    if not ptp_files and mue_file is None:
        raise InputError("give the PTP files (ccipra-...-f1 to -f4) and/or --mue FILE")
    refuse_overwriting_input(out, [*ptp_files, mue_file])
    path = build_ncci_index(list(ptp_files), out, mue_file=mue_file, label=label)
    edits = NcciEdits.open(path)
    counts = edits.counts()
    click.echo(f"Wrote {path}: {edits.label}, {counts['ptp']:,} PTP edits, {counts['mue']:,} MUE values")
