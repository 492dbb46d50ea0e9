"""``mednec rules import-mcd``: Rules rows from a CMS Medicare Coverage Database article.

The MCD download is faked in its real layout (file names and headers as in the CMS
"current article" CSV export, see ``../shared/data/cms_reference/mcd_csv_headers.json``) with
invented articles, codes and paragraphs — no CMS rows.  Results are read back with
independent readers (the csv module, python-calamine).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF, SAMPLE, SHARED, run

# The real headers of the files the import reads (current_article export).
HEADERS = {
    "article.csv": ["article_id", "article_version", "article_type", "title", "article_pub_date", "article_eff_date",
                    "article_end_date", "description", "other_comments", "sad_url", "status", "last_updated",
                    "history_exp", "key_article", "icd9_covered_para", "icd9_noncovered_para", "revenue_para",
                    "thirty_percent", "article_rev_end_date", "source_article_id", "date_retired", "keywords",
                    "icd10_doc", "add_icd10_info", "cms_cov_policy", "display_id", "reference_article"],
    "article_related_documents.csv": ["article_id", "article_version", "related_num", "r_article_id",
                                      "r_article_version", "r_lcd_id", "r_lcd_version", "r_contractor_id",
                                      "last_updated"],
    "article_x_hcpc_code.csv": ["article_id", "article_version", "hcpc_code_id", "hcpc_code_version",
                                "hcpc_code_group", "range", "last_updated", "long_description", "short_description"],
    "article_x_hcpc_code_group.csv": ["article_id", "article_version", "hcpc_code_group", "paragraph", "last_updated"],
    "article_x_icd10_covered.csv": ["article_id", "article_version", "icd10_code_id", "icd10_code_version",
                                    "icd10_covered_group", "range", "last_updated", "sort_order", "description",
                                    "asterisk"],
    "article_x_icd10_covered_group.csv": ["article_id", "article_version", "icd10_covered_group", "paragraph",
                                          "last_updated", "icd10_covered_ast"],
}

STAMP = "2026-11-20 10:15:00"
GROUP1 = "<p>Group 1 Paragraph: for codes of group&nbsp;1 the diagnoses below support necessity.</p><p>Second line.</p>"


def _rows() -> dict[str, list[dict]]:
    """Invented articles: A99901 (two versions, two code groups, one LCD) and A99902."""
    return {
        "article.csv": [
            {"article_id": "99901", "article_version": "2", "article_type": "6",
                 "title": "Billing and Coding: Invented Facet Procedures \u2013 Test",
                 "article_eff_date": "2025-10-01 00:00:00", "article_end_date": "",
                 "description": '<p>Invented, with "quotes", commas\nand a line break.</p>', "status": "A",
                 "last_updated": STAMP, "display_id": "A99901"},
            {"article_id": "99901", "article_version": "1", "article_type": "6", "title": "older version",
                 "article_eff_date": "2024-01-01 00:00:00", "article_end_date": "2025-09-30 00:00:00",
                 "status": "A", "last_updated": STAMP, "display_id": "A99901"},
            {"article_id": "99902", "article_version": "4", "article_type": "6", "title": "Another invented article",
                 "article_eff_date": "2026-01-01 00:00:00", "status": "A", "last_updated": STAMP, "display_id": "A99902"},
        ],
        "article_related_documents.csv": [
            {"article_id": "99901", "article_version": "2", "related_num": "1", "r_lcd_id": "99903", "r_lcd_version": "5",
                 "last_updated": STAMP},
        ],
        "article_x_hcpc_code.csv": [
            {"article_id": "99901", "article_version": "2", "hcpc_code_id": c, "hcpc_code_version": "1", "hcpc_code_group": g,
                 "range": "N", "last_updated": STAMP, "long_description": "AMA TEXT NOT TO COPY", "short_description": "AMA SHORT"}
            for c, g in (("64490", "1"), ("64491", "1"), ("64493", "2"))
        ] + [
            {"article_id": "99901", "article_version": "1", "hcpc_code_id": "64490", "hcpc_code_group": "1"},
            {"article_id": "99902", "article_version": "4", "hcpc_code_id": "20610", "hcpc_code_group": "1"},
        ],
        "article_x_hcpc_code_group.csv": [
            {"article_id": "99901", "article_version": "2", "hcpc_code_group": "1", "paragraph": "<p>Codes of group one</p>"},
            {"article_id": "99901", "article_version": "2", "hcpc_code_group": "2", "paragraph": "<p>Codes of group two</p>"},
        ],
        "article_x_icd10_covered.csv": [
            {"article_id": "99901", "article_version": "2", "icd10_code_id": c, "icd10_code_version": "1",
                 "icd10_covered_group": g, "range": "N", "last_updated": STAMP, "sort_order": o, "description": "invented", "asterisk": a}
            for c, g, o, a in (("M47.812", "1", "1", "N"), ("M47.813", "1", "2", "N"),
                               ("M47.816", "2", "2", "N"), ("M47.817", "2", "1", "Y"), ("M54.16", "2", "3", "N"))
        ] + [
            {"article_id": "99901", "article_version": "1", "icd10_code_id": "M47.812", "icd10_covered_group": "1"},
            {"article_id": "99902", "article_version": "4", "icd10_code_id": "M17.11", "icd10_covered_group": "1"},
        ],
        "article_x_icd10_covered_group.csv": [
            {"article_id": "99901", "article_version": "2", "icd10_covered_group": "1", "paragraph": GROUP1},
            {"article_id": "99901", "article_version": "2", "icd10_covered_group": "2",
                 "paragraph": "<p>Group 2 Paragraph: lumbar &amp; lumbosacral.</p>",
                 "icd10_covered_ast": "<p>*Code also the second diagnosis.</p>"},
        ],
    }


def _csv_bytes(name: str, *, upper: bool = False, drop_column: str | None = None, rows=None,
               encoding: str = "cp1252") -> bytes:
    headers = [h for h in HEADERS[name] if h != drop_column]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[h.upper() if upper else h for h in headers], lineterminator="\r\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in rows if rows is not None else _rows()[name]:
        writer.writerow({(k.upper() if upper else k): v for k, v in row.items() if k in headers})
    return buf.getvalue().encode(encoding)  # CMS ships Windows-1252 (the en dash is 0x96)


def make_folder(path: Path, *, upper: bool = False) -> Path:
    """An unpacked download: ``current_article_csv/`` with the CSV files."""
    folder = path / "current_article_csv"
    folder.mkdir(parents=True)
    for name in HEADERS:
        (folder / name).write_bytes(_csv_bytes(name, upper=upper))
    return path


def make_zip(path: Path) -> Path:
    """The zip as downloaded: a readme and ``current_article_csv.zip`` holding the CSV files."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in HEADERS:
            zf.writestr(name, _csv_bytes(name))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("current_article_csv.zip", inner.getvalue())
        zf.writestr("readme_first.txt", "invented download for tests")
    return path


