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
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, WorkbookLocked
from ..tables import TableSpec, header_key
from ..values import is_blank
from .lock import temp_prefix

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


def lock_file(path: Path) -> Path | None:
    """Excel's owner file (``~$name``) or LibreOffice's (``.~lock.name#``) while the workbook is
    open in one of them, else None."""
    path = Path(path)
    for name in (f"~${path.name}", f"~${path.name[2:]}", f"~${path.name[1:]}", f".~lock.{path.name}#"):
        candidate = path.with_name(name)
        if candidate.exists():
            return candidate
    return None


def ensure_not_locked(path: Path) -> None:
    owner = lock_file(path)
    if owner:
        app = "LibreOffice" if owner.name.startswith(".~lock.") else "Excel"
        raise WorkbookLocked(
            f"{Path(path).name}: the workbook is open in {app} (lock file {owner.name}). "
            "Save and close it, then try again; nothing was changed.")


# Limits far above any practice's workbook, so a damaged or crafted file is refused in one line
# instead of exhausting the machine (docs/safety.md).
MAX_TABLE_ROWS = 1_000_000       # data rows in one table
MAX_TABLE_COLUMNS = 1_000        # columns in one table
MAX_SHEET_BYTES = 1_000_000_000  # one sheet's XML, decompressed
MAX_STRINGS_BYTES = 500_000_000  # the shared-strings part, decompressed
MAX_TEXT_LENGTH = 32_767         # Excel's own limit for one cell
MAX_SHEET_CELLS = 20_000_000     # rows × columns a sheet may claim before calamine reads it whole


def _frame_from_rows(header: list, rows: list[list], first_row: int, *, file, sheet) -> pd.DataFrame:
    """Rows under a header → DataFrame indexed by the row number the user sees; blank rows dropped."""
    return _frame_from_numbered(header, ((first_row + i, row) for i, row in enumerate(rows)), file=file, sheet=sheet)


def _frame_from_numbered(header: list, numbered, *, file, sheet) -> pd.DataFrame:
    """(row number, values) pairs under a header → DataFrame; blank rows dropped, limits enforced."""
    width = len(header)
    if width > MAX_TABLE_COLUMNS:
        raise InputError(f"the table has {width:,} columns, more than mednec reads ({MAX_TABLE_COLUMNS:,})",
                         file=file, sheet=sheet)
    names = [str(h).strip() if not is_blank(h) else "" for h in header]
    keep_cols = [i for i, n in enumerate(names) if n]
    data: list[list] = []
    index: list[int] = []
    for number, row in numbered:
        row = list(row[:width]) + [None] * (width - len(row))
        if all(is_blank(v) for v in row):
            continue
        if len(data) >= MAX_TABLE_ROWS:
            raise InputError(f"more than {MAX_TABLE_ROWS:,} rows in one table; split the file", file=file,
                             sheet=sheet, row=number)
        data.append([row[i] for i in keep_cols])
        index.append(number)
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
    frame = _each_column(frame, _unguard_column)  # our own CSVs carry '= for a text starting with =
    frame.attrs = {"file": str(path), "sheet": None, "delimiter": delimiter, "bom": bom,
                   "encoding": "cp1252" if encoding == "cp1252" else ("utf-8-sig" if bom else "utf-8")}
    return frame


def _each_column(frame: pd.DataFrame, change) -> pd.DataFrame:
    """``change`` applied to every column (duplicate headers and the row index kept)."""
    out = pd.concat([change(frame.iloc[:, i]) for i in range(frame.shape[1])], axis=1) if frame.shape[1] else frame
    out.columns = frame.columns
    out.index = frame.index
    return out


