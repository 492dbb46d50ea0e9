"""Appeal letters: written from a real workbook, read back with python-docx, checked word for word."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from docs_workbook import DENIAL_ROWS, PAYER_ROWS, RULE_ROWS, make_workbook

from toolkit.cli import cli
from toolkit.errors import InputError
from toolkit.jobs.documents import appeal_letter, appeal_letters_all_open
from toolkit.tables import DENIALS
from toolkit.workbook.files import WorkbookFile, read_table

TODAY = dt.date(2026, 4, 1)


def docx_text(path: Path) -> str:
    """All the text a reader sees: body paragraphs, table cells, headers and footers."""
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    for section in doc.sections:
        for hf in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            parts += [p.text for p in hf.paragraphs]
    return "\n".join(parts)


def table_rows(path: Path) -> list[list[str]]:
    from docx import Document

    return [[c.text for c in row.cells] for t in Document(str(path)).tables for row in t.rows]


@pytest.fixture
def workbook(tmp_path) -> Path:
    return make_workbook(tmp_path / "practice.xlsx")


def test_medicare_letter_fills_every_part_with_the_claim_denial_policy_and_practice(workbook, tmp_path):
    out = appeal_letter(WorkbookFile(workbook, writable=False), "D-000001", tmp_path / "out", today=TODAY)
    assert out.name == "appeal_D-000001_claim_C1001-1.docx"
    text = docx_text(out)
    assert "{{" not in text and "{%" not in text and "}}" not in text
    # Letterhead and signer from Settings
    assert "Riverside Orthopedics & Spine" in text
    assert "1200 River Road, Suite 300 · Springfield, IL 62701" in text
    # the phone number cannot break across lines (no-break space and hyphen)
    assert "Phone (217)\u00a0555\u20110100 · NPI 1234567893 · Tax ID 12-3456789" in text
    assert "Dana Whitfield\nRevenue Cycle Manager\nRiverside Orthopedics & Spine" in text
    # Date, payer name and address (Medicare: redetermination unit)
    assert "April 1, 2026" in text
    assert "Medicare Part B\nAttn: Redetermination Requests\nJE Part B Contractor\nPO Box 6783\n" \
           "Fargo, ND 58108-6783" in text
    assert "Request for Redetermination (first-level Medicare appeal)" in text
    # RE block
    rows = {r[0]: r[1] for r in table_rows(out) if len(r) == 2}
    assert rows["Patient"] == "Jane Q. Sample"
    assert rows["Date of birth"] == "04/02/1950"
    assert rows["Member ID"] == "1EG4-TE5-MK72"
    assert rows["Patient account"] == "MRN-0042"
    assert rows["Claim number"] == "C1001 (line 1)"
    assert rows["Date of service"] == "03/10/2026"
    assert rows["Procedure"] == "63047 (Lumbar decompression, one level)"
    assert rows["Billed"] == "1 unit, $2,450.00"
    assert rows["Diagnoses"] == ("M48.062 — Spinal stenosis, lumbar region with neurogenic claudication\n"
                                 "M54.16 — Radiculopathy, lumbar region")
    # The denial quoted with the meaning of each code
    assert ("Your remittance dated March 20, 2026 denied this line ($2,450.00) with group code CO (contractual "
            "obligation: the provider is liable), claim adjustment reason code 50: the payer does not consider the "
            "service medically necessary; remark code N115: the decision was based on a Local Coverage "
            "Determination (LCD).") in text
    # The argument in SOAP order
    assert "completed 8 weeks of conservative therapy (PT twice weekly, NSAIDs) without adequate relief; " \
           "the policy requires 6 weeks." in text
    assert "MRI performed on 02/01/2026 (37 days before the date of service)" in text
    # Criterion by criterion
    crit = {r[0]: r[1:] for r in table_rows(out) if len(r) == 4}
    assert crit["Covered diagnosis"] == ["One of the listed diagnoses: M48.061, M48.062, M48.07x",
                                         "M48.062 — Spinal stenosis, lumbar region with neurogenic claudication",
                                         "Yes"]
    assert crit["Conservative therapy"][1:] == ["8 weeks: PT twice weekly, NSAIDs", "Yes"]
    assert crit["Imaging"][1:] == ["MRI on 02/01/2026, 37 days before the date of service", "Yes"]
    assert crit["Units"][1:] == ["1 unit", "Yes"]
    assert "Prior authorization" not in crit and "Laterality" not in crit  # this rule does not ask for them
    # Requested action, level, deadline (120 days from the remittance), enclosures
    assert "Please reverse the denial and reprocess line 1 of claim C1001 (63047, date of service 03/10/2026) " \
           "for payment of the denied amount of $2,450.00" in text
    assert "request for redetermination, the first level of the Medicare appeals process, filed within 120 days " \
           "of receipt of the initial determination (remittance dated March 20, 2026; receipt is presumed 5 days " \
           "after it)" in text
    assert "The deadline for this appeal is July 23, 2026" in text  # 5 days to receipt + 120
    for enclosure in ("Remittance advice dated 03/20/2026 showing the denial", "Claim C1001 (CMS-1500), line 1",
                      "Conservative therapy records (8 weeks)", "MRI report dated 02/01/2026",
                      "Medicare Part B policy LCD L30000 / Article A50000: coverage criteria"):
        assert enclosure in text
    assert "Appeal of claim C1001, line 1 · denial D-000001" in text  # footer


def test_commercial_authorization_denial_asks_to_recognise_the_authorization(workbook, tmp_path):
    out = appeal_letter(WorkbookFile(workbook, writable=False), "D-000002", tmp_path, today=TODAY)
    text = docx_text(out)
    assert "First-level appeal (request for reconsideration)" in text
    assert "Attn: Provider Appeals" not in text  # the payer's address already names its appeals unit
    assert "Provider Appeals\nPO Box 1000\nHartford, CT 06101" in text
    assert "filed within the plan's 180-day appeal window from the denial dated March 18, 2026" in text
    assert "The deadline for this appeal is September 14, 2026" in text
    assert "Please recognise authorization number AUTH-55821, obtained before the service" in text
    crit = {r[0]: r[1:] for r in table_rows(out) if len(r) == 4}
    assert crit["Laterality"][1:] == ["Modifier RT (right)", "Yes"]
    assert crit["Prior authorization"][1:] == ["Authorization AUTH-55821", "Yes"]
    assert crit["Covered diagnosis"][0] == "One of the listed diagnoses: M23.2x, S83.2x"


def test_a_criterion_the_claim_does_not_meet_is_shown_as_not_met_and_the_wording_stays_honest(tmp_path):
    from docs_workbook import CLAIM_ROWS

    claims = [dict(r) for r in CLAIM_ROWS]
    claims[0]["Therapy Weeks"] = 4
    wb = make_workbook(tmp_path / "wb.xlsx", claims=claims)
    out = appeal_letter(WorkbookFile(wb, writable=False), "D-000001", tmp_path, today=TODAY)
    crit = {r[0]: r[1:] for r in table_rows(out) if len(r) == 4}
    assert crit["Conservative therapy"][1:] == ["4 weeks: PT twice weekly, NSAIDs", "No"]
    assert "each of its criteria was met" not in docx_text(out)


def test_a_late_appeal_asks_for_good_cause(workbook, tmp_path):
    out = appeal_letter(WorkbookFile(workbook, writable=False), "D-000001", tmp_path, today=dt.date(2026, 9, 1))
    assert "The appeal period ended on July 23, 2026. We ask that you accept this appeal for good cause" \
           in docx_text(out)


def test_an_upheld_medicare_denial_gets_the_second_level_reconsideration_wording(tmp_path):
    denials = [dict(r) for r in DENIAL_ROWS]
    denials[0].update(Status="Upheld", **{"Resolved Date": dt.date(2026, 5, 1)})
    wb = make_workbook(tmp_path / "wb.xlsx", denials=denials)
    text = docx_text(appeal_letter(WorkbookFile(wb, writable=False), "D-000001", tmp_path, today=dt.date(2026, 5, 5)))
    assert "Request for Reconsideration by the Qualified Independent Contractor" in text
    assert "within 180 days of the redetermination decision dated May 1, 2026" in text
    assert "The deadline for this appeal is November 2, 2026" in text  # 180 days from receipt (+5)


def test_a_denial_whose_claim_line_left_the_claims_table_shows_not_on_file_for_the_biller(tmp_path):
    wb = make_workbook(tmp_path / "wb.xlsx", claims=[])
    out = appeal_letter(WorkbookFile(wb, writable=False), "D-000001", tmp_path, today=TODAY)
    rows = {r[0]: r[1] for r in table_rows(out) if len(r) == 2}
    assert rows["Patient"] == "[not on file]" and rows["Member ID"] == "[not on file]"
    assert rows["Patient account"] == "MRN-0042"  # from the denial itself
    assert rows["Diagnoses"].startswith("M48.062 — Spinal stenosis")


def test_mark_appealed_sets_the_status_in_the_workbook_and_all_open_skips_it_afterwards(workbook, tmp_path):
    appeal_letter(WorkbookFile(workbook), "D-000001", tmp_path / "a", mark_appealed=True, today=TODAY)
    status = dict(zip(*(read_table(workbook, DENIALS)[c] for c in ("Denial ID", "Status"))))  # calamine reads
    assert status == {"D-000001": "Appealed", "D-000002": "Open", "D-000003": "Appealed"}
    paths = appeal_letters_all_open(WorkbookFile(workbook), tmp_path / "b", mark_appealed=True, today=TODAY)
    assert [p.name for p in paths] == ["appeal_D-000002_claim_C1002-1.docx"]
    assert set(read_table(workbook, DENIALS)["Status"]) == {"Appealed"}


def test_file_names_never_carry_a_patient_name(workbook, tmp_path):
    paths = appeal_letters_all_open(WorkbookFile(workbook, writable=False), tmp_path, today=TODAY)
    for p in paths:
        assert "Sample" not in p.name and "Robert" not in p.name and "MRN" not in p.name


def test_odd_characters_in_ids_are_made_safe_for_the_file_system(tmp_path):
    denials = [dict(DENIAL_ROWS[0], **{"Denial ID": "D/01:?*"})]
    wb = make_workbook(tmp_path / "wb.xlsx", denials=denials)
    out = appeal_letter(WorkbookFile(wb, writable=False), "D/01:?*", tmp_path / "o", today=TODAY)
    # the characters are replaced, and a digest of the real ID keeps "D/01" apart from "D-01"
    assert out.name.startswith("appeal_D-01~") and out.name.endswith("_claim_C1001-1.docx") and out.exists()


# ---------------------------------------------------------------- one letter per kind of denial

def _letter(tmp_path, denial: dict, *, base: int = 1, claims=None, today=TODAY, **tables) -> Path:
    """The letter for one denial built from row ``base`` of the test denials, ``denial`` changed."""
    from docs_workbook import CLAIM_ROWS

    row = dict(DENIAL_ROWS[base], Reason=None, RARC=None, Status="Open")
    row.update(denial)
    tmp_path.mkdir(parents=True, exist_ok=True)
    wb = make_workbook(tmp_path / "wb.xlsx", denials=[row],
                       claims=claims if claims is not None else [dict(r) for r in CLAIM_ROWS], **tables)
    return appeal_letter(WorkbookFile(wb, writable=False), row["Denial ID"], tmp_path / "out", today=today)


def _claims(**changes):
    """The test claim lines, with ``{claim_id: {column: value}}`` changes."""
    from docs_workbook import CLAIM_ROWS

    rows = [dict(r) for r in CLAIM_ROWS]
    for r in rows:
        r.update(changes.get(r["Claim ID"], {}))
    return rows


def _paragraphs(path: Path) -> list[str]:
    from docx import Document

    return [p.text for p in Document(str(path)).paragraphs]


def _enclosures(path: Path) -> list[str]:
    paras = _paragraphs(path)
    start = paras.index("Enclosures") + 1
    return paras[start:paras.index(next(p for p in paras[start:] if p.startswith("Please direct")))]


def _criteria(path: Path) -> dict:
    return {r[0]: r[1:] for r in table_rows(path) if len(r) == 4}


def test_the_medical_necessity_letter_keeps_its_argument_headings_and_no_correction_section(workbook, tmp_path):
    out = appeal_letter(WorkbookFile(workbook, writable=False), "D-000001", tmp_path, today=TODAY)
    paras = _paragraphs(out)
    assert "Why the service was medically necessary" in paras
    assert "The payer's policy, criterion by criterion" in paras and "Appeal level and deadline" in paras
    assert "What was corrected" not in paras and "Reopening or corrected claim, not an appeal" not in paras
    assert _enclosures(out) == [
        "Remittance advice dated 03/20/2026 showing the denial", "Claim C1001 (CMS-1500), line 1",
        "Office note for the date of service, 03/10/2026", "Conservative therapy records (8 weeks)",
        "MRI report dated 02/01/2026", "Medicare Part B policy LCD L30000 / Article A50000: coverage criteria"]


def test_an_authorization_denial_without_a_number_asks_for_retroactive_authorization_and_keeps_the_criteria(tmp_path):
    # Category blank: the kind comes from CARC 197 in the shipped code table
    out = _letter(tmp_path, {"CARC": "197", "Category": None},
                  claims=_claims(C1002={"Prior Auth Number": None}))
    paras = _paragraphs(out)
    assert "First-level appeal (request for reconsideration): request for retroactive authorization" in paras
    assert "Why the authorization should be applied" in paras
    assert paras[paras.index("Why the authorization should be applied") + 1].startswith(
        "No authorization could be obtained before the service because [state why, e.g. the patient's condition "
        "was urgent")
    assert ("Please grant a retroactive authorization for 29881 on 03/03/2026, apply it to line 1 of claim C1002, "
            "and reprocess the line for payment of the denied amount of $3,100.00.") in paras
    assert _criteria(out)["Prior authorization"][1:] == ["No number on the claim line", "No"]
    assert "Record of the urgent circumstances that prevented authorization in advance" in _enclosures(out)


def test_an_authorization_denial_with_a_number_cites_it_and_encloses_the_approval(workbook, tmp_path):
    out = appeal_letter(WorkbookFile(workbook, writable=False), "D-000002", tmp_path, today=TODAY)
    paras = _paragraphs(out)
    assert "First-level appeal (request for reconsideration): authorization AUTH-55821 on file" in paras
    assert ("The service was authorized before it was performed, under number AUTH-55821; the approval is "
            "enclosed.") in paras
    assert "Prior authorization approval AUTH-55821" in _enclosures(out)


def test_a_timely_filing_denial_shows_the_submission_date_against_the_payer_limit_and_has_no_criteria(tmp_path):
    out = _letter(tmp_path, {"CARC": "29", "Category": "timely filing"},
                  claims=_claims(C1002={"Submitted Date": dt.date(2026, 5, 1)}), today=dt.date(2026, 6, 1))
    paras = _paragraphs(out)
    assert "First-level appeal (request for reconsideration): proof of timely filing" in paras
    assert "Proof of timely filing" in paras and "Why the service was medically necessary" not in paras
    assert ("The claim was first submitted on May 1, 2026, 59 days after the date of service (March 3, 2026), "
            "within Acme Health Plan's filing limit of 180 days from the date of service, which ended on August 30, "
            "2026.") in paras
    assert ("Please accept the enclosed proof of timely filing, reverse the timely-filing denial and reprocess line 1 "
            "of claim C1002 (29881, date of service 03/03/2026) for payment of the denied amount of "
            "$3,100.00.") in paras
    assert _criteria(out) == {} and "The payer's policy, criterion by criterion" not in paras
    assert _enclosures(out) == [
        "Remittance advice dated 03/18/2026 showing the denial", "Claim C1002 (CMS-1500), line 1",
        "Clearinghouse acceptance report dated 05/01/2026 (proof of timely filing)",
        "Proof of the original submission (the payer's acknowledgement or claim status response)"]


def test_a_timely_filing_denial_needs_no_rule_and_says_so_honestly_when_the_claim_was_late(tmp_path):
    out = _letter(tmp_path, {"CARC": "29", "Category": "timely filing"}, rules=[dict(RULE_ROWS[0])],
                  claims=_claims(C1002={"Submitted Date": dt.date(2026, 10, 1)}), today=dt.date(2026, 10, 20))
    text = docx_text(out)
    assert "212 days after the date of service (March 3, 2026), after Acme Health Plan's filing limit" in text
    assert "The claim could not be filed sooner because [state why" in text
    assert rows_of(out)["Procedure"] == "29881, modifier RT"  # no rule: no description, still a letter


def rows_of(path: Path) -> dict:
    return {r[0]: r[1] for r in table_rows(path) if len(r) == 2}


def test_a_medicare_coding_denial_becomes_a_reopening_request_listing_the_corrections(tmp_path):
    out = _letter(tmp_path, {"CARC": "4", "Category": "coding", "Modifiers": "", "Dx Codes": "M54.16"}, base=0,
                  claims=_claims(C1001={"Modifiers": "KX"}))
    paras, text = _paragraphs(out), docx_text(out)
    assert out.name == "reopening_D-000001_claim_C1001-1.docx"
    assert "Request for Reopening: correction of a clerical error (not an appeal)" in paras
    assert "Request for Redetermination" not in text and "Why the service was medically necessary" not in paras
    assert "Attn: Reopenings\nJE Part B Contractor" in text
    assert "Dear Claims Reviewer:" in paras
    assert ("Riverside Orthopedics & Spine asks you to reopen the initial determination of the service below to "
            "correct a clerical error. This is a request for a reopening, not a request for redetermination.") in paras
    start = paras.index("What was corrected") + 1
    assert paras[start:start + 3] == [
        "Modifier added: KX",
        "Diagnosis added: M48.062 — Spinal stenosis, lumbar region with neurogenic claudication",
        "The corrected line as billed now: 63047, modifier KX; diagnoses M48.062, M54.16"]
    assert ("Please reopen the initial determination for line 1 of claim C1001 (63047, date of service 03/10/2026), "
            "apply the corrections listed above and reprocess the line for payment of the denied amount of "
            "$2,450.00.") in paras
    assert "Reopening or corrected claim, not an appeal" in paras and "Appeal level and deadline" not in paras
    assert "Medicare corrects clerical errors through a reopening rather than an appeal." in text
    assert "The deadline for this reopening is March 20, 2027; it is filed on April 1, 2026." in paras
    assert _criteria(out) == {}
    assert _enclosures(out) == ["Remittance advice dated 03/20/2026 showing the denial",
                                "Corrected claim C1001 (CMS-1500), line 1",
                                "Office note for the date of service, 03/10/2026, supporting the corrected codes"]
    assert "Please direct any questions about this request to Dana Whitfield" in text
    assert "Reopening request for claim C1001, line 1 · denial D-000001" in text  # footer


def test_an_unprocessable_medicare_claim_is_resubmitted_not_appealed(tmp_path):
    out = _letter(tmp_path, {"CARC": "16", "RARC": "MA130", "Category": "documentation"}, base=0)
    text = docx_text(out)
    assert "Corrected claim: resubmission of a claim returned as unprocessable (remark code MA130)" in text
    assert ("An unprocessable claim (remark code MA130) carries no appeal rights: it is corrected and resubmitted as "
            "a new claim, not appealed.") in text
    assert "Please process the enclosed corrected claim as a new claim for line 1 of claim C1001" in text
    assert "Corrected-claim cover letter for claim C1001, line 1" in text


def test_a_commercial_documentation_denial_is_a_corrected_claim_cover_letter(tmp_path):
    out = _letter(tmp_path, {"Denial ID": "D-000003", "CARC": "252", "Category": "documentation"})
    paras = _paragraphs(out)
    assert "Corrected claim (replacement of the original claim, frequency code 7)" in paras
    assert "The attachment the remittance asked for is enclosed" in paras
    assert ("Please process the enclosed corrected claim, which replaces claim C1002, and reprocess line 1 for "
            "payment of the denied amount of $3,100.00.") in paras
    assert "First-level appeal" not in "\n".join(paras)


def test_a_duplicate_denial_shows_the_other_line_and_the_modifier_that_sets_them_apart(tmp_path):
    claims = _claims()
    claims.append(dict(claims[2], Line=1, Modifiers="RT", **{"Dx Codes": "M23.221"}))
    out = _letter(tmp_path, {"Claim ID": "C1003", "Line": 2, "Patient ID": "MRN-0091", "CARC": "18",
                             "Category": "duplicate", "Date of Service": dt.date(2026, 4, 20), "Modifiers": "LT",
                             "Denial Date": dt.date(2026, 5, 1)}, claims=claims, today=dt.date(2026, 5, 5))
    paras = _paragraphs(out)
    assert "First-level appeal (request for reconsideration): not a duplicate service" in paras
    assert "Why this is not a duplicate" in paras
    assert ("On April 20, 2026 the patient also had line 1 of claim C1003 (29881, modifier RT). This line, line 2 of "
            "claim C1003 (29881, modifier LT), is a separate service, not a second bill for the same one.") in paras
    assert "Its modifier LT (left side) distinguishes it from the other line." in paras
    assert ("Please reprocess line 2 of claim C1003 (29881, date of service 04/20/2026) as a separate service, not a "
            "duplicate, for payment of the denied amount of $3,100.00.") in paras
    assert _criteria(out) == {}
    assert _enclosures(out)[-1] == "Office note for the date of service, 04/20/2026, documenting each service performed"


def test_an_eligibility_denial_asks_to_recheck_coverage_with_the_member_id(tmp_path):
    out = _letter(tmp_path, {"CARC": "27", "Category": "eligibility"})
    paras = _paragraphs(out)
    assert "First-level appeal (request for reconsideration): request to re-check coverage" in paras
    assert ("Your remittance says the service was after the patient's coverage ended. The patient's details, as on "
            "the member's card: member ID ACM889201, name Robert Example, date of birth 09/14/1971.") in paras
    assert ("Please re-check the patient's coverage on 03/03/2026 with member ID ACM889201 and reprocess line 1 of "
            "claim C1002 for payment of the denied amount of $3,100.00.") in paras
    assert _enclosures(out)[2:] == ["Copy of the patient's insurance card (front and back)",
                                    "Eligibility verification for the date of service"]
    assert _criteria(out) == {}


def test_a_non_covered_denial_asks_for_a_coverage_review_citing_the_policy(tmp_path):
    out = _letter(tmp_path, {"CARC": "204", "Category": "non-covered"})
    paras = _paragraphs(out)
    assert "First-level appeal (request for reconsideration): coverage review" in paras
    assert ("Acme Health Plan's policy Acme MP-2026-114 covers 29881 for M23.221 — Derangement of posterior horn of "
            "medial meniscus due to old tear or injury, right knee when its criteria are met; the enclosed records "
            "document them.") in paras
    assert any(p.startswith("Please review the coverage decision for line 1 of claim C1002") and
               p.endswith("if the plan excludes the service, please send us the plan provision that excludes it.")
               for p in paras)


def test_a_bundling_denial_argues_the_ncci_modifier_of_a_distinct_service(tmp_path):
    claims = _claims()
    claims.append(dict(claims[0], Line=2, **{"CPT/HCPCS": "63048", "Modifiers": "XS"}))
    out = _letter(tmp_path, {"Line": 2, "CPT/HCPCS": "63048", "CARC": "97", "Category": "bundling",
                             "Modifiers": "XS"}, base=0, claims=claims)
    paras = _paragraphs(out)
    assert "Request for Redetermination (first-level Medicare appeal): distinct, separately payable service" in paras
    assert "Why the service is paid separately" in paras
    assert ("Line 2 carries modifier XS (separate structure or organ): 63048 was a distinct service from line 1 of "
            "claim C1001 (63047), as the enclosed note documents.") in paras
    assert ("Please reprocess line 2 of claim C1001 (63048, date of service 03/10/2026) as a distinct, separately "
            "payable service for payment of the denied amount of $2,450.00.") in paras
    assert _criteria(out) == {}  # no rule for 63048 is needed for this letter


def test_a_practice_template_made_before_the_kinds_still_renders_every_kind(tmp_path):
    """A practice's own copy of the older appeal template (no kind conditionals) keeps working."""
    from docs_workbook import SETTINGS_ROWS
    from docx import Document

    own = tmp_path / "own"
    own.mkdir()
    doc = Document()
    for t in ("{{ appeal.title }}", "{{ appeal.opening }}", "{%p for text in argument %}", "{{ text }}",
              "{%p endfor %}", "{{ policy.sentence }}", "{%p for c in criteria %}", "{{ c.name }}: {{ c.met }}",
              "{%p endfor %}", "{{ appeal.requested_action }}", "{{ appeal.level_text }}",
              "{{ appeal.deadline_text }}", "{%p for item in enclosures %}", "{{ item }}", "{%p endfor %}"):
        doc.add_paragraph(t)
    doc.save(own / "appeal_letter.docx")
    out = _letter(tmp_path, {"CARC": "29", "Category": "timely filing"},
                  settings=dict(SETTINGS_ROWS, **{"Template Folder": str(own)}))
    text = docx_text(out)
    assert "proof of timely filing" in text and "{{" not in text


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_the_reopening_and_timely_filing_letters(tmp_path):
    import shutil
    import subprocess
    import uuid

    docs = [_letter(tmp_path / "a", {"CARC": "4", "Category": "coding", "Modifiers": ""}, base=0,
                    claims=_claims(C1001={"Modifiers": "KX"})),
            _letter(tmp_path / "b", {"CARC": "29", "Category": "timely filing"})]
    profile = f"file:///tmp/lo-appeal-kinds-{uuid.uuid4().hex}"
    try:
        subprocess.run([shutil.which("soffice"), f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                        "pdf", "--outdir", str(tmp_path / "pdf"), *map(str, docs)],
                       check=True, capture_output=True, timeout=180)
    finally:
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    for d in docs:
        assert (tmp_path / "pdf" / f"{d.stem}.pdf").read_bytes()[:5] == b"%PDF-"


