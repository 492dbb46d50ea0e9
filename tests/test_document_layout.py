"""How the documents look on paper: table rows never split across pages, phone numbers never
break, "Billed" reads naturally, and the huddle pack has the letterhead, money with "$" and
columns wide enough for the codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "toolkit" / "word" / "templates"


def _rows(docx_path: Path):
    from docx import Document

    for table in Document(str(docx_path)).tables:
        yield from table.rows


def test_no_table_row_of_any_template_can_split_across_pages():
    from docx.oxml.ns import qn

    for template in sorted(TEMPLATES.glob("*.docx")):
        rows = list(_rows(template))
        assert rows, template.name
        for row in rows:
            tr_pr = row._tr.trPr
            assert tr_pr is not None and tr_pr.find(qn("w:cantSplit")) is not None, template.name
            names = [child.tag for child in tr_pr]
            if qn("w:tblHeader") in names:  # schema order: cantSplit first
                assert names.index(qn("w:cantSplit")) < names.index(qn("w:tblHeader")), template.name


def test_the_appeal_letter_says_units_and_amount_billed_in_words():
    from docx import Document

    text = "\n".join(c.text for t in Document(str(TEMPLATES / "appeal_letter.docx")).tables
                     for r in t.rows for c in r.cells)
    assert "Units · billed" not in text
    assert "Billed" in text and "unit{{" in text


def test_a_practice_phone_number_never_breaks():
    from toolkit.checklists import nobreak_phone

    phone = nobreak_phone("(217) 555-0142")
    assert " " not in phone and "-" not in phone
    assert phone.replace("\u00a0", " ").replace("\u2011", "-") == "(217) 555-0142"


def test_the_huddle_pack_has_the_letterhead_dollars_and_unbroken_rows(tmp_path):
    from docx import Document
    from docx.oxml.ns import qn

    from toolkit.huddle import huddle_facts
    from toolkit.word.huddle_pack import render_huddle_pack

    denials = pd.DataFrame({
        "Denial ID": ["D-1", "D-2", "D-3"], "Denial Date": pd.to_datetime(["2026-10-05", "2026-10-06", "2026-11-02"]),
        "CARC": ["4", "4", "50"], "Root Cause": ["LATERALITY_MISSING", "LATERALITY_MISSING", "DX_NOT_COVERED"],
        "Category": ["coding", "coding", "medical necessity"], "Denied Amount": [1234.5, 100.0, 780.0],
        "Status": ["Open", "Open", "Paid"], "Owner": ["", "Luis Ortega", "Dana Whitfield"],
        "Appeal Deadline": pd.to_datetime(["2027-02-02", "2027-02-03", "2027-03-01"]),
    })
    rules = pd.DataFrame(columns=["Payer", "CPT/HCPCS", "Policy", "Description", "Effective From", "Effective To"])
    facts = huddle_facts(rules, denials, "2026Q4", tips={}, as_of=dt.date(2027, 1, 4))
    path = render_huddle_pack(facts, tmp_path / "pack.docx", practice="Riverside Spine & Joint",
                              letterhead=["1200 River Road, Springfield, IL 62704", "Phone (217)\u00a0555\u20110142"])
    doc = Document(str(path))
    header = "\n".join(p.text for p in doc.sections[0].first_page_header.paragraphs)
    assert "Riverside Spine & Joint" in header and "1200 River Road" in header
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "$1,334.50" in cells and "LATERALITY_MISSING" in cells  # the code once, money with $
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for t in doc.tables for r in t.rows)
    root_col = doc.tables[0].columns[0].width
    assert root_col.cm >= 5.0  # wide enough for LATERALITY_MISSING on one line
