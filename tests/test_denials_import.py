"""Importing 835 files into the Denials table, refreshing hand-typed rows, and the CLI."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner
from denials_support import FIXTURES, SHARED_835, build_workbook

from toolkit.cli import cli
from toolkit.jobs.denials import import_835_files, refresh_denials
from toolkit.tables import DENIALS
from toolkit.workbook.files import WorkbookFile, read_table

MEDICARE = FIXTURES / "medicare_denials.835"
ACME = FIXTURES / "acme_fragment_bom.835"


def _log(path):
    """The Denials table read back with python-calamine (not the openpyxl that wrote it)."""
    frame = read_table(path, DENIALS)
    return {r["Claim ID"]: r for r in frame.to_dict("records")}, frame


@pytest.fixture
def book_path(tmp_path):
    return build_workbook(tmp_path / "practice.xlsx")


@pytest.fixture
def imported(book_path):
    summary = import_835_files(WorkbookFile(book_path), [MEDICARE, ACME])
    return book_path, summary


def test_co50_with_n115_on_a_linked_claim_becomes_one_medical_necessity_row(imported):
    rows, _ = _log(imported[0])
    r = rows["CLM-1001"]
    assert (r["Group Code"], r["CARC"], r["RARC"]) == ("CO", "50", "N115")
    assert r["Category"] == "medical necessity" and r["Root Cause"] == "DX_NOT_COVERED"
    assert "medically necessary" in r["Reason"] and "LCD" in r["Reason"]
    # linked to the Claims line: Dx, modifiers, line and patient come from there
    assert (r["Dx Codes"], r["Modifiers"], r["Line"], r["Patient ID"]) == ("M48.061", "RT", 1, "P001")
    assert (r["Billed Amount"], r["Paid Amount"], r["Denied Amount"]) == (900, 0, 900)
    assert r["Source"] == "medicare_denials.835" and r["Status"] == "Open"


def test_the_paid_line_of_the_same_claim_and_a_paid_claim_are_no_denials(imported):
    _, frame = _log(imported[0])
    assert "99214" not in set(frame["CPT/HCPCS"])  # CO-45 + PR-2 only: routine
    assert "CLM-1003" not in set(frame["Claim ID"])  # CO-45 + PR-1: paid
    assert imported[1].paid_claims == 1


def test_co197_is_a_missing_prior_authorization(imported):
    r = _log(imported[0])[0]["CLM-1002"]
    assert (r["CARC"], r["Category"], r["Root Cause"]) == ("197", "authorization", "PRIOR_AUTH_MISSING")


def test_claim_level_timely_filing_gives_one_claim_row(imported):
    r = _log(imported[0])[0]["CLM-1004"]
    assert r["CARC"] == "29" and r["Root Cause"] == "TIMELY_FILING" and not r["CPT/HCPCS"]
    assert r["Denied Amount"] == 480


def test_claim_level_co4_on_a_denied_claim_explains_its_unpaid_line(imported):
    r = _log(imported[0])[0]["CLM-1007"]
    # nothing (no finding, no remark code) says which modifier: no checklist item is blamed
    assert (r["CPT/HCPCS"], r["CARC"], r["Root Cause"], r["Denied Amount"]) == ("27447", "4", "", 350)


def test_several_triplets_in_one_cas_only_the_non_routine_one_is_denied(imported):
    r = _log(imported[0])[0]["CLM-1005"]
    # CO-151 with N362 (units above the acceptable maximum) is the MUE check's business
    assert (r["CARC"], r["Denied Amount"], r["Paid Amount"], r["Root Cause"]) == ("151", 80, 40, "MUE_EXCEEDED")


def test_a_reversal_and_its_reprocessed_denial_are_counted_once(imported):
    _, frame = _log(imported[0])
    rows = frame[frame["Claim ID"] == "CLM-1006"]
    assert len(rows) == 1 and rows.iloc[0]["CARC"] == "16" and rows.iloc[0]["Root Cause"] == "DX_INVALID"
    assert imported[1].reversals == 1


def test_the_claim_findings_refine_the_root_cause_of_a_co50(imported):
    r = _log(imported[0])[0]["CLM-2001"]  # Claims row was flagged THERAPY_TOO_SHORT by Validate
    assert r["Root Cause"] == "THERAPY_TOO_SHORT"


def test_appeal_deadlines_use_the_payer_window_or_medicare_120_days_from_receipt(imported):
    rows = _log(imported[0])[0]
    assert rows["CLM-1001"]["Denial Date"] == dt.date(2026, 3, 1)  # DTM*405 production date, not BPR16
    assert rows["CLM-1001"]["Appeal Deadline"] == dt.date(2026, 7, 4)  # Medicare: +5 days to receipt, +120
    assert "Medicare redetermination, 120 days from receipt" in rows["CLM-1001"]["Notes"]
    assert "appeal window, 60 days" in rows["CLM-2001"]["Notes"]
    assert rows["CLM-2001"]["Payer"] == "Acme Health Plan"
    assert rows["CLM-2001"]["Appeal Deadline"] == dt.date(2026, 5, 18)  # DTM*405 2026-03-19 + 60
    assert rows["CLM-1001"]["Payer"] == "Medicare Part B"  # 835's 'MEDICARE PART B' matched to Payers


def test_denial_ids_are_unique_and_sequential(imported):
    _, frame = _log(imported[0])
    assert sorted(frame["Denial ID"]) == [f"D-{n:06d}" for n in range(1, 8)]


def test_importing_the_same_file_again_adds_nothing(imported):
    path, first = imported
    before = _log(path)[1]
    again = import_835_files(WorkbookFile(path), [MEDICARE, ACME])
    after = _log(path)[1]
    assert first.added == 7 and again.added == 0 and again.already_logged == 7
    assert after.equals(before)


def test_a_renamed_copy_of_an_imported_file_adds_nothing(imported, tmp_path):
    copy = tmp_path / "downloaded-again.txt"
    shutil.copy(MEDICARE, copy)
    assert import_835_files(WorkbookFile(imported[0]), [copy]).added == 0


def test_new_ids_continue_after_the_highest_in_the_log(tmp_path):
    path = build_workbook(tmp_path / "b.xlsx", denials=[{"Denial ID": "D-000041", "Claim ID": "OLD-1", "CARC": "18"}])
    import_835_files(WorkbookFile(path), [ACME])
    ids = set(_log(path)[1]["Denial ID"])
    assert ids == {"D-000041", "D-000042"}


def test_manual_rows_get_blank_cells_filled_and_typed_cells_kept(tmp_path):
    typed = {"Claim ID": "CLM-1002", "Payer": "medicare part b", "Date of Service": dt.date(2026, 2, 10),
             "CPT/HCPCS": "29881", "CARC": "197", "Denial Date": dt.date(2026, 4, 1),
             "Category": "my own category", "Owner": "Kim"}
    path = build_workbook(tmp_path / "m.xlsx", denials=[typed, {"Claim ID": "X-9", "CARC": "50", "RARC": "N115",
                                                                "Denial Date": dt.date(2026, 4, 2),
                                                                "Payer": "Acme Health Plan"}])
    summary = refresh_denials(WorkbookFile(path))
    rows = _log(path)[0]
    r = rows["CLM-1002"]
    assert r["Category"] == "my own category" and r["Owner"] == "Kim" and r["Payer"] == "medicare part b"
    assert r["Root Cause"] == "PRIOR_AUTH_MISSING" and "authorization" in r["Reason"]
    assert r["Appeal Deadline"] == dt.date(2026, 8, 4)  # Medicare type: 5 days to receipt + 120 days
    assert (r["Dx Codes"], r["Patient ID"], r["Source"], r["Status"]) == ("M23.221", "P002", "manual", "Open")
    x = rows["X-9"]
    assert x["Root Cause"] == "DX_NOT_COVERED" and x["Appeal Deadline"] == dt.date(2026, 6, 1)
    assert {r["Denial ID"], x["Denial ID"]} == {"D-000001", "D-000002"}
    assert summary.cells_filled > 0
    assert refresh_denials(WorkbookFile(path)).cells_filled == 0  # nothing left to fill


def test_the_practice_can_point_to_its_own_root_cause_table(tmp_path):
    own = tmp_path / "my_root_causes.csv"
    own.write_text("CARC,RARC,Claim Finding,Root Cause\n197,,,NO_POLICY\n", encoding="utf-8")
    path = build_workbook(tmp_path / "s.xlsx", settings=[("Root Cause Table", own.name)])
    import_835_files(WorkbookFile(path), [MEDICARE])
    assert _log(path)[0]["CLM-1002"]["Root Cause"] == "NO_POLICY"


def test_cli_imports_and_reports_counts(book_path):
    result = CliRunner().invoke(cli, ["denials", "import-835", str(MEDICARE), "--workbook", str(book_path)])
    assert result.exit_code == 0, result.output
    assert "6 denials added" in result.output and "1 reversal skipped" in result.output
    result = CliRunner().invoke(cli, ["denials", "import-835", str(MEDICARE), "--workbook", str(book_path)])
    assert "0 denials added" in result.output and "6 already in the log" in result.output


def test_cli_refuses_a_4010_file_in_one_line_and_still_imports_the_others(book_path, tmp_path):
    old = tmp_path / "old.835"
    old.write_text(MEDICARE.read_text().replace("005010X221A1", "004010X091A1"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["denials", "import-835", str(old), str(ACME), "--workbook", str(book_path)])
    assert result.exit_code == 2
    assert "Refused: old.835: this is an X12 004010" in result.output
    assert "1 denial added" in result.output


def test_cli_refresh_and_help(book_path):
    result = CliRunner().invoke(cli, ["denials", "refresh", "--workbook", str(book_path)])
    assert result.exit_code == 0 and "blank cells filled" in result.output
    help_text = CliRunner().invoke(cli, ["denials", "import-835", "--help"]).output
    assert "Importing the same file again adds nothing" in help_text


@pytest.mark.skipif(not SHARED_835.is_dir(), reason="../shared/data/x12_835 is not beside the repository")
def test_every_public_sample_imports_or_is_refused_never_a_crash(book_path):
    files = sorted(SHARED_835.iterdir())
    summary = import_835_files(WorkbookFile(book_path), files)
    assert [r.split(":")[0] for r in summary.refused] == ["tigershark_835_4010_pipe_delimited.txt"]
    _, frame = _log(book_path)
    assert len(frame) == summary.added > 0
    assert frame["Denial ID"].is_unique
    # CLP02=4 Nevada Medicaid claims with CO-26 (coverage not begun) are logged as eligibility
    assert "26" in set(frame["CARC"])
    again = import_835_files(WorkbookFile(book_path), files)
    assert again.added == 0