# ---------------------------------------------------------------- bad data: a clear message, no file

def _fails(wb: Path, tmp_path: Path, denial="D-000001") -> str:
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        appeal_letter(WorkbookFile(wb, writable=False), denial, out, today=TODAY)
    assert not out.exists() or not any(out.iterdir()), "no file may be written"
    return str(err.value)


def test_unknown_denial_id_is_a_one_line_error_and_writes_nothing(workbook, tmp_path):
    assert _fails(workbook, tmp_path, "D-999") == \
        "practice.xlsx, sheet Denials: no denial with Denial ID 'D-999' in the Denials table"


def test_a_rule_without_policy_names_the_rules_row(tmp_path):
    rules = [dict(r) for r in RULE_ROWS]
    rules[0]["Policy"] = None
    msg = _fails(make_workbook(tmp_path / "wb.xlsx", rules=rules), tmp_path)
    assert msg.startswith("wb.xlsx, sheet Rules, row 2, column Policy: the rule for payer 'Medicare Part B', "
                          "CPT/HCPCS 63047 has no Policy reference")


def test_a_payer_without_address_names_the_payers_row(tmp_path):
    payers = [dict(r) for r in PAYER_ROWS]
    payers[0]["Address"] = "  "
    msg = _fails(make_workbook(tmp_path / "wb.xlsx", payers=payers), tmp_path)
    assert msg == ("wb.xlsx, sheet Payers, row 2, column Address: payer 'Medicare Part B' has no Address: the letter "
                   "cannot be mailed; add it to the Payers table, then run again")


