"""The validation report: its rows, and writers for CSV and Parquet that can be fed chunk by chunk.

One writer serves the in-memory run, the streaming run and the Dask run, so the three give the
same bytes. The CSV writer is ours rather than ``DataFrame.to_csv``: the report is mostly text,
and escaping each distinct value once, then joining lines, is about 10× faster than pandas'
per-cell formatting while writing the very same bytes (a test compares the two). pyarrow's CSV
writer is faster still but quotes every string, so its bytes differ, and the CSV path must not
import pyarrow (a Validate click starts a fresh Python). Parquet uses pyarrow, imported only then.
Every text cell passes ``csv_guard`` (OWASP formula neutralisation) on its way into a CSV.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .errors import InputError
from .tables import REPORT_COLUMNS
from .values import FORMULA_START, csv_guard, first_positions, object_ids

REPORT_SUFFIXES = (".csv", ".parquet", ".xlsx")
REPORT_HEADERS = ("Claim ID", "Line", *REPORT_COLUMNS[2:], "Validated At", "Code Set")


def report_frame(validation, codesets=None, edits=None) -> pd.DataFrame:
    """The report's rows: the contract's six columns, then Validated At and Code Set.

    Code Set names the ICD-10-CM release(s) used (and the NCCI index). With more than one release
    loaded, each line names the release in force on its date of service, so the column does not
    depend on which other lines were in the same run (or chunk).
    """
    claims = validation.claims
    line = claims["Line"].fillna(1).astype(int)
    frame = pd.DataFrame({
        "Claim ID": claims["Claim ID"],
        "Line": line,
        **{c: validation.results[c] for c in REPORT_COLUMNS[2:]},
        "Validated At": validation.results["Validated At"],
        "Code Set": _code_set_column(validation, codesets, edits),
    })
    return frame.reset_index(drop=True)


def _code_set_column(validation, codesets, edits):
    if codesets is None or len(codesets.sets) == 1:
        return "; ".join(validation.codeset_labels)
    dos = validation.claims["Date of Service"]
    # Per distinct date (a few hundred), not per line. A date of service outside every loaded
    # release also carries the note saying what to load; no date: the newest release.
    codes, days = pd.factorize(dos.to_numpy(), use_na_sentinel=True)
    suffix = f"; {edits.label}" if edits is not None else ""
    labels = ["; ".join([codesets.for_date(d).label, *codesets.notes([d])]) + suffix
              for d in pd.DatetimeIndex(days).date] + [codesets.newest.label + suffix]
    return pd.Series(np.asarray(labels, dtype=object)[codes], index=dos.index, dtype=object)


# ---------------------------------------------------------------- writers

class ReportWriter(Protocol):
    """Writes report rows to a temp file chunk by chunk; ``close`` finishes it (then it is replaced)."""

    def write(self, frame: pd.DataFrame) -> None: ...

    def close(self) -> None: ...


def _escape(value, sep: str) -> str:
    """One CSV cell as Python's csv module (QUOTE_MINIMAL) and ``to_csv`` write it, formula-guarded."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return _quoted(csv_guard(value) if isinstance(value, str) else str(value), sep)


