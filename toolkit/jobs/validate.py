"""The Validate job: read Claims, Rules and Payers, run the checks, write the five result columns.

``run_validate(ValidateRequest(...))`` is the one job behind ``mednec validate``: it picks the
route from the request (workbook or CSV in place, a report from a workbook, a CSV or Parquet file
streamed in chunks, or a Dask cluster). ``validate_book`` serves the Excel button (live
workbook); ``validate_to_report`` leaves the input untouched and writes a separate report.

Extending it: a new input of the checks (a denial log, …) is a field of ``ValidateRequest`` and of
``context.CheckContext`` (every route then passes it on); a new kind of Claims file is one entry
in ``stream.SOURCES`` (keyed by suffix); a new report format one entry in ``report.WRITERS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..codesets.icd10cm import CodeSets
from ..collector import collector_paused
from ..context import CheckContext
from ..errors import InputError
from ..report import report_frame
from ..tables import CLAIMS, PAYERS, RESULT_COLUMNS, RULES, TableSpec
from ..validation import Validation, run_checks
from ..workbook.book import WritableBook
from .history import book_denials, file_denials

SETTING_CODESET = "ICD-10-CM Index"
SETTING_NCCI = "NCCI Index"


def load_codesets(extra: list[str | Path] | None = None, settings: dict | None = None) -> CodeSets:
    """The shipped ICD-10-CM release plus any newer index named on the command line or in Settings."""
    from ..values import setting

    paths = list(extra or [])
    if setting(settings, SETTING_CODESET):
        paths.append(setting(settings, SETTING_CODESET))
    return CodeSets.default(paths)


def load_edits(path: str | Path | None = None, settings: dict | None = None, *, near: Path | None = None):
    """The NCCI index (PTP and MUE edits) from ``--ncci`` or the Settings key, else None (checks off).

    A relative path in Settings is taken relative to the workbook's folder (``near``) when it is
    not found from the current folder, so the index can sit beside the workbook.
    """
    from ..values import setting

    if path is None and setting(settings, SETTING_NCCI):
        path = Path(setting(settings, SETTING_NCCI))
        if not path.is_absolute() and not path.exists() and near is not None:
            path = Path(near) / path
    if path is None:
        return None
    from ..codesets.ncci import NcciEdits

    return NcciEdits.open(path)


def load_therapy_codes(settings: dict | None, *, near: Path | None = None) -> frozenset[str] | None:
    """The practice's CMS "always therapy" list from the Settings key ``Therapy Code List``, or None."""
    from ..checks.medicare import therapy_codes_from_settings

    return therapy_codes_from_settings(settings, near)


def read_override(path: str | Path | None, spec: TableSpec) -> pd.DataFrame | None:
    """``--rules`` / ``--payers``: a CSV file, or a workbook holding that table."""
    if path is None:
        return None
    from ..workbook.files import read_table

    return read_table(Path(path), spec)


@collector_paused()
def validate_book(book: WritableBook, *, as_of=None, rules: pd.DataFrame | None = None,
                  payers: pd.DataFrame | None = None, codesets: CodeSets | None = None, save: bool = True,
                  progress=None, edits=None, denials=None, therapy_codes=None) -> Validation:
    """Validate the Claims table of ``book`` in place: only the result columns are written.

    Without ``edits`` the NCCI index named in the book's Settings (key ``NCCI Index``), if any, is used.
    Without ``denials`` the book's own Denials log, if any, drives DENIAL_HISTORY.
    Without ``therapy_codes`` the list named by the Settings key ``Therapy Code List``, if any.
    """
    claims = book.read_table(CLAIMS)
    if rules is None:
        rules = book.read_table(RULES)
    if payers is None:
        payers = book.read_table(PAYERS)
    settings = book.settings() if codesets is None or edits is None or therapy_codes is None else {}
    codesets = codesets or load_codesets(settings=settings)
    if edits is None:
        edits = load_edits(settings=settings, near=_folder_of(book))
    if denials is None:
        denials = book_denials(book)
    if therapy_codes is None:
        therapy_codes = load_therapy_codes(settings, near=_folder_of(book))
    validation = run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, progress=progress,
                            edits=edits, denials=denials, therapy_codes=therapy_codes)
    book.write_columns(CLAIMS, validation.results[list(RESULT_COLUMNS)])
    if save:
        book.save()
    _note_first_status(book.path, validation)
    return validation


