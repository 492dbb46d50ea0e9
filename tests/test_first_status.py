"""The clean-claim rate counts claims GREEN at their first validation, not after fixing."""

from __future__ import annotations

import shutil

import openpyxl
from conftest import AS_OF, REPO

from toolkit.tables import CLAIMS
from toolkit.workbook.files import ReadOnlyWorkbook, WorkbookFile
from toolkit.workbook.history import history_path, read_history


def _claims_row(book, claim_id):
    frame = WorkbookFile(book, writable=False).read_table(CLAIMS)
    return int(frame.index[frame["Claim ID"] == claim_id][0])


def test_first_status_survives_a_fix_and_drives_the_clean_claim_rate(tmp_path, cli):
    book = tmp_path / "medical_necessity.xlsm"
    shutil.copy(REPO / "workbooks" / "medical_necessity.xlsm", book)
    assert cli("validate", book, "--as-of", AS_OF).exit_code == 0
    history = read_history(book)
    assert len(history) == 41 and set(history.columns) == {"Claim ID", "Line", "First Status", "First Validated At"}
    assert "Patient" not in history_path(book).read_text()  # no patient names or IDs beside the workbook
    first = dict(zip(history["Claim ID"] + "/" + history["Line"], history["First Status"]))
    assert first["000106/1"] == "RED"  # 4 weeks of therapy where 12 are required

    # The coder documents the therapy; the line turns GREEN, but it was not clean the first time.
    row = _claims_row(book, "000106")
    wb = openpyxl.load_workbook(book, keep_vba=True)
    col = [c.value for c in wb["Claims"][3]].index("Therapy Weeks") + 1
    wb["Claims"].cell(row, col).value = 12
    wb.save(book)
    assert cli("validate", book, "--as-of", AS_OF).exit_code == 0
    latest = ReadOnlyWorkbook(book).read_table(CLAIMS)
    assert latest.loc[latest["Claim ID"] == "000106", "Status"].iloc[0] == "GREEN"
    assert dict(zip(read_history(book)["Claim ID"], read_history(book)["First Status"]))["000106"] == "RED"

    result = cli("dashboard", "--workbook", book, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    from toolkit.jobs.denials import refresh_dashboard

    kpis = refresh_dashboard(WorkbookFile(book), as_of=AS_OF)
    # 40 claims; the clean ones are those whose every line was GREEN at first validation (8 lines, 7 claims)
    assert kpis.figures["validated_claims"] == 40
    assert round(kpis.figures["clean_claim_rate"], 4) == round(7 / 40, 4)
