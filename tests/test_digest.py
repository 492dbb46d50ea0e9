"""The monthly digest: facts from a small denial log with known numbers, the .eml read back
with Python's ``email`` package, the chart inline, the huddle pack read back with python-docx."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from toolkit.tables import CLAIMS, DENIALS, RULES, SETTINGS

PATIENTS = [("MRN-448812", "Jane Doe-Sample", dt.date(1950, 4, 2)),
            ("MRN-551203", "Robert Quill", dt.date(1948, 11, 23)),
            ("MRN-660077", "Alma Westerberg", dt.date(1961, 7, 9))]

# (Denial Date, Root Cause, CARC, Category, Status, Appeal Deadline, Owner, Denied Amount)
DENIAL_LOG = [
    ("2025-11-12", "DX_NOT_COVERED", "50", "medical necessity", "Paid", "2026-03-12", "Ana", 100),
    ("2026-02-10", "DX_NOT_COVERED", "50", "medical necessity", "Appealed", "2026-06-10", "Ana", 200),
    ("2026-02-20", "", "197", "authorization", "Open", "2026-03-31", "", 300),  # deadline passed
    ("2026-03-02", "DX_NOT_COVERED", "50", "medical necessity", "Open", "2026-04-10", "Ana", 400),
    ("2026-03-03", "PRIOR_AUTH_MISSING", "197", "authorization", "Open", "2026-04-15", "", 1000),
    ("2026-03-04", "DX_NOT_COVERED", "50", "medical necessity", "Appealed", "2026-04-05", "Ben", 250),
    ("2026-03-18", "DX_NOT_COVERED", "50", "medical necessity", "Open", "2026-04-16", "Ben", 150),
    ("2026-03-19", "", "50", "medical necessity", "Open", "2026-07-17", "", 90),
]
# March 2026 starts on a Sunday: Mondays 2, 9, 16, 23, 30 -> weeks of 9, 23 and 30 are denial-free.
# As of 2026-04-01, open deadlines within 14 days: Apr 10 and Apr 15 (Apr 5 is appealed, Apr 16 too late).


def _add_table(ws, name: str, headers: list[str], rows: list[list]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table

    ws.append(headers)
    for row in rows:
        ws.append(row)
    ref = f"A1:{get_column_letter(len(headers))}{max(len(rows) + 1, 2)}"
    ws.add_table(Table(displayName=name, ref=ref))


def make_workbook(path: Path, *, settings: dict[str, str] | None = None, denials=DENIAL_LOG,
                  rules: list[list] | None = None, n_claims: int = 10) -> Path:
    """A workbook with Claims, Denials, Rules and Settings tables (contract headers)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    claim_rows = []
    for i in range(n_claims):  # (ten) lines submitted in March 2026
        pid, name, dob = PATIENTS[i % 3]
        row = {h: None for h in CLAIMS.headers}
        row.update({"Claim ID": f"C{1000 + i}", "Line": 1, "Patient ID": pid, "Patient Name": name,
                    "Date of Birth": dob, "Payer": "Medicare", "Date of Service": dt.date(2026, 2, 25),
                    "CPT/HCPCS": "64483", "Dx Codes": "M48.061", "Submitted Date": dt.date(2026, 3, 5)})
        claim_rows.append([row[h] for h in CLAIMS.headers])
    _add_table(wb.create_sheet("Claims"), "tblClaims", CLAIMS.headers, claim_rows)

    denial_rows = []
    for i, (date, root, carc, cat, status, deadline, owner, amount) in enumerate(denials):
        pid, name, dob = PATIENTS[i % 3]
        row = {h: None for h in DENIALS.headers}
        row.update({"Denial ID": f"D-{i + 1:06d}", "Claim ID": f"C{1000 + i}", "Line": 1, "Patient ID": pid,
                    "Payer": "Medicare" if i % 2 else "Acme Health", "Date of Service": dt.date(2025, 10, 1),
                    "CPT/HCPCS": "64483", "Dx Codes": "M48.061", "Billed Amount": amount, "Paid Amount": 0,
                    "Denied Amount": amount, "Denial Date": dt.date.fromisoformat(date), "Group Code": "CO",
                    "CARC": carc, "Category": cat, "Root Cause": root or None, "Status": status,
                    "Appeal Deadline": dt.date.fromisoformat(deadline), "Owner": owner or None,
                    "Notes": f"called re {name}", "Source": "manual"})
        denial_rows.append([row[h] for h in DENIALS.headers])
    _add_table(wb.create_sheet("Denials"), "tblDenials", DENIALS.headers, denial_rows)

    rule_rows = rules if rules is not None else [
        ["Medicare", "64483", "", "M48.061", 6, "Y", 365, "N", "Y", 1, "LCD L39242", dt.date(2026, 2, 1), None, ""],
        ["Acme Health", "63047", "", "M48.062", 12, "Y", 365, "Y", "N", 1, "ACME-77", None, dt.date(2026, 3, 31), ""],
        ["Acme Health", "64483", "", "M48.061", 6, "Y", 365, "Y", "N", 1, "ACME-12", dt.date(2026, 4, 1), None, ""],
        ["Medicare", "20610", "", "M17.11", 0, "N", None, "N", "Y", 2, "LCD L33767", None, None, ""],
    ]
    _add_table(wb.create_sheet("Rules"), "tblRules", RULES.headers, rule_rows)

    values = {"Practice Name": "Lakeside Spine", "Digest Recipients": "team@lakeside.test; lead@lakeside.test",
              "Billing Manager E-mail": "manager@lakeside.test", "SMTP From": "mednec@lakeside.test"}
    values.update(settings or {})
    _add_table(wb.create_sheet("Settings"), "tblSettings", SETTINGS.headers, [[k, v] for k, v in values.items()])
    wb.save(path)
    return path


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG header, after checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        pos += 12 + length
    return size