def _note_first_status(workbook, validation: Validation) -> None:
    """For the clean-claim rate: the status each line had the first time (beside the workbook)."""
    if workbook is None:
        return
    from ..workbook.history import record_first_status

    try:
        record_first_status(workbook, validation.claims, validation.results)
    except OSError:
        pass  # a read-only folder must not turn a finished Validate into a failure


def _folder_of(book: WritableBook) -> Path | None:
    return Path(book.path).parent


def write_report(validation: Validation, out: str | Path, *, codesets: CodeSets | None = None,
                 edits=None) -> Path:
    """A CSV, Parquet or XLSX report (atomic write); the input file is not touched."""
    from ..report import WRITERS, open_writer
    from ..workbook.files import atomic_write

    out = Path(out)
    frame = report_frame(validation, codesets, edits)
    suffix = out.suffix.lower()
    if suffix in WRITERS:
        def write(tmp: str) -> None:
            writer = open_writer(out, tmp)
            try:
                writer.write(frame)
            finally:
                writer.close()

        return atomic_write(out, write)
    if suffix == ".xlsx":
        return atomic_write(out, lambda tmp: _write_xlsx_report(frame, validation, tmp))
    raise InputError("the report must be a .csv, .parquet or .xlsx file", file=out)


def _write_xlsx_report(frame: pd.DataFrame, validation: Validation, path: str) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False,
                                    "strings_to_formulas": False, "strings_to_urls": False})
    try:
        ws = wb.add_worksheet("Report")
        bold = wb.add_format({"bold": True})
        fills = {s: wb.add_format({"bg_color": c}) for s, c in
                 (("GREEN", "#C6EFCE"), ("AMBER", "#FFEB9C"), ("RED", "#FFC7CE"))}
        ws.write_row(0, 0, list(frame.columns), bold)
        for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            for c, value in enumerate(row):
                if c == 2:
                    ws.write_string(r, c, value, fills.get(value))
                elif isinstance(value, str):
                    ws.write_string(r, c, value)
                else:
                    ws.write_number(r, c, value)
        for c, width in enumerate((12, 6, 8, 30, 90, 30, 17, 30)):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        about = wb.add_worksheet("About")
        counts = validation.counts()
        for r, (k, v) in enumerate([
            ("Validated at", validation.validated_at), ("As of", validation.as_of.isoformat()),
            ("ICD-10-CM code set", "; ".join([*validation.codeset_labels, *validation.codeset_notes])),
            ("GREEN", counts["GREEN"]), ("AMBER", counts["AMBER"]), ("RED", counts["RED"]),
        ]):
            about.write(r, 0, k, bold)
            about.write(r, 1, v)
        about.set_column(0, 0, 20)
        about.set_column(1, 1, 60)
    finally:
        wb.close()


def validate_to_report(claims_path: str | Path, out: str | Path | None, *, rules_path=None, payers_path=None,
                       as_of=None, codeset_paths=None, progress=None, ncci_path=None,
                       denials_path=None) -> tuple[Validation, Path | None]:
    """Read claims (CSV, workbook or 837P batch; read-only), validate, write the report to ``out``.

    The denial log for DENIAL_HISTORY is ``denials_path``, else the workbook's own Denials table.
    ``out`` None (an 837P batch without --report): the summary alone; the batch is never written."""
    from ..claims.x12_837 import is_837_file
    from ..workbook.files import EXCEL_SUFFIXES, read_table
    from .claims import read_claims_837

    claims_path = Path(claims_path)
    _refuse_overwrite(out, claims_path, rules_path, payers_path, ncci_path, denials_path, *(codeset_paths or []))
    is_workbook = claims_path.suffix.lower() in EXCEL_SUFFIXES
    _require_tables(claims_path, is_workbook, rules_path, payers_path)
    rules = read_override(rules_path, RULES) if rules_path else read_table(claims_path, RULES)
    payers = read_override(payers_path, PAYERS) if payers_path else read_table(claims_path, PAYERS)
    claims = read_claims_837(claims_path, payers, workbook=rules_path) if is_837_file(claims_path) \
        else _read_claims(claims_path)
    settings = _workbook_settings(claims_path) if is_workbook else {}
    codesets = load_codesets(codeset_paths, settings)
    edits = load_edits(ncci_path, settings, near=claims_path.parent)
    denials = file_denials(denials_path, settings) if denials_path or not is_workbook else \
        file_denials(claims_path, settings, optional=True)
    validation = run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, progress=progress, edits=edits,
                            denials=denials, therapy_codes=load_therapy_codes(settings, near=claims_path.parent))
    if out is None:
        return validation, None
    return validation, write_report(validation, out, codesets=codesets, edits=edits)