def test_no_rule_for_the_procedure_is_an_error_not_a_letter_without_policy(tmp_path):
    msg = _fails(make_workbook(tmp_path / "wb.xlsx", rules=[dict(RULE_ROWS[1])]), tmp_path)
    assert "sheet Denials, row 2: no rule in Rules applies to payer 'Medicare Part B', CPT/HCPCS 63047" in msg


def test_missing_signer_in_settings_is_an_error(tmp_path):
    from docs_workbook import SETTINGS_ROWS

    settings = {k: v for k, v in SETTINGS_ROWS.items() if k != "Signer Name"}
    msg = _fails(make_workbook(tmp_path / "wb.xlsx", settings=settings), tmp_path)
    assert msg == "sheet Settings: Settings has no 'Signer Name': fill it in on the Settings sheet, then run again"


def test_all_open_writes_nothing_when_one_denial_cannot_be_appealed(tmp_path):
    payers = [dict(r) for r in PAYER_ROWS]
    payers[1]["Address"] = None
    wb = make_workbook(tmp_path / "wb.xlsx", payers=payers)
    out = tmp_path / "out"
    with pytest.raises(InputError, match="denial D-000002: .*payer 'Acme Health Plan' has no Address"):
        appeal_letters_all_open(WorkbookFile(wb), out, mark_appealed=True, today=TODAY)
    assert not out.exists()
    assert set(read_table(wb, DENIALS)["Status"]) == {"Open", "Appealed"}  # nothing marked either