def _unguard_column(column: pd.Series) -> pd.Series:
    from ..values import csv_unguard

    text = column.to_numpy(dtype=object)
    try:  # one search over the joined column (a look at each of 360,000 cells cost 0.05 s)
        joined = "\x00".join(text)
        guarded = joined.startswith("'") or "\x00'" in joined
    except TypeError:  # not all text
        guarded = any(isinstance(v, str) and v[:1] == "'" for v in text)
    return column.map(csv_unguard) if guarded else column


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
    shows "Muñoz" as "MuÃ±oz").

    Every text cell that a spreadsheet would take for a formula (``= + - @``, tab, CR first) gets
    OWASP's leading apostrophe (``toolkit.values.csv_guard``); ``read_csv`` takes it back off.
    """
    from ..values import csv_guard_series

    path = Path(path)
    frame = _each_column(frame, csv_guard_series)
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
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=path.suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise MednecError(f"{path.name}: cannot write in {path.parent} ({exc.strerror or exc})") from None
    try:
        write(tmp)
        try:  # mkstemp makes 0600 files: keep the old file's mode, or the usual one for a new file
            if path.exists():
                old = path.stat()
                os.chmod(tmp, old.st_mode & 0o7777)
                _keep_owner(tmp, old)
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


def _keep_owner(tmp: str, old: os.stat_result) -> None:
    """The replacement keeps the original's owner and group where the OS lets us (POSIX)."""
    chown = getattr(os, "chown", None)
    if chown is None:
        return
    try:
        if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            chown(tmp, old.st_uid, old.st_gid)
    except OSError:  # only root may give a file away: then the group at least, if we can
        try:
            chown(tmp, -1, old.st_gid)
        except OSError:
            pass


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
    if not fits_in_memory(path):
        return _read_table_streaming(path, spec)
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
            first = (table.start or (0, 0))[0] + 1  # 1-based row of the first data row (calamine omits the header)
            if rows and [str(v) for v in rows[0]] == [str(h) for h in header]:
                rows, first = rows[1:], first + 1
            return _frame_from_rows(header, rows, first, file=path, sheet=table.sheet)
        sheet_name = _find_sheet(wb.sheet_names, spec, path)
        sheet = wb.get_sheet_by_name(sheet_name)
        rows = sheet.to_python(skip_empty_area=False)
        return _frame_from_sheet_rows(rows, spec, path, sheet_name)
    finally:
        wb.close()


