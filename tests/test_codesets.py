"""ICD-10-CM: the shipped index is the CMS tabular list, and a newer release applies by date."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from toolkit import validate_claims
from toolkit.codesets.icd10cm import SHIPPED_INDEX, CodeSets

AS_OF = "2026-11-27"


def test_shipped_index_facts():
    cs = CodeSets.default().newest
    assert cs.label.startswith("ICD-10-CM FY2026")
    assert cs.get("M54.5").billable is False and cs.get("M54.50").billable is True
    assert cs.get("M75.61") is None
    assert cs.get("M48.06").billable is False
    assert cs.get("s83.241a").side == "R"
    assert cs.get("M17.12").side == "L" and cs.get("M17.0").side == "B"
    assert cs.get("M54.50").unspecified and not cs.get("M54.59").unspecified
    assert cs.get("M51.16").excludes("M5416") and cs.get("M54.16").excludes("M5116")


def test_shipped_index_matches_the_cms_tabular_list(tmp_path):
    """Rebuilding from simple-icd-10-cm gives the committed index, code for code."""
    pytest.importorskip("simple_icd_10_cm")
    from toolkit.codesets.build_icd10cm import build_from_tabular

    fresh = build_from_tabular(tmp_path / "fresh.sqlite")
    query = "SELECT code, billable, side, unspecified, description, excludes1 FROM codes ORDER BY code"
    with sqlite3.connect(fresh) as a, sqlite3.connect(SHIPPED_INDEX) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
        assert dict(a.execute("SELECT * FROM meta")) == dict(b.execute("SELECT * FROM meta"))


def _order_line(n: int, code: str, billable: int, short: str, long: str) -> str:
    return f"{n:05d} {code:<7} {billable} {short:<60} {long}\n"


@pytest.fixture
def fy2027(tmp_path, cli):
    """A (small) CMS order file of a next year that adds a code and retires M54.50."""
    order = tmp_path / "icd10cm_order_2027.txt"
    order.write_text(
        _order_line(1, "M48061", 1, "Spinal stenosis, lumbar region w/o neurogenic claudication",
                    "Spinal stenosis, lumbar region without neurogenic claudication")
        + _order_line(2, "M5459", 1, "Other low back pain", "Other low back pain")
        + _order_line(3, "M545A", 1, "New low back pain code", "Low back pain, new subcategory, right side"),
        encoding="utf-8")
    out = tmp_path / "fy2027.sqlite"
    result = cli("codeset", "build", order, "--effective-from", "2026-10-01", "--out", out,
                 "--label", "ICD-10-CM FY2027")
    assert result.exit_code == 0, result.output
    return out


def test_a_newer_release_applies_from_its_effective_date(fy2027):
    sets = CodeSets.default([fy2027])
    base = {"Claim ID": "1", "Patient ID": "P", "Payer": "Acme", "CPT/HCPCS": "99213", "Dx Codes": "M54.5A"}
    claims = pd.DataFrame([{**base, "Date of Service": "2026-09-30"}, {**base, "Date of Service": "2026-10-01"}])
    payers = pd.DataFrame([{"Payer": "Acme", "Payer Type": "Commercial"}])
    result = validate_claims(claims, None, payers, as_of=AS_OF, codesets=sets)
    assert "DX_INVALID" in result["Finding Codes"].iloc[0]  # not a code before FY2027
    assert "DX_INVALID" not in result["Finding Codes"].iloc[1]


def test_order_file_release_keeps_excludes1_from_the_tabular_list(fy2027):
    release = CodeSets.default([fy2027]).newest
    assert release.label == "ICD-10-CM FY2027"
    assert release.get("M54.59").excludes1 == CodeSets.default().newest.get("M54.59").excludes1


def test_report_names_the_releases_used(fy2027, sample_csvs, tmp_path, cli):
    out = tmp_path / "r.csv"
    result = cli("validate", sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers",
                 sample_csvs["payers"], "--report", out, "--as-of", AS_OF, "--codeset", fy2027)
    assert result.exit_code == 0, result.output
    assert "ICD-10-CM FY2026" in result.output and "ICD-10-CM FY2027" in result.output


def test_not_an_order_file_is_refused(tmp_path, cli):
    bad = tmp_path / "codes.txt"
    bad.write_text("hello world\n")
    result = cli("codeset", "build", bad, "--effective-from", "2026-10-01", "--out", tmp_path / "x.sqlite")
    assert result.exit_code == 2
    assert "codes.txt, row 1: not a CMS ICD-10-CM order file" in result.output
    assert not (tmp_path / "x.sqlite").exists()