def test_no_patient_data_in_error_messages(tmp_path):
    payers = [dict(r) for r in PAYER_ROWS]
    payers[0]["Address"] = None
    msg = _fails(make_workbook(tmp_path / "wb.xlsx", payers=payers), tmp_path)
    assert "Sample" not in msg and "MRN" not in msg and "1950" not in msg


# ---------------------------------------------------------------- command line

def test_cli_appeal_prints_the_path_and_marks_appealed(workbook, tmp_path):
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(workbook), "--denial", "D-000001",
                                      "--out", str(tmp_path / "letters"), "--mark-appealed", "--as-of", "2026-04-01"])
    assert result.exit_code == 0, result.output
    first, marked = result.output.strip().splitlines()
    path = Path(first)
    assert path == tmp_path / "letters" / "appeal_D-000001_claim_C1001-1.docx" and path.exists()
    assert marked == "Marked Appealed: D-000001"
    assert read_table(workbook, DENIALS)["Status"].tolist()[0] == "Appealed"


def test_cli_a_late_letter_needing_the_biller_is_listed_and_not_marked_appealed(workbook, tmp_path):
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(workbook), "--all-open", "--out", str(tmp_path),
                                      "--mark-appealed", "--as-of", "2026-09-01"])
    assert result.exit_code == 0, result.output
    assert ("Needs your input: D-000001: [state the reason for the late filing here]" in result.output)
    # D-000002 (a commercial 180-day window) is still on time and complete: only it is marked
    assert "Marked Appealed: D-000002 (not marked, they need your input first: D-000001)" in result.output
    assert read_table(workbook, DENIALS)["Status"].tolist()[:2] == ["Open", "Appealed"]


