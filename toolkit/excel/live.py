"""A workbook open in Excel, through xlwings: the live half of the workbook-access seam.

Same methods as ``toolkit.workbook.files.WorkbookFile`` (the file half), so every job runs
unchanged behind an Excel button or on the command line.  Talking to Excel over COM /
AppleScript costs milliseconds per call, so each table is read in one call and each result
column written in one call per run of consecutive rows, never cell by cell.  ``busy()``
turns screen updating and automatic calculation off around a job and restores them after.

Only the open-source part of xlwings is used (never ``xlwings.pro``).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..tables import TableSpec, header_key

_EXCEL_PARSES = ("=", "+", "-", "@", "\t", "\r", "'")


def live_value(value):
    """A value for ``Range.Value``: text Excel would parse (a formula, ``+1``, ``@SUM(1)``) or whose
    leading apostrophe it would swallow gets the apostrophe prefix, as typing it in Excel does,
    so it lands as the same text, never a formula."""
    from ..workbook.files import _cell_value

    value = _cell_value(value)
    if isinstance(value, str) and value.startswith(_EXCEL_PARSES):
        return "'" + value
    return value


def _blocks(rows: list[int], values: list) -> list[tuple[int, list]]:
    """Consecutive rows grouped: [(first row, [values...]), ...] — one Excel call per block."""
    blocks: list[tuple[int, list]] = []
    for row, value in zip(rows, values):
        if blocks and blocks[-1][0] + len(blocks[-1][1]) == row:
            blocks[-1][1].append(value)
        else:
            blocks.append((row, [value]))
    return blocks


class LiveBook:
    """An ``xlwings.Book`` seen through the seam's methods.

    ``read_table`` gives the raw table (index = Excel row numbers, like ``WorkbookFile``);
    ``write_columns`` writes whole columns by row number; ``append_rows`` adds rows under a
    table; ``save`` does nothing: the workbook stays open in Excel and the biller saves it.
    """

    def __init__(self, book):
        self.book = book
        self.app = book.app
        self.path = Path(book.fullname)
        self.writable = True

    # -- locating
    def _table(self, spec: TableSpec):
        for sheet in self.book.sheets:
            for table in sheet.tables:
                if table.name.casefold() == spec.table.casefold():
                    return sheet, table
        return None, None

    def has_table(self, spec: TableSpec) -> bool:
        sheet, table = self._table(spec)
        if table is not None:
            return True
        return any(s.name.strip().casefold() == spec.name.casefold() for s in self.book.sheets)

    def _sheet(self, spec: TableSpec):
        from ..workbook.files import _find_sheet

        name = _find_sheet([s.name for s in self.book.sheets], spec, self.path)
        return self.book.sheets[name]

    def _bounds(self, spec: TableSpec):
        """(sheet, header row, first column, last column, last row, table or None), 1-based."""
        from ..errors import InputError
        from ..values import is_blank

        sheet, table = self._table(spec)
        if table is not None:
            rng = table.range
            return sheet, rng.row, rng.column, rng.last_cell.column, rng.last_cell.row, table
        sheet = self._sheet(spec)
        used = sheet.used_range
        values = used.options(ndim=2).value or []
        wanted = {header_key(h) for h in spec.required}
        for i, row in enumerate(values[:20]):
            if {header_key(v) for v in row if not is_blank(v)} & wanted:
                last_col = max((j + 1 for j, v in enumerate(row) if not is_blank(v)), default=1)
                return (sheet, used.row + i, used.column, used.column + last_col - 1,
                        used.last_cell.row, None)
        raise InputError(f"no header row with {', '.join(repr(h) for h in spec.required)} found",
                         file=self.path, sheet=sheet.name)

    # -- the seam
    def read_table(self, spec: TableSpec):
        from ..workbook.files import _frame_from_rows

        sheet, hdr, c0, c1, last, _ = self._bounds(spec)
        rows = sheet.range((hdr, c0), (max(last, hdr), c1)).options(ndim=2).value  # one call
        return _frame_from_rows(rows[0], rows[1:], hdr + 1, file=self.path, sheet=sheet.name)

    def _header_columns(self, sheet, hdr, c0, c1) -> dict[str, int]:
        from ..values import is_blank

        headers = sheet.range((hdr, c0), (hdr, c1)).options(ndim=2).value[0]
        return {header_key(h): c0 + i for i, h in enumerate(headers) if not is_blank(h)}

    def _add_column(self, spec: TableSpec, header: str) -> int:
        sheet, hdr, c0, c1, last, table = self._bounds(spec)
        col = c1 + 1
        sheet.range((hdr, col)).value = live_value(header)
        if table is not None:
            table.resize(sheet.range((hdr, c0), (last, col)))
        return col

    def write_columns(self, spec: TableSpec, frame) -> None:
        """Each column of ``frame`` into the table's column of that header, by row number."""
        sheet, hdr, c0, c1, last, _ = self._bounds(spec)
        cols = self._header_columns(sheet, hdr, c0, c1)
        rows = [int(r) for r in frame.index]
        for header in frame.columns:
            col = cols.get(header_key(header))
            if col is None:
                col = cols[header_key(header)] = self._add_column(spec, header)
            values = [live_value(v) for v in frame[header].tolist()]
            for first, block in _blocks(rows, values):
                sheet.range((first, col), (first + len(block) - 1, col)).value = [[v] for v in block]

    def append_rows(self, spec: TableSpec, frame) -> list[int]:
        """Add rows under the table (extending it); returns their row numbers."""
        from ..values import is_blank

        sheet, hdr, c0, c1, last, table = self._bounds(spec)
        cols = self._header_columns(sheet, hdr, c0, c1)
        for header in frame.columns:
            if header_key(header) not in cols:
                cols[header_key(header)] = self._add_column(spec, header)
        sheet, hdr, c0, c1, last, table = self._bounds(spec)
        body = sheet.range((hdr, c0), (max(last, hdr), c1)).options(ndim=2).value[1:]
        while body and all(is_blank(v) for v in body[-1]):  # Tables often carry an empty row
            body.pop()
        start = hdr + 1 + len(body)
        rows = list(range(start, start + len(frame)))
        if not rows:
            return rows
        for header in frame.columns:
            col = cols[header_key(header)]
            values = [[live_value(v)] for v in frame[header].tolist()]
            sheet.range((start, col), (rows[-1], col)).value = values
        if table is not None and rows[-1] > last:
            table.resize(sheet.range((hdr, c0), (rows[-1], c1)))
        return rows

    def write_cells(self, sheet_name: str, top_left: str, rows: list[list]) -> None:
        """A block of values at ``top_left`` (e.g. ``"B4"``) of a sheet (created if missing), in one call."""
        names = {s.name.strip().casefold(): s for s in self.book.sheets}
        target = names.get(sheet_name.strip().casefold())
        if target is None:
            target = self.book.sheets.add(sheet_name, after=self.book.sheets[-1])
        target.range(top_left).value = [[live_value(v) for v in row] for row in rows]

    def settings(self) -> dict[str, str]:
        """The Settings sheet as a dict (Key → Value, keys as typed)."""
        from ..tables import SETTINGS
        from ..values import settings_from_table

        return settings_from_table(self.read_table(SETTINGS)) if self.has_table(SETTINGS) else {}

    def save(self, path: Path | None = None) -> Path:
        """Nothing to do: the results are in the open workbook; the biller saves it in Excel."""
        if path is not None and Path(path) != self.path:
            self.book.save(str(path))
            return Path(path)
        return self.path

    # -- talking to the biller
    def status(self, text: str | None) -> None:
        """Progress in Excel's status bar (``None`` hands the status bar back to Excel)."""
        try:
            self.app.status_bar = text if text else False
        except Exception:  # a status bar is a courtesy, never a reason to fail
            pass

    def tell(self, text: str) -> None:
        self.status(text)

    @contextmanager
    def busy(self):
        """Screen updating off and calculation manual during a job; both restored after."""
        app = self.app
        screen, calc = app.screen_updating, app.calculation
        app.screen_updating = False
        app.calculation = "manual"
        try:
            yield self
        finally:
            try:
                app.calculation = calc
            finally:
                app.screen_updating = screen
