"""Write only what changed inside a workbook: the fast in-place writer.

openpyxl loads and re-serialises every part of a workbook to change five columns: 48 % of a
20,000-line Validate goes to the load and 34 % to the save, while the checks take 3 %.
``FastBook`` has the reading and writing methods of ``WorkbookFile`` but reads tables with
python-calamine and, on ``save``, rewrites only the worksheet parts it changed (the cells of
the rows it touched; new rows; the ``<dimension>``), the Table parts whose range grew, and
``styles.xml`` when a date needs a date format — every other part of the zip (VBA project,
charts, drawings, other sheets, shared strings) is copied unchanged, so macros stay identical
by construction.  Text is always written as an inline string (``t="inlineStr"``), never as a
formula, whatever it starts with.

The writer is hand-written (there is no library that edits a cell of an existing .xlsx without
loading it whole) and deliberately narrow: anything it does not handle — a table on a plain
sheet without an Excel Table, a 1904 date system, prefixed XML, rows without cell references,
overwriting a formula — raises ``FastPathUnsupported`` and the book falls back to openpyxl
(``WorkbookFile``), replaying the same edits; ``fallback_note`` then says why, for the
summary line.  Methods it has no fast path for (``write_cells``, ``sheet``, ``wb``) switch to
openpyxl the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from ..errors import InputError
from ..tables import TableSpec, header_key
from .files import _cell_value, _check_excel_file, _table_names, atomic_write, ensure_not_locked, read_table_fast

_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ROW = re.compile(rb"<row\b[^>]*?(?:/>|>.*?</row>)", re.S)
_ROW_NUM = re.compile(rb'<row\b[^>]*?\sr="(\d+)"')
_CELLS = re.compile(rb'(<c\b[^>]*?\sr="([A-Z]{1,3})\d+"[^>]*?(?:/>|>.*?</c>))', re.S)  # (cell, column letters)
_STYLE = re.compile(rb'^<c\b[^>]*?\ss="(\d+)"')
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_EPOCH = dt.datetime(1899, 12, 30)


class FastPathUnsupported(Exception):
    """The workbook has something the fast writer does not edit; openpyxl takes over."""


_LETTERS: dict[int, str] = {}
_INDEX: dict[bytes, int] = {}


def col_letter(n: int) -> str:
    if n in _LETTERS:
        return _LETTERS[n]
    key, s = n, ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    _LETTERS[key] = s
    return s


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _bounds(ref: str) -> tuple[int, int, int, int]:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?", ref.strip())
    if not m:
        raise FastPathUnsupported(f"range {ref!r}")
    a, r1, b, r2 = m.groups()
    return col_index(a), int(r1), col_index(b or a), int(r2 or r1)


def _ref(c0: int, r0: int, c1: int, r1: int) -> str:
    return f"{col_letter(c0)}{r0}:{col_letter(c1)}{r1}"


def _xml_text(text: str) -> str:
    """Cell text for XML: escaped, and characters XML 1.0 cannot carry written as Excel's ``_xHHHH_``."""
    text = _ILLEGAL.sub(lambda m: "_x005F" if m.group() == "_" else f"_x{ord(m.group()):04X}_", text)
    return escape(text)


# ---------------------------------------------------------------- parts of the package