_ROW_REF = re.compile(rb'row\b[^>]* r="(\d+)"')
_WIDE_CELL_REF = re.compile(rb' r="([A-Z]{2,3})\d')  # cells from column AA on (rows' r is digits only)


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _sheet_extent(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[int, int]:
    """(last row, last column) the cells of one sheet part reach, read in a stream.

    python-calamine builds one dense grid from A1 to the farthest cell, so a single stray cell
    at XFD1048576 asks it for 17 billion cells (an abort, not an exception).  Reading the part
    once, in 1 MB pieces, costs a few milliseconds per MB and tells us before it is too late.
    """
    last_row = last_col = 0
    tail = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            data = tail + chunk
            cut = data.rfind(b"<")
            cut = cut if cut > 0 else len(data)
            scan, tail = data[:cut], data[cut:]
            for m in _ROW_REF.finditer(scan):
                last_row = max(last_row, int(m.group(1)))
            for m in _WIDE_CELL_REF.finditer(scan):
                last_col = max(last_col, _column_number(m.group(1)))
    return last_row, max(last_col, 26)


_FITS: dict[tuple[str, int, int], bool] = {}  # (path, size, mtime) → answer: each table read asks


def fits_in_memory(path: Path) -> bool:
    """Whether python-calamine may read this workbook whole.

    Parts over the size limits are refused in one line; a sheet whose cells reach further than
    ``MAX_SHEET_CELLS`` (a stray cell far away) is read by the streaming reader instead.
    """
    try:
        stat = os.stat(path)
    except OSError:
        raise InputError("file not found", file=path) from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _FITS:
        _FITS[key] = _fits_in_memory(path)
    return _FITS[key]


def _fits_in_memory(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename.lower()
                if name.endswith("sharedstrings.xml") and info.file_size > MAX_STRINGS_BYTES:
                    raise InputError(f"the workbook's text is {info.file_size / 1e6:,.0f} MB once unpacked, more "
                                     f"than mednec reads ({MAX_STRINGS_BYTES / 1e6:,.0f} MB)", file=path)
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    if info.file_size > MAX_SHEET_BYTES:
                        raise InputError(f"a sheet is {info.file_size / 1e6:,.0f} MB once unpacked, more than "
                                         f"mednec reads ({MAX_SHEET_BYTES / 1e6:,.0f} MB)", file=path)
                    rows, cols = _sheet_extent(archive, info)
                    if rows * cols > MAX_SHEET_CELLS:
                        return False
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise InputError("not a valid Excel workbook (the file is damaged)", file=path) from None
    return True


def _read_table_streaming(path: Path, spec: TableSpec) -> pd.DataFrame:
    """The table by its own range (the Excel Table's ref, else the header's block), streamed by
    openpyxl's read-only reader: a sheet that claims a million rows costs only what it holds."""
    import openpyxl
    from openpyxl.utils import range_boundaries

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:
        raise InputError("not a valid Excel workbook (the file is damaged)", file=path) from None
    try:
        ref, sheet_name = _table_ref(path, spec)
        if ref is not None and sheet_name in wb.sheetnames:
            c0, r0, c1, r1 = range_boundaries(ref)
            rows = wb[sheet_name].iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1, values_only=True)
            header = list(next(rows, ()))
            return _frame_from_numbered(header, zip(range(r0 + 1, r1 + 1), rows), file=path, sheet=sheet_name)
        sheet_name = _find_sheet(wb.sheetnames, spec, path)
        ws = wb[sheet_name]
        wanted = {header_key(h) for h in spec.required}
        for number, row in enumerate(ws.iter_rows(min_row=1, max_row=20, max_col=MAX_TABLE_COLUMNS,
                                                  values_only=True), start=1):
            if {header_key(v) for v in row if not is_blank(v)} & wanted:
                width = _contiguous_width(row)
                body = ws.iter_rows(min_row=number + 1, max_col=width, values_only=True)
                return _frame_from_numbered(list(row[:width]), zip(range(number + 1, 1 << 21), body),
                                            file=path, sheet=sheet_name)
        raise InputError(f"no header row with {', '.join(repr(h) for h in spec.required)} found",
                         file=path, sheet=sheet_name)
    finally:
        wb.close()


def _contiguous_width(header_row) -> int:
    """Columns of the header's contiguous block from its first filled cell (A..last before a gap)."""
    width, seen = 0, False
    for i, value in enumerate(header_row):
        if not is_blank(value):
            width, seen = i + 1, True
        elif seen:
            break
    return max(width, 1)


def _table_ref(path: Path, spec: TableSpec) -> tuple[str | None, str | None]:
    """(ref, sheet name) of the Excel Table named like ``spec.table``, read from the parts."""
    import posixpath
    import xml.etree.ElementTree as ET  # trusted parsing is fine: no DTDs in OOXML, and we look
                                          # only at small parts (workbook, rels, tables)

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())

        def rels(part: str) -> dict[str, str]:
            folder, base = posixpath.split(part)
            rel = posixpath.join(folder, "_rels", base + ".rels")
            if rel not in names:
                return {}
            root = ET.fromstring(archive.read(rel))
            out = {}
            for r in root.findall("p:Relationship", ns):
                target = r.get("Target", "")  # relative to the part, or absolute from the package root
                full = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                out[r.get("Id", "")] = posixpath.normpath(full)
            return out

        book = ET.fromstring(archive.read("xl/workbook.xml"))
        targets = rels("xl/workbook.xml")
        for sheet in book.findall("m:sheets/m:sheet", ns):
            part = targets.get(sheet.get(f"{{{ns['r']}}}id", ""), "")
            for table_part in rels(part).values():
                if table_part in names and "/tables/" in table_part:
                    table = ET.fromstring(archive.read(table_part))
                    if (table.get("displayName") or table.get("name") or "").casefold() == spec.table.casefold():
                        return table.get("ref"), sheet.get("name")
    return None, None


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

        from . import lock

        self.path = Path(path)
        _check_excel_file(self.path)
        self.writable = writable
        self._locked = False
        if writable:
            ensure_not_locked(self.path)
            lock.ensure_replaceable(self.path)
            lock.acquire(self.path)  # held from this read to the replace in save() (re-entrant)
            self._locked = True
            lock.remove_stale_temps(self.path)
        try:
            fits_in_memory(self.path)  # the size limits, before openpyxl unpacks anything
            self.wb = openpyxl.load_workbook(self.path, keep_vba=self.path.suffix.lower() == ".xlsm",
                                             rich_text=True)
        except InputError:
            self.close()
            raise
        except Exception:
            self.close()
            raise InputError("not a valid Excel workbook (the file is damaged)", file=self.path) from None

    def close(self) -> None:
        """Give back the workbook's lock (``save`` does it too); nothing is written."""
        if self._locked:
            from . import lock

            self._locked = False
            lock.release(self.path)

    def __enter__(self) -> WorkbookFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutting down
            pass

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
        top = _sparse_rows(ws, 1, 20, 1, MAX_TABLE_COLUMNS)
        for r in sorted(top):
            values = top[r]
            if {header_key(v) for v in values if not is_blank(v)} & wanted:
                last_col = _contiguous_width(values)
                filled = _sparse_rows(ws, r, 1 << 21, 1, last_col)
                return ws, r, 1, last_col, max(filled), None
        raise InputError(f"no header row with {', '.join(repr(h) for h in spec.required)} found",
                         file=self.path, sheet=name)

    def read_table(self, spec: TableSpec) -> pd.DataFrame:
        ws, hdr, c0, c1, last, _ = self._bounds(spec)
        rows = _sparse_rows(ws, hdr, max(last, hdr), c0, c1)
        header = rows.pop(hdr, [None] * (c1 - c0 + 1))
        return _frame_from_numbered(header, sorted(rows.items()), file=self.path, sheet=ws.title)

    def _header_columns(self, ws, hdr, c0, c1) -> dict[str, int]:
        return {header_key(ws.cell(hdr, c).value): c for c in range(c0, c1 + 1) if not is_blank(ws.cell(hdr, c).value)}

    def _add_column(self, spec, header: str) -> int:
        """Append ``header`` at the right edge of the table (extending the Table's range)."""
        from openpyxl.utils import get_column_letter, range_boundaries
        from openpyxl.worksheet.table import TableColumn

        ws, hdr, c0, c1, last, table = self._bounds(spec)
        col = c1 + 1
        put(ws.cell(hdr, col), header)
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
                put(ws.cell(int(row), col), value)
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
        filled = [r for r, values in _sparse_rows(ws, hdr, last, c0, c1).items()
                  if not all(is_blank(v) for v in values)]
        last = max(filled, default=hdr)
        rows = []
        for i, record in enumerate(frame.itertuples(index=False)):
            r = last + 1 + i
            rows.append(r)
            for header, value in zip(frame.columns, record):
                cell = ws.cell(r, cols[header_key(header)])
                put(cell, value)
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
                put(ws.cell(first_row + i, first_col + j), value)

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
        try:
            return atomic_write(target, lambda tmp: _save_beside(self.wb, tmp, target))
        finally:
            if target == self.path:
                self.close()  # replaced: the next command may have the workbook


