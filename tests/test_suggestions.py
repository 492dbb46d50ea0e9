"""Rule suggestions from denial clusters: each kind with its evidence, the sheet, the CSV, the button."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
from test_checks import CLEAN, RULES
from test_history import WORKBOOK, denial, log

from toolkit.suggestions import RULE_SUGGESTIONS, suggest_rules, suggestions_frame

AS_OF = dt.date(2026, 11, 27)


def medicare(n, date, cpt, **changes):
    return denial(n, date, Payer="Medicare", **{"CPT/HCPCS": cpt, **changes})


def claim(n, **changes):
    """The claim line a denial came back for (denial n ↔ Claim ID 9000n, line 1)."""
    return {**CLEAN, "Claim ID": f"9{n:05d}", "Submitted Date": "2026-05-01", **changes}


def only(suggestions, column):
    found = [s for s in suggestions if s.column == column]
    assert len(found) == 1, [(s.column, s.payer, s.cpt) for s in suggestions]
    return found[0]


def test_repeated_co50_n115_on_a_covered_code_suggests_taking_it_out_of_covered_dx_with_evidence():
    rows = log(medicare(1, "2026-05-12", "63047", **{"Dx Codes": "M48.061"}),
               medicare(2, "2026-08-03", "63047", **{"Dx Codes": "M48.061", "Denied Amount": "2400.50"}))
    s = only(suggest_rules(RULES, rows, as_of=AS_OF), "Covered Dx")
    assert (s.payer, s.cpt, s.current, s.proposed) == ("Medicare", "63047", "M48.061, M48.062", "M48.062")
    assert s.denial_ids == ("D-000001", "D-000002")
    assert s.denied_amount == pytest.approx(1850 + 2400.50)
    assert (s.first, s.last) == (dt.date(2026, 5, 12), dt.date(2026, 8, 3))
    assert s.codes == "CO-50/N115 ×2" and s.policy == "Practice criteria (no LCD)"
    assert "2 denials from May 12, 2026 to Aug 03, 2026 (CO-50/N115 ×2, $4,250.50)" in s.why


def test_a_code_covered_through_a_prefix_names_the_entry_to_narrow():
    s = only(suggest_rules(RULES, log(denial(1, "2026-05-12"), denial(2, "2026-06-12")), as_of=AS_OF), "Covered Dx")
    assert s.current == "S83.2*" and s.proposed == "" and "narrow that entry" in s.why


def test_necessity_denials_of_a_diagnosis_the_rule_does_not_cover_suggest_nothing():
    rows = log(*(medicare(i, "2026-06-01", "63047", **{"Dx Codes": "M51.16"}) for i in (1, 2, 3)))
    assert suggest_rules(RULES, rows, as_of=AS_OF) == []  # DX_NOT_COVERED already catches them


def test_one_denial_or_old_denials_are_no_cluster():
    assert suggest_rules(RULES, log(denial(1, "2026-05-12")), as_of=AS_OF) == []
    assert suggest_rules(RULES, log(denial(1, "2025-05-12"), denial(2, "2025-06-12")), as_of=AS_OF) == []


def test_repeated_co197_or_co15_suggests_prior_auth_required():
    rows = log(medicare(1, "2026-06-01", "63047", CARC="197", RARC="", Category="authorization"),
               medicare(2, "2026-07-01", "63047", CARC="15", RARC="", Category="authorization"))
    s = only(suggest_rules(RULES, rows, as_of=AS_OF), "Prior Auth Required")
    assert (s.current, s.proposed, s.codes) == ("N", "Y", "CO-197 ×1, CO-15 ×1")


def test_no_prior_auth_suggestion_where_the_rule_already_requires_it():
    rows = log(*(denial(i, "2026-06-01", CARC="197", RARC="", Category="authorization") for i in (1, 2)))
    assert [s.column for s in suggest_rules(RULES, rows, as_of=AS_OF)] == []  # Acme 29881 requires it


def test_prior_auth_for_a_code_without_a_rule_says_to_add_one():
    rows = log(*(medicare(i, "2026-06-01", "72148", CARC="197", RARC="", Category="authorization") for i in (1, 2)))
    s = only(suggest_rules(RULES, rows, as_of=AS_OF), "Prior Auth Required")
    assert s.current == "(no rule)" and "Add a rule" in s.why


def test_repeated_co4_without_a_side_modifier_suggests_laterality_required():
    rows = log(*(medicare(i, "2026-06-01", "63047", CARC="4", RARC="N519", Category="coding", Modifiers="")
                 for i in (1, 2)))
    assert only(suggest_rules(RULES, rows, as_of=AS_OF), "Laterality Required").proposed == "Y"
    with_side = log(*(medicare(i, "2026-06-01", "63047", CARC="4", RARC="N519", Category="coding", Modifiers="LT")
                      for i in (1, 2)))
    assert suggest_rules(RULES, with_side, as_of=AS_OF) == []


def test_repeated_co151_suggests_max_units_one_below_the_fewest_denied_from_the_claim_lines():
    rows = log(*(medicare(i, "2026-06-01", "63047", CARC="151", RARC="N362", Category="medical necessity")
                 for i in (1, 2)))
    claims = pd.DataFrame([claim(1, Units="3"), claim(2, Units="4")])
    s = only(suggest_rules(RULES, rows, claims, as_of=AS_OF), "Max Units")
    assert (s.current, s.proposed) == ("", "2") and "fewest units denied were 3" in s.why


def test_max_units_already_below_the_denied_units_suggests_nothing():
    rows = log(*(medicare(i, "2026-06-01", "20610", CARC="151", RARC="", Category="medical necessity",
                          **{"Dx Codes": "M17.11"}) for i in (1, 2)))
    claims = pd.DataFrame([claim(i, Units="3", **{"CPT/HCPCS": "20610"}) for i in (1, 2)])
    assert suggest_rules(RULES, rows, claims, as_of=AS_OF) == []  # Max Units 2 already stops 3


def test_co50_on_lines_with_few_therapy_weeks_suggests_min_therapy_weeks():
    acme = pd.DataFrame([{"Payer": "Acme Health PPO", "CPT/HCPCS": "62323", "Covered Dx": "M54.16",
                          "Min Therapy Weeks": "4", "Policy": "ACME-MP-0112"}])
    rows = log(*(denial(i, "2026-06-01", RARC="", **{"CPT/HCPCS": "62323", "Dx Codes": "M54.16"}) for i in (1, 2)))
    claims = pd.DataFrame([claim(1, Payer="Acme Health PPO", **{"Therapy Weeks": "4"}),
                           claim(2, Payer="Acme Health PPO", **{"Therapy Weeks": "5"})])
    s = only(suggest_rules(acme, rows, claims, as_of=AS_OF), "Min Therapy Weeks")
    assert (s.current, s.proposed, s.policy) == ("4", "6", "ACME-MP-0112")


def test_a_cluster_at_one_payer_says_nothing_about_another_payers_rule():
    rows = log(*(denial(i, "2026-06-01", Payer="State Medicaid", **{"CPT/HCPCS": "63047", "Dx Codes": "M48.061"})
                 for i in (1, 2)))
    assert [s.column for s in suggest_rules(RULES, rows, as_of=AS_OF) if s.payer == "Medicare"] == []


def test_suggestions_carry_no_patient_data():
    rows = log(medicare(1, "2026-05-12", "63047", **{"Dx Codes": "M48.061"}),
               medicare(2, "2026-08-03", "63047", **{"Dx Codes": "M48.061"}),
               *(medicare(i, "2026-06-01", "63047", CARC="151", RARC="", Category="medical necessity")
                 for i in (3, 4)))
    claims = pd.DataFrame([claim(i, **{"Patient Name": "Quincy Oddball", "Patient ID": f"MRN9{i:03d}"})
                           for i in (1, 2, 3, 4)])
    text = suggestions_frame(suggest_rules(RULES, rows, claims, as_of=AS_OF)).to_csv()
    for value in ("MRN", "Quincy", "Oddball", "900001", "900003", "Date of Birth"):
        assert value not in text


# ---------------------------------------------------------------- the command, the sheet, the button

CLUSTER = [medicare(1, "2026-05-12", "63047", **{"Dx Codes": "M48.061"}),
           medicare(2, "2026-08-03", "63047", **{"Dx Codes": "M48.061"}),
           medicare(3, "2026-06-01", "62323", CARC="197", RARC="", Category="authorization", **{"Dx Codes": "M51.16"}),
           medicare(4, "2026-07-01", "62323", CARC="197", RARC="", Category="authorization", **{"Dx Codes": "M51.16"})]


@pytest.fixture
def book(tmp_path):
    from toolkit.tables import DENIALS
    from toolkit.workbook.files import WorkbookFile

    path = tmp_path / "medical_necessity.xlsm"
    shutil.copyfile(WORKBOOK, path)
    wb = WorkbookFile(path)
    wb.append_rows(DENIALS, pd.DataFrame(CLUSTER))
    wb.save()
    return path


def _sheet(path):
    from toolkit.workbook.files import read_table

    frame = read_table(path, RULE_SUGGESTIONS)  # python-calamine: an independent reader
    return frame[frame["Rule Column"].notna() & (frame["Rule Column"] != "")]


def test_the_command_writes_the_rule_suggestions_sheet_and_never_touches_rules(book, cli):
    from toolkit.tables import RULES as RULES_SPEC
    from toolkit.workbook.files import read_table

    rules_before = read_table(book, RULES_SPEC)
    result = cli("rules", "suggest", "--workbook", book, "--as-of", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 rule suggestions (2 open)")
    sheet = _sheet(book)
    assert sheet["Rule Column"].tolist() == ["Prior Auth Required", "Covered Dx"]  # ties: by code
    first = sheet.iloc[1]
    assert first["Denial IDs"] == "D-000001, D-000002" and first["Proposed"] == "M48.062"
    assert pd.Timestamp(first["First Denial"]).date() == dt.date(2026, 5, 12)
    assert read_table(book, RULES_SPEC).equals(rules_before)


def test_a_decision_the_biller_typed_is_kept_and_rows_no_longer_suggested_are_cleared(book, cli):
    from toolkit.tables import DENIALS
    from toolkit.workbook.files import WorkbookFile

    assert cli("rules", "suggest", "--workbook", book, "--as-of", "2026-11-27").exit_code == 0
    wb = WorkbookFile(book)
    ws = wb.sheet("Rule Suggestions")
    decision = RULE_SUGGESTIONS.headers.index("Decision") + 1
    ws.cell(4, decision).value = "Rejected"  # the first row: Prior Auth
    denials = wb.read_table(DENIALS)
    wb.write_columns(DENIALS, pd.DataFrame({"Status": ["Reversed"]}, index=[denials.index[0]]))
    wb.save()
    result = cli("rules", "suggest", "--workbook", book, "--as-of", "2026-11-27")
    assert result.output.startswith("1 rule suggestion (0 open)")
    sheet = _sheet(book)
    assert sheet["Rule Column"].tolist() == ["Prior Auth Required"] and sheet["Decision"].tolist() == ["Rejected"]


def test_out_writes_a_csv_with_formula_text_neutralised_and_leaves_the_workbook_alone(book, cli, tmp_path):
    from toolkit.tables import DENIALS
    from toolkit.workbook.files import WorkbookFile

    wb = WorkbookFile(book)
    wb.append_rows(DENIALS, pd.DataFrame([denial(i, "2026-06-01", Payer="@SUM(A1)", CARC="197", RARC="",
                                                 Category="authorization") for i in (7, 8)]))
    wb.save()
    before = book.read_bytes()
    out = tmp_path / "suggestions.csv"
    assert cli("rules", "suggest", "--workbook", book, "--out", out, "--as-of", "2026-11-27").exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "'@SUM(A1)" in text and "D-000007, D-000008" in text
    assert book.read_bytes() == before


def test_a_workbook_without_denials_is_one_line(tmp_path, cli):
    from conftest import build_user_workbook

    result = cli("rules", "suggest", "--workbook", build_user_workbook(tmp_path / "plain.xlsx"))
    assert result.exit_code != 0 and "no Denials sheet" in result.output and "Traceback" not in result.output


def test_the_button_writes_the_sheet_through_the_same_job(book, monkeypatch, capsys):
    from toolkit.excel import entry

    monkeypatch.setenv(entry.CALLER_FILE_ENV, str(book))
    entry.suggest_rules()
    out = capsys.readouterr().out
    assert "rule suggestions" in out and "Rule Suggestions sheet" in out
    assert len(_sheet(book)) == 2


def test_the_built_workbook_has_the_sheet_the_button_and_the_settings():
    from toolkit.tables import SETTINGS
    from toolkit.values import settings_from_table
    from toolkit.workbook.build import BUTTONS, SHEET_ORDER
    from toolkit.workbook.files import read_table

    assert "Rule Suggestions" in SHEET_ORDER and BUTTONS["suggest"] == ("Suggest Rule Changes", "SuggestRuleChanges")
    assert _sheet(WORKBOOK).empty and list(read_table(WORKBOOK, RULE_SUGGESTIONS).columns) == RULE_SUGGESTIONS.headers
    settings = settings_from_table(read_table(WORKBOOK, SETTINGS))
    assert (settings["Denial History Min"], settings["Denial History Months"]) == ("2", "12")
    assert float(settings["Denial History Rate"]) == 0.5


def test_the_huddle_pack_lists_the_open_suggestions_and_not_the_rejected_ones(book, cli, tmp_path):
    from docx import Document

    from toolkit.jobs.digest import huddle_pack
    from toolkit.workbook.files import WorkbookFile

    assert cli("rules", "suggest", "--workbook", book, "--as-of", "2026-11-27").exit_code == 0
    wb = WorkbookFile(book)
    wb.sheet("Rule Suggestions").cell(4, RULE_SUGGESTIONS.headers.index("Decision") + 1).value = "Rejected"
    wb.save()
    path = huddle_pack(WorkbookFile(book, writable=False), "2026Q4", tmp_path, as_of=dt.date(2026, 11, 27))
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Rule suggestions from our denials" in headings
    table = next(t for t in doc.tables if t.rows[0].cells[2].text == "Rules column")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows == [["Medicare", "63047", "Covered Dx", "M48.061, M48.062", "M48.062", "2", "$3,700.00",
                     "May 12, 2026 to Aug 03, 2026", "CO-50/N115 ×2"]]  # the rejected Prior Auth one is gone
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "1 rule suggestion from our own denials is open" in text
    assert "MRN9" not in text + str(rows)
