"""837P jobs: import a batch into Claims, and scrub a batch into READY and HELD files.

The Excel button and ``mednec claims import-837`` / ``mednec scrub`` call these functions.
Summaries carry counts, claim IDs, codes and payer names, never patient names, IDs or birth dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..collector import collector_paused
from ..errors import InputError, MednecError
from ..tables import CLAIMS, PAYERS, header_key

# Columns the biller fills (documentation): never written by an import, merged into a batch
# read for validate/scrub from the workbook's rows for the same claim and line.
DOCUMENTATION_COLUMNS = ("Therapy Weeks", "Therapy Notes", "Imaging Date", "Imaging Type", "ABN on File",
                         "Note Sections", "Rule-Out Dx", "Patient Declined", "Submitted Date")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def payer_notes(unmatched: dict[tuple[str, str], int]) -> list[str]:
    """One line per payer of the batch that no Payers row matched."""
    return [f"payer '{name}' ({f'payer ID {pid}, ' if pid else ''}{_plural(n, 'line')}) is not in Payers: add "
            "it, or put its payer ID in the Payer ID column of its row" for (name, pid), n in sorted(unmatched.items())]


# ---------------------------------------------------------------- import into Claims

@dataclass
class Import837Summary:
    files: int = 0
    claims: int = 0
    lines: int = 0
    added: int = 0
    updated: int = 0  # existing lines with at least one imported cell changed
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{_plural(self.added, 'claim line')} added from {_plural(self.files, 'file')} "
                f"({_plural(self.claims, 'claim')}, {_plural(self.lines, 'line')}; {self.updated} updated, "
                f"{self.unchanged} already in Claims).")


def _line_key(claim_id, line) -> tuple[str, int]:
    from ..values import to_text

    text = to_text(line)
    try:
        number = int(float(text)) if text else 1
    except ValueError:
        number = 1
    return to_text(claim_id), number


def _same(old, new) -> bool:
    """An imported value equals what the cell holds (dates, numbers and text compared as such)."""
    import pandas as pd

    from ..values import is_blank, to_text

    if is_blank(old) and is_blank(new):
        return True
    if is_blank(old) or is_blank(new):
        return False
    if isinstance(new, dt.date):
        try:
            return pd.Timestamp(old).date() == new
        except (TypeError, ValueError):
            return False
    if isinstance(new, (int, float)):
        try:
            return abs(float(old) - float(new)) < 0.005
        except (TypeError, ValueError):
            return False
    return to_text(old) == to_text(new)


def _guarded(value):
    """Text from a file never becomes a formula in the workbook (OWASP: = + - @ prefixes)."""
    from ..values import csv_guard

    return csv_guard(value) if isinstance(value, str) else value


@collector_paused()
def import_837_files(book, paths) -> Import837Summary:
    """Add each service line of the 837P files to Claims; update imported columns of lines already there.

    A line is known by Claim ID and Line.  Only the imported columns (``IMPORTED_COLUMNS``) are
    written, and a blank in the file never blanks a cell the biller filled; documentation
    columns are never touched.  A file that cannot be read is refused in ``summary.refused``;
    the other files are still imported.
    """
    import pandas as pd

    from ..claims.x12_837 import IMPORTED_COLUMNS, claims_frame, read_837, unmatched_payers
    from ..values import is_blank, to_text

    if not book.has_table(CLAIMS):
        raise InputError("no Claims sheet or tblClaims table in the workbook", file=getattr(book, "path", None))
    payers = book.read_table(PAYERS) if book.has_table(PAYERS) else None
    payer_col = next((c for c in (payers.columns if payers is not None else []) if header_key(c) == "payer"), None)
    payer_names: set[str] = set()
    if payers is not None and payer_col is not None:
        payer_names = {to_text(v).casefold() for v in payers[payer_col] if to_text(v)}
    existing = book.read_table(CLAIMS)
    cols = {str(c).strip().casefold(): c for c in existing.columns}
    known: dict[tuple[str, int], int] = {}
    if "claim id" in cols:
        lines = existing[cols["line"]] if "line" in cols else [None] * len(existing)
        for row, claim_id, line in zip(existing.index, existing[cols["claim id"]], lines):
            if _line_key(claim_id, line)[0]:
                known.setdefault(_line_key(claim_id, line), row)
    summary = Import837Summary()
    new_rows: dict[tuple[str, int], dict] = {}
    changes: dict[str, dict[int, object]] = {}
    unmatched: dict[tuple[str, str], int] = {}
    for path in paths:
        summary.files += 1
        try:
            batch = read_837(Path(path), payers=payers)
        except MednecError as exc:
            summary.refused.append(str(exc))
            continue
        summary.notes += batch.notes
        summary.claims += len(batch.claims)
        summary.lines += len(batch.rows)
        for payer, n in unmatched_payers(batch, payers).items():
            unmatched[payer] = unmatched.get(payer, 0) + n
        frame = claims_frame(batch)
        for rec in frame.to_dict("records"):
            key = _line_key(rec["Claim ID"], rec["Line"])
            rec = {k: _guarded(v) for k, v in rec.items() if k in ("Claim ID", "Line") or k in IMPORTED_COLUMNS}
            if key in known:
                row = known[key]
                changed = False
                for column in IMPORTED_COLUMNS:
                    new = rec.get(column)
                    old = existing.at[row, cols[column.casefold()]] if column.casefold() in cols else None
                    if is_blank(new) or _same(old, new):
                        continue
                    if column == "Payer" and not is_blank(old) and str(new).casefold() not in payer_names:
                        continue  # an NM1*PR name no Payers row knows never replaces the payer in Claims
                    changes.setdefault(column, {})[row] = new
                    changed = True
                summary.updated += changed
                summary.unchanged += not changed
            else:
                new_rows[key] = rec  # the same line twice in these files: the later copy wins
    summary.notes += payer_notes(unmatched)
    for column, cells in changes.items():
        book.write_columns(CLAIMS, pd.DataFrame({column: pd.Series(cells, dtype=object)}))
    if new_rows:
        # Charge is not a contract column: the first import adds it at the table's right edge.
        headers = [h for h in [*CLAIMS.headers, "Charge"] if h in ("Claim ID", "Line") or h in IMPORTED_COLUMNS]
        book.append_rows(CLAIMS, pd.DataFrame(list(new_rows.values()), columns=headers))
    summary.added = len(new_rows)
    if (new_rows or changes) and hasattr(book, "save"):
        book.save()
    return summary


# ---------------------------------------------------------------- a batch as claim lines to check

def merge_documentation(frame, workbook_claims):
    """Fill the documentation columns of a batch's lines from the workbook's rows for the same
    claim and line (what the biller typed: therapy weeks, imaging, ABN, …)."""
    if workbook_claims is None or not len(workbook_claims) or not len(frame):
        return frame
    cols = {str(c).strip().casefold(): c for c in workbook_claims.columns}
    if "claim id" not in cols:
        return frame
    lines = workbook_claims[cols["line"]] if "line" in cols else [None] * len(workbook_claims)
    row_of: dict[tuple[str, int], object] = {}
    for row, claim_id, line in zip(workbook_claims.index, workbook_claims[cols["claim id"]], lines):
        row_of.setdefault(_line_key(claim_id, line), row)
    hits = [row_of.get(_line_key(c, n)) for c, n in zip(frame["Claim ID"], frame["Line"])]
    if not any(h is not None for h in hits):
        return frame
    frame = frame.copy()
    for column in DOCUMENTATION_COLUMNS:
        if column.casefold() in cols:
            source = workbook_claims[cols[column.casefold()]]
            frame[column] = [source[h] if h is not None else None for h in hits]
    return frame


def batch_claims(path, *, payers=None, workbook=None):
    """(batch, Claims frame) of an 837P file, documentation merged from ``workbook``'s Claims."""
    from ..claims.x12_837 import claims_frame, read_837

    batch = read_837(path, payers=payers)
    frame = claims_frame(batch)
    if workbook is not None:
        frame = merge_documentation(frame, _workbook_claims(workbook))
    return batch, frame


