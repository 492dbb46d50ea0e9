"""Every checklist item of CONTRACT §2, firing and not firing, on real ICD-10-CM codes.

Each case starts from one clean claim line (GREEN) and changes only what the case is about.
"""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit import find_findings, validate_claims
from toolkit.checks import CHECKS, ORDER

AS_OF = "2026-11-27"

RULES = pd.DataFrame([
    {"Payer": "Medicare", "CPT/HCPCS": "63047", "Covered Dx": "M48.061, M48.062", "Min Therapy Weeks": "12",
     "Imaging Required": "Y", "Imaging Max Age Days": "365", "Policy": "Practice criteria (no LCD)"},
    {"Payer": "Medicare", "CPT/HCPCS": "20610", "Covered Dx": "M17.0; M17.11; M17.12", "Laterality Required": "Y",
     "Max Units": "2", "Policy": "Joint injections"},
    {"Payer": "Acme Health PPO", "CPT/HCPCS": "29881", "Covered Dx": "S83.2*", "Prior Auth Required": "Y",
     "Laterality Required": "Y", "Imaging Required": "Y", "Imaging Max Age Days": "180",
     "Policy": "ACME-MP-0305"},
])
PAYERS = pd.DataFrame([
    {"Payer": "Medicare", "Payer Type": "Medicare", "Timely Filing Days": "365", "Appeal Window Days": "120"},
    {"Payer": "Acme Health PPO", "Payer Type": "Commercial", "Timely Filing Days": "90"},
    {"Payer": "Sunrise MA", "Payer Type": "Medicare  advantage", "Timely Filing Days": "365"},
])

CLEAN = {
    "Claim ID": "000101", "Line": "1", "Patient ID": "MRN0001", "Payer": "Medicare",
    "Date of Service": "2026-10-12", "CPT/HCPCS": "63047", "Modifiers": "", "Units": "1",
    "Dx Codes": "M48.062", "Therapy Weeks": "14", "Imaging Date": "2026-08-20", "Imaging Type": "MRI",
    "Prior Auth Number": "", "ABN on File": "N", "Note Sections": "S,O,A,P", "Rule-Out Dx": "N",
    "Patient Declined": "N", "Submitted Date": "",
}
KNEE_SCOPE = {"Payer": "Acme Health PPO", "CPT/HCPCS": "29881", "Dx Codes": "S83.241A", "Modifiers": "RT",
              "Prior Auth Number": "ACM-1", "Imaging Date": "2026-09-20", "Therapy Weeks": ""}
INJECTION = {"CPT/HCPCS": "20610", "Dx Codes": "M17.11", "Modifiers": "RT", "Therapy Weeks": "", "Imaging Date": ""}


def line(**changes) -> dict:
    row = dict(CLEAN)
    for key, value in changes.items():
        row[{"dx": "Dx Codes", "cpt": "CPT/HCPCS", "mods": "Modifiers", "dos": "Date of Service"}.get(key, key)] = value
    return row


def codes_for(row: dict, rules=RULES, payers=PAYERS) -> list[str]:
    result = validate_claims(pd.DataFrame([row]), rules, payers, as_of=AS_OF)
    text = result["Finding Codes"].iloc[0]
    return text.split("; ") if text else []


def test_the_clean_line_is_green():
    result = validate_claims(pd.DataFrame([line()]), RULES, PAYERS, as_of=AS_OF)
    assert result["Status"].tolist() == ["GREEN"]
    assert result["Findings"].tolist() == [""]
    assert result["Policy"].tolist() == ["Practice criteria (no LCD)"]


