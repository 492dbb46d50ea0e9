"""Checklists, prior-authorization requests, SOAP templates and the templates themselves."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from docs_workbook import RULE_ROWS, SETTINGS_ROWS, make_workbook
from test_documents_appeal import docx_text, table_rows

from toolkit.cli import cli
from toolkit.errors import InputError, MednecError
from toolkit.jobs.documents import appeal_letter, build_checklists, prior_auth_requests, soap_templates
from toolkit.workbook.files import WorkbookFile

TODAY = dt.date(2026, 4, 1)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def workbook(tmp_path) -> Path:
    return make_workbook(tmp_path / "practice.xlsx")


def book(path):
    return WorkbookFile(path, writable=False)


# ---------------------------------------------------------------- checklists

def test_one_checklist_per_rule_named_by_payer_and_code(workbook, tmp_path):
    paths = build_checklists(book(workbook), tmp_path, today=TODAY)
    assert sorted(p.name for p in paths) == ["checklist_Acme-Health-Plan_29881.docx",
                                             "checklist_Medicare-Part-B_63047.docx"]


def test_checklist_lists_criteria_with_tick_boxes_and_covered_dx_with_descriptions(workbook, tmp_path):
    [path] = build_checklists(book(workbook), tmp_path, payer="acme health plan", cpt="29881", today=TODAY)
    text = docx_text(path)
    assert "{{" not in text and "{%" not in text
    assert "Medical-necessity checklist: Acme Health Plan · 29881" in text
    assert "Procedure: 29881 Knee arthroscopy with meniscus trim" in text
    assert "Policy: Acme MP-2026-114" in text
    assert "In force: from 01/01/2026 (open-ended)" in text
    assert "Notes: Mechanical symptoms must be documented." in text
    rows = table_rows(path)
    ticks = {r[1]: r[2] for r in rows if len(r) == 3 and r[0] == "☐"}
    assert ticks["Conservative therapy"].startswith("At least 6 weeks of failed conservative therapy")
    assert ticks["Imaging"] == "A supporting study (MRI, CT or X-ray) no more than 90 days before the date of service"
    assert ticks["Prior authorization"] == "Authorization obtained before the service; its number on the claim"
    assert ticks["Laterality"] == "The side on the claim (modifier RT, LT or 50), matching the diagnosis"
    assert ticks["Units"] == "At most 1 unit on the line"
    assert "ABN" not in ticks  # a commercial payer
    dx = {r[0]: r[1] for r in rows if len(r) == 2}
    assert dx["M23.2x"] == "Derangement of meniscus due to old tear or injury (any code under it)"
    assert dx["S83.2x"].endswith("(any code under it)")


def test_medicare_checklist_has_the_abn_item_and_prefix_entries_read_as_any_code_under_it(workbook, tmp_path):
    [path] = build_checklists(book(workbook), tmp_path, payer="Medicare Part B", today=TODAY)
    rows = table_rows(path)
    dx = {r[0]: r[1] for r in rows if len(r) == 2}
    assert dx == {"Code": "ICD-10-CM description",
                  "M48.061": "Spinal stenosis, lumbar region without neurogenic claudication",
                  "M48.062": "Spinal stenosis, lumbar region with neurogenic claudication",
                  "M48.07x": "Spinal stenosis, lumbosacral region (any code under it)"}
    assert any(r[1] == "ABN" for r in rows if len(r) == 3)
    assert "Prior authorization" not in [r[1] for r in rows if len(r) == 3]


def test_checklist_for_an_unknown_payer_says_there_are_no_rules(workbook, tmp_path):
    with pytest.raises(InputError, match="no rules in the Rules table for payer 'Nobody'"):
        build_checklists(book(workbook), tmp_path / "o", payer="Nobody")
    assert not (tmp_path / "o").exists()


def test_a_rule_without_policy_stops_the_checklists_and_writes_none(tmp_path):
    rules = [dict(r) for r in RULE_ROWS]
    rules[1]["Policy"] = ""
    wb = make_workbook(tmp_path / "wb.xlsx", rules=rules)
    with pytest.raises(InputError, match=r"sheet Rules, row 3, column Policy: the rule for payer 'Acme Health Plan'"):
        build_checklists(book(wb), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_cli_checklists_prints_each_path(workbook, tmp_path):
    result = CliRunner().invoke(cli, ["checklists", "--workbook", str(workbook), "--cpt", "63047", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / "checklist_Medicare-Part-B_63047.docx")


# ---------------------------------------------------------------- prior authorization

def test_prior_auth_request_only_for_lines_whose_rule_requires_it_and_have_no_number(workbook, tmp_path):
    paths = prior_auth_requests(book(workbook), tmp_path, today=TODAY)
    assert [p.name for p in paths] == ["prior_auth_claim_C1003-2.docx"]  # C1002 has AUTH-55821; C1001 needs none
    text = docx_text(paths[0])
    assert "{{" not in text
    assert "Acme Health Plan\nUtilization Management / Prior Authorization\nProvider Appeals\nPO Box 1000" in text
    rows = {r[0]: r[1] for r in table_rows(paths[0]) if len(r) == 2}
    assert rows["Patient"] == "Maria Placeholder"
    assert rows["Member ID"] == "ACM771234"
    assert rows["Requested service"] == "29881, modifier LT (Knee arthroscopy with meniscus trim)"
    assert rows["Planned date"] == "04/20/2026"
    assert rows["Diagnoses"] == "M23.222 — Derangement of posterior horn of medial meniscus due to old tear or " \
                                "injury, left knee"
    assert rows["Ordering practice"] == "Riverside Orthopedics & Spine · NPI 1234567893 · Tax ID 12-3456789"
    crit = {r[0]: r[1:] for r in table_rows(paths[0]) if len(r) == 4}
    assert crit["Prior authorization"][1:] == ["Requested by this letter", "Pending"]
    assert crit["Imaging"][1:] == ["MRI on 03/15/2026, 36 days before the date of service", "Yes"]
    assert "Acme Health Plan's policy Acme MP-2026-114 requires authorization before 29881 is performed" in text


def test_cli_prior_auth_says_when_nothing_is_needed(tmp_path):
    from docs_workbook import CLAIM_ROWS

    wb = make_workbook(tmp_path / "wb.xlsx", claims=[dict(CLAIM_ROWS[0])])
    result = CliRunner().invoke(cli, ["prior-auth", "--workbook", str(wb), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0 and result.output.strip() == "No claim line needs a prior-authorization request."


# ---------------------------------------------------------------- SOAP templates

def test_soap_template_per_procedure_prompts_for_each_payer_criterion(workbook, tmp_path):
    paths = soap_templates(book(workbook), tmp_path, today=TODAY)
    assert [p.name for p in paths] == ["soap_note_29881.docx", "soap_note_63047.docx"]
    text = docx_text(paths[0])
    assert "{{" not in text and "{%" not in text
    assert "SOAP note: 29881 Knee arthroscopy with meniscus trim" in text
    assert "☐ Conservative therapy tried and failed — what (PT, medication, bracing, injections), start and end " \
           "dates, response. Payers require up to 6 weeks" in text
    assert "☐ Imaging: type (MRI, CT, X-ray), date (within 90 days before the procedure) and the findings" in text
    assert "☐ Side of the body (right, left, bilateral), the same as on the claim" in text
    assert "☐ Prior authorization number (required by Acme Health Plan)" in text
    assert ["Acme Health Plan", "6 weeks", "within 90 days", "required", "RT/LT/50", "Acme MP-2026-114"] \
        in table_rows(paths[0])
    medicare = docx_text(paths[1])
    assert "☐ Medicare, necessity in doubt: ABN signed before the service (modifier GA)" in medicare
    assert ["M48.07x", "Spinal stenosis, lumbosacral region (any code under it)", "Medicare Part B"] \
        in table_rows(paths[1])


def test_cli_soap_templates(workbook, tmp_path):
    result = CliRunner().invoke(cli, ["soap-templates", "--workbook", str(workbook), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(result.output.split()) == 2


# ---------------------------------------------------------------- templates

def test_shipped_templates_are_the_ones_in_word_templates():
    for kind in ("appeal_letter", "necessity_checklist", "prior_auth_request", "soap_note"):
        shipped = REPO / "toolkit" / "word" / "templates" / f"{kind}.docx"
        assert shipped.read_bytes() == (REPO / "word_templates" / f"{kind}.docx").read_bytes()


def test_make_templates_reproduces_the_committed_templates(tmp_path, monkeypatch):
    from toolkit.word import make_templates

    for kind, builder in make_templates.BUILDERS.items():
        fresh = tmp_path / f"{kind}.docx"
        builder().save(fresh)
        assert docx_text(fresh) == docx_text(REPO / "word_templates" / f"{kind}.docx"), kind


def _edit_template(src: Path, dst: Path, old: str, new: str) -> Path:
    """Change the text of a template the way a user editing it in Word would."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(old.encode(), new.encode())
            zout.writestr(item, data)
    return dst


