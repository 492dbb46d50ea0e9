"""Two workbooks compared as a user (and a program) sees them: every cell of every sheet, its
format, the Tables, data validations, conditional formats, merged cells and the VBA project —
through openpyxl and through python-calamine, independently."""

from __future__ import annotations

import zipfile
from pathlib import Path


def _cell_format(cell) -> tuple:
    return (cell.number_format, repr(cell.font), repr(cell.fill), repr(cell.border), repr(cell.alignment),
            repr(cell.protection))


def openpyxl_view(path: Path) -> dict:
    """Everything openpyxl reads, cell values and formats keyed by (sheet, coordinate)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, keep_vba=True, rich_text=False)
    view: dict = {"sheets": wb.sheetnames, "cells": {}, "formats": {}, "tables": {}, "validations": {},
                  "conditional": {}, "merged": {}, "defined": sorted(wb.defined_names.keys())}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is None and not cell.has_style:
                    continue
                key = (ws.title, cell.coordinate)
                view["cells"][key] = None if value == "" else value  # "" and empty read alike in Excel
                view["formats"][key] = _cell_format(cell)
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
            assert not bad, f"{key} differ at {bad[:3]}: {[(va[key][k], vb[key][k]) for k in bad[:3]]}"
        else:
            assert va[key] == vb[key], f"{key} differ"
    assert calamine_view(a) == calamine_view(b), "calamine reads different values"
    assert vba_bytes(a) == vba_bytes(b), "the VBA project changed"