FIRES = [
    ("CPT_INVALID", line(cpt="7214")),
    ("CPT_INVALID", line(cpt="2988A")),
    ("DX_MISSING", line(dx="")),
    ("DX_INVALID", line(dx="M75.61")),  # looks right, is not in ICD-10-CM
    ("DX_INVALID", line(dx="M48.062, XYZ")),
    ("DX_NOT_BILLABLE", line(dx="M54.5")),  # not billable since 1 Oct 2021
    ("DX_NOT_BILLABLE", line(dx="M48.06")),  # a header: M48.061 / M48.062
    ("DX_NOT_COVERED", line(dx="M54.50")),
    ("DX_UNSPECIFIED", line(cpt="99213", dx="M54.50")),  # no rule: the primary supports
    ("DX_RULE_OUT", line(**{"Rule-Out Dx": "Y"})),
    ("DX_EXCLUDES1", line(dx="M48.062, M51.16, M54.16")),
    ("THERAPY_UNDOCUMENTED", line(**{"Therapy Weeks": ""})),
    ("THERAPY_TOO_SHORT", line(**{"Therapy Weeks": "3"})),
    ("THERAPY_TOO_SHORT", line(**{"Therapy Weeks": "0"})),
    ("IMAGING_MISSING", line(**{"Imaging Date": ""})),
    ("IMAGING_STALE", line(**{"Imaging Date": "2025-06-01"})),
    ("IMAGING_STALE", line(**{"Imaging Date": "2026-10-20"})),  # after the service
    ("PRIOR_AUTH_MISSING", line(**{**KNEE_SCOPE, "Prior Auth Number": ""})),
    ("LATERALITY_MISSING", line(**{**INJECTION, "Modifiers": ""})),
    ("LATERALITY_MISSING", line(**{**INJECTION, "Modifiers": "25"})),
    ("LATERALITY_CONFLICT", line(**{**KNEE_SCOPE, "Modifiers": "LT"})),  # S83.241A is the right knee
    ("LATERALITY_CONFLICT", line(**{**INJECTION, "Dx Codes": "M17.12", "Modifiers": "RT"})),
    ("MODIFIER_INVALID", line(mods="RTT")),
    ("MODIFIER_INVALID", line(mods="25, 59, 76, 77, 79")),
    ("MODIFIER_CONFLICT", line(mods="59, XS")),
    ("MODIFIER_CONFLICT", line(mods="GA GZ")),
    ("MODIFIER_CONFLICT", line(**{**INJECTION, "Modifiers": "RT:LT"})),
    ("UNITS_EXCEEDED", line(**{**INJECTION, "Dx Codes": "M17.0", "Modifiers": "50", "Units": "3"})),
    ("NOTE_INCOMPLETE", line(**{"Note Sections": "S,O,A"})),
    ("NOTE_INCOMPLETE", line(**{"Note Sections": "SO"})),
    ("PATIENT_DECLINED", line(**{"Patient Declined": "Y"})),
    ("NO_POLICY", line(cpt="99213")),
    ("NO_POLICY", line(dos="2026-10-12", **{"Payer": "medicare ", "CPT/HCPCS": "63048"})),
    ("PAYER_UNKNOWN", line(Payer="Bright Star Health")),
    ("TIMELY_FILING", line(**{**KNEE_SCOPE, "Date of Service": "2026-07-20", "Imaging Date": "2026-07-01"})),
    ("TIMELY_FILING", line(dos="2025-01-10", **{"Submitted Date": "2026-02-01", "Imaging Date": "2024-12-01"})),
    ("DOS_FUTURE", line(dos="2026-12-01", **{"Imaging Date": "2026-11-01"})),
    ("GA_WITHOUT_ABN", line(mods="GA")),
    ("ABN_MODIFIER_MISSING", line(dx="M54.50", **{"ABN on File": "Y"})),
    ("ABN_MODIFIER_MISSING", line(**{"Therapy Weeks": "4", "ABN on File": "Y"})),
    ("FIELD_MISSING", line(**{"Patient ID": ""})),
    ("FIELD_MISSING", line(dos="")),
    ("THERAPY_MODIFIER_MISSING", line(cpt="97110", mods="")),
    ("THERAPY_MODIFIER_MISSING", line(cpt="97161", mods="59", Payer="Sunrise MA")),  # Medicare Advantage too
    ("THERAPY_MODIFIER_MISSING", line(cpt="92507", Payer="MEDICARE")),
    ("GZ_EXPECTED_DENIAL", line(dx="M54.50", mods="GZ")),
    ("ABN_NOT_APPLICABLE", line(**{**KNEE_SCOPE, "Modifiers": "RT, GA", "ABN on File": "Y"})),
    ("ABN_NOT_APPLICABLE", line(Payer="Sunrise MA", mods="GZ")),
    ("ABN_NOT_APPLICABLE", line(**{**KNEE_SCOPE, "ABN on File": "Y"})),
    ("BILATERAL_UNSUPPORTED", line(**{**INJECTION, "Modifiers": "50"})),  # M17.11 is the right knee only
    ("BILATERAL_UNSUPPORTED", line(**{**INJECTION, "Dx Codes": "M17.12", "Modifiers": "RT LT"})),
]