def read_claims_837(path, payers=None, *, workbook=None):
    """An 837P batch as a Claims frame (the ``mednec validate FILE.837`` source): payers mapped by
    payer ID / Also Known As, documentation columns from ``workbook``'s Claims when it is one.
    Only the lines are needed here (not the envelopes scrub keeps), so the column-wise reader serves;
    the columns no check reads (``validation.NOT_CHECKED``: patient name, birth date, sex, charge)
    are left blank, so the run neither spends time on them nor holds that PHI."""
    from ..claims.x12_837 import read_claims_837 as read_lines
    from ..validation import NOT_CHECKED

    frame = read_lines(path, payers=payers, without=NOT_CHECKED)
    return merge_documentation(frame, _workbook_claims(workbook)) if workbook is not None else frame


def _workbook_claims(workbook):
    from ..workbook.files import EXCEL_SUFFIXES, read_table

    if Path(workbook).suffix.lower() not in EXCEL_SUFFIXES:
        return None
    try:
        return read_table(Path(workbook), CLAIMS)
    except InputError:
        return None


# ---------------------------------------------------------------- scrub

@dataclass
class ScrubSummary:
    file: str
    claims: int = 0
    lines: int = 0
    dollars: float = 0.0
    ready_claims: int = 0
    ready_dollars: float = 0.0
    held: list[tuple[str, float, list[str]]] = field(default_factory=list)  # claim ID, charge, line findings
    held_codes: dict[str, tuple[int, float]] = field(default_factory=dict)  # RED code → claims, dollars
    amber_ready: int = 0
    ready_path: str | None = None
    held_path: str | None = None
    report_path: str | None = None
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        held_dollars = sum(d for _, d, _ in self.held)
        lines = [f"Scrubbed {self.file}: {_plural(self.claims, 'claim')}, {_plural(self.lines, 'line')}, "
                 f"${self.dollars:,.2f}",
                 f"  Ready {self.ready_claims:>6} claims  ${self.ready_dollars:>12,.2f}   "
                 + (f"-> {self.ready_path}" if self.ready_path else "(no claim ready: no READY file written)"),
                 f"  Held  {len(self.held):>6} claims  ${held_dollars:>12,.2f}   "
                 + (f"-> {self.held_path}" if self.held_path else "(none held: no HELD file written)")]
        if self.held_codes:
            lines.append("Held because (a claim is held when any of its lines is RED):")
            for code, (n, dollars) in sorted(self.held_codes.items(), key=lambda kv: (-kv[1][0], kv[0])):
                lines.append(f"  {code:<22} {n:>6} claims  ${dollars:>12,.2f}")
        if self.held:
            lines.append("Held claims (fix them, then scrub the corrected batch again):")
            for claim_id, dollars, why in self.held[:20]:
                lines.append(f"  {claim_id:<20} ${dollars:>10,.2f}  {'; '.join(why)}")
            if len(self.held) > 20:
                lines.append(f"  … and {len(self.held) - 20} more (see the report)")
        if self.amber_ready:
            lines.append(f"{_plural(self.amber_ready, 'ready claim')} carry AMBER lines: not held, but check them "
                         "before you upload.")
        if self.report_path:
            lines.append(f"Report written to {self.report_path}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


@collector_paused()
def scrub_file(path, ready, held, *, rules, payers, workbook=None, report=None, as_of=None,
               codeset_paths=None, ncci_path=None) -> ScrubSummary:
    """Validate every line of an 837P batch; claims with a RED line go to ``held``, the rest to ``ready``.

    Both files are written only when the whole batch was read and checked (nothing is written
    for a refused file).  ``rules``/``payers`` are frames (from --rules/--payers or the workbook).
    """
    from ..claims.scrub import subset_text
    from ..claims.x12_837 import unmatched_payers
    from ..validation import run_checks
    from ..workbook.files import atomic_write
    from .validate import _workbook_settings, load_codesets, load_edits

    path = Path(path)
    for out in (ready, held, report):
        if out is not None and Path(out).resolve() == path.resolve():
            raise InputError("an output would overwrite the batch itself; choose another file name", file=out)
    if Path(ready).resolve() == Path(held).resolve():
        raise InputError("--ready and --held must be two different files", file=held)
    batch, frame = batch_claims(path, payers=payers, workbook=workbook)
    if batch.interchanges and batch.interchanges[0].isa < 0:
        raise InputError("an ST…SE fragment without ISA/GS envelopes: scrub needs the whole batch file", file=path)
    settings = _workbook_settings(Path(workbook)) if workbook is not None else {}
    near = Path(workbook).parent if workbook is not None else path.parent
    validation = run_checks(frame, rules, payers, as_of=as_of, codesets=load_codesets(codeset_paths, settings),
                            edits=load_edits(ncci_path, settings, near=near))
    status = validation.results["Status"].tolist()
    codes = validation.results["Finding Codes"].tolist()
    summary = ScrubSummary(file=path.name, claims=len(batch.claims), lines=len(batch.rows),
                           notes=list(batch.notes) + payer_notes(unmatched_payers(batch, payers)))
    keep: set[int] = set()
    for c, unit in enumerate(batch.claims):
        summary.dollars += unit.charge
        red = [r for r in unit.rows if status[r] == "RED"]
        if not red:
            keep.add(c)
            summary.ready_dollars += unit.charge
            summary.amber_ready += any(status[r] == "AMBER" for r in unit.rows)
            continue
        why, red_codes = [], []
        for r in red:
            line_codes = [k.strip() for k in str(codes[r]).split(";") if k.strip()]
            why.append(f"line {batch.rows[r]['Line']}: {', '.join(line_codes)}")
            red_codes += [k for k in line_codes if k in _red_codes()]
        summary.held.append((unit.claim_id, unit.charge, why))
        for code in dict.fromkeys(red_codes):
            n, d = summary.held_codes.get(code, (0, 0.0))
            summary.held_codes[code] = (n + 1, d + unit.charge)
    summary.ready_claims = len(keep)
    held_set = set(range(len(batch.claims))) - keep
    texts = [(Path(ready), *subset_text(batch, keep)), (Path(held), *subset_text(batch, held_set, new_numbers=True))]
    for out, text, n in texts:
        if n:
            atomic_write(out, lambda tmp, text=text: Path(tmp).write_bytes(text.encode(batch.encoding)))
    summary.ready_path = str(texts[0][0]) if texts[0][2] else None
    summary.held_path = str(texts[1][0]) if texts[1][2] else None
    for out, _, n in texts:
        if not n and out.exists():
            summary.notes.append(f"{out.name} is from an earlier run (this batch wrote nothing there): "
                                 "do not upload it")
    if report is not None:
        outcome = ["Ready" if batch.row_claim[r] in keep else "Held" for r in range(len(batch.rows))]
        summary.report_path = str(_write_scrub_report(validation, outcome, report))
    return summary


def _write_scrub_report(validation, outcome: list[str], out) -> Path:
    """Validate's report (one row per service line) with the claim's outcome: Ready or Held."""
    from ..workbook.files import atomic_write, write_csv
    from .validate import _write_xlsx_report, report_frame

    out = Path(out)
    frame = report_frame(validation)
    frame["Scrub"] = outcome
    if out.suffix.lower() == ".csv":
        return write_csv(frame, out)
    if out.suffix.lower() == ".xlsx":
        return atomic_write(out, lambda tmp: _write_xlsx_report(frame, validation, tmp))
    raise InputError("the report must be a .csv or .xlsx file", file=out)


@lru_cache(maxsize=1)
def _red_codes() -> frozenset[str]:
    from ..checks import CHECKS, RED

    return frozenset(c.code for c in CHECKS if c.severity == RED)
