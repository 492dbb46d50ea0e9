"""Workbook and CSV files on disk: read the contract's tables, write result columns back.

This is the file half of the workbook-access seam (the live-Excel half is
``toolkit.excel.live``).  Reading for a report uses python-calamine (≈10× faster than
openpyxl); editing in place uses openpyxl with ``keep_vba`` so macros, buttons, tables,
validations and formats survive, and the save is atomic (temp file in the same folder, then
replace).  A workbook that Excel holds open is never written.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, WorkbookLocked
from ..tables import TableSpec, header_key
from ..values import is_blank

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


def lock_file(path: Path) -> Path | None:
    """Excel's owner file (``~$name``) while the workbook is open, else None."""
    path = Path(path)
    for name in (f"~${path.name}", f"~${path.name[2:]}", f"~${path.name[1:]}"):
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    return None


def ensure_not_locked(path: Path) -> None:
    if lock_file(path):
        raise WorkbookLocked(
            f"{Path(path).name}: the workbook is open in Excel (lock file {lock_file(path).name}). "
            "Save and close it, then try again; nothing was changed.")


def _frame_from_rows(header: list, rows: list[list], first_row: int, *, file, sheet) -> pd.DataFrame:
    """Rows under a header → DataFrame indexed by the row number the user sees; blank rows dropped."""
    width = len(header)
    names = [str(h).strip() if not is_blank(h) else "" for h in header]
    keep_cols = [i for i, n in enumerate(names) if n]
    data, index = [], []
    for offset, row in enumerate(rows):
        row = list(row[:width]) + [None] * (width - len(row))
        if all(is_blank(v) for v in row):
            continue
        data.append([row[i] for i in keep_cols])
        index.append(first_row + offset)
    frame = pd.DataFrame(data, columns=[names[i] for i in keep_cols], index=pd.Index(index, name="row"), dtype=object)
    frame.attrs = {"file": str(file), "sheet": sheet}
    return frame


# ---------------------------------------------------------------- CSV