NOT_FIRES = [
    ("CPT_INVALID", line(cpt="0213T")),
    ("CPT_INVALID", line(cpt="J1030")),
    ("CPT_INVALID", line(cpt="3008F")),
    ("DX_INVALID", line(dx="m48062")),  # no dot, lower case: still the code
    ("DX_NOT_BILLABLE", line(dx="M54.50")),
    ("DX_NOT_COVERED", line(dx="M54.16, M48.062")),  # a later diagnosis is covered
    ("DX_NOT_COVERED", line(**KNEE_SCOPE)),  # S83.2* is a prefix
    ("DX_UNSPECIFIED", line(dx="M54.50, M48.062")),  # the covered M48.062 supports, not M54.50
    ("DX_EXCLUDES1", line(dx="M48.062, M54.16")),
    ("THERAPY_TOO_SHORT", line(**{"Therapy Weeks": "12"})),
    ("THERAPY_UNDOCUMENTED", line(**{"Therapy Weeks": "3"})),  # documented (too short is its own item)
    ("IMAGING_STALE", line(**{"Imaging Date": "2025-10-12"})),  # exactly 365 days
    ("IMAGING_MISSING", line(**INJECTION)),  # this rule needs no imaging
    ("PRIOR_AUTH_MISSING", line()),  # Medicare rule without prior authorization
    ("LATERALITY_MISSING", line(**{**INJECTION, "Modifiers": "50", "Dx Codes": "M17.0"})),
    ("LATERALITY_CONFLICT", line(**{**INJECTION, "Dx Codes": "M17.0", "Modifiers": "RT"})),  # bilateral code
    ("LATERALITY_CONFLICT", line(**KNEE_SCOPE)),
    ("MODIFIER_INVALID", line(mods="25 59 76 77")),
    ("MODIFIER_CONFLICT", line(mods="59")),
    ("MODIFIER_CONFLICT", line(mods="XS, 76")),
    ("UNITS_EXCEEDED", line(**{**INJECTION, "Dx Codes": "M17.0", "Modifiers": "50", "Units": "2"})),
    ("NOTE_INCOMPLETE", line(**{"Note Sections": "SOAP"})),
    ("NOTE_INCOMPLETE", line(**{"Note Sections": "Subjective, Objective, Assessment, Plan"})),
    ("NOTE_INCOMPLETE", line(**{"Note Sections": ""})),
    ("NO_POLICY", line(Payer="MEDICARE")),  # payer names match case-insensitively
    ("PAYER_UNKNOWN", line(Payer=" medicare")),
    ("TIMELY_FILING", line(dos="2026-01-10", **{"Imaging Date": "2025-12-01"})),  # 321 days, Medicare 365
    ("DOS_FUTURE", line(dos="2026-11-27", **{"Imaging Date": "2026-11-01"})),  # today is fine
    ("GA_WITHOUT_ABN", line(mods="GA", **{"ABN on File": "Y"})),
    ("ABN_MODIFIER_MISSING", line(dx="M54.50", mods="GA", **{"ABN on File": "Y"})),
    ("ABN_MODIFIER_MISSING", line(**{**KNEE_SCOPE, "Dx Codes": "M17.11", "ABN on File": "Y"})),  # not Medicare
    ("ABN_MODIFIER_MISSING", line(dx="M54.50", **{"ABN on File": "N"})),
    ("FIELD_MISSING", line(Payer="")),  # a blank payer is the contract's PAYER_UNKNOWN
    ("THERAPY_MODIFIER_MISSING", line(cpt="97110", mods="GP")),
    ("THERAPY_MODIFIER_MISSING", line(cpt="97165", mods="GO", Payer="Sunrise MA")),
    ("THERAPY_MODIFIER_MISSING", line(**{**KNEE_SCOPE, "CPT/HCPCS": "97110", "Modifiers": ""})),  # commercial
    ("THERAPY_MODIFIER_MISSING", line(cpt="99213")),  # not a therapy code
    ("GZ_EXPECTED_DENIAL", line(dx="M54.50", mods="GA", **{"ABN on File": "Y"})),
    ("GZ_EXPECTED_DENIAL", line(Payer="Sunrise MA", mods="GZ")),  # not Original Medicare
    ("ABN_NOT_APPLICABLE", line(mods="GA", **{"ABN on File": "Y"})),  # Medicare: the ABN applies
    ("ABN_NOT_APPLICABLE", line(**KNEE_SCOPE)),
    ("ABN_NOT_APPLICABLE", line(Payer="Bright Star Health", mods="GZ")),  # unknown payer: PAYER_UNKNOWN says so
    ("BILATERAL_UNSUPPORTED", line(**{**INJECTION, "Dx Codes": "M17.0", "Modifiers": "50"})),  # bilateral code
    ("BILATERAL_UNSUPPORTED", line(**{**INJECTION, "Dx Codes": "M17.11, M17.12", "Modifiers": "50"})),  # both sides
    ("BILATERAL_UNSUPPORTED", line(**INJECTION)),  # RT alone
]


