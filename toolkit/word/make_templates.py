"""Build the four Word templates a practice can open, restyle and keep generating from.

Run ``python -m toolkit.word.make_templates`` after changing a template here: it writes
``word_templates/*.docx`` (the copies a practice looks at) and the identical copies packaged in
``toolkit/word/templates/`` (what ``pip install`` ships).

Why generated rather than hand-drawn in Word: reproducible, reviewable in a diff, and every
placeholder is written as one run (python-docx ``add_run``) so Word's habit of splitting text into
runs cannot break a ``{{ … }}`` tag.  Only Word's built-in styles are used (Normal, Title,
Heading 2, List Bullet, Table Grid), so restyling the styles in Word restyles every letter.

Placeholders are docxtpl/Jinja: ``{{ practice.name }}``; ``{%p for … %}`` repeats a paragraph,
``{%tr for … %}`` a table row.  The names available in each template are listed in
``toolkit/word/README`` (the docstrings of ``toolkit.appeals`` and ``toolkit.checklists``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

PACKAGE_DIR = Path(__file__).with_name("templates")
REPO_DIR = Path(__file__).resolve().parents[2] / "word_templates"


# ---------------------------------------------------------------- small builders

def _base(landscape: bool = False) -> DocxDocument:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(4)
    for name, size in (("Title", 16), ("Heading 2", 12)):
        style = doc.styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    doc.styles["Heading 2"].paragraph_format.space_before = Pt(10)
    doc.styles["Heading 2"].paragraph_format.space_after = Pt(3)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.59), Cm(27.94)  # US Letter
    section.left_margin = section.right_margin = Cm(2.3)
    section.top_margin, section.bottom_margin = Cm(1.6), Cm(1.8)
    section.header_distance = Cm(0.8)
    core = doc.core_properties
    core.author, core.title = "mednec", ""
    _slim(doc)
    return doc


KEEP_STYLES = {"Normal", "Default Paragraph Font", "Normal Table", "No List", "Title", "Subtitle", "Heading 1",
               "Heading 2", "Heading 3", "List Bullet", "List Number", "List Paragraph", "Table Grid", "Header",
               "Footer", "Strong", "Emphasis", "Quote", "Hyperlink", "Balloon Text"}


def _slim(doc) -> None:
    """Drop what python-docx's stock template carries and a letter never uses: 160 unused
    styles, the latent-style table, the Word 2010 styles copy, the sample thumbnail.  The
    styles part shrinks from 350 KB to a few KB, which is most of the time a letter takes to
    render (every letter re-reads and re-writes it).  Word adds any style back when it is used."""
    keep = KEEP_STYLES | {f"{k} Char" for k in KEEP_STYLES}
    for style in list(doc.styles):
        if style.name not in keep:
            style.delete()
    latent = doc.styles.element.find(qn("w:latentStyles"))
    if latent is not None:
        doc.styles.element.remove(latent)
    for rel_id, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith(("/stylesWithEffects", "/customXml")):
            doc.part.drop_rel(rel_id)
    package = doc.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            package.rels.pop(rel_id)


def para(doc_or_cell, *runs, style=None, bold=False, size=None, align=None, space_after=None):
    """One paragraph; each item of ``runs`` becomes one run (a placeholder never spans two)."""
    p = doc_or_cell.add_paragraph(style=style)
    for text in runs:
        r_bold = bold
        if isinstance(text, tuple):  # ("text", True) = bold run
            text, r_bold = text
        run = p.add_run(text)
        run.bold = r_bold or None
        if size:
            run.font.size = Pt(size)
    if align:
        p.alignment = align
    if space_after is not None:
        p.paragraph_format.space_after = Pt(space_after)
    return p


def loop(doc, start: str, *body, end: str = "{%p endfor %}", style=None, space_after=None):
    """A repeated paragraph: ``{%p for … %}``, the body paragraph(s), ``{%p endfor %}``."""
    para(doc, start)
    for runs in body:
        para(doc, *runs, style=style, space_after=space_after)
    para(doc, end)


def _cell_text(cell, *runs, bold=False, size=None):
    cell.paragraphs[0].text = ""
    p = cell.paragraphs[0]
    for text in runs:
        run = p.add_run(text)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)
    return p


def table(doc, header: list[str], row: list[str], loop_over: str | None, widths: list[float], size=None):
    """A grid table: bold header row, then one row repeated for each item of ``loop_over``."""
    rows = 1 + (3 if loop_over else 1)
    t = doc.add_table(rows=rows, cols=len(header))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, h in enumerate(header):
        _cell_text(t.rows[0].cells[i], h, bold=True, size=size)
    body_row = 1
    if loop_over:
        _cell_text(t.rows[1].cells[0], f"{{%tr for {loop_over} %}}")
        _cell_text(t.rows[3].cells[0], "{%tr endfor %}")
        body_row = 2
    for i, text in enumerate(row):
        _cell_text(t.rows[body_row].cells[i], text, size=size)
    _widths(t, widths)
    _repeat_header(t.rows[0])
    for r in t.rows:
        _cant_split(r)
    return t


def _cant_split(row):
    """A table row never breaks across pages ("and 2 more (see the policy)" alone on the next page)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().insert(0, el)  # schema order: cantSplit before tblHeader