def validate_csv_in_place(claims_path: str | Path, *, rules_path, payers_path, as_of=None,
                          codeset_paths=None, progress=None, ncci_path=None, denials_path=None) -> Validation:
    """A Claims CSV without --report: the result columns are written into the CSV itself."""
    from ..tables import header_key
    from ..workbook.files import read_csv, write_csv

    claims_path = Path(claims_path)
    _require_tables(claims_path, False, rules_path, payers_path)
    raw = read_csv(claims_path)
    validation = run_checks(raw, read_override(rules_path, RULES), read_override(payers_path, PAYERS),
                            as_of=as_of, codesets=load_codesets(codeset_paths), progress=progress,
                            edits=load_edits(ncci_path), denials=file_denials(denials_path))
    out = raw.copy()
    existing = {header_key(c): c for c in out.columns}
    for col in RESULT_COLUMNS:
        out[existing.get(header_key(col), col)] = validation.results[col]
    write_csv(out, claims_path, delimiter=raw.attrs.get("delimiter", ","), bom=raw.attrs.get("bom", False),
              encoding=raw.attrs.get("encoding"))
    _note_first_status(claims_path, validation)
    return validation


def _read_claims(path: Path) -> pd.DataFrame:
    """The whole Claims table of a workbook or CSV, or of any other file ``stream.SOURCES`` reads."""
    from ..stream import SOURCES
    from ..workbook.files import EXCEL_SUFFIXES, read_table

    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES or suffix in (".csv", ".txt") or suffix not in SOURCES:
        return read_table(path, CLAIMS)
    frames = list(SOURCES[suffix].chunks(path, 1 << 30))
    if not frames:
        raise InputError("no claim lines in the file", file=path)
    claims = pd.concat(frames) if len(frames) > 1 else frames[0]
    claims.attrs = dict(frames[0].attrs)
    return claims


def _refuse_overwrite(out, *inputs) -> None:
    """An output that is one of the inputs is refused before anything is read or written."""
    from ..workbook.lock import refuse_overwriting_input

    refuse_overwriting_input(out, list(inputs))


def _require_tables(path: Path, is_workbook: bool, rules_path, payers_path) -> None:
    if not is_workbook and (rules_path is None or payers_path is None):
        missing = " and ".join(o for o, p in (("--rules", rules_path), ("--payers", payers_path)) if p is None)
        raise InputError(f"a Claims CSV has no Rules or Payers table: give {missing}", file=path)


def _workbook_settings(path: Path) -> dict[str, str]:
    from ..tables import SETTINGS
    from ..values import settings_from_table
    from ..workbook.files import read_table

    try:
        return settings_from_table(read_table(path, SETTINGS))
    except InputError:
        return {}


def summary_text(validation, *, where: str = "") -> str:
    """The one-screen summary billers see after a run (no PHI: counts and codes only)."""
    counts = validation.counts()
    total = sum(counts.values())
    lines = [
        f"Validated {total} claim line{'s' if total != 1 else ''} (as of {validation.as_of.isoformat()}, "
        f"{'; '.join(validation.codeset_labels)})",
        f"  GREEN {counts['GREEN']:>6}   ready to submit",
        f"  AMBER {counts['AMBER']:>6}   fix the documentation first",
        f"  RED   {counts['RED']:>6}   will be denied as it stands",
    ]
    top = validation.top_findings(5)
    if top:
        lines.append("Top findings:")
        lines += [f"  {code:<22} {n:>6}" for code, n in top]
    lines += [f"Note: {note}" for note in getattr(validation, "codeset_notes", ())]
    if where:
        lines.append(where)
    return "\n".join(lines)



# ---------------------------------------------------------------- the one job behind `mednec validate`

Progress = Callable[..., None]  # progress(done, total[, unit="lines"]): a bar, or None