@pytest.mark.parametrize("code,row", FIRES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(FIRES)])
def test_check_fires(code, row):
    assert code in codes_for(row)


@pytest.mark.parametrize("code,row", NOT_FIRES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(NOT_FIRES)])
def test_check_does_not_fire(code, row):
    assert code not in codes_for(row)


def test_every_contract_code_has_a_firing_and_a_quiet_case():
    contract = set(ORDER) - {"FIELD_MISSING", "NCCI_PTP_CONFLICT", "MUE_EXCEEDED"}  # NCCI ones: tests/test_ncci.py
    contract -= {"DENIAL_HISTORY"}  # needs a Denials log: tests/test_history.py
    assert contract <= {c for c, _ in FIRES}
    assert contract - {"DX_MISSING", "DX_RULE_OUT", "PATIENT_DECLINED"} <= {c for c, _ in NOT_FIRES}


def test_right_knee_dx_with_LT_modifier_is_a_laterality_conflict():
    result = validate_claims(pd.DataFrame([line(**{**KNEE_SCOPE, "Modifiers": "LT"})]), RULES, PAYERS, as_of=AS_OF)
    assert result["Status"].iloc[0] == "RED"
    assert "Modifier LT contradicts the right-side diagnosis S83.241A" in result["Findings"].iloc[0]


def test_status_is_the_worst_finding_and_codes_list_red_first():
    row = line(**{"Note Sections": "S,O", "Therapy Weeks": "3", "Patient ID": "MRN9"})
    result = validate_claims(pd.DataFrame([row]), RULES, PAYERS, as_of=AS_OF)
    assert result["Status"].iloc[0] == "RED"
    assert result["Finding Codes"].iloc[0] == "THERAPY_TOO_SHORT; NOTE_INCOMPLETE"


def test_a_blank_payer_is_payer_unknown_and_amber():
    result = validate_claims(pd.DataFrame([line(Payer="", cpt="99213", dx="M54.59")]), RULES, PAYERS, as_of=AS_OF)
    assert result["Finding Codes"].iloc[0] == "NO_POLICY; PAYER_UNKNOWN"
    assert result["Status"].iloc[0] == "AMBER"


def test_amber_only_line_is_amber():
    result = validate_claims(pd.DataFrame([line(**{"Note Sections": "S,O,A"})]), RULES, PAYERS, as_of=AS_OF)
    assert result["Status"].iloc[0] == "AMBER"


def test_findings_say_what_is_wrong_and_what_to_do():
    result = validate_claims(pd.DataFrame([line(**{"Therapy Weeks": "3"})]), RULES, PAYERS, as_of=AS_OF)
    assert result["Findings"].iloc[0] == (
        "Medicare requires 12 weeks of conservative therapy; 3 documented. "
        "Document further therapy or hold the claim.")


def test_not_billable_finding_suggests_the_billable_codes():
    result = validate_claims(pd.DataFrame([line(dx="M54.5")]), RULES, PAYERS, as_of=AS_OF)
    assert "M54.5 is a header code" in result["Findings"].iloc[0]
    assert "M54.50, M54.51, M54.59" in result["Findings"].iloc[0]


def test_excludes1_pair_is_named():
    result = validate_claims(pd.DataFrame([line(dx="M51.16, M54.16")]), RULES, PAYERS, as_of=AS_OF)
    text = result["Findings"].iloc[0]
    assert "M51.16 and M54.16 are in an ICD-10-CM Excludes1 relation" in text
    assert "query the provider" in text and "cannot be reported together" not in text


