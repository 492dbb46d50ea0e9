"""The quarterly policy-huddle pack as a .docx (python-docx), from ``toolkit.huddle`` facts.

Built with python-docx's own API rather than a template: the pack is a generated report of
tables whose row count changes every quarter, not a letter the practice restyles.  It carries
the practice's letterhead like the letters, sizes its columns to what they hold (codes narrow,
corrective actions wide), shows money with "$", and never splits a table row across pages.
"""

from __future__ import annotations

from pathlib import Path

from ..huddle import HuddleFacts, RuleChange

ACCENT = (0x1F, 0x3A, 0x5F)


def _date(d) -> str:
    return f"{d:%b %d, %Y}" if d else "open"


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _row_keeps_together(row, *, header: bool = False) -> None:
    """``cantSplit`` (a row never breaks across pages) and, for the header, ``tblHeader``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit",) + (("w:tblHeader",) if header else ()):
        el = OxmlElement(tag)
        el.set(qn("w:val"), "true")
        tr_pr.append(el)


def _table(doc, headers: list[str], rows: list[list], widths_cm: list[float], *, right: tuple[int, ...] = ()):
    """A grid table with a shaded, repeated header row; ``right`` = columns aligned right (numbers)."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        shade = OxmlElement("w:shd")
        shade.set(qn("w:val"), "clear")
        shade.set(qn("w:fill"), "DDEBF7")
        cell._tc.get_or_add_tcPr().append(shade)
    _row_keeps_together(table.rows[0], header=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = str(text)
        _row_keeps_together(table.rows[-1])
    for r in table.rows:
        for i, cell in enumerate(r.cells):
            cell.width = Cm(widths_cm[i])
            for p in cell.paragraphs:
                p.paragraph_format.space_after = Pt(2)
                if i in right:
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for i, w in enumerate(widths_cm):
        table.columns[i].width = Cm(w)
    return table


def _changes(doc, changes: list[RuleChange], empty: str) -> None:
    if not changes:
        doc.add_paragraph(empty)
        return
    _table(doc, ["Payer", "CPT/HCPCS", "Policy", "Change", "Effective From", "Effective To"],
           [[c.payer, c.cpt, c.policy, c.change, _date(c.effective_from), _date(c.effective_to)] for c in changes],
           [3.2, 2.0, 4.8, 2.2, 2.5, 2.3])


def _suggestions(doc, facts: HuddleFacts) -> None:
    """Open rule suggestions from denial clusters: what to change in Rules, and the evidence."""
    doc.add_heading("Rule suggestions from our denials", level=1)
    if not facts.rule_suggestions:
        doc.add_paragraph("No open suggestion: no payer kept denying one code for one reason the Rules miss.")
        return
    _table(doc, ["Payer", "CPT/HCPCS", "Rules column", "Now", "Proposed", "Denials", "Denied $", "Period", "Codes"],
           [[s.payer, s.cpt, s.column, s.current or "(blank)", s.proposed or "see sheet", str(len(s.denial_ids)),
             f"${s.denied_amount:,.2f}", f"{_date(s.first)} to {_date(s.last)}", s.codes]
            for s in facts.rule_suggestions],
           [2.6, 1.6, 2.2, 1.6, 1.6, 1.3, 1.7, 3.0, 1.8], right=(5, 6))
    doc.add_paragraph("Evidence (Denial IDs) is on the Rule Suggestions sheet. Rules are changed only by hand, "
                      "after checking the payer's policy.")


def _letterhead(doc, practice: str, lines: list[str]) -> None:
    """The practice's name and contact lines on the first page, as on the letters."""
    from docx.shared import Pt, RGBColor

    section = doc.sections[0]
    section.different_first_page_header_footer = True
    header = section.first_page_header
    p = header.paragraphs[0]
    run = p.add_run(practice)
    run.bold, run.font.size, run.font.name = True, Pt(15), "Calibri"
    run.font.color.rgb = RGBColor(*ACCENT)
    for line in lines:
        q = header.add_paragraph()
        small = q.add_run(line)
        small.font.size = Pt(9)
        q.paragraph_format.space_after = Pt(0)
    running = section.header.paragraphs[0].add_run(practice)
    running.font.size = Pt(8)


def render_huddle_pack(facts: HuddleFacts, path: Path | str, *, practice: str = "",
                       letterhead: list[str] | tuple[str, ...] = ()) -> Path:
    """Write the pack to ``path`` atomically and return it; ``letterhead``: the practice's address
    and contact lines under its name."""
    from docx import Document
    from docx.shared import Cm, Pt

    from ..workbook.files import atomic_write

    q = facts.quarter
    label = f"Q{q.quarter} {q.year}"
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.59), Cm(27.94)  # US Letter
    section.left_margin = section.right_margin = Cm(2.0)
    doc.styles["Normal"].font.name = "Calibri"  # as the letters: a sans body, codes narrow enough to fit
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.core_properties.title = f"Policy huddle {label}"
    if practice:
        _letterhead(doc, practice, list(letterhead))
    doc.add_heading(f"Policy huddle, {label}", level=0)
    doc.add_paragraph(f"{facts.denials} denial{'s' if facts.denials != 1 else ''} logged in {label}; "
                      f"{facts.appeals_due} appeal{'s' if facts.appeals_due != 1 else ''} due in the next 14 days. "
                      "Counts and codes only: no patient information in this pack.")

    doc.add_heading("Decisions to make", level=1)
    for d in facts.decisions or ["Nothing pressing this quarter: review the top root causes below."]:
        doc.add_paragraph(d, style="List Number")

    doc.add_heading(f"Payer rules that changed in {label}", level=1)
    _changes(doc, facts.rule_changes, "No rule in the Rules sheet starts or ends this quarter.")
    nq = q + 1
    doc.add_heading(f"Coming up in Q{nq.quarter} {nq.year}", level=1)
    _changes(doc, facts.upcoming_changes, "No rule in the Rules sheet starts or ends next quarter.")

    doc.add_heading("Top root causes", level=1)
    if facts.top_root_causes:
        _table(doc, ["Root cause", "Denials", "Denied", "Corrective action"],
               [[c.named, c.count, _money(c.denied_amount), c.corrective_action] for c in facts.top_root_causes],
               [5.4, 2.0, 2.4, 7.8], right=(1, 2))
    else:
        doc.add_paragraph("No denials this quarter.")

    _suggestions(doc, facts)

    doc.add_heading("Open denials by owner", level=1)
    if facts.open_by_owner:
        _table(doc, ["Owner", "Open denials"], [[o, n] for o, n in facts.open_by_owner], [6.0, 3.6], right=(1,))
    else:
        doc.add_paragraph("No open denials.")
    return atomic_write(Path(path), doc.save)
