"""One contract for the workbook-access seam, run over both implementations.

``file``: ``toolkit.workbook.files.WorkbookFile`` (openpyxl), on a copy of the built workbook.
``live``: ``toolkit.excel.live.LiveBook`` (xlwings), on the same copy opened in a hidden Excel.
The live half skips where no Excel engine exists (Linux CI) and runs unchanged on a Windows or
Mac machine with Excel and xlwings.
``live-double``: ``LiveBook`` over ``ExcelDouble``, a small stand-in for the part of xlwings'
object model LiveBook uses (books, sheets, ranges, tables), kept in openpyxl.  It is a test
double at the Excel COM boundary, so LiveBook's own logic (bounds, blocks, resizing) runs on
Linux too, and it counts the calls that would cross to Excel.  Jobs rely on exactly these behaviours, which is why the
Excel buttons and the command line can share one code path.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from toolkit.tables import CLAIMS, DENIALS, PAYERS, SETTINGS
from toolkit.workbook.build import build_workbook

FIRST_DATA_ROW = 4  # row 1 title + buttons, row 2 hint, row 3 headers


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_workbook(tmp_path_factory.mktemp("seam") / "template.xlsm")


def _excel_app():
    try:
        import xlwings as xw

        return xw.App(visible=False, add_book=False)
    except Exception as exc:  # Linux: xlwings has no engine to drive
        pytest.skip(f"no Excel engine on this machine ({type(exc).__name__})")


class FileSide:
    def __init__(self, path):
        from toolkit.workbook.files import WorkbookFile

        self.path = path
        self.book = WorkbookFile(path)

    def reread(self):
        """What a later reader sees: saved, then opened again from disk."""
        from toolkit.workbook.files import WorkbookFile

        self.book.save()
        self.book = WorkbookFile(self.path)
        return self.book

    def cell(self, sheet, ref):
        return self.book.wb[sheet][ref].value

    def close(self):
        pass


class LiveSide:
    def __init__(self, path):
        from toolkit.excel.live import LiveBook

        self.app = _excel_app()
        self.book = LiveBook(self.app.books.open(str(path)))

    def reread(self):
        return self.book  # the open workbook is the truth while Excel holds it

    def cell(self, sheet, ref):
        return self.book.book.sheets[sheet].range(ref).value

    def close(self):
        self.app.quit()


class DoubleSide:
    def __init__(self, path):
        from toolkit.excel.live import LiveBook

        self.excel = ExcelDouble(path)
        self.book = LiveBook(self.excel)

    def reread(self):
        return self.book

    def cell(self, sheet, ref):
        return self.excel.wb[sheet][ref].value

    def close(self):
        pass


@pytest.fixture(params=["file", "live", "live-double"])
def side(request, template, tmp_path):
    path = tmp_path / "book.xlsm"
    shutil.copyfile(template, path)
    made = {"file": FileSide, "live": LiveSide, "live-double": DoubleSide}[request.param](path)
    yield made
    made.close()


def test_a_table_reads_as_raw_rows_indexed_by_the_row_number_the_user_sees(side):
    claims = side.book.read_table(CLAIMS)
    assert list(claims.columns[:len(CLAIMS.headers)]) == CLAIMS.headers
    if len(claims):
        assert claims.index[0] == FIRST_DATA_ROW
        assert list(claims.index) == list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(claims)))
    assert side.book.read_table(DENIALS).empty


def test_settings_come_back_as_a_key_value_dict(side):
    settings = side.book.settings()
    assert settings["Practice Name"] == "Riverside Spine & Joint"  # the sample practice (workbooks/sample/settings.csv)
    assert float(settings["Target Denial Rate"]) == pytest.approx(0.05)


def test_write_columns_touches_only_the_given_rows_of_the_given_columns(side):
    claims = side.book.read_table(CLAIMS)
    if len(claims) < 3:
        pytest.skip("needs sample claims")
    rows = [claims.index[0], claims.index[2]]
    when = dt.datetime(2026, 3, 1, 9, 30)
    side.book.write_columns(CLAIMS, pd.DataFrame({"Status": ["RED", "GREEN"], "Validated At": [when, when]},
                                                 index=rows))
    after = side.reread().read_table(CLAIMS)
    assert after.at[rows[0], "Status"] == "RED" and after.at[rows[1], "Status"] == "GREEN"
    assert after.at[claims.index[1], "Status"] in (None, "") or pd.isna(after.at[claims.index[1], "Status"])
    assert pd.Timestamp(after.at[rows[0], "Validated At"]) == pd.Timestamp(when)
    pd.testing.assert_series_equal(after["Claim ID"], claims["Claim ID"])


def test_write_columns_adds_a_missing_header_at_the_right_edge_of_the_table(side):
    payers = side.book.read_table(PAYERS)
    if payers.empty:
        pytest.skip("needs sample payers")
    side.book.write_columns(PAYERS, pd.DataFrame({"Contact": ["Provider line"]}, index=[payers.index[0]]))
    after = side.reread().read_table(PAYERS)
    assert list(after.columns)[-1] == "Contact"
    assert after.at[payers.index[0], "Contact"] == "Provider line"


def test_append_rows_extends_the_table_and_returns_the_new_row_numbers(side):
    rows = side.book.append_rows(DENIALS, pd.DataFrame({
        "Denial ID": ["D-000001", "D-000002"], "Claim ID": ["00123", "00124"],
        "Denied Amount": [120.5, 80.0], "Denial Date": [dt.datetime(2026, 2, 3), dt.datetime(2026, 2, 4)],
        "Status": ["Open", "Open"]}))
    assert rows == [FIRST_DATA_ROW, FIRST_DATA_ROW + 1]
    more = side.book.append_rows(DENIALS, pd.DataFrame({"Denial ID": ["D-000003"], "Status": ["Open"]}))
    assert more == [FIRST_DATA_ROW + 2]
    after = side.reread().read_table(DENIALS)
    assert list(after["Denial ID"]) == ["D-000001", "D-000002", "D-000003"]
    assert list(after.index) == rows + more
    assert after.at[rows[0], "Claim ID"] == "00123"  # text column keeps the leading zeros


def test_write_cells_puts_a_block_of_values_on_a_sheet(side):
    side.book.write_cells("Dashboard", "B2", [[dt.datetime(2026, 3, 31)], [None]])
    side.book.write_cells("Dashboard", "K40", [["a", 1.5], ["b", 2]])
    book = side.reread()
    assert pd.Timestamp(side.cell("Dashboard", "B2")) == pd.Timestamp(2026, 3, 31)
    assert side.cell("Dashboard", "K40") == "a" and float(side.cell("Dashboard", "L41")) == 2
    assert not book.read_table(SETTINGS).empty  # the rest of the book is still readable


def test_live_writes_cross_to_excel_once_per_block_of_consecutive_rows(template, tmp_path):
    """Bulk I/O: 500 lines of results are 5 calls (one per column), not 2,500 cell writes."""
    from toolkit.excel.live import LiveBook

    path = tmp_path / "book.xlsm"
    shutil.copyfile(template, path)
    excel = ExcelDouble(path)
    book = LiveBook(excel)
    rows = list(range(FIRST_DATA_ROW, FIRST_DATA_ROW + 500))
    frame = pd.DataFrame({c: ["x"] * 500 for c in ("Status", "Finding Codes", "Findings", "Policy", "Validated At")},
                         index=rows)
    excel.writes = 0
    book.write_columns(CLAIMS, frame)
    assert excel.writes == 5
    excel.writes = 0
    book.write_columns(CLAIMS, frame.drop(index=[rows[100]]))  # a gap splits each column in two blocks
    assert excel.writes == 10


def test_live_busy_turns_screen_updating_off_and_restores_it(template, tmp_path):
    from toolkit.excel.live import LiveBook

    path = tmp_path / "book.xlsm"
    shutil.copyfile(template, path)
    excel = ExcelDouble(path)
    with LiveBook(excel).busy():
        assert excel.app.screen_updating is False and excel.app.calculation == "manual"
    assert excel.app.screen_updating is True and excel.app.calculation == "automatic"


# ---------------------------------------------------------------- the Excel double

class _App:
    def __init__(self):
        self.screen_updating, self.calculation, self.status_bar = True, "automatic", False


class _Range:
    def __init__(self, excel, ws, first, last=None):
        self.excel, self.ws = excel, ws
        self.row, self.column = first
        self.last = last or first

    def options(self, ndim=None, **_):
        return self

    @property
    def last_cell(self):
        return _Range(self.excel, self.ws, self.last)

    @property
    def value(self):
        (r0, c0), (r1, c1) = (self.row, self.column), self.last
        rows = [[_as_excel(self.ws.cell(r, c).value) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
        return rows if (r0, c0) != (r1, c1) else rows[0][0]

    @value.setter
    def value(self, data):
        self.excel.writes += 1
        if not isinstance(data, list):
            data = [[data]]
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                self.ws.cell(self.row + i, self.column + j).value = v


def _as_excel(value):
    """Excel hands numbers over COM as floats."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class _Table:
    def __init__(self, excel, ws, table):
        self.excel, self.ws, self.table = excel, ws, table
        self.name = table.name

    @property
    def range(self):
        from openpyxl.utils import range_boundaries

        c0, r0, c1, r1 = range_boundaries(self.table.ref)
        return _Range(self.excel, self.ws, (r0, c0), (r1, c1))

    def resize(self, rng):
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.table import TableColumn

        (r0, c0), (r1, c1) = (rng.row, rng.column), rng.last
        self.table.ref = f"{get_column_letter(c0)}{r0}:{get_column_letter(c1)}{r1}"
        if self.table.autoFilter is not None:
            self.table.autoFilter.ref = self.table.ref
        while len(self.table.tableColumns) < c1 - c0 + 1:
            n = len(self.table.tableColumns) + 1
            self.table.tableColumns.append(TableColumn(id=n, name=str(self.ws.cell(r0, c0 + n - 1).value)))


