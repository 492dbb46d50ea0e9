"""`mednec build-workbook`: the front-end workbook, read back with independent readers
(python-calamine, openpyxl, the raw package XML), and kept macro-enabled by an in-place validate."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.tables import CLAIMS, DENIAL_STATUSES, DENIALS, PAYERS, RESULT_COLUMNS, RULES, SETTINGS
from toolkit.workbook.build import BUTTONS, DEFAULT_OUT, SAMPLE_DIR, build_workbook, zip_parts

SHEETS = ["Instructions", "Claims", "Rules", "Rule Suggestions", "Payers", "Denials", "Dashboard", "Settings",
          "xlwings.conf"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("build") / "medical_necessity.xlsm")


def _buttons(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        vml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    return re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)


def test_the_committed_workbook_is_exactly_a_fresh_build(built):
    assert DEFAULT_OUT.exists(), "run: mednec build-workbook"
    committed, fresh = zip_parts(DEFAULT_OUT), zip_parts(built)
    assert sorted(committed) == sorted(fresh)
    changed = [name for name in fresh if committed[name] != fresh[name]]
    assert not changed, f"parts differ from a fresh build (run `mednec build-workbook`): {changed}"


def test_two_builds_give_the_same_bytes(built, tmp_path):
    again = build_workbook(tmp_path / "again.xlsm")
    assert again.read_bytes() == built.read_bytes()


def test_sheets_in_order_with_the_config_sheet_hidden(built):
    import openpyxl

    wb = openpyxl.load_workbook(built, keep_vba=True)
    assert wb.sheetnames == SHEETS
    assert wb["xlwings.conf"].sheet_state == "hidden"
    assert all(wb[s].sheet_state == "visible" for s in SHEETS[:-1])
    assert wb["xlwings.conf"]["A1"].value  # RunPython reads keys from A1 down


def test_every_table_has_the_contract_headers_read_by_calamine(built):
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(built), load_tables=True)
    expected = {CLAIMS.table: CLAIMS.headers + list(RESULT_COLUMNS), RULES.table: RULES.headers,
                PAYERS.table: PAYERS.headers, DENIALS.table: DENIALS.headers, SETTINGS.table: SETTINGS.headers}
    names = wb.table_names() if callable(wb.table_names) else wb.table_names
    assert set(names) == set(expected)
    for name, headers in expected.items():
        table = wb.get_table_by_name(name)
        assert list(table.columns) == headers, name
    wb.close()


@pytest.mark.skipif(not (SAMPLE_DIR / "claims.csv").exists(), reason="sample data not written yet")
def test_the_sample_data_is_loaded_with_ids_kept_as_text(built):
    from toolkit.workbook.files import read_table

    claims = read_table(built, CLAIMS)
    sample = read_table(SAMPLE_DIR / "claims.csv", CLAIMS)
    assert len(claims) == len(sample)
    assert list(claims["Claim ID"]) == list(sample["Claim ID"])  # leading zeros survive
    assert all(isinstance(v, str) for v in claims["CPT/HCPCS"])
    assert len(read_table(built, RULES)) == len(read_table(SAMPLE_DIR / "rules.csv", RULES))
    assert len(read_table(built, PAYERS)) == len(read_table(SAMPLE_DIR / "payers.csv", PAYERS))
    assert read_table(built, DENIALS).empty


def test_id_and_code_columns_are_text_and_dates_are_dates(built):
    import openpyxl

    ws = openpyxl.load_workbook(built)["Claims"]
    headers = {c.value: c.column_letter for c in ws[3]}
    for header in ("Claim ID", "Patient ID", "CPT/HCPCS", "Dx Codes", "Modifiers", "Prior Auth Number"):
        assert ws[f"{headers[header]}4"].number_format == "@", header
    for header in ("Date of Service", "Date of Birth", "Imaging Date", "Submitted Date"):
        assert ws[f"{headers[header]}4"].number_format == "yyyy-mm-dd", header
    assert ws.freeze_panes == "C4"


def test_drop_downs_for_payer_code_yes_no_and_denial_status(built):
    import openpyxl

    wb = openpyxl.load_workbook(built)

    def lists(sheet):
        ws = wb[sheet]
        headers = {c.column_letter: c.value for c in ws[3]}
        out = {}
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                out[headers[re.match(r"[A-Z]+", rng.coord).group(0)]] = dv.formula1
        return out

    claims = lists("Claims")
    assert claims["Payer"] == "PayerList" and claims["CPT/HCPCS"] == "CodeList"
    for header in ("ABN on File", "Rule-Out Dx", "Patient Declined"):
        assert claims[header] == '"Y,N"'
    assert lists("Denials")["Status"] == '"' + ",".join(DENIAL_STATUSES) + '"'
    assert lists("Rules")["Prior Auth Required"] == '"Y,N"'
    names = {n: wb.defined_names[n].attr_text for n in ("PayerList", "CodeList")}
    assert names == {"PayerList": "Payers!$A$4:$A$1003", "CodeList": "Rules!$B$4:$B$5003"}


def test_status_tints_the_whole_claims_row_green_amber_red(built):
    import openpyxl

    ws = openpyxl.load_workbook(built)["Claims"]
    status = next(c.column_letter for c in ws[3] if c.value == "Status")
    rules = {}
    for rng, cf_rules in ws.conditional_formatting._cf_rules.items():
        for rule in cf_rules:
            rules[rule.formula[0]] = (str(rng.sqref), rule.dxf.fill.bgColor.rgb)
    last = next(c.column_letter for c in ws[3] if c.value == RESULT_COLUMNS[-1])
    for value, colour in (("GREEN", "C6EFCE"), ("AMBER", "FFEB9C"), ("RED", "FFC7CE")):
        sqref, fill = rules[f'${status}4="{value}"']
        assert sqref == f"A4:{last}10003" and fill.endswith(colour)


def test_buttons_are_on_the_instructions_sheet_and_next_to_their_tables(built):
    macros = _buttons(built)
    assert sorted(set(macros)) == sorted(m for _, m in BUTTONS.values())
    assert macros.count("ValidateClaims") == 2  # Instructions and Claims


def test_settings_has_the_keys_a_practice_fills_in_and_kpi_targets(built):
    from toolkit.workbook.files import WorkbookFile

    settings = WorkbookFile(built, writable=False).settings()
    for key in ("Practice Name", "Practice NPI", "Tax ID", "Signer Name", "Digest Recipients", "SMTP Host",
                "SMTP Port", "Output Folder", "Billing Manager E-mail", "ICD-10-CM Index",
                "Baseline Medical Necessity Denials"):
        assert key in settings
    assert float(settings["Target Denial Rate"]) == 0.05
    assert float(settings["Target Days To Resubmission"]) == 2
    assert not any("password" in k.casefold() for k in settings)


@pytest.mark.skipif(not (SAMPLE_DIR / "claims.csv").exists(), reason="sample data not written yet")
def test_in_place_validate_keeps_the_workbook_macro_enabled(built, tmp_path):
    """`mednec validate` on the workbook: VBA byte-identical, buttons bound, tables and formats intact."""
    import openpyxl

    from toolkit.workbook.files import read_table

    path = tmp_path / "medical_necessity.xlsm"
    shutil.copyfile(built, path)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    before, after = zip_parts(built), zip_parts(path)
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert sorted(_buttons(path)) == sorted(_buttons(built))
    assert b"vbaProject" in after["[Content_Types].xml"] and b"macroEnabled" in after["[Content_Types].xml"]
    claims = read_table(path, CLAIMS)
    assert claims["Status"].isin(["GREEN", "AMBER", "RED"]).all()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert sorted(t for ws in wb.worksheets for t in ws.tables) == sorted(
        ["tblClaims", "tblRules", "tblPayers", "tblDenials", "tblSettings"])
    ws = wb["Claims"]
    assert len(ws.conditional_formatting._cf_rules) == 1 and len(ws.data_validations.dataValidation) >= 6
    assert ws["A4"].number_format == "@" and ws.freeze_panes == "C4"
    assert wb["xlwings.conf"].sheet_state == "hidden"


def test_build_workbook_command_writes_where_asked(tmp_path):
    out = tmp_path / "sub" / "front.xlsm"
    result = CliRunner().invoke(cli, ["build-workbook", "--out", str(out), "--empty"])
    assert result.exit_code == 0, result.output
    assert out.exists() and str(out) in result.output
    from toolkit.workbook.files import read_table

    assert read_table(out, CLAIMS).empty


def test_build_refuses_to_replace_a_workbook_open_in_excel(tmp_path):
    out = tmp_path / "front.xlsm"
    (tmp_path / "~$front.xlsm").write_bytes(b"lock")
    from toolkit.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["build-workbook", "--out", str(out)])
    assert exc.value.code == 3 and not out.exists()


def test_excel_setup_writes_the_interpreter_into_the_config_sheet_and_keeps_the_macros(built, tmp_path):
    import openpyxl

    path = tmp_path / "wb.xlsm"
    shutil.copyfile(built, path)
    result = CliRunner().invoke(cli, ["excel-setup", "--workbook", str(path), "--interpreter",
                                      r"C:\venv\Scripts\pythonw.exe", "--platform", "win"])
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(path, keep_vba=True)["xlwings.conf"]
    rows = [(c[0].value, c[1].value) for c in ws.iter_rows(max_col=2)]
    assert ("Interpreter_Win", r"C:\venv\Scripts\pythonw.exe") in rows
    assert ws.sheet_state == "hidden"
    assert zip_parts(path)["xl/vbaProject.bin"] == zip_parts(built)["xl/vbaProject.bin"]
    # running it again replaces the value rather than adding a second key
    CliRunner().invoke(cli, ["excel-setup", "--workbook", str(path), "--interpreter", r"D:\py\pythonw.exe",
                             "--platform", "win"])
    ws = openpyxl.load_workbook(path, keep_vba=True)["xlwings.conf"]
    keys = [c.value for c in ws["A"] if c.value]
    assert keys.count("Interpreter_Win") == 1 and ws.cell(keys.index("Interpreter_Win") + 1, 2).value == r"D:\py\pythonw.exe"


def test_excel_setup_user_config_uses_the_format_xlwings_vba_reads(tmp_path):
    from toolkit.cli.workbook import write_user_config

    conf = tmp_path / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_text('"CONDA PATH","C:\\conda"\r\n"INTERPRETER_MAC","/old/python"\r\n')
    write_user_config("Interpreter_Mac", "/Users/biller/venv/bin/python", conf)
    lines = conf.read_text().splitlines()
    assert lines == ['"CONDA PATH","C:\\conda"', '"INTERPRETER_MAC","/Users/biller/venv/bin/python"']