def _widths(t, widths):
    """Column widths in the grid (what LibreOffice reads) and in each cell (what Word reads)."""
    t.autofit = False
    for i, w in enumerate(widths):
        t.columns[i].width = Cm(w)
        for cell in t.columns[i].cells:
            cell.width = Cm(w)


def _repeat_header(row):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def label_table(doc, rows: list[tuple[str, str]], widths=(4.8, 12.0)):
    """Two columns, label and placeholder: the RE block of a letter."""
    t = doc.add_table(rows=len(rows), cols=2)
    for r, (label, value) in zip(t.rows, rows):
        _cell_text(r.cells[0], label, bold=True).paragraph_format.space_after = Pt(1)
        _cell_text(r.cells[1], value).paragraph_format.space_after = Pt(1)
        _cant_split(r)
    _widths(t, widths)
    return t


def letterhead(doc):
    """Practice name and contact lines in the page header (restyle it once in Word)."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    running = section.header.paragraphs[0].add_run("{{ practice.name }}")
    running.font.size = Pt(8)
    header = section.first_page_header
    p = header.paragraphs[0]
    run = p.add_run("{{ practice.name }}")
    run.bold, run.font.size = True, Pt(15)
    run.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    para(header, "{{ practice.address_line }}", size=9, space_after=0)
    para(header, "{{ practice.contact_line }}", size=9, space_after=6)


def footer(doc, text: str):
    section = doc.sections[0]
    for f in (section.footer, section.first_page_footer):
        p = f.paragraphs[0]
        run = p.add_run(text)
        run.font.size = Pt(8)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT


# ---------------------------------------------------------------- the four templates

def date_and_payer_address(doc, unit: str | None = None) -> None:
    """The date, then the payer's name, unit and address, as on any letter to a payer."""
    para(doc, "{{ letter_date }}", space_after=10)
    para(doc, "{{ payer.name }}", space_after=0)
    if unit:
        para(doc, unit, space_after=0)
    loop(doc, "{%p for line in payer.address_lines %}", ["{{ line }}"], space_after=0)
    para(doc, "{{ payer.contact_line }}", size=9, space_after=10)


def criteria_table(doc, subject: str) -> None:
    """The payer's policy, criterion by criterion, against the claim (appeal) or patient (request)."""
    para(doc, "{{ policy.sentence }}").paragraph_format.keep_with_next = True
    table(doc, ["Policy criterion", "The policy requires", subject, "Met"],
          ["{{ c.name }}", "{{ c.required }}", "{{ c.evidence }}", "{{ c.met }}"],
          "c in criteria", [3.4, 5.2, 6.2, 2.0], size=9.5)


def enclosures_and_signature(doc, contact: str) -> None:
    """The end of a letter to a payer: what is enclosed, whom to call, who signs."""
    para(doc, "Enclosures", style="Heading 2")
    loop(doc, "{%p for item in enclosures %}", ["{{ item }}"], style="List Bullet")
    para(doc, contact, space_after=12)
    para(doc, "Sincerely,", space_after=30)
    para(doc, "{{ signer.name }}", space_after=0)
    para(doc, "{{ signer.title }}", space_after=0)
    para(doc, "{{ practice.name }}", space_after=0)


# Headings over the argument of an appeal letter, by kind of denial (``toolkit.appeals.KINDS``);
# a medical-necessity denial, or any kind not listed, keeps "Why the service was medically necessary".
ARGUMENT_HEADINGS = (
    ("authorization", "Why the authorization should be applied"),
    ("timely_filing", "Proof of timely filing"),
    ("duplicate", "Why this is not a duplicate"),
    ("eligibility", "Coverage on the date of service"),
    ("noncovered", "Why the service should be covered"),
    ("bundling", "Why the service is paid separately"),
)


