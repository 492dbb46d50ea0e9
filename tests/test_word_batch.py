"""Letters from a template prepared once per batch read exactly like letters docxtpl renders one
by one: every paragraph, table cell, header and footer, for every kind of document."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from docs_workbook import make_workbook
from test_documents_appeal import docx_text

from toolkit.jobs.documents import appeal_letters_all_open, build_checklists, prior_auth_requests, soap_templates
from toolkit.word.render import Renderer, TemplateProblem, template_path
from toolkit.workbook.files import WorkbookFile

TODAY = dt.date(2026, 4, 1)
JOBS = {
    "appeal_letter": lambda book, out: appeal_letters_all_open(book, out, today=TODAY),
    "necessity_checklist": lambda book, out: build_checklists(book, out, today=TODAY),
    "prior_auth_request": lambda book, out: prior_auth_requests(book, out, today=TODAY),
    "soap_note": lambda book, out: soap_templates(book, out, today=TODAY),
}


@pytest.mark.parametrize("kind", sorted(JOBS))
def test_a_batch_of_documents_reads_the_same_as_docxtpl_letter_by_letter(kind, tmp_path, monkeypatch):
    book = WorkbookFile(make_workbook(tmp_path / "wb.xlsx"), writable=False)
    batch = JOBS[kind](book, tmp_path / "batch")
    assert batch, "the job wrote nothing to compare"
    monkeypatch.setattr(Renderer, "render", Renderer.render_docxtpl)
    one_by_one = JOBS[kind](book, tmp_path / "docxtpl")
    assert [p.name for p in batch] == [p.name for p in one_by_one]
    for new, old in zip(batch, one_by_one):
        assert docx_text(new) == docx_text(old), new.name
        with zipfile.ZipFile(new) as z:
            assert z.testzip() is None
            assert "{{" not in z.read("word/document.xml").decode()


def test_the_template_is_taken_apart_once_for_the_whole_batch(tmp_path, monkeypatch):
    from toolkit.word import render

    calls = []
    original = render._Prepared.of.__func__

    def counted(cls, data, env):
        calls.append(1)
        return original(cls, data, env)

    monkeypatch.setattr(render._Prepared, "of", classmethod(counted))
    book = WorkbookFile(make_workbook(tmp_path / "wb.xlsx"), writable=False)
    letters = appeal_letters_all_open(book, tmp_path / "out", today=TODAY)
    assert len(letters) > 1 and len(calls) == 1


def _template_with(tmp_path: Path, part: str, old: bytes, new: bytes) -> Path:
    src = template_path("appeal_letter")
    out = tmp_path / "appeal_letter.docx"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == part:
                assert old in data
                data = data.replace(old, new, 1)
            w.writestr(info, data)
    return out


def test_a_placeholder_in_the_document_properties_is_left_to_docxtpl(tmp_path):
    path = _template_with(tmp_path, "docProps/core.xml", b"</cp:coreProperties>",
                          b"<dc:subject>{{ practice.name }}</dc:subject></cp:coreProperties>")
    renderer = Renderer(path)
    with pytest.raises(TemplateProblem, match=r"cannot be filled"):
        renderer.render({})
    assert renderer._tried and renderer._prepared is None  # docxtpl renders this template, letter by letter


def test_a_mistyped_placeholder_is_named_on_the_batch_path_too(tmp_path):
    path = _template_with(tmp_path, "word/document.xml", b"{{", b"{{ payer.nmae }}{{")
    with pytest.raises(TemplateProblem, match=r"\{\{ payer\.nmae \}\}"):
        Renderer(path).render({"payer": {"name": "Acme"}})