def read_rules_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def read_rules_xlsm(path: Path) -> list[dict]:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_name("Rules").to_python()
    header_at = next(i for i, r in enumerate(rows) if "Covered Dx" in r)
    header = rows[header_at]
    return [dict(zip(header, r)) for r in rows[header_at + 1:] if any(v not in ("", None) for v in r)]


@pytest.fixture
def download(tmp_path) -> Path:
    return make_folder(tmp_path / "mcd")


COVERED_ALL = "M47.812, M47.813, M47.817, M47.816, M54.16"


def test_folder_import_writes_one_rule_per_code_with_policy_dates_and_notes(download, tmp_path):
    out = tmp_path / "rules.csv"
    result = run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare", "--out", out)
    assert result.exit_code == 0, result.output
    rows = read_rules_csv(out)
    assert [r["CPT/HCPCS"] for r in rows] == ["64490", "64491", "64493"]
    for r in rows:
        assert r["Payer"] == "Medicare"
        assert r["Covered Dx"] == COVERED_ALL  # all groups, each group in the article's sort order
        assert r["Policy"] == "LCD L99903 / Article A99901"
        assert r["Effective From"] == "2025-10-01" and r["Effective To"] == ""  # latest version, open-ended
        assert r["Description"] == "" and r["Min Therapy Weeks"] == "" and r["Prior Auth Required"] == ""
        assert r["Notes"].startswith("from CMS MCD article A99901 version 2, imported ")
        assert "dual-diagnosis codes" in r["Notes"] and "M47.817" in r["Notes"]
    assert "AMA" not in out.read_text(encoding="utf-8")
    # the group paragraphs' first lines are shown so the biller can pair the groups
    assert "Group 1 Paragraph: for codes of group 1 the diagnoses below support necessity." in result.output
    assert "Second line" not in result.output
    assert "Group 2 Paragraph: lumbar & lumbosacral." in result.output
    assert "--group-map" in result.output
    assert "3 rules added" in result.output
    assert "Invented Facet Procedures \u2013 Test" in result.output  # Windows-1252 read as such