def appeal_letter() -> DocxDocument:
    """One letter for every kind of denial: ``kind`` picks the headings, the data the sentences."""
    doc = _base()
    letterhead(doc)
    footer(doc, "{{ appeal.document }} claim {{ claim.id }}, line {{ claim.line }} · denial {{ denial.id }}")
    date_and_payer_address(doc)
    para(doc, "{{ appeal.title }}", bold=True, size=12, space_after=6)
    label_table(doc, [
        ("Patient", "{{ patient.name }}"),
        ("Date of birth", "{{ patient.dob }}"),
        ("Member ID", "{{ patient.member_id }}"),
        ("Patient account", "{{ patient.account }}"),
        ("Claim number", "{{ claim.id }} (line {{ claim.line }})"),
        ("Date of service", "{{ claim.dos }}"),
        ("Procedure", "{{ claim.procedure }}"),
        ("Billed", "{{ claim.units }} unit{{ '' if claim.units == '1' else 's' }}, {{ claim.billed }}"),
        ("Diagnoses", "{{ claim.diagnoses }}"),
        ("Denial", "{{ denial.id }}, remittance dated {{ denial.date }}"),
    ])
    para(doc, "")
    para(doc, "{{ appeal.salutation }}")
    para(doc, "{{ appeal.opening }}")
    para(doc, "The denial", style="Heading 2")
    para(doc, "{{ denial.quote }}")
    # The heading over the argument follows the kind of denial; edit any of them in Word.
    para(doc, "{%p if argument %}")
    first = True
    for kind, heading in ARGUMENT_HEADINGS:
        para(doc, f'{{%p {"if" if first else "elif"} kind == "{kind}" %}}')
        para(doc, heading, style="Heading 2")
        first = False
    para(doc, "{%p else %}")
    para(doc, "Why the service was medically necessary", style="Heading 2")
    para(doc, "{%p endif %}")
    loop(doc, "{%p for text in argument %}", ["{{ text }}"])
    para(doc, "{%p endif %}")
    para(doc, "{%p if corrections %}")
    para(doc, "What was corrected", style="Heading 2")
    loop(doc, "{%p for item in corrections %}", ["{{ item }}"], style="List Bullet")
    para(doc, "{%p endif %}")
    para(doc, "{%p if criteria %}")  # medical necessity and authorization: the policy, criterion by criterion
    para(doc, "{{ policy.heading }}", style="Heading 2")
    criteria_table(doc, "This claim")
    para(doc, "{%p endif %}")
    para(doc, "Requested action", style="Heading 2")
    para(doc, "{{ appeal.requested_action }}")
    para(doc, '{%p if kind == "correction" %}')
    para(doc, "Reopening or corrected claim, not an appeal", style="Heading 2")
    para(doc, "{%p else %}")
    para(doc, "Appeal level and deadline", style="Heading 2")
    para(doc, "{%p endif %}")
    para(doc, "{{ appeal.level_text }}")
    para(doc, "{{ appeal.deadline_text }}")
    enclosures_and_signature(doc, "{{ appeal.contact_text }}")
    return doc


def necessity_checklist() -> DocxDocument:
    doc = _base()
    letterhead(doc)
    footer(doc, "Checklist {{ rule.payer }} · {{ rule.cpt }} · {{ code_set }} · printed {{ today }}")
    para(doc, "Medical-necessity checklist: {{ rule.payer }} · {{ rule.cpt }}", style="Title")
    para(doc, ("Procedure: ", True), "{{ rule.cpt }} {{ rule.description }}", space_after=0)
    para(doc, ("Policy: ", True), "{{ rule.policy }}", space_after=0)
    para(doc, ("In force: ", True), "{{ rule.effective }}", space_after=6)
    para(doc, "Patient: ____________________   Claim: ______________   Date of service: ___________",
         space_after=6)
    para(doc, "Before you submit, tick each box", style="Heading 2")
    table(doc, ["✓", "Criterion", "What the payer needs"],
          ["☐", "{{ item.name }}", "{{ item.detail }}"], "item in items", [1.0, 5.0, 11.0])
    para(doc, "Diagnoses that support the procedure", style="Heading 2")
    para(doc, "{{ covered_intro }}", size=9.5)
    table(doc, ["Code", "ICD-10-CM description"], ["{{ dx.code }}", "{{ dx.description }}"],
          "dx in covered", [3.2, 13.8], size=9)
    para(doc, "{%p if rule.notes %}")
    para(doc, ("Notes: ", True), "{{ rule.notes }}")
    para(doc, "{%p endif %}")
    para(doc, "")
    para(doc, "Checked by: ____________________   Date: ___________", space_after=0)
    return doc