def read_csv(path: Path) -> pd.DataFrame:
    """A CSV export: byte-order mark and ``;`` separators (European Excel) handled.

    Row numbers are those Excel shows when it opens the file (header = row 1).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    ensure_not_old_excel(path, raw[:8])
    bom = raw.startswith(b"\xef\xbb\xbf")
    encoding = "utf-8-sig"
    try:
        head = raw[:65536].decode(encoding)
        raw.decode(encoding)  # the whole file: a Windows-1252 "Muñoz" may come after the first 64 KB
    except UnicodeDecodeError:
        encoding, head = "cp1252", raw[:65536].decode("cp1252", errors="replace")
    if not head.strip():
        raise InputError("the file is empty", file=path)
    first = head.lstrip("\r\n").splitlines()[0]
    delimiter = max((",", ";", "\t", "|"), key=first.count)
    try:
        grid = pd.read_csv(io.BytesIO(raw), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                           na_filter=False, skip_blank_lines=False, encoding=encoding, engine="c")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a readable CSV file ({str(exc).splitlines()[0]})", file=path) from None
    grid.index = grid.index + 1  # Excel's row numbers
    nonblank = np.zeros(len(grid), dtype=bool)
    for col in grid.columns:  # (a row of only spaces counts as filled; it is rare, and harmless)
        nonblank |= grid[col].to_numpy(dtype=object) != ""
    if not nonblank.any():
        raise InputError("the file is empty", file=path)
    header_at = int(np.argmax(nonblank))
    header = [str(h).strip() for h in grid.iloc[header_at].tolist()]
    keep = [i for i, h in enumerate(header) if h]
    body = grid.iloc[header_at + 1:][nonblank[header_at + 1:]]
    frame = body.iloc[:, keep].copy()
    frame.columns = [header[i] for i in keep]
    frame.index = pd.Index(body.index, name="row")
    frame.attrs = {"file": str(path), "sheet": None, "delimiter": delimiter, "bom": bom,
                   "encoding": "cp1252" if encoding == "cp1252" else ("utf-8-sig" if bom else "utf-8")}
    return frame


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of Excel 97-2003 (.xls)


def ensure_not_old_excel(path: Path, head: bytes = b"") -> None:
    """An old .xls (or binary .xlsb) cannot be read: say how to get a file that can."""
    suffix = Path(path).suffix.lower()
    if suffix in (".xls", ".xlsb") or head.startswith(OLE_MAGIC):
        kind = "a binary Excel workbook (.xlsb)" if suffix == ".xlsb" else "an old Excel 97-2003 workbook (.xls)"
        raise InputError(f"{kind}: open it in Excel and save it as .xlsx (File > Save As > Excel Workbook), "
                         "then use the .xlsx", file=path)


# Characters Windows-1252 lacks that mednec's own messages may contain, written as a biller would type them.
_CP1252_FALLBACK = str.maketrans({"≤": "<=", "≥": ">=", "→": "->", "←": "<-", "✓": "Y", "✗": "N", "≠": "!="})


def write_csv(frame: pd.DataFrame, path: Path, *, delimiter: str = ",", bom: bool = False,
              encoding: str | None = None) -> Path:
    """Write a CSV atomically; keep the separator, byte-order mark and encoding of a file rewritten in
    place (``encoding`` as ``read_csv`` found it: a Windows-1252 export stays Windows-1252, or Excel
    shows "Muñoz" as "MuÃ±oz")."""
    path = Path(path)
    encoding = encoding or ("utf-8-sig" if bom else "utf-8")
    if encoding == "cp1252":
        frame = frame.apply(lambda col: col.map(lambda v: v.translate(_CP1252_FALLBACK) if isinstance(v, str) else v))

        def write(tmp):
            with open(tmp, "w", encoding="cp1252", errors="replace", newline="") as fh:
                frame.to_csv(fh, index=False, sep=delimiter, date_format="%Y-%m-%d")

        return atomic_write(path, write)
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, sep=delimiter, encoding=encoding,
                                                        date_format="%Y-%m-%d"))


def atomic_write(path: Path, write) -> Path:
    """Write through a temp file in the target folder, then replace: never a half file.

    A folder that cannot be written (missing, read-only, a file in the way, a full disk) is a
    one-line ``MednecError`` naming the target, and the old file, if any, is left as it was.
    """
    from ..errors import MednecError

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".~{path.stem}-", suffix=path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise MednecError(f"{path.name}: cannot write in {path.parent} ({exc.strerror or exc})") from None
    try:
        write(tmp)
        try:  # mkstemp makes 0600 files: keep the old file's mode, or the usual one for a new file
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
        except OSError:
            pass
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise MednecError(f"{path.name}: could not be written ({exc.strerror or exc}); nothing was changed") from None
    except BaseException:
        _discard(tmp)
        raise
    return path


def _discard(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


# ---------------------------------------------------------------- Excel, fast read-only

def _check_excel_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path)
    if not zipfile.is_zipfile(path):
        raise InputError("not a valid Excel workbook (the file is damaged, or not .xlsx/.xlsm)", file=path)


def read_table_fast(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read one contract table with python-calamine (no formatting, no writing)."""
    import python_calamine as pc

    path = Path(path)
    _check_excel_file(path)
    try:
        wb = pc.CalamineWorkbook.from_path(str(path), load_tables=True)
    except Exception:  # calamine raises several types for damaged zips / XML
        raise InputError("not a valid Excel workbook (the file is damaged)", file=path) from None
    try:
        names = {n.casefold(): n for n in _table_names(wb)}
        if spec.table.casefold() in names:
            table = wb.get_table_by_name(names[spec.table.casefold()])
            rows = table.to_python()
            header = list(table.columns)
            first = table.start[0] + 1  # 1-based row of the first data row (calamine omits the header)
            if rows and [str(v) for v in rows[0]] == [str(h) for h in header]:
                rows, first = rows[1:], first + 1
            return _frame_from_rows(header, rows, first, file=path, sheet=table.sheet)
        sheet_name = _find_sheet(wb.sheet_names, spec, path)
        sheet = wb.get_sheet_by_name(sheet_name)
        rows = sheet.to_python(skip_empty_area=False)
        return _frame_from_sheet_rows(rows, spec, path, sheet_name)
    finally:
        wb.close()


