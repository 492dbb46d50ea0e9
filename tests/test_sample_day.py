"""A biller's day on the shipped sample: validate, import the payers' remittances, appeal."""

from __future__ import annotations

import shutil

import pytest
from conftest import AS_OF, REPO, SAMPLE
from docx import Document

from toolkit.tables import DENIALS
from toolkit.workbook.files import read_table

WORKBOOK = REPO / "workbooks" / "medical_necessity.xlsm"


@pytest.fixture
def day(tmp_path, cli):
    book = tmp_path / "medical_necessity.xlsm"
    shutil.copy(WORKBOOK, book)
    assert cli("validate", book, "--as-of", AS_OF).exit_code == 0
    remits = sorted(SAMPLE.glob("*.835"))
    result = cli("denials", "import-835", *remits, "--workbook", book)
    assert result.exit_code == 0, result.output
    return book


def test_sample_remittances_land_in_the_log_with_their_root_causes(day):
    log = read_table(day, DENIALS)
    by_claim = {c: r for c, r in zip(log["Claim ID"], log.to_dict("records"))}
    assert sorted(by_claim) == ["000103", "000106", "000110", "000120", "000124"]
    # the checklist item Validate had flagged on the same line explains the denial
    assert by_claim["000106"]["Root Cause"] == "THERAPY_TOO_SHORT"
    assert by_claim["000110"]["Root Cause"] == "PRIOR_AUTH_MISSING"
    assert by_claim["000120"]["Root Cause"] == "TIMELY_FILING"
    assert by_claim["000124"]["Group Code"] == "PR" and by_claim["000124"]["Modifiers"] == "GA"
    assert str(by_claim["000106"]["Appeal Deadline"])[:10] == "2027-03-25"  # Medicare: 5 days to receipt + 120


def test_appeal_letter_for_a_sample_denial(day, tmp_path, cli):
    log = read_table(day, DENIALS)
    denial = log.loc[log["Claim ID"] == "000106", "Denial ID"].iloc[0]
    result = cli("appeal", "--workbook", day, "--denial", denial, "--out", tmp_path / "letters")
    assert result.exit_code == 0, result.output
    letter = next((tmp_path / "letters").glob("*.docx"))
    assert "Xu" not in letter.name and "Foster" not in letter.name
    text = "\n".join(p.text for p in Document(letter).paragraphs)
    assert "Riverside Spine & Joint" in text
    assert "Request for Redetermination" in text


def test_the_sample_shows_every_checklist_item_and_all_three_colours(tmp_path, cli):
    from toolkit.checks import ORDER

    out = tmp_path / "r.csv"
    assert cli("validate", WORKBOOK, "--report", out, "--as-of", AS_OF).exit_code == 0
    import csv

    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = {c for r in rows for c in r["Finding Codes"].split("; ") if c}
    contract = set(ORDER) - {"FIELD_MISSING", "NCCI_PTP_CONFLICT", "MUE_EXCEEDED"}
    contract -= {"DENIAL_HISTORY"}  # the sample workbook's Denials log is empty: tests/test_history.py
    assert contract <= codes
    assert {r["Status"] for r in rows} == {"GREEN", "AMBER", "RED"}
