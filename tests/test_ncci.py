"""NCCI PTP and MUE edits: CMS-shaped files → index → Validate, firing and not firing.

The files are written in the layouts CMS publishes (copyright lines before the header, a header
over two rows in the .xlsx, a line break inside the MUE header cell), but every code pair and MUE
value is invented: real-shaped codes, no real CMS rows and no CPT descriptors.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import AS_OF, SAMPLE, build_user_workbook

from toolkit import find_findings, validate_claims
from toolkit.codesets.build_ncci import build_ncci_index, read_mue_file, read_ptp_file
from toolkit.errors import InputError

COPYRIGHT = "CPT codes, descriptions and other data only are copyright 2026 American Medical Association. \u00a9"
PTP_HEADER = ["Column 1", "Column 2", "*=in existence prior to 1996", "Effective Date",
              "Deletion Date *=no data", "Modifier 0=not allowed 1=allowed 9=not applicable", "PTP Edit Rationale"]

# Invented edits: (Column 1, Column 2, prior-1996 flag, effective, deletion, modifier indicator, rationale)
PTP_TXT = [
    ("11111", "22222", "", "20200101", "*", "1", "Mutually exclusive procedures"),
    ("11111", "22223", "*", "19960101", "*", "0", "Standards of medical/surgical services"),
    ("11111", "22224", "", "20200101", "*", "9", "Misuse of column two code with column one code"),
    ("11112", "22222", "", "20200101", "*", "0", "Mutually exclusive procedures"),
]
PTP_XLSX = [  # numeric cells, as Excel keeps them: 100 is code 00100
    (11111, 22225, "", 20200101, 20260101, 0, "Standards of medical/surgical services"),
    (11111, 22226, "", 20261001, "*", 0, "More extensive procedure"),
    (100, "0213T", "", 20200101, "*", 1, "Mutually exclusive procedures"),
]
MUE = [  # code, value, MAI, rationale
    ("33333", 2, "1 Line Edit", "Anatomic Consideration"),
    ("44444", 3, "3 Date of Service Edit: Clinical", "Clinical: Data"),
    ("55555", 1, "2 Date of Service Edit: Policy", "CMS Policy"),
]

PAYERS = pd.DataFrame([{"Payer": "Medicare", "Payer Type": "Medicare", "Timely Filing Days": "365"}])


def write_ptp_txt(path: Path, rows=PTP_TXT) -> Path:
    lines = [COPYRIGHT, "", "Column1/Column 2 Edits", "\t".join(PTP_HEADER)]
    lines += ["\t".join(map(str, r)) for r in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")  # as CMS ships it: Windows text
    return path


def write_ptp_xlsx(path: Path, rows=PTP_XLSX) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([COPYRIGHT])
    ws.append(["Column 1", "Column 2", "*=in existence", "Effective", "Deletion", "Modifier", "PTP Edit Rationale"])
    ws.append(["", "", "prior to 1996", "Date", "Date *=no data", "0=not allowed 1=allowed 9=not applicable", ""])
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def write_mue_csv(path: Path, rows=MUE) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        for text in (COPYRIGHT, "", "Medically Unlikely Edits", "Practitioner Services", "", "", "", "", ""):
            out.writerow([text])
        out.writerow(["HCPCS/\nCPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator",
                      "MUE Rationale"])
        out.writerows(rows)
    return path


def write_mue_xlsx(path: Path, rows=MUE) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([COPYRIGHT])
    ws.append([])
    ws.append(["HCPCS/\nCPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator", "MUE Rationale"])
    for code, value, mai, why in rows:
        ws.append([int(code), value, mai, why])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("ncci")
    return build_ncci_index([write_ptp_txt(d / "ccipra-v321r0-f1.txt"), write_ptp_xlsx(d / "ccipra-v321r0-f2.xlsx")],
                            d / "ncci.sqlite", mue_file=write_mue_csv(d / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"),
                            label="NCCI 2026 Q4")


def claim_line(line: int, cpt: str, *, claim="C1", dos="2026-10-12", mods="", units="1") -> dict:
    return {"Claim ID": claim, "Line": str(line), "Patient ID": "P1", "Payer": "Medicare", "Date of Service": dos,
            "CPT/HCPCS": cpt, "Modifiers": mods, "Units": units, "Dx Codes": "M48.062"}


def ncci_findings(rows: list[dict], index) -> dict[int, dict[str, str]]:
    """{position of the line: {code: message}} for the two NCCI codes only."""
    found = find_findings(pd.DataFrame(rows), None, PAYERS, as_of=AS_OF, edits=index)
    found = found[found["code"].isin(["NCCI_PTP_CONFLICT", "MUE_EXCEEDED"])]
    out: dict[int, dict[str, str]] = {}
    for row, code, message in found[["row", "code", "message"]].itertuples(index=False):
        out.setdefault(int(row), {})[code] = message
    return out


# ---------------------------------------------------------------- reading the CMS files

def test_ptp_txt_is_read_past_the_copyright_lines_with_star_meaning_in_force(tmp_path):
    rows = read_ptp_file(write_ptp_txt(tmp_path / "ccipra-v321r0-f1.txt"))
    assert rows[0] == ("11111", "22222", 20200101, 99991231, 1, "Mutually exclusive procedures")
    assert [r[4] for r in rows] == [1, 0, 9, 0]


def test_ptp_xlsx_with_a_two_row_header_and_numeric_codes_keeps_leading_zeros(tmp_path):
    rows = read_ptp_file(write_ptp_xlsx(tmp_path / "ccipra-v321r0-f2.xlsx"))
    assert rows[0] == ("11111", "22225", 20200101, 20260101, 0, "Standards of medical/surgical services")
    assert rows[2][:2] == ("00100", "0213T")


def test_mue_csv_and_xlsx_with_a_line_break_in_the_header_give_the_same_values(tmp_path):
    expected = [("33333", 2, 1, "Anatomic Consideration"), ("44444", 3, 3, "Clinical: Data"),
                ("55555", 1, 2, "CMS Policy")]
    assert read_mue_file(write_mue_csv(tmp_path / "mue.csv")) == expected
    assert read_mue_file(write_mue_xlsx(tmp_path / "mue.xlsx")) == expected


def test_the_index_is_compact_sqlite_read_back_independently(index):
    with sqlite3.connect(index) as con:
        meta = dict(con.execute("SELECT key, value FROM meta"))
        assert (meta["kind"], meta["label"], meta["ptp"], meta["mue"]) == ("ncci", "NCCI 2026 Q4", "7", "3")
        assert con.execute("SELECT deletion, modifier FROM ptp WHERE col1 = '11111' AND col2 = '22225'").fetchone() \
            == (20260101, 0)
        assert con.execute("SELECT units, mai FROM mue WHERE code = '44444'").fetchone() == (3, 3)
    assert not list(index.parent.glob(".~*")), "no temporary file left behind"


@pytest.mark.parametrize("bad,where", [
    ("11111\t22222\t\t2020-01-01\t*\t1\tx", "row 4: Effective Date '2020-01-01'"),
    ("11111\t22222\t\t20200101\t*\t2\tx", "row 4: Modifier indicator '2'"),
    ("1111\t22222\t\t20200101\t*\t1\tx", "row 4, column Column 1: '1111' is not a CPT/HCPCS code"),
])
def test_a_bad_ptp_row_stops_the_build_naming_file_and_row(tmp_path, bad, where):
    path = tmp_path / "ccipra-v321r0-f3.txt"
    path.write_text("\n".join([COPYRIGHT, "\t".join(PTP_HEADER), "\t".join(PTP_TXT[0]), bad]) + "\n")
    out = tmp_path / "out.sqlite"
    with pytest.raises(InputError) as err:
        build_ncci_index([path], out)
    assert str(err.value).startswith(f"ccipra-v321r0-f3.txt, {where}")
    assert "\n" not in str(err.value)
    assert not out.exists() and not list(tmp_path.glob(".~*"))


def test_a_file_without_the_header_is_not_taken_for_an_ncci_file(tmp_path):
    path = tmp_path / "claims.csv"
    shutil.copy(SAMPLE / "claims.csv", path)
    with pytest.raises(InputError, match="claims.csv: no header row with 'Column 1'"):
        read_ptp_file(path)
    with pytest.raises(InputError, match="claims.csv: no header row with 'HCPCS/CPT Code'"):
        read_mue_file(path)


def test_a_bad_mue_indicator_names_the_row(tmp_path):
    path = write_mue_csv(tmp_path / "mue.csv", rows=[("33333", 2, "Line Edit", "x")])
    with pytest.raises(InputError, match=r"mue.csv, row 12: MUE Adjudication Indicator 'Line Edit'"):
        read_mue_file(path)


# ---------------------------------------------------------------- PTP edits on claims

def test_column_2_code_billed_with_its_column_1_code_is_flagged_on_the_column_2_line(index):
    found = ncci_findings([claim_line(1, "11111"), claim_line(2, "22222")], index)
    assert list(found) == [1]
    assert found[1]["NCCI_PTP_CONFLICT"] == (
        "22222 is bundled into 11111 (line 1) on the same claim and date of service (NCCI PTP edit: "
        "Mutually exclusive procedures). If the service was distinct (separate site/session), add 59 or "
        "XS/XE/XP/XU; otherwise remove the line.")


def test_column_2_line_listed_first_is_still_the_one_flagged(index):
    found = ncci_findings([claim_line(1, "22222"), claim_line(2, "11111")], index)
    assert list(found) == [0]


@pytest.mark.parametrize("mods", ["59", "XS", "XU, GA", "F3", "25", "91"])
def test_an_ncci_associated_modifier_bypasses_an_indicator_1_edit(index, mods):
    assert ncci_findings([claim_line(1, "11111"), claim_line(2, "22222", mods=mods)], index) == {}


def test_a_modifier_that_is_not_ncci_associated_does_not_bypass(index):
    assert 1 in ncci_findings([claim_line(1, "11111"), claim_line(2, "22222", mods="GA")], index)


def test_indicator_0_is_flagged_even_with_59_and_says_remove_the_line(index):
    found = ncci_findings([claim_line(1, "11111"), claim_line(2, "22223", mods="59")], index)
    assert found[1]["NCCI_PTP_CONFLICT"].endswith(
        "(NCCI PTP edit: Standards of medical/surgical services). "
        "These codes cannot be billed together on the same day: remove the line.")


def test_indicator_9_never_fires(index):
    assert ncci_findings([claim_line(1, "11111"), claim_line(2, "22224")], index) == {}


@pytest.mark.parametrize("dos,fires", [("2025-12-31", True), ("2026-01-01", True), ("2026-01-02", False),
                                       ("2026-10-12", False)])
def test_a_deleted_edit_applies_through_its_deletion_date_the_last_day_in_force(index, dos, fires):
    found = ncci_findings([claim_line(1, "11111", dos=dos), claim_line(2, "22225", dos=dos)], index)
    assert (1 in found) is fires


@pytest.mark.parametrize("dos,fires", [("2026-09-30", False), ("2026-10-01", True)])
def test_an_edit_applies_from_its_effective_date(index, dos, fires):
    found = ncci_findings([claim_line(1, "11111", dos=dos), claim_line(2, "22226", dos=dos)], index)
    assert (1 in found) is fires


def test_other_patients_and_other_days_do_not_pair(index):
    rows = [claim_line(1, "11111"), {**claim_line(1, "22223", claim="C2"), "Patient ID": "P2"},
            claim_line(2, "22223", dos="2026-10-13")]
    assert ncci_findings(rows, index) == {}


def test_the_same_patient_and_provider_on_another_claim_the_same_day_pairs(index):
    rows = [{**claim_line(1, "11111"), "Rendering Provider": "Dr. Rivera"},
            {**claim_line(1, "22223", claim="C2"), "Rendering Provider": "dr. rivera "}]
    found = ncci_findings(rows, index)
    assert list(found) == [1]
    assert found[1]["NCCI_PTP_CONFLICT"].startswith(
        "22223 is bundled into 11111 (claim C1 line 1) on the same date of service for the same patient and provider")


def test_another_rendering_provider_on_another_claim_does_not_pair(index):
    rows = [{**claim_line(1, "11111"), "Rendering Provider": "Dr. Rivera"},
            {**claim_line(1, "22223", claim="C2"), "Rendering Provider": "Dr. Patel"}]
    assert ncci_findings(rows, index) == {}


@pytest.mark.parametrize("col1_mods,col2_mods,fires", [
    ("LT", "RT", False), ("RT", "LT", False),  # different sides: the edit is bypassed
    ("RT", "RT", True), ("", "RT", True), ("LT", "LT", True),  # same side, or no side on the Column 1 line
    ("RT", "RT, 59", False),  # 59 still bypasses
])
def test_rt_lt_bypass_an_indicator_1_edit_only_when_the_lines_are_on_different_sides(index, col1_mods, col2_mods,
                                                                                        fires):
    found = ncci_findings([claim_line(1, "11111", mods=col1_mods), claim_line(2, "22222", mods=col2_mods)], index)
    assert (1 in found) is fires


def test_codes_kept_as_excel_numbers_pair_with_leading_zeros(index):
    found = ncci_findings([claim_line(1, "00100"), claim_line(2, "0213T")], index)
    assert "NCCI_PTP_CONFLICT" in found[1]


def test_each_column_2_line_is_flagged_and_the_column_1_line_is_paid(index):
    rows = [claim_line(1, "11111"), claim_line(2, "22222"), claim_line(3, "22223")]
    assert set(ncci_findings(rows, index)) == {1, 2}


def test_a_line_bundled_into_two_codes_names_both_and_gives_the_strictest_advice(index):
    rows = [claim_line(1, "11111"), claim_line(2, "11112"), claim_line(3, "22222", mods="59")]
    message = ncci_findings(rows, index)[2]["NCCI_PTP_CONFLICT"]  # 59 bypasses 11111's edit, not 11112's
    assert message.startswith("22222 is bundled into 11112 (line 2) on the same claim")
    rows[2]["Modifiers"] = ""
    message = ncci_findings(rows, index)[2]["NCCI_PTP_CONFLICT"]
    assert message == ("22222 is bundled into 11111 (line 1), 11112 (line 2) on the same claim and date of service "
                       "(NCCI PTP edit: Mutually exclusive procedures). These codes cannot be billed together on "
                       "the same day: remove the line.")


def test_ptp_conflict_makes_the_line_red(index):
    result = validate_claims(pd.DataFrame([claim_line(1, "11111"), claim_line(2, "22223")]), None, PAYERS,
                             as_of=AS_OF, edits=index)
    assert result["Status"].iloc[1] == "RED"
    assert result["Finding Codes"].iloc[1].split("; ")[0] == "NCCI_PTP_CONFLICT"
    assert "NCCI_PTP_CONFLICT" not in result["Finding Codes"].iloc[0]


# ---------------------------------------------------------------- MUE on claims

def test_mai_1_counts_units_per_line(index):
    found = ncci_findings([claim_line(1, "33333", units="3"), claim_line(2, "33333", units="2"),
                           claim_line(3, "33333", units="2")], index)
    assert list(found) == [0]
    assert found[0]["MUE_EXCEEDED"].startswith(
        "3 units of 33333 on this line exceed the MUE of 2 per line (CMS MUE, MAI 1 Line Edit; "
        "Anatomic Consideration). Bill at most 2 on a line;")


def test_mai_3_sums_the_claims_lines_of_the_day(index):
    rows = [claim_line(1, "44444", units="2"), claim_line(2, "44444", units="2"),
            claim_line(3, "44444", units="2", dos="2026-10-13"),
            {**claim_line(4, "44444", units="3", claim="C2"), "Patient ID": "P2"}]
    found = ncci_findings(rows, index)
    assert list(found) == [0, 1]
    assert found[0]["MUE_EXCEEDED"] == (
        "4 units of 44444 on this claim's date of service (2 lines) exceed the MUE of 3 per day (CMS MUE, MAI 3 "
        "Date of Service Edit: Clinical; Clinical: Data). Reduce the units to 3, or if more were medically "
        "necessary keep the documentation: the excess is paid only on appeal.")


def test_mai_2_is_per_day_and_says_not_payable(index):
    found = ncci_findings([claim_line(1, "55555", units="2")], index)
    assert found[0]["MUE_EXCEEDED"].endswith("Units above 1 a day are not payable under CMS policy: reduce the units.")


def test_blank_units_count_as_one_and_codes_without_an_mue_are_not_limited(index):
    assert ncci_findings([claim_line(1, "55555", units=""), claim_line(2, "66666", units="99")], index) == {}


# ---------------------------------------------------------------- without an index nothing changes

def test_without_an_index_the_results_are_the_same_as_before(index):
    claims = pd.read_csv(SAMPLE / "claims.csv", dtype=str, keep_default_na=False)
    rules = pd.read_csv(SAMPLE / "rules.csv", dtype=str, keep_default_na=False)
    payers = pd.read_csv(SAMPLE / "payers.csv", dtype=str, keep_default_na=False)
    plain = find_findings(claims, rules, payers, as_of=AS_OF)
    assert not plain["code"].isin(["NCCI_PTP_CONFLICT", "MUE_EXCEEDED"]).any()
    # the sample's codes are not in the invented index: the same findings with it loaded
    with_index = find_findings(claims, rules, payers, as_of=AS_OF, edits=index)
    pd.testing.assert_frame_equal(plain, with_index)


def test_an_index_of_another_kind_is_refused_in_one_line(tmp_path):
    from toolkit.codesets.icd10cm import SHIPPED_INDEX

    with pytest.raises(InputError, match=r"^icd10cm.sqlite: not an NCCI index built by mednec"):
        validate_claims(pd.DataFrame([claim_line(1, "11111")]), None, PAYERS, as_of=AS_OF, edits=SHIPPED_INDEX)


# ---------------------------------------------------------------- the command line

def test_ncci_build_then_validate_a_csv_with_a_report(tmp_path, cli):
    ptp = write_ptp_txt(tmp_path / "ccipra-v321r0-f1.txt")
    mue = write_mue_xlsx(tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx")
    out = tmp_path / "ncci.sqlite"
    result = cli("codeset", "ncci-build", ptp, "--mue", mue, "--out", out, "--label", "NCCI 2026 Q4")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {out}: NCCI 2026 Q4, 4 PTP edits, 3 MUE values"

    claims = tmp_path / "claims.csv"
    pd.DataFrame([claim_line(1, "11111"), claim_line(2, "22223"), claim_line(3, "33333", units="5")]).to_csv(
        claims, index=False)
    payers = tmp_path / "payers.csv"
    PAYERS.to_csv(payers, index=False)
    report = tmp_path / "report.csv"
    result = cli("validate", claims, "--rules", SAMPLE / "rules.csv", "--payers", payers, "--report", report,
                 "--as-of", AS_OF, "--ncci", out)
    assert result.exit_code == 0, result.output
    assert "NCCI 2026 Q4" in result.output
    with open(report, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["Finding Codes"].split("; ")[0] for r in rows[1:]] == ["NCCI_PTP_CONFLICT", "MUE_EXCEEDED"]
    assert "NCCI" not in rows[0]["Finding Codes"] and "MUE" not in rows[0]["Finding Codes"]
    assert rows[0]["Code Set"].endswith("; NCCI 2026 Q4")


def test_ncci_build_of_a_bad_file_is_one_line_and_exit_2(tmp_path, cli):
    bad = tmp_path / "ccipra-v321r0-f4.txt"
    bad.write_text("\n".join([COPYRIGHT, "\t".join(PTP_HEADER), "11111\t22222\t\t20200101\t*\tY\tx"]) + "\n")
    result = cli("codeset", "ncci-build", bad, "--out", tmp_path / "x.sqlite")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].endswith("ccipra-v321r0-f4.txt, row 3: Modifier indicator 'Y' "
                                                          "is not 0, 1 or 9")
    assert not (tmp_path / "x.sqlite").exists()


def test_the_settings_key_ncci_index_turns_the_edits_on_for_a_workbook(tmp_path, index, cli):
    header = list(pd.read_csv(SAMPLE / "claims.csv", nrows=0).columns)
    rows = [[r.get(h, "") for h in header] for r in (claim_line(1, "11111"), claim_line(2, "22223"))]
    book = build_user_workbook(tmp_path / "claims.xlsx", claims_rows=rows)
    shutil.copy(index, tmp_path / "ncci.sqlite")
    wb = openpyxl.load_workbook(book)
    wb["Settings"].append(["NCCI Index", "ncci.sqlite"])  # relative: beside the workbook
    wb.save(book)

    result = cli("validate", book, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    claims = pd.read_excel(book, sheet_name="Claims", dtype=str, engine="calamine")
    assert claims["Finding Codes"].fillna("").str.contains("NCCI_PTP_CONFLICT").tolist() == [False, True]


def test_a_bad_row_in_the_xlsx_is_named_by_its_excel_row(tmp_path):
    path = write_ptp_xlsx(tmp_path / "ccipra-v321r0-f2.xlsx", rows=[*PTP_XLSX, (11111, 22227, "", 20200101, "*", 5, "")])
    with pytest.raises(InputError, match=r"^ccipra-v321r0-f2.xlsx, row 7: Modifier indicator '5' is not 0, 1 or 9$"):
        build_ncci_index([path], tmp_path / "out.sqlite")


def test_the_validate_button_job_reads_the_settings_key(tmp_path, index):
    """validate_book as the Excel button calls it: no options, the index named in Settings."""
    from toolkit.jobs.validate import validate_book
    from toolkit.workbook.files import WorkbookFile

    header = list(pd.read_csv(SAMPLE / "claims.csv", nrows=0).columns)
    rows = [[r.get(h, "") for h in header] for r in (claim_line(1, "44444", units="2"), claim_line(2, "44444", units="2"))]
    book = build_user_workbook(tmp_path / "claims.xlsx", claims_rows=rows)
    wb = openpyxl.load_workbook(book)
    wb["Settings"].append(["NCCI Index", str(index)])
    wb.save(book)
    validation = validate_book(WorkbookFile(book), as_of=AS_OF)
    assert validation.findings["code"].tolist().count("MUE_EXCEEDED") == 2
    assert validation.codeset_labels[-1] == "NCCI 2026 Q4"


def test_mai_3_sums_the_same_patient_and_provider_across_claims(index):
    rows = [{**claim_line(1, "44444", units="2"), "Rendering Provider": "Dr. Rivera"},
            {**claim_line(1, "44444", units="2", claim="C2"), "Rendering Provider": "Dr. Rivera"},
            {**claim_line(1, "44444", units="2", claim="C3"), "Rendering Provider": "Dr. Patel"}]
    found = ncci_findings(rows, index)
    assert list(found) == [0, 1]  # 4 units for Dr. Rivera's patient that day; Dr. Patel's 2 are their own
    assert found[0]["MUE_EXCEEDED"].startswith(
        "4 units of 44444 on this date of service for the patient and provider (all claims) (2 lines) exceed "
        "the MUE of 3 per day")


def test_mai_1_is_per_line_even_across_claims(index):
    rows = [claim_line(1, "33333", units="2"), claim_line(1, "33333", units="2", claim="C2")]
    assert ncci_findings(rows, index) == {}


def test_ncci_build_takes_the_cms_zips_as_downloaded(tmp_path, cli):
    import zipfile

    parts = tmp_path / "parts"
    parts.mkdir()
    ptp_zip = tmp_path / "medicare-ncci-2026q4-practitioner-ptp-edits-ccipra-v321r0-f1.zip"
    with zipfile.ZipFile(ptp_zip, "w") as zf:
        zf.write(write_ptp_txt(parts / "ccipra-v321r0-f1.txt"), "ccipra-v321r0-f1.txt")
        zf.write(write_ptp_xlsx(parts / "ccipra-v321r0-f1.xlsx", rows=[]), "ccipra-v321r0-f1.xlsx")  # same part
        zf.writestr("README - PTP edits.pdf", b"%PDF-1.4 not data")
    mue_zip = tmp_path / "medicare-ncci-2026-q4-practitioner-services-mue-table.zip"
    with zipfile.ZipFile(mue_zip, "w") as zf:
        zf.write(write_mue_csv(parts / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"),
                 "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv")
        zf.write(write_mue_xlsx(parts / "MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx"),
                 "MCR_MUE_PractitionerServices_Eff_10-01-2026.xlsx")
    out = tmp_path / "ncci.sqlite"
    result = cli("codeset", "ncci-build", ptp_zip, "--mue", mue_zip, "--out", out, "--label", "NCCI 2026 Q4")
    assert result.exit_code == 0, result.output
    assert "4 PTP edits, 3 MUE values" in result.output
    with sqlite3.connect(out) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()[0] == (
            "CMS ccipra-v321r0-f1.txt, MCR_MUE_PractitionerServices_Eff_10-01-2026.csv")
    found = ncci_findings([claim_line(1, "11111"), claim_line(2, "22223")], out)
    assert "NCCI_PTP_CONFLICT" in found[1]


def test_a_zip_without_ncci_files_is_one_line(tmp_path, cli):
    import zipfile

    bad = tmp_path / "downloads.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("notes.pdf", b"%PDF")
    result = cli("codeset", "ncci-build", bad, "--out", tmp_path / "x.sqlite")
    assert result.exit_code == 2
    assert result.output.strip().endswith("downloads.zip: no CMS PTP (ccipra-…) or MUE file inside the zip")