def _save_beside(wb, tmp: str, target: Path) -> None:
    """openpyxl's save, with its per-sheet scratch files in the workbook's folder, not /tmp.

    openpyxl writes each sheet to an uncompressed temporary file first (in the system temp
    folder: a killed save left 139 MB of claims there, dates of birth included).  Named like
    our other temporary files, they are removed by the next run (``lock.remove_stale_temps``).
    """
    import openpyxl.worksheet._writer as sheet_writer

    from .lock import temp_prefix

    original = sheet_writer.create_temporary_file
    made: list[str] = []

    def beside(suffix: str = "") -> str:
        fd, name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=suffix or ".part", dir=target.parent)
        os.close(fd)
        sheet_writer.ALL_TEMP_FILES.append(name)
        made.append(name)
        return name

    sheet_writer.create_temporary_file = beside
    try:
        wb.save(tmp)
    finally:
        sheet_writer.create_temporary_file = original
        for name in made:  # gone after a normal save; after an interrupted one, removed here
            _discard(name)


def _sparse_rows(ws, first_row: int, last_row: int, first_col: int, last_col: int) -> dict[int, list]:
    """The filled cells of a block, by row number, without creating the empty ones.

    openpyxl's public ``iter_rows``/``cell`` create a cell object for every coordinate they
    visit, so a table reaching row 1,048,576 (or a stray cell there) costs minutes and gigabytes;
    the sheet's own cell store holds only what the file holds.
    """
    width = last_col - first_col + 1
    rows: dict[int, list] = {}
    for (r, c), cell in ws._cells.items():
        if first_row <= r <= last_row and first_col <= c <= last_col and cell.value is not None:
            rows.setdefault(r, [None] * width)[c - first_col] = cell.value
    return rows


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def put(cell, value) -> None:
    """Write one value into an openpyxl cell as data: text is always a text cell, never a formula.

    openpyxl turns any text starting with ``=`` into a live formula (``=cmd|' /C calc'!A0``
    from an 835 would be offered to run by Excel), so text cells are typed ``s`` explicitly;
    control characters the file format cannot hold are dropped.
    """
    value = _cell_value(value)
    if isinstance(value, str):
        if _ILLEGAL.search(value):
            value = _ILLEGAL.sub("", value)
        cell.value = value
        cell.data_type = "s"
    else:
        cell.value = value


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
