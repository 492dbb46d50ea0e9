"""The Validate job: read Claims, Rules and Payers, run the checks, write the five result columns.

``validate_book`` serves both the Excel button (live workbook) and ``mednec validate`` on a
file; ``validate_to_report`` leaves the input untouched and writes a separate report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..codesets.icd10cm import CodeSets
from ..errors import InputError
from ..tables import CLAIMS, PAYERS, REPORT_COLUMNS, RESULT_COLUMNS, RULES, TableSpec
from ..validation import Validation, run_checks
from ..workbook.book import WritableBook
from .history import book_denials, file_denials

SETTING_CODESET = "ICD-10-CM Index"
SETTING_NCCI = "NCCI Index"


def load_codesets(extra: list[str | Path] | None = None, settings: dict | None = None) -> CodeSets:
    """The shipped ICD-10-CM release plus any newer index named on the command line or in Settings."""
    paths = list(extra or [])
    for key, value in (settings or {}).items():
        if key.strip().casefold() == SETTING_CODESET.casefold() and value:
            paths.append(value)
    return CodeSets.default(paths)


def load_edits(path: str | Path | None = None, settings: dict | None = None, *, near: Path | None = None):
    """The NCCI index (PTP and MUE edits) from ``--ncci`` or the Settings key, else None (checks off).

    A relative path in Settings is taken relative to the workbook's folder (``near``) when it is
    not found from the current folder, so the index can sit beside the workbook.
    """
    if path is None:
        for key, value in (settings or {}).items():
            if key.strip().casefold() == SETTING_NCCI.casefold() and str(value).strip():
                path = Path(str(value).strip())
                if not path.is_absolute() and not path.exists() and near is not None:
                    path = Path(near) / path
    if path is None:
        return None
    from ..codesets.ncci import NcciEdits

    return NcciEdits.open(path)


def read_override(path: str | Path | None, spec: TableSpec) -> pd.DataFrame | None:
    """``--rules`` / ``--payers``: a CSV file, or a workbook holding that table."""
    if path is None:
        return None
    from ..workbook.files import read_table

    return read_table(Path(path), spec)


def validate_book(book: WritableBook, *, as_of=None, rules: pd.DataFrame | None = None,
                  payers: pd.DataFrame | None = None, codesets: CodeSets | None = None, save: bool = True,
                  progress=None, edits=None, denials=None) -> Validation:
    """Validate the Claims table of ``book`` in place: only the result columns are written.

    Without ``edits`` the NCCI index named in the book's Settings (key ``NCCI Index``), if any, is used.
    Without ``denials`` the book's own Denials log, if any, drives DENIAL_HISTORY.
    """
    claims = book.read_table(CLAIMS)
    if rules is None:
        rules = book.read_table(RULES)
    if payers is None:
        payers = book.read_table(PAYERS)
    settings = book.settings() if codesets is None or edits is None else {}
    codesets = codesets or load_codesets(settings=settings)
    if edits is None:
        edits = load_edits(settings=settings, near=_folder_of(book))
    if denials is None:
        denials = book_denials(book)
    validation = run_checks(claims, rules, payers, as_of=as_of, codesets=codesets, progress=progress,
                            edits=edits, denials=denials)
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


def report_frame(validation: Validation) -> pd.DataFrame:
    """The report's rows: the contract's six columns, then Validated At and Code Set."""
    claims = validation.claims
    line = claims["Line"].fillna(1).astype(int)
    frame = pd.DataFrame({
        "Claim ID": claims["Claim ID"],
        "Line": line,
        **{c: validation.results[c] for c in REPORT_COLUMNS[2:]},
        "Validated At": validation.results["Validated At"],
        "Code Set": "; ".join([*validation.codeset_labels, *validation.codeset_notes]),
    })
    return frame.reset_index(drop=True)


def write_report(validation: Validation, out: str | Path) -> Path:
    """A CSV or XLSX report (atomic write); the input file is not touched."""
    from ..workbook.files import atomic_write, write_csv

    out = Path(out)
    frame = report_frame(validation)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        return write_csv(frame, out)
    if suffix == ".xlsx":
        return atomic_write(out, lambda tmp: _write_xlsx_report(frame, validation, tmp))
    raise InputError("the report must be a .csv or .xlsx file", file=out)


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

    The denial log for DENIAL_HISTORY is ``denials_path``, else the workbook's own Denials table."""
    from ..claims.x12_837 import is_837_file
    from ..workbook.files import EXCEL_SUFFIXES, read_table
    from ..workbook.lock import refuse_overwriting_input
    from .claims import read_claims_837

    claims_path = Path(claims_path)
    refuse_overwriting_input(out, [claims_path, rules_path, payers_path, ncci_path, denials_path, *(codeset_paths or [])])
    is_workbook = claims_path.suffix.lower() in EXCEL_SUFFIXES
    _require_tables(claims_path, is_workbook, rules_path, payers_path)
    rules = read_override(rules_path, RULES) if rules_path else read_table(claims_path, RULES)
    payers = read_override(payers_path, PAYERS) if payers_path else read_table(claims_path, PAYERS)
    claims = read_claims_837(claims_path, payers, workbook=rules_path) if is_837_file(claims_path) \
        else read_table(claims_path, CLAIMS)
    settings = _workbook_settings(claims_path) if is_workbook else {}
    denials = file_denials(denials_path, settings) if denials_path or not is_workbook else \
        file_denials(claims_path, settings, optional=True)
    validation = run_checks(claims, rules, payers, as_of=as_of, codesets=load_codesets(codeset_paths, settings),
                            progress=progress, edits=load_edits(ncci_path, settings, near=claims_path.parent),
                            denials=denials)
    if out is None:  # an 837P batch is never written to: the summary alone
        return validation, None
    return validation, write_report(validation, out)


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


def summary_text(validation: Validation, *, where: str = "") -> str:
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
    lines += [f"Note: {note}" for note in validation.codeset_notes]
    if where:
        lines.append(where)
    return "\n".join(lines)

