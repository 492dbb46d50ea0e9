"""The Dashboard sheet: values in the fixed ranges, native charts that survive a refresh, and a
LibreOffice rendering without errors."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid
import zipfile

import pytest
from click.testing import CliRunner
from denials_support import FIXTURES, build_workbook

from toolkit.cli import cli
from toolkit.jobs.denials import import_835_files
from toolkit.workbook.files import WorkbookFile


def _charts(path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))


def _dashboard_cells(path) -> list[list]:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        return wb.get_sheet_by_name("Dashboard").to_python(skip_empty_area=False)
    finally:
        wb.close()


@pytest.fixture
def refreshed(tmp_path):
    path = build_workbook(tmp_path / "practice.xlsx")
    import_835_files(WorkbookFile(path), sorted(FIXTURES.iterdir()))
    result = CliRunner().invoke(cli, ["dashboard", "--workbook", str(path), "--as-of", "2026-03-25"])
    assert result.exit_code == 0, result.output
    assert "denial rate 100.0%" in result.output and "7 denials" in result.output
    return path


def test_dashboard_values_match_the_hand_count_of_the_fixture_log(refreshed):
    cells = _dashboard_cells(refreshed)
    value = {row[0]: row[1] for row in cells[4:20]}
    # Claims submitted: CLM-1001, CLM-1002, CLM-2001, each with a denial
    assert value["Denial rate (denied ÷ submitted claims)"] == 1.0
    assert value["Submitted claims"] == 3 and value["Denied claims (of those submitted)"] == 3
    assert value["Denials logged"] == 7
    assert value["Denied dollars"] == 1800 + 900 + 2500 + 480 + 80 + 300 + 350
    assert value["Medical-necessity share of denials"] == pytest.approx(3 / 7)  # two CO-50 and a CO-151
    assert value["Open denials with a deadline"] == 7 and value["Overdue (deadline passed)"] == 0
    assert value["Denials not matched to a submitted claim"] == 4
    assert cells[4][2] == "< 5%" and cells[4][3] == "NO"
    # open appeals block, soonest first: Acme's 60-day window (DTM*405 2026-03-19 + 60) beats Medicare's 125
    assert cells[24][:6] == ["D-000001", "CLM-2001", "Acme Health Plan", "50", dt.date(2026, 5, 18), 54]
    # top CARC block (R6): CO-50 twice
    assert cells[5][17:20] == ["50", "medical necessity", 2]
    # monthly block (I6:P17): last row is the as-of month
    assert cells[16][8] == "2026-03" and cells[16][13] == 7


def test_refresh_keeps_the_three_native_charts_of_the_layout(refreshed):
    assert len(_charts(refreshed)) == 3
    CliRunner().invoke(cli, ["dashboard", "--workbook", str(refreshed), "--as-of", "2026-03-26"])
    assert len(_charts(refreshed)) == 3


def test_a_workbook_without_a_dashboard_gets_the_sheet_and_charts(tmp_path):
    path = build_workbook(tmp_path / "plain.xlsx", dashboard=False)
    CliRunner().invoke(cli, ["dashboard", "--workbook", str(path), "--as-of", "2026-03-25"])
    assert len(_charts(path)) == 3
    assert _dashboard_cells(path)[0][0] == "Denials dashboard"


def test_a_second_refresh_clears_rows_that_no_longer_apply(refreshed):
    book = WorkbookFile(refreshed)
    ws = book.wb["Denials"]
    for row in range(3, ws.max_row + 1):
        ws.cell(row, 20).value = "Paid"  # Status column: every denial but the first resolved
    book.save()
    CliRunner().invoke(cli, ["dashboard", "--workbook", str(refreshed), "--as-of", "2026-03-25"])
    cells = _dashboard_cells(refreshed)
    assert cells[24][0] == "D-000001" and all(c in ("", None) for c in cells[25][:7])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_renders_the_dashboard_to_pdf(refreshed, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(refreshed)
    for ws in wb.worksheets:
        if ws.title != "Dashboard":
            ws.sheet_state = "hidden"
    wb.active = wb.sheetnames.index("Dashboard")
    only = tmp_path / "dashboard_only.xlsx"
    wb.save(only)
    profile = f"file:///tmp/lo-{uuid.uuid4().hex}"
    out = tmp_path / "pdf"
    run = subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                          "--outdir", str(out), str(only)], capture_output=True, text=True, timeout=180)
    shutil.rmtree(profile.replace("file://", ""), ignore_errors=True)
    pdf = out / "dashboard_only.pdf"
    assert run.returncode == 0 and pdf.exists(), run.stderr
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Denials dashboard" in text and "Denial rate by month" in text
        assert "Err:" not in text and "#VALUE" not in text
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert "Pages:          1" in info or "Pages:           1" in info
