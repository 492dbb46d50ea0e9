"""What a practice manager sees on the Dashboard: one definition per chart, a payer axis that
stops at 100 %, named header fonts after a refresh, and empty tables that say why."""

from __future__ import annotations

import re
import zipfile

from click.testing import CliRunner
from denials_support import build_workbook

from toolkit.cli import cli
from toolkit.dashboard import CHARTS, PAYER


def _chart_xml(path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode("utf-8") for n in sorted(z.namelist()) if re.match(r"xl/charts/chart\d+\.xml", n)]


def _refresh(path, as_of="2026-03-25"):
    result = CliRunner().invoke(cli, ["dashboard", "--workbook", str(path), "--as-of", as_of])
    assert result.exit_code == 0, result.output


def _payer_chart(xmls: list[str]) -> str:
    return next(x for x in xmls if "Denial rate by payer" in x)


def test_the_by_payer_rate_axis_runs_from_0_to_100_percent_in_the_built_and_the_refreshed_chart(tmp_path):
    built = build_workbook(tmp_path / "built.xlsx", claims=[])
    _refresh(built)
    plain = build_workbook(tmp_path / "plain.xlsx", claims=[], dashboard=False)
    _refresh(plain)
    for path in (built, plain):
        xml = _payer_chart(_chart_xml(path))
        assert re.search(r'<(c:)?max val="1(\.0)?"\s*/>', xml), path.name
        assert re.search(r'<(c:)?min val="0(\.0)?"\s*/>', xml), path.name


def test_each_chart_is_drawn_from_one_definition_by_the_builder_and_by_the_refresh(tmp_path):
    built = build_workbook(tmp_path / "built.xlsx")
    plain = build_workbook(tmp_path / "plain.xlsx", dashboard=False)
    _refresh(built)
    _refresh(plain)
    for path in (built, plain):
        xmls = _chart_xml(path)
        assert len(xmls) == len(CHARTS) == 3
        for chart in CHARTS:
            xml = next(x for x in xmls if chart.title in x)
            first, last = chart.block.range(chart.series[0].column)
            assert f"${first[0]}${first[1:]}:${last[0]}${last[1:]}" in xml
            assert chart.series[0].color.lstrip("#") in xml


def test_header_fonts_keep_a_name_after_a_refresh(tmp_path):
    import openpyxl

    path = build_workbook(tmp_path / "plain.xlsx", dashboard=False)
    _refresh(path)
    ws = openpyxl.load_workbook(path)["Dashboard"]
    header = ws.cell(PAYER.header_row, PAYER.col_index())
    assert header.value == "Payer" and header.font.b and header.font.name == "Calibri"
    assert ws["A1"].font.name == "Calibri" and ws["A1"].font.sz == 16


def test_empty_tables_say_why(tmp_path):
    import python_calamine as pc

    claims = [("C1", 1, "P1", "Medicare Part B", __import__("datetime").date(2026, 2, 5), "64483", "RT",
               "M48.061", None, "GREEN", "")]  # no Submitted Date anywhere
    path = build_workbook(tmp_path / "book.xlsx", claims=claims)
    _refresh(path)
    wb = pc.CalamineWorkbook.from_path(str(path))
    cells = wb.get_sheet_by_name("Dashboard").to_python(skip_empty_area=False)
    wb.close()
    text = [str(v) for row in cells for v in row if v not in (None, "")]
    assert "By payer: no Submitted Date on any claim line" in text
    assert "Top denial reasons (CARC): no denials in the log yet" in text