def test_the_inner_csv_zip_in_utf8_works_too(tmp_path):
    source = tmp_path / "current_article_csv.zip"
    with zipfile.ZipFile(source, "w") as zf:
        for name in HEADERS:
            zf.writestr(f"current_article_csv/{name}", _csv_bytes(name, encoding="utf-8-sig"))
    out = tmp_path / "rules.csv"
    result = run("rules", "import-mcd", source, "--article", "A99901", "--payer", "Medicare", "--out", out)
    assert result.exit_code == 0, result.output
    assert "Invented Facet Procedures \u2013 Test" in result.output
    assert [r["Covered Dx"] for r in read_rules_csv(out)] == [COVERED_ALL] * 3


def test_article_found_by_its_number_and_headers_in_capitals(tmp_path):
    source = make_folder(tmp_path / "mcd", upper=True)
    out = tmp_path / "rules.csv"
    result = run("rules", "import-mcd", source, "--article", "99901", "--payer", "Medicare", "--out", out,
                 "--cpt", "64493")
    assert result.exit_code == 0, result.output
    rows = read_rules_csv(out)
    assert [(r["CPT/HCPCS"], r["Effective From"]) for r in rows] == [("64493", "2025-10-01")]


def test_zip_import_into_the_workbook_is_idempotent_and_keeps_the_macros(tmp_path, workbook):
    source = make_zip(tmp_path / "current_article.zip")
    before = read_rules_xlsm(workbook)
    args = ("rules", "import-mcd", source, "--article", "a99901", "--payer", "Medicare", "--workbook", workbook)
    first = run(*args)
    assert first.exit_code == 0, first.output
    after = read_rules_xlsm(workbook)
    assert after[: len(before)] == before  # the practice's own rules are untouched
    added = after[len(before):]
    assert [r["CPT/HCPCS"] for r in added] == ["64490", "64491", "64493"]
    assert {r["Covered Dx"] for r in added} == {COVERED_ALL}
    assert {r["Policy"] for r in added} == {"LCD L99903 / Article A99901"}
    assert str(added[0]["Effective From"])[:10] == "2025-10-01"
    with zipfile.ZipFile(workbook) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()

    second = run(*args)
    assert second.exit_code == 0, second.output
    assert "0 rules added" in second.output and "3 already up to date" in second.output
    assert read_rules_xlsm(workbook) == after


def test_changed_rules_are_skipped_unless_replace_and_criteria_are_kept(download, tmp_path):
    out = tmp_path / "rules.csv"
    base = ("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare", "--out", out)
    assert run(*base).exit_code == 0
    rows = read_rules_csv(out)
    rows[0]["Covered Dx"] = "M47.812"  # an older list...
    rows[0]["Min Therapy Weeks"] = "4"  # ...and the practice's own criterion
    rows[0]["Description"] = "Facet injection, our words"
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    skipped = run(*base)
    assert skipped.exit_code == 0
    assert "1 skipped" in skipped.output and "--replace" in skipped.output
    assert read_rules_csv(out) == rows

    replaced = run(*base, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "1 updated" in replaced.output
    after = read_rules_csv(out)
    assert len(after) == 3
    assert after[0]["Covered Dx"] == COVERED_ALL
    assert after[0]["Min Therapy Weeks"] == "4" and after[0]["Description"] == "Facet injection, our words"


def test_group_map_pairs_code_groups_with_icd10_groups(download, tmp_path):
    out = tmp_path / "rules.csv"
    result = run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare", "--out", out,
                 "--group-map", "1:1", "--group-map", "2:1,2")
    assert result.exit_code == 0, result.output
    covered = {r["CPT/HCPCS"]: r["Covered Dx"] for r in read_rules_csv(out)}
    assert covered == {"64490": "M47.812, M47.813", "64491": "M47.812, M47.813", "64493": COVERED_ALL}
    assert "M47.817" not in read_rules_csv(out)[0]["Notes"]  # its dual-diagnosis code is not in group 1

    only_one = run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare",
                   "--out", tmp_path / "one.csv", "--group-map", "2:2")
    assert only_one.exit_code == 0
    assert [r["CPT/HCPCS"] for r in read_rules_csv(tmp_path / "one.csv")] == ["64493"]
    assert "group 1 not in --group-map" in only_one.output

    bad = run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare",
              "--out", tmp_path / "bad.csv", "--group-map", "1:7")
    assert bad.exit_code == 2
    assert "no ICD-10 covered group 7" in bad.output and not (tmp_path / "bad.csv").exists()


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_unknown_article_or_code_is_a_one_line_error(download, tmp_path):
    out = tmp_path / "rules.csv"
    line = _one_line_error(run("rules", "import-mcd", download, "--article", "A12345", "--payer", "Medicare",
                               "--out", out))
    assert "A12345" in line and "article.csv" in line
    line = _one_line_error(run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare",
                               "--out", out, "--cpt", "99213"))
    assert "99213" in line
    assert not out.exists()