def test_cli_appeal_all_open_lists_every_letter(workbook, tmp_path):
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(workbook), "--all-open", "--out", str(tmp_path),
                                      "--as-of", "2026-04-01"])
    assert result.exit_code == 0, result.output
    assert [Path(line).name for line in result.output.split()] == ["appeal_D-000001_claim_C1001-1.docx",
                                                                   "appeal_D-000002_claim_C1002-1.docx"]


def test_cli_appeal_default_folder_is_the_output_folder_from_settings(tmp_path):
    from docs_workbook import SETTINGS_ROWS

    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Output Folder": "Letters"}))
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(wb), "--denial", "D-000002", "--as-of", "2026-04-01"])
    assert result.exit_code == 0, result.output
    assert Path(result.output.strip()) == tmp_path / "Letters" / "appeal_D-000002_claim_C1002-1.docx"


def test_cli_unknown_denial_exits_non_zero_with_one_line(workbook):
    from toolkit.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["appeal", "--workbook", str(workbook), "--denial", "D-404"])
    assert exc.value.code == 2


def test_cli_appeal_needs_exactly_one_of_denial_or_all_open(workbook):
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(workbook)])
    assert result.exit_code != 0 and "give either --denial ID or --all-open" in result.output


# ---------------------------------------------------------------- letters that never overstate

