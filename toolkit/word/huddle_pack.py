"""The quarterly policy-huddle pack as a .docx (python-docx), from ``toolkit.huddle`` facts.

Built with python-docx's own API rather than a template: the pack is a generated report of
tables whose row count changes every quarter, not a letter the practice restyles.
"""

from __future__ import annotations

from pathlib import Path

from ..huddle import HuddleFacts, RuleChange


def _date(d) -> str:
    return f"{d:%b %d, %Y}" if d else "open"


def _table(doc, headers: list[str], rows: list[list[str]]):
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = str(text)
    return table


def _changes(doc, changes: list[RuleChange], empty: str) -> None:
    if not changes:
        doc.add_paragraph(empty)
        return
    _table(doc, ["Payer", "CPT/HCPCS", "Policy", "Change", "Effective From", "Effective To"],
           [[c.payer, c.cpt, c.policy, c.change, _date(c.effective_from), _date(c.effective_to)] for c in changes])


def _suggestions(doc, facts: HuddleFacts) -> None:
    """Open rule suggestions from denial clusters: what to change in Rules, and the evidence."""
    doc.add_heading("Rule suggestions from our denials", level=1)
    if not facts.rule_suggestions:
        doc.add_paragraph("No open suggestion: no payer kept denying one code for one reason the Rules miss.")
        return
    _table(doc, ["Payer", "CPT/HCPCS", "Rules column", "Now", "Proposed", "Denials", "Denied $", "Period", "Codes"],
           [[s.payer, s.cpt, s.column, s.current or "(blank)", s.proposed or "see sheet", str(len(s.denial_ids)),
             f"{s.denied_amount:,.2f}", f"{_date(s.first)} to {_date(s.last)}", s.codes]
            for s in facts.rule_suggestions])
    doc.add_paragraph("Evidence (Denial IDs) is on the Rule Suggestions sheet. Rules are changed only by hand, "
                      "after checking the payer's policy.")


def render_huddle_pack(facts: HuddleFacts, path: Path | str, *, practice: str = "") -> Path:
    """Write the pack to ``path`` atomically and return it."""
    from docx import Document
    from docx.shared import Pt

    from ..workbook.files import atomic_write

    q = facts.quarter
    label = f"Q{q.quarter} {q.year}"
    doc = Document()
    doc.styles["Normal"].font.size = Pt(11)
    doc.core_properties.title = f"Policy huddle {label}"
    doc.add_heading(f"{practice + ': ' if practice else ''}Policy huddle, {label}", level=0)
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
        _table(doc, ["Root cause", "Denials", "Denied $", "Corrective action"],
               [[f"{c.label} ({c.key})" if c.label != c.key else c.key, c.count, f"{c.denied_amount:,.2f}",
                 c.corrective_action] for c in facts.top_root_causes])
    else:
        doc.add_paragraph("No denials this quarter.")

    _suggestions(doc, facts)

    doc.add_heading("Open denials by owner", level=1)
    if facts.open_by_owner:
        _table(doc, ["Owner", "Open denials"], [[o, n] for o, n in facts.open_by_owner])
    else:
        doc.add_paragraph("No open denials.")
    return atomic_write(Path(path), doc.save)