def prior_auth_request() -> DocxDocument:
    doc = _base()
    letterhead(doc)
    footer(doc, "Prior-authorization request · claim {{ claim.id }}, line {{ claim.line }}")
    date_and_payer_address(doc, unit="Utilization Management / Prior Authorization")
    para(doc, "{{ request.title }}", bold=True, size=12, space_after=6)  # prior or retroactive
    label_table(doc, [
        ("Patient", "{{ patient.name }}"),
        ("Date of birth", "{{ patient.dob }}"),
        ("Member ID", "{{ patient.member_id }}"),
        ("Patient account", "{{ patient.account }}"),
        ("Requested service", "{{ claim.procedure }}"),
        ("Units", "{{ claim.units }}"),
        ("{{ request.date_label }}", "{{ claim.dos }}"),  # "Planned date", or "Date performed"
        ("Diagnoses", "{{ claim.diagnoses }}"),
        ("Rendering provider", "{{ claim.provider }}"),
        ("Ordering practice", "{{ practice.name }} · NPI {{ practice.npi }} · Tax ID {{ practice.tax_id }}"),
        ("Our reference", "Claim {{ claim.id }}, line {{ claim.line }}"),
    ])
    para(doc, "")
    para(doc, "{{ request.opening }}")
    para(doc, "Clinical summary", style="Heading 2")
    loop(doc, "{%p for text in argument %}", ["{{ text }}"])
    para(doc, "Policy criteria", style="Heading 2")
    criteria_table(doc, "This patient")
    enclosures_and_signature(doc, "{{ request.contact_text }}")
    return doc


def soap_note() -> DocxDocument:
    doc = _base()
    letterhead(doc)
    footer(doc, "SOAP note template · {{ procedure.cpt }} · {{ code_set }} · printed {{ today }}")
    para(doc, "SOAP note: {{ procedure.cpt }} {{ procedure.description }}", style="Title")
    para(doc, "Patient: ____________________   DOB: ___________   Date of service: ___________",
         space_after=0)
    para(doc, "Provider: ____________________   Payer: ____________________", space_after=6)
    para(doc, "{{ intro }}", size=9.5)
    for letter, name, key in (("S", "Subjective", "subjective"), ("O", "Objective", "objective"),
                              ("A", "Assessment", "assessment"), ("P", "Plan", "plan")):
        para(doc, f"{letter} — {name}", style="Heading 2")
        loop(doc, f"{{%p for prompt in prompts.{key} %}}", ["☐ ", "{{ prompt }}"])
        para(doc, "_" * 86, space_after=0)
        para(doc, "_" * 86)
    para(doc, "What each payer needs for {{ procedure.cpt }}", style="Heading 2")
    table(doc, ["Payer", "Therapy", "Imaging", "Prior auth", "Side", "Policy"],
          ["{{ p.payer }}", "{{ p.therapy }}", "{{ p.imaging }}", "{{ p.prior_auth }}", "{{ p.laterality }}",
           "{{ p.policy }}"], "p in payers", [3.0, 2.4, 3.2, 2.0, 2.2, 4.2], size=9)
    para(doc, "")
    para(doc, "Diagnoses that support {{ procedure.cpt }}", style="Heading 2")
    table(doc, ["Code", "ICD-10-CM description", "Payers"],
          ["{{ dx.code }}", "{{ dx.description }}", "{{ dx.payers }}"], "dx in covered", [3.0, 9.6, 4.4],
          size=9)
    return doc


BUILDERS = {
    "appeal_letter": appeal_letter,
    "necessity_checklist": necessity_checklist,
    "prior_auth_request": prior_auth_request,
    "soap_note": soap_note,
}


def build(targets: list[Path] | None = None) -> list[Path]:
    """Write every template to the package folder and copy it to each other target folder."""
    targets = targets if targets is not None else [REPO_DIR]
    PACKAGE_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, builder in BUILDERS.items():
        path = PACKAGE_DIR / f"{kind}.docx"
        builder().save(str(path))
        written.append(path)
        for folder in targets:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / path.name)
            written.append(folder / path.name)
    return written


if __name__ == "__main__":
    for p in build():
        print(p)
    sys.exit(0)
