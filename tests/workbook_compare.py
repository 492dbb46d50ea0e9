"""Two workbooks compared as a user (and a program) sees them: every cell of every sheet, its
format, the Tables, data validations, conditional formats, merged cells and the VBA project —
through openpyxl and through python-calamine, independently."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path


def _cell_format(cell) -> tuple:
    """A cell's format as text; an attribute written as false reads as one left out (openpyxl drops them)."""
    parts = (cell.font, cell.fill, cell.border, cell.alignment, cell.protection)
    return (cell.number_format, *(re.sub(r"=False\b", "=None", " ".join(repr(p).split())) for p in parts))


def _default_formats(wb, ws) -> set:
    """The format of a cell that is not there, and of one in the workbook's first (Normal) style."""
    import copy

    probe = ws.cell(ws.max_row + 1, ws.max_column + 1)
    formats = {_cell_format(probe)}
    if wb._cell_styles:
        probe._style = copy.copy(wb._cell_styles[0])
        formats.add(_cell_format(probe))
    ws._cells.pop((probe.row, probe.column), None)
    return formats


def openpyxl_view(path: Path) -> dict:
    """Everything openpyxl reads, cell values and formats keyed by (sheet, coordinate)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=True, rich_text=False)
    view: dict = {"sheets": wb.sheetnames, "cells": {}, "formats": {}, "tables": {}, "validations": {},
                  "conditional": {}, "merged": {}, "defined": sorted(wb.defined_names.keys())}
    for ws in wb.worksheets:
        blank = _default_formats(wb, ws)
        memo: dict = {}  # formats by openpyxl's style ids: 280,000 cells share a dozen formats
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                style = tuple(cell._style) if cell.has_style else ()
                if style not in memo:
                    memo[style] = _cell_format(cell)
                if value is None and (not style or memo[style] in blank):
                    continue  # an empty cell in the Normal style reads as no cell at all
                key = (ws.title, cell.coordinate)
                view["cells"][key] = None if value == "" else value  # "" and empty read alike in Excel
                view["formats"][key] = memo[style]
        view["tables"][ws.title] = sorted((t.displayName, t.ref, tuple(c.name for c in t.tableColumns))
                                          for t in ws.tables.values())
        view["validations"][ws.title] = sorted((str(v.sqref), v.type, v.formula1, v.error)
                                               for v in ws.data_validations.dataValidation)
        view["conditional"][ws.title] = sorted((str(r.sqref), tuple(x.formula[0] for x in r.rules))
                                               for r in ws.conditional_formatting)
        view["merged"][ws.title] = sorted(str(m) for m in ws.merged_cells.ranges)
    return view


def calamine_view(path: Path) -> dict:
    """Each sheet's values as python-calamine reads them (trailing blank cells dropped)."""
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    out = {}
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        trimmed = [list(r) for r in rows]
        for r in trimmed:
            while r and r[-1] in ("", None):
                r.pop()
        while trimmed and not trimmed[-1]:
            trimmed.pop()
        out[name] = trimmed
    wb.close()
    return out


def vba_bytes(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/vbaProject.bin") if "xl/vbaProject.bin" in z.namelist() else None


def assert_same_workbook(a: Path, b: Path) -> None:
    """Fail naming the first difference between workbooks ``a`` and ``b``."""
    va, vb = openpyxl_view(a), openpyxl_view(b)
    for key in va:
        if key in ("cells", "formats"):
            diff = sorted(set(va[key]) ^ set(vb[key]))
            diff = [k for k in diff if va["cells"].get(k) is not None or vb["cells"].get(k) is not None] \
                if key == "cells" else diff
            assert not diff, f"{key}: only in one workbook: {diff[:5]}"
            bad = [k for k in va[key] if k in vb[key] and va[key][k] != vb[key][k]]
            assert not bad, f"{key} differ at {bad[:3]}: {[(va[key][k], vb[key][k]) for k in bad[:1]]}"
        else:
            assert va[key] == vb[key], f"{key} differ"
    # openpyxl drops the values Excel cached for formulas; the fast writer keeps them: compare the rest
    formulas = {k for k, v in va["cells"].items() if isinstance(v, str) and v.startswith("=")}
    assert _without(calamine_view(a), formulas) == _without(calamine_view(b), formulas), \
        "calamine reads different values"
    assert vba_bytes(a) == vba_bytes(b), "the VBA project changed"


def _without(view: dict, cells: set) -> dict:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    for sheet, coordinate in cells:
        letters, row = coordinate_from_string(coordinate)
        r, c = row - 1, column_index_from_string(letters) - 1
        if r < len(view.get(sheet, [])) and c < len(view[sheet][r]):
            view[sheet][r][c] = ""
    for rows in view.values():
        for r in rows:
            while r and r[-1] in ("", None):
                r.pop()
    return view