def test_the_practice_own_template_from_the_template_folder_is_used(tmp_path):
    own = tmp_path / "my templates"
    own.mkdir()
    _edit_template(REPO / "word_templates" / "appeal_letter.docx", own / "appeal_letter.docx",
                   "Sincerely,", "Yours faithfully, on behalf of {{ practice.name }},")
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": "my templates"}))
    text = docx_text(appeal_letter(book(wb), "D-000001", tmp_path / "o", today=TODAY))
    assert "Yours faithfully, on behalf of Riverside Orthopedics & Spine," in text
    assert "Sincerely," not in text


def test_a_mistyped_placeholder_is_named_and_nothing_is_written(tmp_path):
    own = tmp_path / "tpl"
    own.mkdir()
    _edit_template(REPO / "word_templates" / "appeal_letter.docx", own / "appeal_letter.docx",
                   "{{ payer.name }}", "{{ payer.nmae }}")
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": str(own)}))
    with pytest.raises(MednecError) as err:
        appeal_letter(book(wb), "D-000001", tmp_path / "o", today=TODAY)
    assert str(err.value) == ("appeal_letter.docx: the placeholder {{ payer.nmae }} cannot be filled from the "
                              "workbook data; correct or remove it in the template")
    assert not (tmp_path / "o").exists()