class _Sheet:
    def __init__(self, excel, ws):
        self.excel, self.ws, self.name = excel, ws, ws.title

    @property
    def tables(self):
        return [_Table(self.excel, self.ws, t) for t in self.ws.tables.values()]

    def range(self, first, last=None):
        if isinstance(first, str):
            from openpyxl.utils.cell import coordinate_to_tuple

            first = coordinate_to_tuple(first)
        return _Range(self.excel, self.ws, first, last)

    @property
    def used_range(self):
        return _Range(self.excel, self.ws, (1, 1), (self.ws.max_row, self.ws.max_column))


class _Sheets(list):
    def __getitem__(self, key):
        if isinstance(key, str):
            return next(s for s in self if s.name == key)
        return list.__getitem__(self, key)

    def add(self, name, after=None):
        sheet = _Sheet(self[0].excel, self[0].excel.wb.create_sheet(name))
        self.append(sheet)
        return sheet


class ExcelDouble:
    """The slice of ``xlwings.Book`` that LiveBook uses, over an openpyxl workbook."""

    def __init__(self, path):
        import openpyxl

        self.wb = openpyxl.load_workbook(path, keep_vba=True)
        self.fullname = str(path)
        self.app = _App()
        self.writes = 0
        self.sheets = _Sheets(_Sheet(self, ws) for ws in self.wb.worksheets)