def _no_letter(tmp_path, denial: dict, *, base: int = 0, claims=None) -> str:
    from toolkit.letters import NoLetter

    with pytest.raises(NoLetter) as err:
        _letter(tmp_path, denial, base=base, claims=claims)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), "no letter may be written"
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_coding_denial_whose_line_still_holds_the_invalid_code_gets_no_corrected_claim_letter(tmp_path):
    message = _no_letter(tmp_path, {"CARC": "16", "RARC": "M76", "Category": "coding", "Root Cause": "DX_INVALID",
                                    "Dx Codes": "M54.5"}, claims=_claims(C1001={"Dx Codes": "M54.5"}))
    assert message.startswith("denial D-000001: no corrected-claim letter yet: diagnosis M54.5 is not billable")


def test_a_coding_denial_whose_line_was_not_changed_gets_no_corrected_claim_letter(tmp_path):
    message = _no_letter(tmp_path, {"CARC": "4", "Category": "coding", "Modifiers": ""})
    assert "the line has not been changed since the denial" in message


def test_medicare_timely_filing_gets_no_redetermination_letter_but_says_what_to_do(tmp_path):
    message = _no_letter(tmp_path, {"CARC": "29", "Category": "timely filing"})
    assert "no appeal rights" in message and "administrative error or the patient's retroactive entitlement" in message