def _table_names(wb) -> list[str]:
    """The Excel Tables calamine found (none where it cannot read them)."""
    try:
        listed = wb.table_names  # a list in python-calamine ≥ 0.5, a method before
        return list(listed() if callable(listed) else listed)
    except Exception:  # tables not loaded / not supported for this file
        return []


_OTHER_TABLE_SHEETS = {"rules", "payers", "denials", "settings", "dashboard", "instructions"}


def _sheet_named(sheet_names, spec: TableSpec) -> str | None:
    """The sheet holding ``spec``: its own name, or, for Claims, a workbook's only sheet (a
    practice-management export called "Sheet1" or "Export" holds nothing but claim lines)."""
    names = list(sheet_names)
    for name in names:
        if name.strip().casefold() == spec.name.casefold():
            return name
    if spec.name == "Claims" and len(names) == 1 and names[0].strip().casefold() not in _OTHER_TABLE_SHEETS:
        return names[0]
    return None


def _find_sheet(sheet_names, spec: TableSpec, path) -> str:
    name = _sheet_named(sheet_names, spec)
    if name is not None:
        return name
    listed = ", ".join(repr(n) for n in list(sheet_names)[:6])
    raise InputError(f"no {spec.name} sheet or {spec.table} table in the workbook (its sheets: {listed}): "
                     f"rename the sheet that holds the {spec.name.lower()} to {spec.name}", file=path)


def _frame_from_sheet_rows(rows: list[list], spec: TableSpec, path, sheet_name: str) -> pd.DataFrame:
    """A plain sheet: the header is the first row (within 20) naming a required column."""
    wanted = {header_key(h) for h in spec.required}
    for i, row in enumerate(rows[:20]):
        keys = {header_key(v) for v in row if not is_blank(v)}
        if keys & wanted:
            return _frame_from_rows(list(row), rows[i + 1:], i + 2, file=path, sheet=sheet_name)
    if not any(any(not is_blank(v) for v in r) for r in rows):
        raise InputError(f"the {spec.name} sheet is empty", file=path, sheet=sheet_name)
    raise InputError(f"no header row with {', '.join(repr(h) for h in spec.required)} found",
                     file=path, sheet=sheet_name)