class _Package:
    """The zip's parts as bytes, read once; ``changed`` holds the parts to write anew."""

    def __init__(self, path: Path):
        with zipfile.ZipFile(path) as z:
            self.infos = z.infolist()
            self.names = {i.filename for i in self.infos}
            self._zip_path = path
        self.changed: dict[str, bytes] = {}
        self._cache: dict[str, bytes] = {}

    def read(self, name: str) -> bytes:
        if name in self.changed:
            return self.changed[name]
        if name not in self._cache:
            with zipfile.ZipFile(self._zip_path) as z:
                self._cache[name] = z.read(name)
        return self._cache[name]

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, target part) of ``part``."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if rels_name not in self.names:
            return {}
        out = {}
        for m in re.finditer(rb"<Relationship\b[^>]*>", self.read(rels_name)):
            attrs = dict(re.findall(rb'(\w+)="([^"]*)"', m.group()))
            if attrs.get(b"TargetMode") == b"External":
                continue
            target = attrs[b"Target"].decode()
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            out[attrs[b"Id"].decode()] = (attrs[b"Type"].decode(), target)
        return out

    def write(self, target: str) -> None:
        """The new package into ``target`` (the temp file ``atomic_write`` renames), on disk before the rename."""
        with open(target, "wb") as fh:
            with zipfile.ZipFile(self._zip_path) as src, zipfile.ZipFile(fh, "w") as out:
                for info in self.infos:
                    data = self.changed.get(info.filename)
                    if data is None:
                        data = src.read(info.filename)  # every part we did not change, byte for byte
                    out.writestr(info, data, compress_type=info.compress_type)
            fh.flush()
            os.fsync(fh.fileno())


@dataclass
class _Table:
    name: str
    part: str
    sheet_part: str
    sheet_name: str
    xml: bytes
    c0: int = 0
    r0: int = 0
    c1: int = 0
    r1: int = 0
    headers: list[str] = field(default_factory=list)
    last: int | None = None  # last non-blank row, known once rows are appended

    def __post_init__(self) -> None:
        m = re.search(rb'<table\b[^>]*?\sref="([^"]+)"', self.xml)
        if not m or re.search(rb'totalsRowCount="[1-9]|headerRowCount="0"', self.xml):
            raise FastPathUnsupported(f"table {self.name} has a totals row, no header row or no range")
        self.c0, self.r0, self.c1, self.r1 = _bounds(m.group(1).decode())
        self.headers = [_unescape(n.decode()) for n in re.findall(rb'<tableColumn\b[^>]*?\sname="([^"]*)"', self.xml)]
        if len(self.headers) != self.c1 - self.c0 + 1:
            raise FastPathUnsupported(f"table {self.name}: columns do not match its range")

    def set_range(self, c1: int, r1: int) -> None:
        ref = _ref(self.c0, self.r0, c1, r1).encode()
        self.xml = re.sub(rb'(<table\b[^>]*?\sref=")[^"]+"', rb"\g<1>" + ref + b'"', self.xml, count=1)
        self.xml = re.sub(rb'(<autoFilter\b[^>]*?\sref=")[^"]+"', rb"\g<1>" + ref + b'"', self.xml, count=1)
        self.c1, self.r1 = c1, r1

    def add_column(self, header: str) -> int:
        ids = [int(i) for i in re.findall(rb'<tableColumn\b[^>]*?\sid="(\d+)"', self.xml)]
        new = f'<tableColumn id="{max(ids, default=0) + 1}" name="{escape(header, {chr(34): "&quot;"})}"/>'.encode()
        self.xml = self.xml.replace(b"</tableColumns>", new + b"</tableColumns>", 1)
        self.xml = re.sub(rb'(<tableColumns\b[^>]*?\scount=")\d+"', rb"\g<1>" + str(len(ids) + 1).encode() + b'"',
                          self.xml, count=1)
        self.headers.append(header)
        self.set_range(self.c1 + 1, self.r1)
        return self.c1


