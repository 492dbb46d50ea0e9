"""The file half of the workbook seam: both readers agree, row numbers are the user's."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

from toolkit.errors import InputError
from toolkit.tables import CLAIMS, PAYERS
from toolkit.workbook.files import WorkbookFile, read_table


@pytest.fixture
def titled_workbook(tmp_path):
    """A table that starts on row 3 under a title, as in the front-end workbook."""
    path = tmp_path / "titled.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Payers"
    ws["A1"] = "Payers"
    ws.append([])
    ws.append(["Payer", "Payer Type", "Timely Filing Days"])
    ws.append(["Medicare", "Medicare", 365])
    ws.append([None, None, None])  # a blank row inside the table is skipped
    ws.append(["Acme", "Commercial", "ninety"])
    ws.add_table(Table(displayName="tblPayers", ref="A3:C6"))
    wb.save(path)
    return path


def test_fast_and_editing_readers_agree_on_rows_and_values(titled_workbook):
    fast = read_table(titled_workbook, PAYERS)
    slow = WorkbookFile(titled_workbook, writable=False).read_table(PAYERS)
    assert fast.index.tolist() == slow.index.tolist() == [4, 6]
    assert fast["Payer"].tolist() == slow["Payer"].tolist() == ["Medicare", "Acme"]


def test_bad_value_error_points_at_the_users_row(titled_workbook):
    from toolkit.values import coerce_table

    with pytest.raises(InputError) as err:
        coerce_table(PAYERS, read_table(titled_workbook, PAYERS))
    assert str(err.value) == ("titled.xlsx, sheet Payers, row 6, column Timely Filing Days: "
                              "'ninety' is not a whole number")


def test_missing_table_is_named(titled_workbook):
    with pytest.raises(InputError, match="no Claims sheet or tblClaims table"):
        read_table(titled_workbook, CLAIMS)