def test_damaged_download_names_the_file_and_column(download, tmp_path):
    folder = download / "current_article_csv"
    out = tmp_path / "rules.csv"
    args = ("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare", "--out", out)
    (folder / "article_x_hcpc_code.csv").write_bytes(_csv_bytes("article_x_hcpc_code.csv",
                                                                drop_column="hcpc_code_group"))
    line = _one_line_error(run(*args))
    assert "article_x_hcpc_code.csv" in line and "column hcpc_code_group" in line

    (folder / "article_x_icd10_covered.csv").unlink()
    (folder / "article_x_hcpc_code.csv").write_bytes(_csv_bytes("article_x_hcpc_code.csv"))
    line = _one_line_error(run(*args))
    assert "article_x_icd10_covered.csv" in line and "not found" in line
    assert not out.exists()


def test_workbook_and_out_together_are_refused(download, tmp_path, workbook):
    line = _one_line_error(run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare",
                               "--out", tmp_path / "r.csv", "--workbook", workbook))
    assert "--workbook" in line


def test_imported_rules_drive_validate(download, tmp_path):
    rules = tmp_path / "rules.csv"
    assert run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare",
               "--out", rules).exit_code == 0
    with open(SAMPLE / "claims.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, template = reader.fieldnames, next(reader)
    claims = tmp_path / "claims.csv"
    with open(claims, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for claim_id, dx in (("900001", "M47.816"), ("900002", "M54.50")):
            writer.writerow({**template, "Claim ID": claim_id, "CPT/HCPCS": "64493", "Dx Codes": dx,
                             "Date of Service": "2026-10-12", "Modifiers": ""})
    report = tmp_path / "report.csv"
    result = run("validate", claims, "--rules", rules, "--payers", SAMPLE / "payers.csv", "--report", report,
                 "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    findings = {r["Claim ID"]: r for r in read_rules_csv(report)}
    assert "DX_NOT_COVERED" not in findings["900001"]["Finding Codes"]
    assert "DX_NOT_COVERED" in findings["900002"]["Finding Codes"]
    assert findings["900002"]["Policy"] == "LCD L99903 / Article A99901"


def test_fake_download_uses_the_real_cms_headers():
    reference = SHARED / "data" / "cms_reference" / "mcd_csv_headers.json"
    if not reference.exists():
        pytest.skip("../shared (CMS reference layouts) is not beside the repo")
    real = json.loads(reference.read_text(encoding="utf-8"))["current_article"]
    for name, headers in HEADERS.items():
        assert real[name]["headers"] == headers, name


def test_a_list_too_long_for_one_excel_cell_uses_the_articles_ranges(download):
    from toolkit.codesets.icd10cm import normalize_dx
    from toolkit.mcd import McdDownload, rules_from_article
    from toolkit.rules import CoveredDx

    codes = [f"S{10 + i // 1000:02d}.{i % 1000:03d}A" for i in range(4000)]  # 44,000 characters as a list
    flags = ["B" if i % 10 == 0 else "E" if i % 10 == 9 else "M" for i in range(4000)]
    flags[-1] = "N"  # the last run is incomplete: its codes stay one by one
    rows = [{"article_id": "99901", "article_version": "2", "icd10_code_id": c, "icd10_covered_group": "1",
                 "range": f, "sort_order": str(i), "asterisk": "N"} for i, (c, f) in enumerate(zip(codes, flags))]
    (download / "current_article_csv" / "article_x_icd10_covered.csv").write_bytes(
        _csv_bytes("article_x_icd10_covered.csv", rows=rows))
    with McdDownload(download) as mcd:
        built = rules_from_article(mcd, "A99901", payer="Medicare", cpts=["64490"])
    text = built.rows.loc[0, "Covered Dx"]
    assert len(text) < 32767
    assert text.startswith("S10.000A-S10.009A, S10.010A-S10.019A")
    assert text.endswith("S13.989A, S13.990A, S13.991A, S13.992A, S13.993A, S13.994A, S13.995A, S13.996A, "
                         "S13.997A, S13.998A, S13.999A")
    covered = CoveredDx.parse(text)
    assert all(covered.covers(normalize_dx(c)) for c in codes)
    assert not covered.covers(normalize_dx("S14.000A"))


def test_unknown_payer_is_mentioned_when_importing_into_the_workbook(download, workbook):
    result = run("rules", "import-mcd", download, "--article", "A99901", "--payer", "Medicare Part B",
                 "--workbook", workbook)
    assert result.exit_code == 0, result.output
    assert "payer 'Medicare Part B' is not in the Payers table" in result.output