@pytest.fixture
def workbook(tmp_path):
    return make_workbook(tmp_path / "practice.xlsx")


def _facts(workbook, month="2026-03", as_of=dt.date(2026, 4, 1)):
    from toolkit.digest import digest_facts
    from toolkit.values import coerce_table
    from toolkit.workbook.files import WorkbookFile

    book = WorkbookFile(workbook, writable=False)
    return digest_facts(coerce_table(DENIALS, book.read_table(DENIALS)), month,
                        claims=coerce_table(CLAIMS, book.read_table(CLAIMS)), as_of=as_of)


def test_top_denial_reason_is_the_root_cause_with_most_denials_and_its_change_from_last_month(workbook):
    facts = _facts(workbook)
    assert facts.denials == 5 and facts.previous_denials == 2
    assert facts.top_reason.key == "DX_NOT_COVERED"
    assert (facts.top_reason.count, facts.top_reason.previous_count, facts.top_reason.change) == (3, 1, 2)
    assert facts.denied_amount == 400 + 1000 + 250 + 150 + 90
    # The Dashboard's definition (toolkit.kpi): of the 10 claims sent in March, 8 have a denial.
    assert (facts.submitted_claims, facts.denied_claims, facts.denial_rate) == (10, 8, 0.8)


def test_corrective_action_comes_from_the_tips_table(workbook):
    from toolkit.digest import load_tips

    tips = load_tips()
    facts = _facts(workbook)
    assert facts.top_reason.corrective_action == tips["dx_not_covered"].action
    assert facts.top_reason.label == "Diagnosis not on the payer's covered list"


def test_denial_without_root_cause_is_counted_under_its_carc():
    from toolkit.digest import reason_key

    frame = pd.DataFrame({"Root Cause": ["", "X", ""], "CARC": ["50", "50", ""], "Category": ["", "", "coding"]})
    assert reason_key(frame).tolist() == ["CARC 50", "X", "coding"]


def test_trend_covers_twelve_months_ending_with_the_digest_month(workbook):
    trend = _facts(workbook).trend
    assert len(trend) == 12
    assert str(trend[0][0]) == "2025-04" and str(trend[-1][0]) == "2026-03"
    assert dict((str(m), n) for m, n in trend) == {**{str(m): 0 for m, _ in trend},
                                                   "2025-11": 1, "2026-02": 2, "2026-03": 5}


def test_appeals_due_counts_open_denials_with_deadline_in_next_14_days(workbook):
    assert _facts(workbook).appeals_due == 2
    assert _facts(workbook, as_of=dt.date(2026, 4, 2)).appeals_due == 3  # Apr 16 now inside


def test_denial_free_weeks_are_the_completed_weeks_of_the_month_without_a_new_denial(workbook):
    weeks = _facts(workbook).denial_free_weeks
    # The week of Mon Mar 30 ends Sun Apr 5, after the digest goes out (Apr 1): not counted yet.
    assert [a.isoformat() for a, _ in weeks] == ["2026-03-09", "2026-03-23"]
    assert all((b - a).days == 6 for a, b in weeks)
    later = _facts(workbook, as_of=dt.date(2026, 4, 6)).denial_free_weeks
    assert [a.isoformat() for a, _ in later] == ["2026-03-09", "2026-03-23", "2026-03-30"]


def test_a_month_without_denials_has_no_top_reason_and_only_free_weeks(workbook):
    facts = _facts(workbook, month="2026-01")
    assert facts.denials == 0 and facts.top_reason is None
    assert len(facts.denial_free_weeks) == 4  # Mondays Jan 5, 12, 19, 26