def _quoted(text: str, sep: str) -> str:
    """A cell's text quoted where CSV needs it (a lone \r too, as Python ≥ 3.12's csv does; 3.11
    leaves it bare, which breaks readers)."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if sep in text or "\n" in text or "\r" in text:
        return f'"{text}"'  # one copy of a 600-character sentence, not two
    return text


def _escape_all(values: list, sep: str) -> list[str]:
    """``_escape`` of each value (a report column holds 20,000 distinct findings sentences: text
    goes straight to the guard and the quoting)."""
    return [_quoted(csv_guard(v), sep) if type(v) is str else _escape(v, sep) for v in values]


def _column_table(column: pd.Series, sep: str) -> tuple[np.ndarray | None, list[str]]:
    """A column as CSV text: (numbers, the distinct cells) where its values repeat, else (None, the
    cells); the numbers let a writer encode each distinct cell once."""
    kind = column.dtype.kind
    if kind in "iu":
        codes, uniques = pd.factorize(column.to_numpy())
        return codes, [str(u) for u in uniques.tolist()]
    if kind == "M":
        return None, column.dt.strftime("%Y-%m-%d").fillna("").tolist()
    values = column.to_numpy(dtype=object)
    shared = _shared_cells(values, sep)
    if shared is not None:
        return shared
    plain = _plain_text(values, sep)
    if plain is not None:
        return None, plain
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, _escape_all(list(uniques), sep) + [""]  # code -1 (a missing value) takes the last slot: ""


def _shared_cells(values: np.ndarray, sep: str) -> tuple[np.ndarray, list[str]] | None:
    """The cells when the column repeats a few string objects (statuses, stamps, and the findings:
    the checks share one string among the lines that say the same), numbered by object rather
    than by text: no hashing of long texts. None when the values are mostly distinct objects."""
    head = values[:1000]
    if len(head) and len(set(map(id, head))) * 10 > len(head) * 9:  # IDs: distinct objects, no need to count
        return None
    codes, objects = pd.factorize(object_ids(values))
    if len(objects) * 2 > len(values):
        return None
    first = first_positions(codes)  # a position holding each object
    return codes, _escape_all(values[first].tolist(), sep)


def _plain_text(values: np.ndarray, sep: str) -> list[str] | None:
    """The cells as they are when no value needs quoting or guarding (IDs, codes, statuses), else None.

    One join and a few substring searches over the whole column instead of a look at each value;
    a column whose first values already need quoting (Findings) is not joined at all (memory).
    """
    special = (sep, '"', "\n", "\r")
    missing = pd.isna(values)
    present = values[~missing] if missing.any() else values
    for v in present[:64]:
        if not isinstance(v, str) or any(c in v for c in special):
            return None
    try:
        text = "\x1f".join(present)
    except TypeError:  # not all text
        return None
    if any(c in text for c in special) or text.startswith(FORMULA_START) \
            or any("\x1f" + c in text for c in FORMULA_START):
        return None
    return np.where(missing, "", values).tolist() if missing.any() else values.tolist()


def csv_pieces(frame: pd.DataFrame, *, sep: str = ",", header: bool = True, lineterminator: str = os.linesep,
               rows_per_piece: int = 4_096, encoding: str | None = None):
    """``frame`` as CSV text in pieces of ``rows_per_piece`` lines (the cells are escaped for the whole
    frame at once; only one piece of joined text is held at a time).

    With ``encoding`` the pieces are bytes: each distinct cell is encoded once and the lines are
    joined as bytes (cheaper than encoding 50-100 MB of joined findings text)."""
    def out(text: str):
        return text if encoding is None else text.encode(encoding)

    glue, end = out(sep), out(lineterminator)
    if header:
        yield out(sep.join(_escape(str(c), sep) for c in frame.columns) + lineterminator)
    tables = []
    for c in frame.columns:
        codes, texts = _column_table(frame[c], sep)
        tables.append((codes, texts if encoding is None else [t.encode(encoding) for t in texts]))
    # Trailing columns with one cell for every line (Validated At, a single Code Set) end each line
    # as one piece: fewer cells to join per line.
    while len(frame) and len(tables) > 1:
        last_codes, last_cells = tables[-1]
        if last_codes is None or not (last_codes == last_codes[0]).all():
            break
        tables.pop()
        end = glue + last_cells[last_codes[0]] + end
    columns = [cells if codes is None else np.asarray(cells, dtype=object)[codes].tolist() for codes, cells in tables]
    for start in range(0, len(frame), rows_per_piece):
        rows = zip(*(col[start:start + rows_per_piece] for col in columns))
        yield end.join(map(glue.join, rows)) + end


def csv_text(frame: pd.DataFrame, *, sep: str = ",", header: bool = True, lineterminator: str = os.linesep) -> str:
    """``frame`` as CSV text, the same as ``frame.to_csv(index=False, date_format="%Y-%m-%d")``."""
    return "".join(csv_pieces(frame, sep=sep, header=header, lineterminator=lineterminator))


class CsvReportWriter:
    def __init__(self, path: str | Path):
        self.fh = open(path, "wb")  # noqa: SIM115  (closed by close(), after the last chunk)
        self.header = True

    def write(self, frame: pd.DataFrame) -> None:
        for piece in csv_pieces(frame, header=self.header, encoding="utf-8"):
            self.fh.write(piece)
        self.header = False

    def close(self) -> None:
        if self.header:  # no lines at all: the header alone, as the in-memory run writes it
            self.fh.write(csv_text(pd.DataFrame(columns=list(REPORT_HEADERS))).encode("utf-8"))
        self.fh.close()


class ParquetReportWriter:
    """Row groups as they come; the schema is fixed by the first chunk (text stays text)."""

    def __init__(self, path: str | Path):
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            from .errors import MednecError

            raise MednecError('Parquet reports need pyarrow: pip install "mednec[scale]"') from None
        self.path = str(path)
        self.writer: Any = None
        self.schema: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            self.schema = pa.schema([(c, pa.int64() if frame[c].dtype.kind in "iu" else pa.string())
                                     for c in frame.columns])
            self.writer = pq.ParquetWriter(self.path, self.schema)
        text = {c: object for c in frame.columns if frame[c].dtype.kind not in "iu"}
        table = pa.Table.from_pandas(frame.astype(text), schema=self.schema, preserve_index=False)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None:  # no rows at all: still a readable, empty report
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({c: pa.array([], pa.int64() if c == "Line" else pa.string())
                                     for c in REPORT_HEADERS}), self.path)
            return
        self.writer.close()


WRITERS: dict[str, Callable[[str | Path], ReportWriter]] = {".csv": CsvReportWriter, ".parquet": ParquetReportWriter}


def open_writer(out: Path, tmp: str) -> ReportWriter:
    """The writer for ``out``'s suffix, writing into ``tmp``."""
    suffix = Path(out).suffix.lower()
    if suffix not in WRITERS:
        raise InputError("a streamed report must be a .csv or .parquet file", file=out)
    return WRITERS[suffix](tmp)
