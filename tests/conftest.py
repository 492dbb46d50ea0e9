"""Shared fixtures: the shipped sample tables, a plain user workbook built from them, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "workbooks" / "sample"
SHARED = REPO.parent / "shared"
AS_OF = "2026-11-27"
WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"


def run(*args):
    """``mednec`` in-process through click (exceptions caught: the exit code and output are the test)."""
    from toolkit.cli import cli as command

    return CliRunner().invoke(command, [str(a) for a in args])


def batch_variant(tmp_path: Path, name: str, text: str, *replacements: tuple[str, str]) -> Path:
    """An 837P batch written from ``text`` with each (old, new) replaced (each old must occur)."""
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def mednec(*args, env=None) -> subprocess.Popen:
    """``mednec`` as its own process (real locks, real exits); a second writer waits up to 300 s."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), "MEDNEC_LOCK_WAIT": "300", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "toolkit", *map(str, args)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def workbook(tmp_path) -> Path:
    """A copy of the shipped macro workbook, named as a practice would (modules may override)."""
    target = tmp_path / "practice.xlsm"
    shutil.copy(WORKBOOK, target)
    return target


@pytest.fixture
def sample_csvs(tmp_path) -> dict[str, Path]:
    """Copies of the shipped sample claims, rules and payers CSVs."""
    out = {}
    for name in ("claims", "rules", "payers"):
        out[name] = tmp_path / f"{name}.csv"
        shutil.copy(SAMPLE / f"{name}.csv", out[name])
    return out


def build_user_workbook(path: Path, *, claims_rows=None) -> Path:
    """An .xlsx as a practice would make it: Excel Tables for Claims, Rules and Payers, with a
    drop-down, a conditional format, a Settings sheet and an unrelated Notes sheet."""
    import csv

    import openpyxl
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, table in (("Claims", "tblClaims"), ("Rules", "tblRules"), ("Payers", "tblPayers")):
        with open(SAMPLE / f"{sheet.lower()}.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if sheet == "Claims" and claims_rows is not None:
            rows = [rows[0]] + claims_rows
        ws = wb.create_sheet(sheet)
        for r in rows:
            ws.append(r)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ref = f"A1:{get_column_letter(len(rows[0]))}{len(rows)}"
        ws.add_table(Table(displayName=table, ref=ref))
        ws.freeze_panes = "A2"
    claims = wb["Claims"]
    dv = DataValidation(type="list", formula1='"Y,N"', allow_blank=True)
    claims.add_data_validation(dv)
    dv.add("R2:R500")
    claims.conditional_formatting.add("I2:I500", CellIsRule(operator="equal", formula=['"7214"'],
                                                            fill=PatternFill("solid", bgColor="FFC7CE")))
    settings = wb.create_sheet("Settings")
    settings.append(["Key", "Value"])
    settings.append(["Practice Name", "Riverside Spine & Joint"])
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Month-end checklist"
    notes["B3"] = 42
    wb.save(path)
    return path


@pytest.fixture
def user_workbook(tmp_path) -> Path:
    return build_user_workbook(tmp_path / "claims.xlsx")


@pytest.fixture
def cli():
    """Run ``mednec`` in-process: ``cli("validate", path, ...)`` → click Result."""
    from toolkit.cli import cli as command

    runner = CliRunner()

    def run(*args):
        return runner.invoke(command, [str(a) for a in args], catch_exceptions=False)

    return run