def test_excludes1_inherited_from_a_parent_code():
    # M54.5 (low back pain) carries Excludes1 "low back strain (S39.012)"; its child M54.50 inherits it.
    assert "DX_EXCLUDES1" in codes_for(line(cpt="99213", dx="M54.50, S39.012A"))


def test_rule_applies_only_within_its_effective_dates():
    rules = pd.concat([RULES, pd.DataFrame([
        {"Payer": "Medicare", "CPT/HCPCS": "99213", "Covered Dx": "J02.0", "Policy": "old",
         "Effective From": "2025-01-01", "Effective To": "2025-12-31"},
        {"Payer": "Medicare", "CPT/HCPCS": "99213", "Covered Dx": "M54.59", "Policy": "new",
         "Effective From": "2026-01-01"},
    ])], ignore_index=True)
    row = line(cpt="99213", dx="M54.59")
    result = validate_claims(pd.DataFrame([row, {**row, "Date of Service": "2025-06-02"}]), rules, PAYERS,
                             as_of=AS_OF)
    assert result["Policy"].tolist() == ["new", "old"]
    assert result["Finding Codes"].iloc[0] == ""
    assert "DX_NOT_COVERED" in result["Finding Codes"].iloc[1]


def test_a_report_of_all_findings_not_the_first():
    rows = [line(dx="M75.61", mods="RTT", **{"Patient Declined": "Y"}), line()]
    findings = find_findings(pd.DataFrame(rows), RULES, PAYERS, as_of=AS_OF)
    assert set(findings.loc[findings["row"] == 0, "code"]) >= {"DX_INVALID", "MODIFIER_INVALID", "PATIENT_DECLINED"}
    assert list(findings.columns) == ["row", "code", "severity", "message", "policy"]


def test_checks_are_named_declarative_objects_in_contract_order():
    assert [c.code for c in CHECKS] == list(ORDER)
    assert all(c.severity in ("RED", "AMBER") and c.meaning and c.say for c in CHECKS)


def test_findings_carry_no_patient_identifiers():
    row = line(dx="M75.61", **{"Patient ID": "MRN777", "Patient Name": "Doe, Jane", "Claim ID": "C1"})
    result = validate_claims(pd.DataFrame([row]), RULES, PAYERS, as_of=AS_OF)
    assert "MRN777" not in result["Findings"].iloc[0]
    assert "Doe" not in result["Findings"].iloc[0]


def test_star_alone_covers_any_diagnosis_and_blank_covers_none():
    rules = pd.DataFrame([{"Payer": "Medicare", "CPT/HCPCS": "99213", "Covered Dx": "*"},
                          {"Payer": "Medicare", "CPT/HCPCS": "99214", "Covered Dx": ""}])
    assert "DX_NOT_COVERED" not in codes_for(line(cpt="99213", dx="M54.59"), rules=rules)
    assert "DX_NOT_COVERED" in codes_for(line(cpt="99214", dx="M54.59"), rules=rules)


def test_not_applicable_cells_read_as_blank():
    """Exports write N/A or '-' in empty cells: they are blanks, not an authorization number or a date."""
    row = line(**{**KNEE_SCOPE, "Prior Auth Number": "N/A", "ABN on File": "n/a", "Therapy Weeks": "-",
                  "Submitted Date": "N/A"})
    assert codes_for(row) == ["PRIOR_AUTH_MISSING"]


def test_dates_with_a_time_of_day_from_excel_csv_exports():
    row = line(dos="10/12/2026 0:00", **{"Imaging Date": "2026-08-20T00:00:00"})
    assert codes_for(row) == []


def test_the_settings_therapy_code_list_beside_the_workbook_replaces_the_shipped_list(tmp_path):
    """A practice whose copy of the CMS list (named in Settings, a path beside the workbook) no
    longer lists 97110 gets no THERAPY_MODIFIER_MISSING on the sample's Medicare 97110 line; a blank
    key keeps the shipped list (the line is RED)."""
    import shutil

    from conftest import REPO

    from toolkit.jobs.validate import validate_book
    from toolkit.tables import CLAIMS, SETTINGS
    from toolkit.workbook.files import WorkbookFile

    path = tmp_path / "practice.xlsm"
    shutil.copy(REPO / "workbooks" / "medical_necessity.xlsm", path)

    def codes_of_the_97110_line() -> str:
        book = WorkbookFile(path)
        validate_book(book, as_of="2026-11-27")
        claims = WorkbookFile(path, writable=False).read_table(CLAIMS)
        return str(claims.loc[claims["CPT/HCPCS"] == "97110", "Finding Codes"].iloc[0])

    assert "THERAPY_MODIFIER_MISSING" in codes_of_the_97110_line()
    (tmp_path / "therapy_2027.csv").write_text("Code,Discipline\n97112,PT\n97161,PT\n", encoding="utf-8")
    book = WorkbookFile(path)
    settings = book.read_table(SETTINGS)
    row = settings.index[settings["Key"] == "Therapy Code List"]
    book.write_columns(SETTINGS, pd.DataFrame({"Value": ["therapy_2027.csv"]}, index=row))
    book.save()
    assert "THERAPY_MODIFIER_MISSING" not in codes_of_the_97110_line()