def test_digest_eml_parses_back_with_html_text_and_the_chart_by_cid(workbook, tmp_path):
    from toolkit.jobs.digest import build_digest
    from toolkit.workbook.files import WorkbookFile

    result = build_digest(WorkbookFile(workbook, writable=False), "2026-03", tmp_path / "outbox",
                          as_of=dt.date(2026, 4, 1))
    assert result.path == tmp_path / "outbox" / "digest-2026-03.eml" and not result.sent
    with open(result.path, "rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    assert msg["Subject"] == "Lakeside Spine: Did you know? Denials in March 2026"
    assert msg["To"] == "team@lakeside.test, lead@lakeside.test"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "5 new denials in March 2026 (up 3 from last month)" in body
        assert "denial rate 80.0% (8 of the 10 claims sent in March were denied)" in body
        assert "DX_NOT_COVERED" in body and "3 denials, up 2 from last month" in body
        assert "appeals are due in the next 14 days" in body
        assert "Denial-Free Weeks" in body
    assert "2 appeals are due in the next 14 days" in text and "<b>2</b> appeals are due" in html
    assert "What to do: Before you submit, check the line's diagnoses" in text
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    assert images[0]["Content-ID"] == "<denial-trend>" and "cid:denial-trend" in html
    assert msg.get_body(("html",)).get_content_type() == "text/html"
    assert png_size(images[0].get_content()) == (1120, 480)  # shown at 560 x 240: crisp at 2x


def test_writing_the_same_digest_twice_replaces_it(workbook, tmp_path):
    from toolkit.jobs.digest import build_digest
    from toolkit.workbook.files import WorkbookFile

    book = WorkbookFile(workbook, writable=False)
    build_digest(book, "2026-03", tmp_path / "outbox")
    build_digest(book, "2026-03", tmp_path / "outbox")
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["digest-2026-03.eml"]


def test_digest_command_writes_the_eml_and_says_where(workbook, tmp_path):
    from toolkit.cli import cli

    out = CliRunner().invoke(cli, ["digest", "--workbook", str(workbook), "--month", "2026-03",
                                   "--outbox", str(tmp_path / "ob")])
    assert out.exit_code == 0, out.output
    assert "digest-2026-03.eml" in out.output
    assert (tmp_path / "ob" / "digest-2026-03.eml").exists()


def test_digest_command_rejects_a_bad_month_in_one_line(workbook, capsys):
    from toolkit.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["digest", "--workbook", str(workbook), "--month", "March"])
    assert exit_.value.code != 0
    err = capsys.readouterr().err
    assert "YYYY-MM" in err and len(err.strip().splitlines()) == 1


def test_tips_table_edited_by_the_practice_is_used(workbook, tmp_path):
    from toolkit.jobs.digest import build_digest
    from toolkit.mail.message import read_eml
    from toolkit.workbook.files import WorkbookFile

    (tmp_path / "our-tips.csv").write_text("Key,Title,Corrective Action\n"
                                          "dx_not_covered,Dx not covered,Ask Dr. Lee to review the LCD list.\n")
    wb = make_workbook(tmp_path / "own.xlsx", settings={"Tips File": "our-tips.csv"})
    result = build_digest(WorkbookFile(wb, writable=False), "2026-03", tmp_path / "ob")
    assert "Ask Dr. Lee to review the LCD list." in read_eml(result.path).get_body(("plain",)).get_content()


def test_huddle_pack_lists_rule_changes_root_causes_owners_and_decisions(workbook, tmp_path):
    from docx import Document

    from toolkit.jobs.digest import huddle_pack
    from toolkit.workbook.files import WorkbookFile

    path = huddle_pack(WorkbookFile(workbook, writable=False), "2026Q1", tmp_path)
    assert path.name == "policy-huddle-2026Q1.docx"
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    changed, upcoming, causes, owners = tables
    assert [r[:4] for r in changed[1:]] == [["Medicare", "64483", "LCD L39242", "starts"],
                                            ["Acme Health", "63047", "ACME-77", "ends"]]
    assert [r[:4] for r in upcoming[1:]] == [["Acme Health", "64483", "ACME-12", "starts"]]
    assert causes[1][:2] == ["Diagnosis not on the payer's covered list (DX_NOT_COVERED)", "4"]
    # open as of 2026-04-01: Feb 20 (no owner), Mar 2 (Ana), Mar 3 (none), Mar 18 (Ben), Mar 19 (none)
    assert owners[1:] == [["Unassigned", "3"], ["Ana", "1"], ["Ben", "1"]]
    assert "3 open denials have no owner: assign them today." in text
    assert "ACME-77" in text and "Decisions to make" in text
    for pid, name, _ in PATIENTS:
        assert pid not in text and name not in text


def test_huddle_pack_opens_in_libreoffice(workbook, tmp_path):
    """An independent reader: LibreOffice converts the pack to text with every section in it."""
    import shutil
    import subprocess
    import uuid

    from toolkit.jobs.digest import ReadOnlyBook, huddle_pack

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) not installed")
    path = huddle_pack(ReadOnlyBook(workbook), "2026Q1", tmp_path)
    profile = f"file:///tmp/lo-digest-{uuid.uuid4().hex}"
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "txt:Text",
                    "--outdir", str(tmp_path / "txt"), str(path)], check=True, capture_output=True, timeout=120)
    text = (tmp_path / "txt" / "policy-huddle-2026Q1.txt").read_text(encoding="utf-8-sig")
    for expected in ("Policy huddle, Q1 2026", "Decisions to make", "Payer rules that changed in Q1 2026",
                     "LCD L39242", "Coming up in Q2 2026", "ACME-12", "Top root causes", "DX_NOT_COVERED",
                     "Open denials by owner", "Unassigned"):
        assert expected in text, expected