def test_pr50_with_ga_and_a_signed_abn_is_the_patients_to_pay_not_an_appeal(tmp_path):
    message = _no_letter(tmp_path, {"Group Code": "PR", "CARC": "50", "Modifiers": "GA"},
                         claims=_claims(C1001={"Modifiers": "GA", "ABN on File": "Y"}))
    assert "the patient is liable for the denied amount ($2,450.00); bill the patient" in message


def test_all_open_lists_the_denials_that_get_no_letter_and_writes_the_others(tmp_path):
    from toolkit.jobs.documents import appeal_batch

    rows = [dict(DENIAL_ROWS[0], CARC="29", Category="timely filing", Reason=None, RARC=None), dict(DENIAL_ROWS[1])]
    wb = make_workbook(tmp_path / "wb.xlsx", denials=rows)
    batch = appeal_batch(WorkbookFile(wb), None, tmp_path / "o", mark_appealed=True, today=TODAY)
    assert [w.denial_id for w in batch.letters] == ["D-000002"] and batch.marked == ["D-000002"]
    assert len(batch.no_letter) == 1 and batch.no_letter[0].startswith("denial D-000001: no letter")
    assert read_table(wb, DENIALS)["Status"].tolist() == ["Open", "Appealed"]


def test_a_necessity_letter_with_an_unmet_criterion_carries_a_warning_and_is_not_marked_appealed(tmp_path):
    from docs_workbook import CLAIM_ROWS

    from toolkit.jobs.documents import appeal_batch

    claims = [dict(r) for r in CLAIM_ROWS]
    claims[0]["Therapy Weeks"] = 4
    wb = make_workbook(tmp_path / "wb.xlsx", claims=claims)
    batch = appeal_batch(WorkbookFile(wb), ["D-000001"], tmp_path / "o", mark_appealed=True, today=TODAY)
    letter = batch.letters[0]
    assert letter.warnings == ["Conservative therapy: 4 weeks: PT twice weekly, NSAIDs"]
    assert batch.marked == [] and read_table(wb, DENIALS)["Status"].tolist()[0] == "Open"