def test_a_missing_settings_therapy_code_list_names_the_settings_key_and_stops(tmp_path):
    """A Therapy Code List that is not there: one line naming the file and the Settings key to
    correct, exit 2, and the workbook's Claims left as they were."""
    import shutil

    from conftest import REPO, run

    from toolkit.tables import CLAIMS, SETTINGS
    from toolkit.workbook.files import WorkbookFile

    path = tmp_path / "practice.xlsm"
    shutil.copy(REPO / "workbooks" / "medical_necessity.xlsm", path)
    book = WorkbookFile(path)
    settings = book.read_table(SETTINGS)
    row = settings.index[settings["Key"] == "Therapy Code List"]
    book.write_columns(SETTINGS, pd.DataFrame({"Value": ["lists/therapy_2027.csv"]}, index=row))
    book.save()
    before = WorkbookFile(path, writable=False).read_table(CLAIMS)
    done = run("validate", path, "--as-of", "2026-11-27")
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == "Error: therapy_2027.csv: therapy code list not found (named by the Settings key " \
        "'Therapy Code List': correct the path there, or clear it to use the shipped list)"
    assert WorkbookFile(path, writable=False).read_table(CLAIMS).equals(before)


def test_no_check_reads_the_columns_validation_leaves_blank():
    """``NOT_CHECKED`` columns (patient name, birth date, sex, charge) blanked on the sample's
    lines change no status, finding, message or policy: the 837P reader may skip them."""
    from conftest import REPO

    from toolkit.tables import CLAIMS, PAYERS, RULES
    from toolkit.validation import NOT_CHECKED, run_checks
    from toolkit.workbook.files import read_table

    sample = REPO / "workbooks" / "sample"
    claims = read_table(sample / "claims.csv", CLAIMS)
    rules, payers = read_table(sample / "rules.csv", RULES), read_table(sample / "payers.csv", PAYERS)
    claims["Charge"] = "125.00"
    blank = claims.copy()
    for column in NOT_CHECKED:
        blank[column] = float("nan")
    assert claims["Patient Name"].notna().all() and claims["Date of Birth"].notna().all()
    full = run_checks(claims, rules, payers, as_of="2026-11-27", now=pd.Timestamp("2026-11-27 09:00"))
    bare = run_checks(blank, rules, payers, as_of="2026-11-27", now=pd.Timestamp("2026-11-27 09:00"))
    pd.testing.assert_frame_equal(full.findings, bare.findings)
    pd.testing.assert_frame_equal(full.results, bare.results)


def test_an_837p_batch_is_validated_without_holding_patient_names_or_birth_dates(tmp_path):
    """Both 837P readers leave the NOT_CHECKED columns blank for validation: the column-wise one,
    and the reference one it hands a batch it does not read (here a name with an accent)."""
    from conftest import REPO

    from toolkit.claims.x12_837_fast import read_claims_fast
    from toolkit.jobs.claims import read_claims_837

    batch = REPO / "tests" / "fixtures" / "x12_837p" / "riverside_batch.837"
    accented = tmp_path / "accented.837"
    accented.write_bytes(batch.read_bytes().replace(b"NM1*IL*1*DOE*JANE", "NM1*IL*1*DOÉ*JANE".encode()))
    assert read_claims_fast(batch) is not None and read_claims_fast(accented) is None
    for path in (batch, accented):
        frame = read_claims_837(path)
        assert len(frame) and frame["Patient Name"].isna().all() and frame["Date of Birth"].isna().all()
        assert frame["Patient ID"].notna().all() and frame["Dx Codes"].notna().all()