def _unescape(text: str) -> str:
    """XML entities, then Excel's ``_xHHHH_`` escapes (a line break in a header is ``_x000a_``)."""
    text = (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&#10;", "\n").replace("&amp;", "&"))
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


# ---------------------------------------------------------------- one worksheet, rows parsed on demand

class _Sheet:
    """A worksheet's XML split into rows; only rows that are written get their cells parsed."""

    def __init__(self, xml: bytes, name: str):
        self.name = name
        start = xml.find(b"<sheetData")
        if start < 0 or re.search(rb"<\w+:sheetData", xml):
            raise FastPathUnsupported(f"sheet {name}: no plain <sheetData>")
        open_end = xml.index(b">", start) + 1
        if xml[open_end - 2:open_end] == b"/>":
            self.head, body, self.tail = xml[:start] + b"<sheetData>", b"", b"</sheetData>" + xml[open_end:]
        else:
            close = xml.index(b"</sheetData>", open_end)
            self.head, body, self.tail = xml[:open_end], xml[open_end:close], xml[close:]
        self.rows: dict[int, bytes] = {}
        for m in _ROW.finditer(body):
            num = _ROW_NUM.match(m.group())
            if num is None:
                raise FastPathUnsupported(f"sheet {name}: a row without its number")
            self.rows[int(num.group(1))] = m.group()
        self.edited: dict[int, tuple[bytes, dict[int, bytes]]] = {}
        self.max_row = max(self.rows, default=0)
        self.max_col = 0

    def _row(self, r: int) -> tuple[bytes, dict[int, bytes]]:
        if r not in self.edited:
            raw = self.rows.get(r)
            cells: dict[int, bytes] = {}
            if raw is None:
                tag = f'<row r="{r}"'.encode()
            else:
                end = raw.index(b">")
                if b"<extLst" in raw:
                    raise FastPathUnsupported(f"sheet {self.name}: a row with extensions")
                tag = raw[:end].rstrip(b"/")
                tag = re.sub(rb'\sspans="[^"]*"', b"", tag)  # an optional hint; dropped rather than kept wrong
                found = _CELLS.findall(raw, end)
                if len(found) != raw.count(b"<c ") + raw.count(b"<c>") + raw.count(b"<c/>"):
                    raise FastPathUnsupported(f"sheet {self.name}: a cell without its reference")
                for cell, letters in found:
                    c = _INDEX.get(letters)
                    if c is None:
                        c = _INDEX[letters] = col_index(letters.decode())
                    cells[c] = cell
            self.edited[r] = (tag, cells)
        return self.edited[r]

    def style(self, r: int, c: int) -> int:
        cell = self._row(r)[1].get(c)
        m = _STYLE.match(cell) if cell else None
        return int(m.group(1)) if m else 0

    def set(self, r: int, c: int, xml_body: bytes | None, kind: bytes | None, style: int) -> None:
        """Replace cell (r, c): ``kind`` is the t attribute, ``xml_body`` what goes inside."""
        cells = self._row(r)[1]
        old = cells.get(c)
        if old is not None and b"<f" in old:
            raise FastPathUnsupported(f"sheet {self.name}: a formula in a cell to be written")
        attrs = (b'<c r="%s%d"' % (col_letter(c).encode(), r) + (b' s="%d"' % style if style else b"")
                 + (b' t="' + kind + b'"' if kind else b""))
        if xml_body is None:
            if old is None and not style:
                return
            cells[c] = attrs + b"/>"
        else:
            cells[c] = attrs + b">" + xml_body + b"</c>"
        if r > self.max_row:
            self.max_row = r
        if c > self.max_col:
            self.max_col = c

    def to_xml(self) -> bytes:
        parts = [self._fix_dimension(self.head)]
        for r in sorted(set(self.rows) | set(self.edited)):
            if r in self.edited:
                tag, cells = self.edited[r]
                if cells:
                    parts.append(tag + b">" + b"".join(cells[c] for c in sorted(cells)) + b"</row>")
                else:
                    parts.append(tag + b"/>")
            else:
                parts.append(self.rows[r])
        parts.append(self.tail)
        return b"".join(parts)

    def _fix_dimension(self, head: bytes) -> bytes:
        m = re.search(rb'<dimension\b[^>]*?\sref="([^"]+)"', head)
        if not m:
            return head
        try:
            c0, r0, c1, r1 = _bounds(m.group(1).decode())
        except FastPathUnsupported:
            return head
        ref = _ref(c0, r0, max(c1, self.max_col), max(r1, self.max_row)).encode()
        return head[:m.start(1)] + ref + head[m.end(1):]


# ---------------------------------------------------------------- styles: only for dates

class _Styles:
    """``styles.xml``'s number formats and cell formats, to give a date cell a date format as openpyxl would."""

    def __init__(self, xml: bytes):
        self.xml = xml
        m = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.S)
        if not m:
            raise FastPathUnsupported("styles without cell formats")
        self.xfs = re.findall(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", m.group(1), re.S)
        self.fmts = {int(i): _unescape(code.decode()) for i, code in
                     re.findall(rb'<numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', xml)}
        self.added_fmts: list[tuple[int, str]] = []
        self.added_xfs: list[bytes] = []
        self.memo: dict[tuple[int, str], int] = {}

    def fmt_code(self, style: int) -> str:
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        xf = (self.xfs + self.added_xfs)[style] if style < len(self.xfs) + len(self.added_xfs) else b""
        m = re.search(rb'numFmtId="(\d+)"', xf)
        fid = int(m.group(1)) if m else 0
        return self.fmts.get(fid) or BUILTIN_FORMATS.get(fid, "General")

    def with_format(self, style: int, code: str) -> int:
        """The cell format ``style`` with number format ``code`` (added when missing)."""
        key = (style, code)
        if key in self.memo:
            return self.memo[key]
        from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE

        fid = BUILTIN_FORMATS_REVERSE.get(code)
        if fid is None:
            fid = next((i for i, c in self.fmts.items() if c == code), None)
        if fid is None:
            fid = max([163, *self.fmts]) + 1
            self.fmts[fid] = code
            self.added_fmts.append((fid, code))
        base = (self.xfs + self.added_xfs)[style] if style < len(self.xfs) + len(self.added_xfs) else b"<xf/>"
        xf = re.sub(rb'\snumFmtId="\d+"', b"", base)
        xf = re.sub(rb'\sapplyNumberFormat="\w+"', b"", xf)
        xf = xf.replace(b"<xf", b'<xf numFmtId="%d" applyNumberFormat="1"' % fid, 1)
        self.added_xfs.append(xf)
        self.memo[key] = len(self.xfs) + len(self.added_xfs) - 1
        return self.memo[key]

    def to_xml(self) -> bytes:
        xml = self.xml
        if self.added_fmts:
            new = b"".join(b'<numFmt numFmtId="%d" formatCode="%s"/>' % (i, escape(c, {'"': "&quot;"}).encode())
                           for i, c in self.added_fmts)
            if b"</numFmts>" in xml:
                xml = xml.replace(b"</numFmts>", new + b"</numFmts>", 1)
                count = str(len(self.fmts)).encode()
                xml = re.sub(rb'(<numFmts\b[^>]*?count=")\d+"', lambda m: m.group(1) + count + b'"', xml, count=1)
            else:
                block = b'<numFmts count="%d">' % len(self.added_fmts) + new + b"</numFmts>"
                xml = re.sub(rb"(<styleSheet\b[^>]*>)", lambda m: m.group(1) + block, xml, count=1)
        if self.added_xfs:
            xml = re.sub(rb"(<cellXfs\b.*?)(</cellXfs>)", lambda m: m.group(1) + b"".join(self.added_xfs) + m.group(2),
                         xml, count=1, flags=re.S)
            xml = re.sub(rb'(<cellXfs\b[^>]*?count=")\d+"',
                         lambda m: m.group(1) + str(len(self.xfs) + len(self.added_xfs)).encode() + b'"', xml, count=1)
        return xml


# ---------------------------------------------------------------- the book

class FastBook:
    """A workbook file edited in place, writing only what changed (see the module docstring).

    Same methods as ``WorkbookFile``; ``fallback_note`` is set when openpyxl had to take over.
    """

    def __init__(self, path: Path | str, *, writable: bool = True):
        self.path = Path(path)
        _check_excel_file(self.path)
        if writable:
            ensure_not_locked(self.path)
        self.writable = writable
        self.fallback_note: str | None = None
        self._slow: Any = None  # the WorkbookFile once openpyxl has taken over
        self._ops: list[tuple[str, TableSpec, pd.DataFrame]] = []
        self._frames: dict[str, pd.DataFrame] = {}
        try:
            self._pkg: _Package | None = _Package(self.path)
        except (zipfile.BadZipFile, OSError):
            raise InputError("not a valid Excel workbook (the file is damaged)", file=self.path) from None
        self._tables: dict[str, _Table] | None = None
        self._unsupported: str | None = None
        self._calamine_tables: set[str] = set()
        self._root = "xl/workbook.xml"
        self._sheet_names: list[str] | None = None

    # -- reading (calamine)
    def _index(self) -> dict[str, _Table]:
        """Tables by casefolded name, found through workbook.xml → sheet rels → table parts."""
        if self._tables is None:
            import python_calamine as pc

            try:
                wb = pc.CalamineWorkbook.from_path(str(self.path), load_tables=True)
                self._sheet_names = list(wb.sheet_names)
                self._calamine_tables = {n.casefold() for n in _table_names(wb)}
                wb.close()
            except Exception:
                raise InputError("not a valid Excel workbook (the file is damaged)", file=self.path) from None
            self._tables = {}
            try:
                self._tables = self._find_tables()
            except (FastPathUnsupported, KeyError, ValueError) as exc:
                self._unsupported = str(exc) or type(exc).__name__
        return self._tables

    def _find_tables(self) -> dict[str, _Table]:
        pkg = self._pkg
        assert pkg is not None
        root = "xl/workbook.xml"
        for _, (kind, target) in pkg.rels("").items():
            if kind.endswith("/officeDocument"):
                root = target
        self._root = root
        workbook = pkg.read(root)
        if re.search(rb'<workbookPr\b[^>]*date1904="(1|true)"', workbook):
            raise FastPathUnsupported("the workbook uses the 1904 date system")
        rels = pkg.rels(root)
        found = {}
        for m in re.finditer(rb"<sheet\b[^>]*>", workbook):
            attrs = dict(re.findall(rb'([\w:]+)="([^"]*)"', m.group()))
            rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
            if rid is None or rid.decode() not in rels:
                continue
            sheet_part = rels[rid.decode()][1]
            for kind, target in pkg.rels(sheet_part).values():
                if kind.endswith("/table"):
                    xml = pkg.read(target)
                    name = re.search(rb'<table\b[^>]*?\sdisplayName="([^"]*)"', xml)
                    if name:
                        table = _Table(_unescape(name.group(1).decode()), target, sheet_part,
                                       _unescape(attrs[b"name"].decode()), xml)
                        found[table.name.casefold()] = table
        return found

    def has_table(self, spec: TableSpec) -> bool:
        if self._slow is not None:
            return self._slow.has_table(spec)
        tables = self._index()
        return spec.table.casefold() in tables or spec.table.casefold() in self._calamine_tables or any(
            n.strip().casefold() == spec.name.casefold() for n in self._sheet_names or [])

    def read_table(self, spec: TableSpec) -> pd.DataFrame:
        if self._slow is not None or any(s.table == spec.table for _, s, _ in self._ops):
            return self._openpyxl("reading a table after writing it").read_table(spec)
        if spec.table not in self._frames:
            self._frames[spec.table] = read_table_fast(self.path, spec)
        cached = self._frames[spec.table]
        frame = cached.copy()
        frame.attrs = dict(cached.attrs)
        return frame

    def settings(self) -> dict[str, str]:
        from ..tables import SETTINGS
        from ..values import settings_from_table

        return settings_from_table(self.read_table(SETTINGS)) if self.has_table(SETTINGS) else {}

    # -- writing (recorded, applied on save)
    def write_columns(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        if self._slow is not None:
            return self._slow.write_columns(spec, frame)
        self._ops.append(("write_columns", spec, frame))

    def append_rows(self, spec: TableSpec, frame: pd.DataFrame) -> list[int]:
        if self._slow is not None:
            return self._slow.append_rows(spec, frame)
        table = self._index().get(spec.table.casefold())
        if table is None:
            return self._openpyxl(f"no {spec.table} Excel Table").append_rows(spec, frame)
        if table.last is None:
            before = self.read_table(spec)
            table.last = int(before.index.max()) if len(before) else table.r0
        rows = list(range(table.last + 1, table.last + 1 + len(frame)))
        table.last += len(frame)
        self._ops.append(("append_rows", spec, frame))
        return rows

    def write_cells(self, sheet_name: str, top_left: str, rows) -> None:
        self._openpyxl("a block of cells (Dashboard)").write_cells(sheet_name, top_left, rows)

    def sheet(self, name: str, *, create: bool = False):
        return self._openpyxl("a worksheet edited directly").sheet(name, create=create)

    @property
    def wb(self):
        return self._openpyxl("the workbook edited directly").wb

    def _openpyxl(self, reason: str):
        """Hand over to openpyxl (``WorkbookFile``), replaying the edits recorded so far."""
        if self._slow is None:
            from .files import WorkbookFile

            self.fallback_note = f"saved through openpyxl ({reason})"
            self._slow = WorkbookFile(self.path, writable=self.writable)
            for op, spec, frame in self._ops:
                getattr(self._slow, op)(spec, frame)
            self._ops = []
            self._pkg = None
        return self._slow

    def save(self, path: Path | None = None) -> Path:
        target = Path(path) if path else self.path
        if self._slow is not None:
            return self._slow.save(path)
        if not self.writable and target == self.path:
            raise RuntimeError("opened read-only")
        try:
            self._apply()
        except FastPathUnsupported as exc:
            return self._openpyxl(str(exc)).save(path)
        ensure_not_locked(target)
        assert self._pkg is not None
        written = atomic_write(target, self._pkg.write)
        if target == self.path:  # the book goes on from what is now on disk
            self._ops, self._frames, self._tables = [], {}, None
            self._pkg = _Package(self.path)
        return written

    # -- the fast path proper
    def _apply(self) -> None:
        tables = self._index()
        if self._unsupported:
            raise FastPathUnsupported(self._unsupported)
        pkg = self._pkg
        assert pkg is not None
        sheets: dict[str, _Sheet] = {}
        styles: dict[str, _Styles] = {}
        for table in tables.values():  # the append bookkeeping is redone from the recorded rows
            table.last = None

        def styles_part() -> _Styles:
            if not styles:
                name = next((t for k, t in pkg.rels(self._root).values() if k.endswith("/styles")), None)
                if name is None:
                    raise FastPathUnsupported("no styles part")
                styles[name] = _Styles(pkg.read(name))
            return next(iter(styles.values()))

        for op, spec, frame in self._ops:
            found = tables.get(spec.table.casefold())
            if found is None:
                raise FastPathUnsupported(f"no {spec.table} Excel Table")
            table = found
            if table.sheet_part not in sheets:
                sheets[table.sheet_part] = _Sheet(pkg.read(table.sheet_part), table.sheet_name)
            writer = _TableWriter(table, sheets[table.sheet_part], styles_part)
            if op == "write_columns":
                writer.write_columns(frame)
            else:
                if table.last is None:
                    before = self._frames.get(spec.table)
                    if before is None:
                        before = read_table_fast(self.path, spec)
                    table.last = int(before.index.max()) if len(before) else table.r0
                writer.append_rows(frame)
        for part, sheet in sheets.items():
            pkg.changed[part] = sheet.to_xml()
        for table in tables.values():
            if table.xml != pkg.read(table.part):
                pkg.changed[table.part] = table.xml
        for name, style_book in styles.items():
            if style_book.added_xfs or style_book.added_fmts:
                pkg.changed[name] = style_book.to_xml()


class _TableWriter:
    """``WorkbookFile.write_columns`` / ``append_rows`` on one table of a ``_Sheet``, cell for cell the same."""

    def __init__(self, table: _Table, sheet: _Sheet, styles):
        self.table, self.sheet, self.styles = table, sheet, styles
        self.texts: dict[str, bytes] = {}

    def _columns(self, headers) -> dict[str, int]:
        t = self.table
        cols = {header_key(h): t.c0 + i for i, h in enumerate(t.headers) if str(h).strip()}
        for header in headers:
            if header_key(header) not in cols:
                hdr_style = self.sheet.style(t.r0, t.c1)
                col = t.add_column(str(header))
                self._put(t.r0, col, str(header), hdr_style)
                cols[header_key(header)] = col
        return cols

    def write_columns(self, frame: pd.DataFrame) -> None:
        cols = self._columns(frame.columns)
        for header in frame.columns:
            col = cols[header_key(header)]
            for row, value in zip(frame.index.tolist(), frame[header].tolist()):
                self._put(int(row), col, value, None)

    def append_rows(self, frame: pd.DataFrame) -> None:
        t = self.table
        cols = self._columns(frame.columns)
        assert t.last is not None
        first = t.last + 1
        targets = [cols[header_key(h)] for h in frame.columns]
        for i, record in enumerate(frame.itertuples(index=False, name=None)):
            r = first + i
            for col, value in zip(targets, record):
                above = self.sheet.style(t.r0 + 1, col) if r > t.r0 + 1 else 0
                self._put(r, col, value, above or None)
        t.last = first + len(frame) - 1
        if t.last > t.r1:
            t.set_range(t.c1, t.last)

    def _put(self, r: int, c: int, value, override: int | None) -> None:
        """One cell as openpyxl would leave it: the cell's own style, a date format added for a
        date on a non-date format, then ``override`` (the style copied from the row above)."""
        if type(value) is not str:
            value = _cell_value(value)
        style = self.sheet.style(r, c)
        if value is None or value == "":  # openpyxl writes "" as a cell with no value: the same here
            self.sheet.set(r, c, None, None, override if override is not None else style)
            return
        if isinstance(value, str):
            body = self.texts.get(value)
            if body is None:  # Status, codes and policies repeat: each text is escaped once
                space = ' xml:space="preserve"' if value != value.strip() or "\n" in value else ""
                body = self.texts[value] = f"<is><t{space}>{_xml_text(value)}</t></is>".encode()
            self.sheet.set(r, c, body, b"inlineStr", override if override is not None else style)
            return
        if isinstance(value, bool):
            self.sheet.set(r, c, b"<v>%d</v>" % value, b"b", override if override is not None else style)
            return
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not math.isfinite(value):
                raise FastPathUnsupported("a number that is not finite")
            self.sheet.set(r, c, f"<v>{value!r}</v>".encode() if isinstance(value, float) else b"<v>%d</v>" % value,
                           None, override if override is not None else style)
            return
        if isinstance(value, (dt.date, dt.datetime)):
            from openpyxl.styles.numbers import is_date_format

            styles = self.styles()
            if not is_date_format(styles.fmt_code(style)):
                style = styles.with_format(style, "yyyy-mm-dd h:mm:ss" if isinstance(value, dt.datetime)
                                           else "yyyy-mm-dd")
            self.sheet.set(r, c, f"<v>{_serial(value)}</v>".encode(), None,
                           override if override is not None else style)
            return
        raise FastPathUnsupported(f"a {type(value).__name__} value")


def _serial(value: dt.date) -> str:
    """Excel's 1900 date serial, as openpyxl writes it (whole days for a date)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise FastPathUnsupported("a date with a time zone")
        delta = value - _EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
        return repr(serial) if serial != int(serial) else str(int(serial))
    return str((value - _EPOCH.date()).days)


def open_book(path: Path | str, *, writable: bool = True) -> FastBook:
    """The workbook for an in-place job: the fast writer, openpyxl only where it must."""
    return FastBook(path, writable=writable)
