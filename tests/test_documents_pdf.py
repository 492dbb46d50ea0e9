"""LibreOffice, an independent reader, opens each kind of document and prints it to PDF."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import uuid

import pytest
from docs_workbook import make_workbook

from toolkit.jobs.documents import appeal_letter, build_checklists, prior_auth_requests, soap_templates
from toolkit.workbook.files import WorkbookFile

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(not SOFFICE, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_every_kind_of_document_to_pdf(tmp_path):
    book = WorkbookFile(make_workbook(tmp_path / "wb.xlsx"), writable=False)
    today = dt.date(2026, 4, 1)
    out = tmp_path / "docs"
    docs = [appeal_letter(book, "D-000001", out, today=today),
            build_checklists(book, out, cpt="29881", today=today)[0],
            prior_auth_requests(book, out, today=today)[0],
            soap_templates(book, out, today=today)[0]]
    profile = f"file:///tmp/lo-docs-{uuid.uuid4().hex}"
    try:
        subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(tmp_path / "pdf"), *map(str, docs)],
                       check=True, capture_output=True, timeout=180)
    finally:
        shutil.rmtree(profile.removeprefix("file://"), ignore_errors=True)
    expected = {
        "appeal_D-000001_claim_C1001-1": "Request for Redetermination",
        "checklist_Acme-Health-Plan_29881": "Medical-necessity checklist",
        "prior_auth_claim_C1003-2": "Request for prior authorization",
        "soap_note_29881": "SOAP note: 29881",
    }
    for stem, heading in expected.items():
        pdf = tmp_path / "pdf" / f"{stem}.pdf"
        assert pdf.read_bytes()[:5] == b"%PDF-", stem
        if stem.startswith("checklist"):  # print-ready: one page where it fits
            assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes())) == 1
        if shutil.which("pdftotext"):  # poppler, when present, reads the text back
            text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                                  check=True).stdout
            assert heading in text and "{{" not in text, stem