@dataclass(frozen=True)
class ValidateRequest:
    """What ``mednec validate`` was asked to do; ``run_validate`` picks the route."""

    file: Path
    report: Path | None = None
    rules_path: Path | None = None
    payers_path: Path | None = None
    as_of: dt.date | None = None
    codeset_paths: tuple[Path, ...] = ()
    ncci_path: Path | None = None
    denials_path: Path | None = None  # the denial log for DENIAL_HISTORY (default: the workbook's own)
    chunk_lines: int | None = None  # streaming: lines per chunk (None: stream.DEFAULT_CHUNK_LINES)
    dask: str | None = None  # a Dask scheduler address, or "local" for a cluster on this machine
    progress: Progress | None = None


@dataclass
class ValidateOutcome:
    validation: object  # a Validation, or stream.RunTotals for a run made of chunks/partitions
    written: Path | None  # None: an 837P batch checked without --report (the summary alone)
    in_place: bool
    note: str | None = None  # the fast in-place writer handed over to openpyxl, and why

    @property
    def where(self) -> str:
        if self.written is None:
            return "The batch is not changed; add --report OUT.csv for one row per line"
        if self.in_place:
            return f"Results written into {self.written.name}" + (f" ({self.note})" if self.note else "")
        return f"Report written to {self.written}"


@collector_paused()
def run_validate(request: ValidateRequest) -> ValidateOutcome:
    """Validate as asked: in place, to a report, streamed in chunks, or on a Dask cluster."""
    from ..claims.x12_837 import is_837_file
    from ..stream import SOURCES
    from ..workbook.files import EXCEL_SUFFIXES, ensure_not_old_excel

    file = Path(request.file)
    if not file.exists():
        raise InputError("file not found", file=file)
    suffix = file.suffix.lower()
    ensure_not_old_excel(file)  # an .xls/.xlsb export: say how to save it as .xlsx
    batch_837 = is_837_file(file)
    if suffix not in EXCEL_SUFFIXES and suffix not in SOURCES and not batch_837:
        raise InputError("give a workbook (.xlsx/.xlsm), a Claims CSV, a Parquet file or an 837P batch", file=file)
    if batch_837:
        if request.rules_path is None or request.payers_path is None:
            raise InputError("an 837P batch carries no Rules or Payers: give --workbook, or --rules and --payers",
                             file=file)
        validation, written = validate_to_report(
            file, request.report, rules_path=request.rules_path, payers_path=request.payers_path,
            as_of=request.as_of, codeset_paths=list(request.codeset_paths), progress=request.progress,
            ncci_path=request.ncci_path, denials_path=request.denials_path)
        return ValidateOutcome(validation, written, in_place=False)
    if request.dask:
        return _validate_on_dask(request)
    if request.report is None:
        return _validate_in_place(request)
    if suffix in SOURCES and Path(request.report).suffix.lower() in (".csv", ".parquet"):
        return _validate_streamed(request)
    validation, written = validate_to_report(file, request.report, rules_path=request.rules_path,
                                             payers_path=request.payers_path, as_of=request.as_of,
                                             codeset_paths=list(request.codeset_paths), progress=request.progress,
                                             ncci_path=request.ncci_path, denials_path=request.denials_path)
    return ValidateOutcome(validation, written, in_place=False)


def _validate_in_place(request: ValidateRequest) -> ValidateOutcome:
    """Results into the file itself, holding the workbook's lock from the read to the replace."""
    from ..workbook.files import EXCEL_SUFFIXES
    from ..workbook.lock import updating

    file = Path(request.file)
    suffix = file.suffix.lower()
    note = None
    if suffix in EXCEL_SUFFIXES:
        from ..workbook.fastxlsx import open_book

        with updating(file):  # (and the first-status history file beside it)
            book = open_book(file)  # the fast in-place writer; openpyxl where it cannot (fallback_note says)
            settings = book.settings()
            validation = validate_book(book, as_of=request.as_of, rules=read_override(request.rules_path, RULES),
                                       payers=read_override(request.payers_path, PAYERS),
                                       codesets=load_codesets(list(request.codeset_paths), settings),
                                       edits=load_edits(request.ncci_path, settings, near=file.parent),
                                       progress=request.progress,
                                       denials=file_denials(request.denials_path, settings),
                                       therapy_codes=load_therapy_codes(settings, near=file.parent))
        note = book.fallback_note
    elif suffix in (".csv", ".txt"):
        with updating(file):
            validation = validate_csv_in_place(file, rules_path=request.rules_path, payers_path=request.payers_path,
                                               as_of=request.as_of, codeset_paths=list(request.codeset_paths),
                                               progress=request.progress, ncci_path=request.ncci_path,
                                               denials_path=request.denials_path)
    else:
        raise InputError("results cannot be written into this file: give --report OUT.csv or OUT.parquet", file=file)
    return ValidateOutcome(validation, file, in_place=True, note=note)