def test_cli_prints_the_warning_and_no_letter_lines(tmp_path):
    from docs_workbook import CLAIM_ROWS

    claims = [dict(r) for r in CLAIM_ROWS]
    claims[0]["Therapy Weeks"] = 4
    wb = make_workbook(tmp_path / "wb.xlsx", claims=claims)
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(wb), "--denial", "D-000001", "--out",
                                      str(tmp_path / "o"), "--as-of", "2026-04-01"])
    assert result.exit_code == 0, result.output
    assert ("Warning: D-000001: criteria not met, weigh before sending: Conservative therapy: 4 weeks: PT twice "
            "weekly, NSAIDs") in result.output
    rows = [dict(DENIAL_ROWS[0], CARC="29", Category="timely filing")]
    wb2 = make_workbook(tmp_path / "wb2.xlsx", denials=rows)
    result = CliRunner().invoke(cli, ["appeal", "--workbook", str(wb2), "--denial", "D-000001", "--out",
                                      str(tmp_path / "o2"), "--as-of", "2026-04-01"])
    assert result.exit_code == 1 and result.output.startswith("No letter: denial D-000001: no letter: a Medicare")


def test_every_kind_has_its_own_registered_builder():
    from toolkit.letters import LETTERS, LetterKind

    assert set(LETTERS) == set(LetterKind) and len(set(LETTERS.values())) == len(LetterKind)


def test_practice_criteria_are_never_presented_as_a_medicare_policy(tmp_path):
    """Sample rule Medicare 63047 cites the practice's own criteria (no LCD): the letter says so."""
    import shutil

    from docx import Document

    from toolkit.workbook.files import read_table

    repo = Path(__file__).resolve().parents[1]
    book = tmp_path / "practice.xlsm"
    shutil.copy(repo / "workbooks" / "medical_necessity.xlsm", book)
    sample = repo / "workbooks" / "sample"
    run = CliRunner().invoke(cli, ["denials", "import-835", *map(str, sorted(sample.glob("*.835"))),
                                   "--workbook", str(book)])
    assert run.exit_code == 0, run.output
    denials = read_table(book, DENIALS)
    denial = denials.loc[(denials["CPT/HCPCS"] == "63047") & (denials["CARC"] == "50"), "Denial ID"].iloc[0]
    run = CliRunner().invoke(cli, ["appeal", "--workbook", str(book), "--denial", denial, "--out", str(tmp_path)])
    letter = Document(next(tmp_path.glob(f"appeal_{denial}_*.docx")))
    text = "\n".join(p.text for p in letter.paragraphs)
    assert "Medicare's policy SSA" not in text and "Medicare policy SSA" not in text
    assert "our practice's documentation criteria (SSA 1862(a)(1)(A) - practice criteria (no LCD); not a " \
           "published Medicare policy)" in text
    assert "Our practice's criteria, criterion by criterion" in text
    assert "Medicare publishes no coverage policy for this service" in text