def test_a_broken_tag_is_reported_as_a_broken_template(tmp_path):
    own = tmp_path / "tpl"
    own.mkdir()
    _edit_template(REPO / "word_templates" / "necessity_checklist.docx", own / "necessity_checklist.docx",
                   "{{ rule.policy }}", "{{ rule.policy ")
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": str(own)}))
    with pytest.raises(MednecError, match=r"^necessity_checklist.docx: a placeholder is broken"):
        build_checklists(book(wb), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_damaged_template_file_is_reported(tmp_path):
    own = tmp_path / "tpl"
    own.mkdir()
    (own / "soap_note.docx").write_bytes(b"not a zip")
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": str(own)}))
    with pytest.raises(MednecError, match=r"^soap_note.docx: not a usable Word template"):
        soap_templates(book(wb), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_placeholder_word_split_into_runs_still_fills(tmp_path):
    """Word often splits typed text into several runs; docxtpl re-joins a tag split that way."""
    own = tmp_path / "tpl"
    own.mkdir()
    _edit_template(REPO / "word_templates" / "appeal_letter.docx", own / "appeal_letter.docx",
                   "{{ signer.title }}", "{{ signer.</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>title }}")
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": str(own)}))
    text = docx_text(appeal_letter(book(wb), "D-000001", tmp_path / "o", today=TODAY))
    assert "Revenue Cycle Manager" in text and "{{" not in text


# ---------------------------------------------------------------- the shipped sample rules

SAMPLE = REPO / "workbooks" / "sample"


def test_every_sample_rule_gets_a_complete_checklist_and_every_procedure_a_soap_template(tmp_path):
    import csv

    def rows(name):
        with open(SAMPLE / f"{name}.csv", encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    rules = rows("rules")
    wb = make_workbook(tmp_path / "sample.xlsx", rules=rules, payers=rows("payers"), claims=rows("claims"),
                       denials=[])
    checklists = build_checklists(book(wb), tmp_path / "c", today=TODAY)
    assert len(checklists) == len(rules)
    soaps = soap_templates(book(wb), tmp_path / "s", today=TODAY)
    assert {p.name for p in soaps} <= {f"soap_note_{r['CPT/HCPCS']}.docx" for r in rules}
    for path in checklists + soaps:
        text = docx_text(path)
        assert "{{" not in text and "{%" not in text and "(not in the ICD-10-CM code set)" not in text, path.name


@pytest.mark.parametrize("command", ["appeal", "checklists", "prior-auth", "soap-templates"])
def test_every_document_command_has_help_a_biller_can_read(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "--workbook" in result.output and "--out" in result.output and "Example: mednec" in result.output


def test_a_template_folder_that_does_not_exist_is_an_error_not_a_silent_fallback(tmp_path):
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": "Letterheadz"}))
    with pytest.raises(MednecError, match=r"^the Template Folder in Settings \(Letterheadz\) is not a folder"):
        build_checklists(book(wb), tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_template_folder_without_some_kinds_falls_back_to_the_shipped_ones(tmp_path):
    (tmp_path / "tpl").mkdir()
    wb = make_workbook(tmp_path / "wb.xlsx", settings=dict(SETTINGS_ROWS, **{"Template Folder": "tpl"}))
    [path] = build_checklists(book(wb), tmp_path / "o", cpt="63047", today=TODAY)
    assert "Medical-necessity checklist: Medicare Part B · 63047" in docx_text(path)


def test_a_prior_auth_request_for_a_service_already_performed_is_a_retro_authorization_request(workbook, tmp_path):
    from docx import Document

    path = prior_auth_requests(book(workbook), tmp_path, today=dt.date(2026, 5, 1))[0]  # C1003 was on 2026-04-20
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "Request for retroactive authorization" in text
    assert "requests retroactive authorization for the service below, performed on April 20, 2026" in text
    assert "before 29881 is performed" not in text
    assert "Date performed" in cells and "Planned date" not in cells
    assert "Utilization Management" in "\n".join(p.text for p in doc.paragraphs) + "\n".join(cells)