def check_context(request: ValidateRequest) -> CheckContext:
    """Rules, payers, code sets and NCCI index for a Claims file that is not a workbook."""
    _require_tables(Path(request.file), False, request.rules_path, request.payers_path)
    return CheckContext(read_override(request.rules_path, RULES), read_override(request.payers_path, PAYERS),
                        load_codesets(list(request.codeset_paths)), load_edits(request.ncci_path),
                        as_of=request.as_of, denials=file_denials(request.denials_path))


def _validate_streamed(request: ValidateRequest) -> ValidateOutcome:
    """A CSV or Parquet file in chunks of whole claims: memory stays near one chunk's worth."""
    from ..checks.grouping import chunk_keys
    from ..report import open_writer
    from ..stream import DEFAULT_CHUNK_LINES, RunTotals, source_for, validate_chunks, whole_groups
    from ..workbook.files import atomic_write

    assert request.report is not None  # run_validate routes only runs with a report here
    file, out = Path(request.file), Path(request.report)
    source = source_for(file)
    ctx = check_context(request)
    _refuse_overwrite(out, file, request.rules_path, request.payers_path, request.ncci_path, request.denials_path,
                      *request.codeset_paths)
    chunk_lines = request.chunk_lines or DEFAULT_CHUNK_LINES
    if chunk_lines < 1:
        raise InputError("--chunk-lines must be at least 1")
    total = source.info(file).lines
    if total is None or total > chunk_lines:  # more than one chunk
        ctx = _rating_whole_file(ctx, file, chunk_lines)
    totals = RunTotals()
    bar = request.progress
    progress = (lambda done: bar(done, max(total or 0, done), unit="lines")) if bar is not None else None

    def write(tmp: str) -> None:
        writer = open_writer(out, tmp)
        try:
            chunks = whole_groups(source.chunks(file, chunk_lines), chunk_keys(ncci=ctx.edits is not None),
                                  max_carry=max(4 * chunk_lines, 10_000))
            validate_chunks(chunks, ctx.run, lambda v: writer.write(report_frame(v, ctx.codesets, ctx.edits)),
                            totals=totals, progress=progress)
        finally:
            writer.close()

    written = atomic_write(out, write)
    totals.codeset_labels = ctx.labels(totals.codeset_labels) or [ctx.codesets.newest.label]
    return ValidateOutcome(totals, written, in_place=False)


def _rating_whole_file(ctx: CheckContext, file: Path, chunk_lines: int) -> CheckContext:
    """DENIAL_HISTORY's rate counted over the whole file before a run in chunks or partitions
    (one extra read of the file, only when a denial log is given)."""
    if ctx.denials is None:
        return ctx
    from dataclasses import replace

    from ..checks.history import counting_whole_file
    from ..stream import source_for

    chunks = source_for(file).chunks(file, chunk_lines)
    return replace(ctx, denials=counting_whole_file(ctx.denials, chunks, as_of=ctx.as_of, codesets=ctx.codesets))


def _validate_on_dask(request: ValidateRequest) -> ValidateOutcome:
    """On a Dask cluster (``--dask ADDRESS`` or ``local``); the report is gathered in line order."""
    try:
        import dask.distributed  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        from ..errors import MednecError

        raise MednecError('--dask needs Dask and pyarrow: pip install "mednec[scale]"') from None
    from ..distributed import validate_file_on_dask

    if request.report is None or request.dask is None:
        raise InputError("--dask needs --report OUT.csv or OUT.parquet", file=request.file)
    ctx = check_context(request)
    _refuse_overwrite(request.report, request.file, request.rules_path, request.payers_path, request.ncci_path,
                      request.denials_path, *request.codeset_paths)
    from ..stream import DEFAULT_CHUNK_LINES

    # partitions are checked apart: rate against the whole file first
    ctx = _rating_whole_file(ctx, Path(request.file), request.chunk_lines or DEFAULT_CHUNK_LINES)
    totals, written = validate_file_on_dask(Path(request.file), Path(request.report), ctx, scheduler=request.dask,
                                            chunk_lines=request.chunk_lines, progress=request.progress)
    totals.codeset_labels = ctx.labels(totals.codeset_labels)
    return ValidateOutcome(totals, written, in_place=False)