def read_table(path: Path | str, spec: TableSpec) -> pd.DataFrame:
    """A contract table from a CSV file or a workbook (raw values, user's row numbers)."""
    path = Path(path)
    ensure_not_old_excel(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return read_table_fast(path, spec)
    if not path.exists():
        raise InputError("file not found", file=path)
    return read_csv(path)


class ReadOnlyWorkbook:
    """A workbook opened only to read, through python-calamine.

    The reading methods of ``WorkbookFile`` (``path``, ``has_table``, ``read_table``,
    ``settings``) at about a tenth of the cost: openpyxl takes over 20 s to open a workbook with
    20,000 denials and 20,000 claim lines.  Each table is read once and kept.
    """

    def __init__(self, path: Path | str):
        import python_calamine as pc

        self.path = Path(path)
        _check_excel_file(self.path)
        try:
            wb = pc.CalamineWorkbook.from_path(str(self.path), load_tables=True)
        except Exception:  # calamine raises several types for damaged zips / XML
            raise InputError("not a valid Excel workbook (the file is damaged)", file=self.path) from None
        try:
            self._tables = {n.casefold() for n in _table_names(wb)}
            self._sheets = {n.strip().casefold() for n in wb.sheet_names}
            self._sheet_names = list(wb.sheet_names)
        finally:
            wb.close()
        self._cache: dict[str, pd.DataFrame] = {}

    def has_table(self, spec: TableSpec) -> bool:
        return spec.table.casefold() in self._tables or _sheet_named(self._sheet_names, spec) is not None

    def read_table(self, spec: TableSpec) -> pd.DataFrame:
        if spec.table not in self._cache:
            self._cache[spec.table] = read_table_fast(self.path, spec)
        cached = self._cache[spec.table]
        frame = cached.copy()
        frame.attrs = dict(cached.attrs)
        return frame

    def settings(self) -> dict[str, str]:
        from ..tables import SETTINGS
        from ..values import settings_from_table

        return settings_from_table(self.read_table(SETTINGS)) if self.has_table(SETTINGS) else {}


# ---------------------------------------------------------------- Excel, in place

class WorkbookFile:
    """An .xlsx/.xlsm opened with openpyxl for editing in place.

    ``read_table`` gives the raw table (index = Excel row numbers); ``write_columns`` writes
    whole columns of a table (adding a missing header at the table's right edge);
    ``append_rows`` adds rows at the bottom of a table; ``save`` replaces the file atomically.
    """

    def __init__(self, path: Path | str, *, writable: bool = True):
        import openpyxl

        self.path = Path(path)
        _check_excel_file(self.path)
        if writable:
            ensure_not_locked(self.path)
        self.writable = writable
        try:
            self.wb = openpyxl.load_workbook(self.path, keep_vba=self.path.suffix.lower() == ".xlsm",
                                             rich_text=True)
        except Exception:
            raise InputError("not a valid Excel workbook (the file is damaged)", file=self.path) from None

    # -- locating
    def _table(self, spec: TableSpec):
        for ws in self.wb.worksheets:
            for table in ws.tables.values():  # openpyxl's tables.items() gives (name, ref) pairs
                if table.displayName.casefold() == spec.table.casefold():
                    return ws, table
        return None, None

    def has_table(self, spec: TableSpec) -> bool:
        ws, table = self._table(spec)
        if table is not None:
            return True
        return _sheet_named([ws.title for ws in self.wb.worksheets], spec) is not None

    def _bounds(self, spec: TableSpec):
        """(worksheet, header row, first column, last column, last data row, table or None)."""
        from openpyxl.utils import range_boundaries

        ws, table = self._table(spec)
        if table is not None:
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            return ws, min_row, min_col, max_col, max_row, table
        name = _find_sheet([w.title for w in self.wb.worksheets], spec, self.path)
        ws = self.wb[name]
        wanted = {header_key(h) for h in spec.required}
        for r in range(1, min(ws.max_row, 20) + 1):
            values = [c.value for c in ws[r]]
            if {header_key(v) for v in values if not is_blank(v)} & wanted:
                last_col = max((i + 1 for i, v in enumerate(values) if not is_blank(v)), default=1)
                return ws, r, 1, last_col, ws.max_row, None
        raise InputError(f"no header row with {', '.join(repr(h) for h in spec.required)} found",
                         file=self.path, sheet=name)

    def read_table(self, spec: TableSpec) -> pd.DataFrame:
        ws, hdr, c0, c1, last, _ = self._bounds(spec)
        rows = [list(r) for r in ws.iter_rows(min_row=hdr, max_row=max(last, hdr), min_col=c0, max_col=c1,
                                              values_only=True)]
        header = rows[0] if rows else []
        return _frame_from_rows(header, rows[1:], hdr + 1, file=self.path, sheet=ws.title)

    def _header_columns(self, ws, hdr, c0, c1) -> dict[str, int]:
        return {header_key(ws.cell(hdr, c).value): c for c in range(c0, c1 + 1) if not is_blank(ws.cell(hdr, c).value)}

    def _add_column(self, spec, header: str) -> int:
        """Append ``header`` at the right edge of the table (extending the Table's range)."""
        from openpyxl.utils import get_column_letter, range_boundaries
        from openpyxl.worksheet.table import TableColumn

        ws, hdr, c0, c1, last, table = self._bounds(spec)
        col = c1 + 1
        ws.cell(hdr, col).value = header
        src = ws.cell(hdr, c1)
        if src.has_style:
            ws.cell(hdr, col)._style = src._style
        if table is not None:
            min_col, min_row, _, max_row = range_boundaries(table.ref)
            table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(col)}{max_row}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
            ids = [tc.id for tc in table.tableColumns]
            table.tableColumns.append(TableColumn(id=max(ids, default=0) + 1, name=header))
        return col

    def write_columns(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        """Write each column of ``frame`` into the table's column of that header, by row number.

        Only the cells of those columns in the rows of ``frame.index`` are touched.
        """
        ws, hdr, c0, c1, last, _ = self._bounds(spec)
        cols = self._header_columns(ws, hdr, c0, c1)
        for header in frame.columns:
            col = cols.get(header_key(header))
            if col is None:
                col = self._add_column(spec, header)
                cols[header_key(header)] = col
            for row, value in zip(frame.index, frame[header].tolist()):
                ws.cell(int(row), col).value = _cell_value(value)
        fit_wrapped_rows(ws, frame.index, [cols[header_key(h)] for h in frame.columns])

    def append_rows(self, spec: TableSpec, frame: pd.DataFrame) -> list[int]:
        """Add rows under the table (extending it); returns their row numbers."""
        from openpyxl.utils import get_column_letter, range_boundaries

        ws, hdr, c0, c1, last, table = self._bounds(spec)
        cols = self._header_columns(ws, hdr, c0, c1)
        for header in frame.columns:
            if header_key(header) not in cols:
                cols[header_key(header)] = self._add_column(spec, header)
        ws, hdr, c0, c1, last, table = self._bounds(spec)
        # The last non-blank row inside the table: Tables often carry one empty row.
        while last > hdr and all(is_blank(ws.cell(last, c).value) for c in range(c0, c1 + 1)):
            last -= 1
        rows = []
        for i, record in enumerate(frame.itertuples(index=False)):
            r = last + 1 + i
            rows.append(r)
            for header, value in zip(frame.columns, record):
                cell = ws.cell(r, cols[header_key(header)])
                cell.value = _cell_value(value)
                above = ws.cell(hdr + 1, cols[header_key(header)])
                if r > hdr + 1 and above.has_style:
                    cell._style = above._style
        if table is not None:
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            new_last = max(max_row, last + len(frame))
            table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{new_last}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
        return rows

    def sheet(self, name: str, *, create: bool = False):
        """The worksheet called ``name`` (case-insensitive); created at the end if asked and missing."""
        for ws in self.wb.worksheets:
            if ws.title.strip().casefold() == name.strip().casefold():
                return ws
        if not create:
            raise InputError(f"no {name} sheet in the workbook", file=self.path)
        return self.wb.create_sheet(name)

    def write_cells(self, sheet_name: str, top_left: str, rows) -> None:
        """Write a block of values (a list of rows) starting at ``top_left`` (e.g. ``"B5"``) on
        ``sheet_name``, creating the sheet if missing.  None clears a cell; formats are kept."""
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        ws = self.sheet(sheet_name, create=True)
        letters, first_row = coordinate_from_string(top_left)
        first_col = column_index_from_string(letters)
        for i, values in enumerate(rows):
            for j, value in enumerate(values):
                ws.cell(first_row + i, first_col + j).value = _cell_value(value)

    def settings(self) -> dict[str, str]:
        """The Settings sheet as a dict (Key → Value, keys as typed)."""
        from ..tables import SETTINGS
        from ..values import settings_from_table

        return settings_from_table(self.read_table(SETTINGS)) if self.has_table(SETTINGS) else {}

    def save(self, path: Path | None = None) -> Path:
        target = Path(path) if path else self.path
        if not self.writable and target == self.path:
            raise RuntimeError("opened read-only")
        ensure_not_locked(target)
        return atomic_write(target, self.wb.save)


def _cell_value(value):
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()  # numpy scalar
        except (AttributeError, ValueError):
            pass
    if isinstance(value, (dt.date, dt.datetime, str, int, float, bool)):
        return value
    return str(value)


def fit_wrapped_rows(ws, rows, columns) -> None:
    """Make each row tall enough for its wrapped cells (Findings, Policy): Excel sizes such rows
    when it opens a file, LibreOffice and printing do not, and a wrapped finding cut to one line
    is as bad as one cut at the column edge.  Only rows holding wrapped text are touched."""
    import math

    from openpyxl.utils import get_column_letter

    wrapped = []
    for col in columns:
        width = ws.column_dimensions[get_column_letter(col)].width or 8.43
        wrapped.append((col, max(4.0, width * 1.1)))
    for row in rows:
        lines = 1
        for col, chars in wrapped:
            cell = ws.cell(int(row), col)
            if isinstance(cell.value, str) and cell.alignment is not None and cell.alignment.wrap_text:
                lines = max(lines, sum(max(1, math.ceil(len(part) / chars)) for part in cell.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[int(row)].height = min(409, 15 * lines)
