"""ICD-10-CM: the shipped index holds FY2025, FY2026 and FY2027, each is its CMS source code for
code, and each claim line is checked against the release in force on its date of service."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from toolkit import find_findings, validate_claims
from toolkit.codesets.build_icd10cm import FY2027_CHANGES, SOURCES_DIR, apply_changes, release_from_package
from toolkit.codesets.icd10cm import SHIPPED_INDEX, CodeSets

AS_OF = "2027-12-31"  # late enough that no probe date is in the future
FIXTURES = Path(__file__).parent / "fixtures"
PAYERS = pd.DataFrame([{"Payer": "Acme", "Payer Type": "Commercial"}])
BASE = {"Claim ID": "1", "Patient ID": "P", "Payer": "Acme", "CPT/HCPCS": "99213"}


def codes_on(dx: str, day: str, codesets=None) -> list[str]:
    claims = pd.DataFrame([{**BASE, "Dx Codes": dx, "Date of Service": day}])
    text = validate_claims(claims, None, PAYERS, as_of=AS_OF, codesets=codesets)["Finding Codes"].iloc[0]
    return text.split("; ") if text else []


def view(fy: int):
    return next(s for s in CodeSets.default().sets if s.fy == fy)


def _rows_of(bit: int) -> list[tuple]:
    with sqlite3.connect(SHIPPED_INDEX) as con:
        return con.execute("SELECT code, (billable & ?) != 0, side, unspecified, description, excludes1 FROM codes "
                           "WHERE (releases & ?) != 0 ORDER BY code", (bit, bit)).fetchall()


def _rows_from(release) -> list[tuple]:
    from toolkit.codesets.build_icd10cm import Release, index_rows

    one = Release(release.label, release.fy, release.effective_from, release.effective_to, "", release.codes)
    return [(c, bool(b), side, u, d, e) for c, _, b, side, u, d, e in index_rows([one])]


# ---------------------------------------------------------------- what is shipped

def test_shipped_index_holds_three_fiscal_years_each_with_its_window():
    sets = CodeSets.default().sets
    assert [(s.fy, s.effective_from.isoformat(), s.effective_to.isoformat()) for s in sets] == [
        (2025, "2024-10-01", "2025-09-30"), (2026, "2025-10-01", "2026-09-30"), (2027, "2026-10-01", "2027-09-30")]
    assert sets[1].label.startswith("ICD-10-CM FY2026") and sets[2].label == "ICD-10-CM FY2027"


def test_shipped_index_facts():
    cs = view(2026)
    assert cs.get("M54.5").billable is False and cs.get("M54.50").billable is True
    assert cs.get("M75.61") is None
    assert cs.get("M48.06").billable is False
    assert cs.get("s83.241a").side == "R"
    assert cs.get("M17.12").side == "L" and cs.get("M17.0").side == "B"
    assert cs.get("M54.50").unspecified and not cs.get("M54.59").unspecified
    assert cs.get("M51.16").excludes("M5416") and cs.get("M54.16").excludes("M5116")


@pytest.mark.parametrize("fy", [2025, 2026, 2027])
def test_each_release_has_the_cms_count_of_codes_and_billable_codes(fy):
    """The published CMS order-file counts per fiscal year (sources/icd10cm-code-counts-...csv)."""
    with open(SOURCES_DIR / "icd10cm-code-counts-fy2016-fy2027.csv", encoding="utf-8") as fh:
        counts = {int(r["fiscalYear"]): r for r in csv.DictReader(fh)}
    rows = _rows_of(1 << (fy - 2025))
    assert len(rows) == int(counts[fy]["totalEntries"])
    assert sum(b for _, b, *_ in rows) == int(counts[fy]["billableCodes"])


def test_fy2026_release_matches_the_cms_tabular_list_code_for_code():
    """Rebuilding FY2026 from simple-icd-10-cm 1.5.0 (the test extra pins it) gives the shipped rows."""
    cm = pytest.importorskip("simple_icd_10_cm")
    fresh = release_from_package(cm)
    assert _rows_from(fresh) == _rows_of(2)


def test_fy2027_release_is_fy2026_plus_the_cms_fy2027_changes_code_for_code():
    cm = pytest.importorskip("simple_icd_10_cm")
    fy2027 = apply_changes(release_from_package(cm), FY2027_CHANGES, fy=2027, source="")
    assert _rows_from(fy2027) == _rows_of(4)


def test_fy2025_release_matches_the_april_2025_code_list_checksum():
    """FY2025 comes from simple-icd-10-cm 1.4.0, which cannot be installed beside the pinned 1.5.0:
    its code list (data/code-list-April-2025.txt) was hashed once into tests/fixtures."""
    pin = json.loads((FIXTURES / "icd10cm_fy2025.json").read_text())
    rows = _rows_of(1)

    def digest(codes):
        return hashlib.sha256("\n".join(sorted(codes)).encode()).hexdigest()

    assert len(rows) == pin["codes"] and digest(r[0] for r in rows) == pin["codes_sha256"]
    assert digest(r[0] for r in rows if r[1]) == pin["billable_sha256"]


def test_new_fy2027_codes_take_the_excludes1_notes_of_their_parent():
    fy2027 = view(2027)
    assert fy2027.get("D69.11").excludes1 == fy2027.get("D69.1").excludes1 != ()
    assert fy2027.get("D69.11").excludes("D65")


# ---------------------------------------------------------------- by date of service

@pytest.mark.parametrize("dx,day,finding", [
    ("G35.A", "2025-09-15", "DX_INVALID"),  # new on 2025-10-01: not a code that day
    ("G35.A", "2025-10-15", None),
    ("G35", "2025-09-15", None),  # billable until 2025-09-30
    ("G35", "2025-10-15", "DX_NOT_BILLABLE"),
    ("S30.1XXA", "2025-09-15", None),  # replaced by S30.11XA … on 2025-10-01
    ("S30.1XXA", "2025-10-15", "DX_INVALID"),
    ("M72.21", "2026-09-30", "DX_INVALID"),  # added in FY2027
    ("M72.21", "2026-10-01", None),
    ("S23.420A", "2026-09-30", None),  # deleted in FY2027
    ("S23.420A", "2026-10-01", "DX_INVALID"),
    ("M72.2", "2026-09-30", None),  # a header from FY2027
    ("M72.2", "2026-10-01", "DX_NOT_BILLABLE"),
    ("QA00.101", "2025-09-15", "DX_INVALID"),  # the QA0- genetic-variant codes (a letter second) came in FY2026
    ("QA00.101", "2026-11-02", None),
])
def test_each_line_is_checked_against_the_release_in_force_on_its_date_of_service(dx, day, finding):
    found = [c for c in codes_on(dx, day) if c.startswith("DX_")]
    assert found == ([finding] if finding else [])


def test_the_finding_names_the_release_it_used():
    claims = pd.DataFrame([{**BASE, "Dx Codes": "S30.1XXA", "Date of Service": "2025-10-15"}])
    f = find_findings(claims, None, PAYERS, as_of=AS_OF)
    assert "S30.1XXA is not a code in ICD-10-CM FY2026" in f.loc[f["code"] == "DX_INVALID", "message"].iloc[0]


def test_a_date_of_service_after_the_newest_window_is_checked_against_it_and_noted():
    from toolkit.validation import run_checks

    claims = pd.DataFrame([{**BASE, "Dx Codes": "M72.21", "Date of Service": d} for d in ("2027-09-30", "2027-10-01")])
    v = run_checks(claims, None, PAYERS, as_of="2027-12-31")
    assert v.results["Status"].tolist() == ["AMBER", "AMBER"]  # NO_POLICY only: no per-line change for the note
    assert v.codeset_notes == ["DOS from 2027-10-01 checked against ICD-10-CM FY2027: load the FY2028 code set "
                               "— `mednec codeset build …`"]
    inside = run_checks(claims.iloc[:1], None, PAYERS, as_of="2027-12-31")
    assert inside.codeset_notes == []


# ---------------------------------------------------------------- the note where the biller looks

@pytest.fixture
def late_claims(sample_csvs):
    """The sample with one line moved to 2027-10-15 (after the newest shipped window)."""
    path = sample_csvs["claims"]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "Date of Service"] = "2027-10-15"
    frame.to_csv(path, index=False)
    return sample_csvs


def test_terminal_summary_and_report_code_set_column_carry_the_note(late_claims, tmp_path, cli):
    out = tmp_path / "r.csv"
    result = cli("validate", late_claims["claims"], "--rules", late_claims["rules"], "--payers",
                 late_claims["payers"], "--report", out, "--as-of", "2027-12-31")
    assert result.exit_code == 0, result.output
    assert "Note: DOS from 2027-10-01 checked against ICD-10-CM FY2027: load the FY2028 code set" in result.output
    report = pd.read_csv(out, dtype=str)
    noted = report["Code Set"].str.contains("load the FY2028 code set")
    # The note stands on the line whose date of service no release covers, and only there: the
    # column of a line never depends on the other lines of the run (or of the chunk).
    assert noted.tolist() == [True] + [False] * (len(report) - 1)
    assert report["Code Set"].iloc[0].startswith("ICD-10-CM FY2027; DOS from 2027-10-01")


def test_the_validate_button_closing_message_and_status_bar_carry_the_note(tmp_path, monkeypatch, capsys):
    from toolkit.excel import entry
    from toolkit.tables import CLAIMS
    from toolkit.workbook.build import build_workbook
    from toolkit.workbook.files import WorkbookFile

    path = build_workbook(tmp_path / "book.xlsm")
    wb = WorkbookFile(path)
    claims = wb.read_table(CLAIMS)
    wb.write_columns(CLAIMS, pd.DataFrame({"Date of Service": [pd.Timestamp("2027-10-15")]}, index=claims.index[:1]))
    wb.save()
    monkeypatch.setenv(entry.CALLER_FILE_ENV, str(path))
    shown = []
    monkeypatch.setattr(entry, "_status", lambda book, text: shown.append(text))
    entry.validate()
    out = capsys.readouterr().out
    assert "Note: DOS from 2027-10-01 checked against ICD-10-CM FY2027: load the FY2028 code set" in out
    assert "load the FY2028 code set" in shown[-1]  # the status bar's last text is the closing message


# ---------------------------------------------------------------- a practice adds a year from the CMS zips

def _order_line(n: int, code: str, billable: int, short: str, long: str) -> str:
    return f"{n:05d} {code:<7} {billable} {short[:60]:<60} {long}\n"


@pytest.fixture
def cms_fy2028_zips(tmp_path):
    """CMS-style downloads made from the shipped FY2027: one code added (M72.23), one deleted
    (M72.22), the order file and a tabular XML (with an Excludes1 note) in their zips."""
    fy2027 = view(2027)
    with sqlite3.connect(SHIPPED_INDEX) as con:
        rows = con.execute("SELECT code, (billable & 4) != 0, description FROM codes WHERE (releases & 4) != 0 "
                           "ORDER BY code").fetchall()
    rows = [r for r in rows if r[0] != "M7222"] + [("M7223", 1, "Plantar fascial fibromatosis, bilateral feet")]
    rows.sort()
    order = io.StringIO()
    for n, (code, billable, desc) in enumerate(rows, 1):
        order.write(_order_line(n, code, int(billable), desc, desc))
    order_zip = tmp_path / "2028-Code-Descriptions-in-Tabular-Order.zip"
    with zipfile.ZipFile(order_zip, "w") as zf:
        zf.writestr("Code Descriptions/icd10cm_order_2028.txt", order.getvalue())
        zf.writestr("Code Descriptions/icd10cm-order-addenda-2028.txt", "not the order file")
    tabular = ("<?xml version='1.0'?><ICD10CM.tabular><version>2028</version><chapter><name>13</name>"
               "<section id='M70-M79'><diag><name>M72</name><desc>Fibroblastic disorders</desc>"
               "<excludes1><note>fibromatosis of the plantar nerve (G57.6-)</note></excludes1>"
               "<diag><name>M72.2</name><desc>Plantar fascial fibromatosis</desc></diag></diag></section>"
               "</chapter></ICD10CM.tabular>")
    table_zip = tmp_path / "2028-Code-Tables-Tabular-and-Index.zip"
    with zipfile.ZipFile(table_zip, "w") as zf:
        zf.writestr("Table and Index/icd10cm_tabular_2028.xml", tabular)
    assert fy2027.get("M72.22") is not None
    return order_zip, table_zip


def test_codeset_build_takes_the_cms_zips_as_downloaded(cms_fy2028_zips, tmp_path, cli):
    out = tmp_path / "fy2028.sqlite"
    result = cli("codeset", "build", *cms_fy2028_zips, "--out", out)
    assert result.exit_code == 0, result.output
    assert "ICD-10-CM FY2028" in result.output and "2027-10-01 to 2028-09-30" in result.output
    sets = CodeSets.default([out])
    fy2028 = sets.newest
    assert (fy2028.fy, fy2028.effective_from, fy2028.effective_to) == (2028, dt.date(2027, 10, 1), dt.date(2028, 9, 30))
    assert fy2028.get("M72.23").excludes1 == ("G576",)  # inherited from M72 in the tabular XML
    assert fy2028.get("M72.22") is None
    assert [c for c in codes_on("M72.22", "2027-10-15", sets) if c.startswith("DX_")] == ["DX_INVALID"]
    assert [c for c in codes_on("M72.23", "2027-10-15", sets) if c.startswith("DX_")] == []
    assert [c for c in codes_on("M72.22", "2027-09-30", sets) if c.startswith("DX_")] == []  # FY2027 still
    assert sets.notes([dt.date(2027, 10, 15)]) == []


def test_codeset_build_takes_the_files_inside_the_zips_and_an_overridden_year(cms_fy2028_zips, tmp_path, cli):
    order_zip, _ = cms_fy2028_zips
    with zipfile.ZipFile(order_zip) as zf:
        order = tmp_path / "codes.txt"
        order.write_bytes(zf.read("Code Descriptions/icd10cm_order_2028.txt"))
    out = tmp_path / "x.sqlite"
    result = cli("codeset", "build", order, "--fy", "2029", "--out", out, "--label", "Mine")
    assert result.exit_code == 0, result.output
    release = CodeSets.default([out]).newest
    assert (release.label, release.effective_from) == ("Mine", dt.date(2028, 10, 1))
    assert release.get("M54.59").excludes1 == view(2027).get("M54.59").excludes1  # no XML: the shipped notes


def test_codeset_build_without_a_year_anywhere_asks_for_fy(tmp_path, cli):
    order = tmp_path / "codes.txt"
    order.write_text(_order_line(1, "M5459", 1, "Other low back pain", "Other low back pain"))
    result = cli("codeset", "build", order, "--out", tmp_path / "x.sqlite")
    assert result.exit_code == 2 and "give --fy 2028" in result.output


def test_an_order_file_with_an_explicit_start_date_still_builds(tmp_path, cli):
    order = tmp_path / "icd10cm_order_2027.txt"
    order.write_text(_order_line(1, "M545A", 1, "New low back pain code", "Low back pain, new, right side"))
    out = tmp_path / "mine.sqlite"
    result = cli("codeset", "build", order, "--effective-from", "2026-10-01", "--out", out, "--label", "Own FY2027")
    assert result.exit_code == 0, result.output
    sets = CodeSets.default([out])
    assert sets.for_date(dt.date(2026, 10, 1)).label == "Own FY2027"  # the practice's own build wins
    assert sets.for_date(dt.date(2026, 9, 30)).fy == 2026


def test_not_an_order_file_is_refused(tmp_path, cli):
    bad = tmp_path / "codes.txt"
    bad.write_text("hello world\n")
    result = cli("codeset", "build", bad, "--effective-from", "2026-10-01", "--out", tmp_path / "x.sqlite")
    assert result.exit_code == 2
    assert "codes.txt, row 1: not a CMS ICD-10-CM order file" in result.output
    assert not (tmp_path / "x.sqlite").exists()


def test_codeset_list_shows_every_window(cli):
    result = cli("codeset", "list")
    assert result.exit_code == 0
    assert "ICD-10-CM FY2025" in result.output and "(from 2026-10-01 to 2027-09-30)" in result.output


def test_an_index_from_an_older_mednec_still_opens(tmp_path):
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as con:
        con.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                          "CREATE TABLE codes (code TEXT PRIMARY KEY, billable INTEGER, side TEXT, unspecified INTEGER,"
                          " description TEXT, excludes1 TEXT);")
        con.executemany("INSERT INTO meta VALUES (?, ?)", [("label", "Old FY2027"), ("effective_from", "2026-10-01")])
        con.execute("INSERT INTO codes VALUES ('M545A', 1, 'R', 0, 'Low back pain, right', '')")
    release = CodeSets.default([old]).newest
    assert release.label == "Old FY2027" and release.get("M54.5A").billable
    assert release.effective_to == dt.date(2027, 9, 30)
