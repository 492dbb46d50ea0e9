"""837P batches: read into Claims rows, validated directly, split into READY and HELD files.

The fixture ``riverside_batch.837`` is a made-up 005010X222A1 batch with current codes that
pyx12 (the independent checker) accepts without an error: two claims for one Medicare
subscriber, a dependent patient under a commercial subscriber (loop 2000C) whose claim carries
``M54.5`` (a category since FY2022: RED), and a second Medicare subscriber.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.claims.scrub import subset_text
from toolkit.claims.x12_837 import is_837_file, read_837, read_claims_837
from toolkit.errors import InputError
from toolkit.jobs.claims import scrub_file
from toolkit.tables import CLAIMS, PAYERS, RULES
from toolkit.workbook.files import read_table

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "x12_837p" / "riverside_batch.837"
SAMPLE = REPO / "workbooks" / "sample"
SHARED_837 = REPO.parent / "shared" / "data" / "x12_837p"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture()
def payers_csv(tmp_path) -> Path:
    path = tmp_path / "payers.csv"
    path.write_text("Payer,Payer Type,Timely Filing Days,Appeal Window Days,Payer ID,Also Known As\n"
                    "Medicare,Medicare,365,120,00952,\n"
                    "Acme Health PPO,Commercial,90,180,,ACME HEALTH; Acme PPO\n", encoding="utf-8")
    return path


def _variant(tmp_path, name: str, *replacements: tuple[str, str]) -> Path:
    text = FIXTURE.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def _row(frame, claim: str, line: int = 1):
    hit = frame[(frame["Claim ID"] == claim) & (frame["Line"] == line)]
    assert len(hit) == 1
    return hit.iloc[0]


def pyx12_errors(path: Path) -> list[str]:
    """Every error pyx12 reports on the file (its 837P map for 005010X222A1), flattened."""
    import pyx12.params
    import pyx12.x12n_document

    out = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), io.StringIO(), None, None, fd_json=out)
    errors: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "errors":
                    errors.extend(json.dumps(e) for e in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(out.getvalue() or "{}"))
    if not ok and not errors:
        errors.append("pyx12 rejected the file")
    return errors


# ---------------------------------------------------------------- the reader

def test_each_service_line_becomes_a_row_with_the_pointed_diagnoses_first():
    claims = read_claims_837(FIXTURE)
    assert list(claims.columns[:len(CLAIMS.headers)]) == CLAIMS.headers
    assert len(claims) == 5
    first = _row(claims, "A1001", 1)
    assert first["Dx Codes"] == "M25.561, M17.11, I10"  # SV107 2:1, then the claim's other code
    assert (first["CPT/HCPCS"], first["Modifiers"], first["Units"], first["Charge"]) == ("20610", "RT", 1.0, 150.0)
    assert _row(claims, "A1001", 2)["Dx Codes"] == "M17.11, M25.561, I10"
    assert first["Date of Service"] == dt.date(2026, 10, 12)


def test_four_modifiers_units_and_the_claims_prior_auth_are_read_from_sv1_and_ref_g1():
    line = _row(read_claims_837(FIXTURE), "A1002")
    assert (line["Modifiers"], line["Units"], line["Prior Auth Number"]) == ("GP, KX, 59, RT", 4.0, "AUTH5512")


def test_two_claims_of_one_subscriber_share_the_subscribers_member_id_and_birth_date():
    claims = read_claims_837(FIXTURE)
    a, b = _row(claims, "A1001"), _row(claims, "A1002")
    assert a["Patient ID"] == b["Patient ID"] == "1EG4TE5MK72"
    assert a["Date of Birth"] == b["Date of Birth"] == dt.date(1950, 3, 14)
    assert a["Patient Name"] == "DOE, JANE" and a["Sex"] == "F"


def test_a_dependent_in_the_patient_loop_gets_their_own_name_and_birth_date_and_the_subscribers_id():
    line = _row(read_claims_837(FIXTURE), "A1003")
    assert (line["Patient Name"], line["Date of Birth"], line["Sex"]) == ("ROE, SAM", dt.date(2010, 6, 1), "M")
    assert line["Patient ID"] == "ACM889900"  # 5010 NM1*QC carries no ID: the subscriber's member ID


def test_a_patient_id_in_the_patient_loop_wins_over_the_subscribers(tmp_path):
    path = _variant(tmp_path, "qc.837", ("NM1*QC*1*ROE*SAM~", "NM1*QC*1*ROE*SAM****MI*PT0042~"))
    assert _row(read_claims_837(path), "A1003")["Patient ID"] == "PT0042"


def test_a_claim_level_date_serves_the_lines_without_their_own(tmp_path):
    path = _variant(tmp_path, "dates.837",
                    ("HI*ABK:J020~", "DTP*472*D8*20261019~\nHI*ABK:J020~"),
                    ("SV1*HC:99213*95*UN*1***1~\nDTP*472*D8*20261021~", "SV1*HC:99213*95*UN*1***1~"))
    claims = read_claims_837(path)
    assert _row(claims, "A1004")["Date of Service"] == dt.date(2026, 10, 19)
    assert _row(claims, "A1001")["Date of Service"] == dt.date(2026, 10, 12)


def test_the_rendering_provider_is_the_claims_nm1_82_else_the_billing_provider():
    claims = read_claims_837(FIXTURE)
    assert _row(claims, "A1001")["Rendering Provider"] == "ANA RIVERA (NPI 1558444216)"
    assert _row(claims, "A1003")["Rendering Provider"] == "RIVERSIDE ORTHOPEDICS (NPI 1234567893)"


def test_payers_are_mapped_by_payer_id_or_also_known_as_else_the_file_name_is_kept(payers_csv):
    payers = read_table(payers_csv, PAYERS)
    claims = read_claims_837(FIXTURE, payers=payers)
    assert _row(claims, "A1001")["Payer"] == "Medicare"  # PI 00952 = Payer ID
    assert _row(claims, "A1003")["Payer"] == "Acme Health PPO"  # ACME HEALTH = Also Known As
    assert _row(read_claims_837(FIXTURE), "A1001")["Payer"] == "MEDICARE PART B"


def test_837_files_are_told_apart_by_suffix_or_an_isa_at_the_start(tmp_path):
    txt = tmp_path / "batch.txt"
    txt.write_text(FIXTURE.read_text())
    csv = tmp_path / "claims.txt"
    csv.write_text("Claim ID,Line\n1,1\n")
    assert is_837_file(FIXTURE) and is_837_file(txt) and not is_837_file(csv)


# ---------------------------------------------------------------- bad input: one line each

@pytest.mark.parametrize("name, replacements, says", [
    ("v4010.837", [("*00501*", "*00401*")], "segment 1 (ISA): a 4010 file"),
    ("institutional.837", [("005010X222A1", "005010X223A2")], "segment 2 (GS): an 837I institutional claim"),
    ("dental.837", [("005010X222A1", "005010X224A2")], "segment 2 (GS): an 837D dental claim"),
    ("separators.837", [("SV1*HC:99213*95", "SV1*HC>99213*95")], "(SV1): SV101 is not split by the component"),
    ("remittance.837", [("GS*HC*", "GS*HP*")], "is not HC (health care claims)"),
])
def test_a_file_mednec_cannot_read_is_refused_in_one_line_naming_file_and_segment(tmp_path, name, replacements, says):
    path = _variant(tmp_path, name, *replacements)
    with pytest.raises(InputError) as exc:
        read_837(path)
    message = str(exc.value)
    assert message.startswith(f"{name}: segment ") and says in message and "\n" not in message
    assert "DOE" not in message and "JANE" not in message


def test_a_truncated_batch_is_refused_and_scrub_writes_nothing(tmp_path, payers_csv):
    text = FIXTURE.read_text()
    path = tmp_path / "cut.837"
    path.write_text(text[: text.index("CLM*A1004")])
    with pytest.raises(InputError, match=r"cut\.837: segment \d+ \(\w+\): the file ends inside a transaction"):
        scrub_file(path, tmp_path / "R.837", tmp_path / "H.837", rules=read_table(SAMPLE / "rules.csv", RULES),
                   payers=read_table(payers_csv, PAYERS), as_of=AS_OF)
    assert not (tmp_path / "R.837").exists() and not (tmp_path / "H.837").exists()


def test_an_unknown_segment_is_noted_and_passed_through_to_the_output(tmp_path):
    path = _variant(tmp_path, "unknown.837", ("HI*ABK:J020~", "HI*ABK:J020~\nZZZ*SOMETHING*ELSE~"))
    batch = read_837(path)
    assert any("(ZZZ)" in n and "kept as received" in n for n in batch.notes)
    text, _ = subset_text(batch, set(range(len(batch.claims))))
    assert "ZZZ*SOMETHING*ELSE~" in text


# ---------------------------------------------------------------- scrub

def _scrub(tmp_path, payers_csv, path=FIXTURE, **kw):
    return scrub_file(path, tmp_path / "READY.837", tmp_path / "HELD.837",
                      rules=read_table(SAMPLE / "rules.csv", RULES), payers=read_table(payers_csv, PAYERS),
                      as_of=AS_OF, **kw)


def test_scrub_holds_the_claim_with_a_red_line_and_readies_the_others(tmp_path, payers_csv):
    summary = _scrub(tmp_path, payers_csv)
    ready, held = read_claims_837(tmp_path / "READY.837"), read_claims_837(tmp_path / "HELD.837")
    assert sorted(set(ready["Claim ID"])) == ["A1001", "A1002", "A1004"]
    assert sorted(set(held["Claim ID"])) == ["A1003"]
    text = str(summary)
    assert "Held       1 claims  $      180.00" in text and "DX_NOT_BILLABLE" in text
    assert "ROE" not in text and "ACM889900" not in text  # no patient data in the summary


def test_both_scrub_outputs_pass_pyx12_with_zero_errors(tmp_path, payers_csv):
    _scrub(tmp_path, payers_csv)
    assert pyx12_errors(FIXTURE) == []
    assert pyx12_errors(tmp_path / "READY.837") == []
    assert pyx12_errors(tmp_path / "HELD.837") == []


def test_pyx12_notices_a_wrong_segment_count_so_the_check_above_can_fail(tmp_path):
    bad = _variant(tmp_path, "badcount.837", ("SE*67*0001", "SE*66*0001"))
    assert pyx12_errors(bad)


def test_ready_keeps_every_segment_as_received_except_envelopes_counts_and_hl_numbers(tmp_path, payers_csv):
    _scrub(tmp_path, payers_csv)
    received = FIXTURE.read_text().split("~\n")
    ready = (tmp_path / "READY.837").read_text().split("~\n")
    recomputed = ("SE*", "HL*", "GE*", "IEA*")
    start, end = received.index("HL*3*1*22*1"), received.index("HL*5*1*22*0")  # the held subscriber's loops
    assert [s for s in ready if not s.startswith(recomputed)] == \
        [s for s in received[:start] + received[end:] if not s.startswith(recomputed)]
    assert "HL*3*1*22*0" in ready and "HL*5*1*22*0" not in ready  # numbering closed over the held subscriber
    assert ready[0] == received[0]  # READY keeps the batch's ISA and control number
    held = (tmp_path / "HELD.837").read_text().split("~\n")
    assert held[0][-12:-3] != received[0][-12:-3]  # HELD gets its own ISA13
    assert held[-2] == f"IEA*1*{held[0].split('*')[13]}"


def test_scrub_of_a_batch_with_nothing_red_writes_no_held_file_and_says_so(tmp_path, payers_csv):
    path = _variant(tmp_path, "clean.837", ("HI*ABK:M545~", "HI*ABK:M5450~"))
    summary = _scrub(tmp_path, payers_csv, path=path)
    assert not (tmp_path / "HELD.837").exists() and summary.ready_claims == 4
    assert "none held" in str(summary)
    assert (tmp_path / "READY.837").read_bytes() == path.read_bytes()  # all ready: the batch as received


def test_scrub_command_writes_both_files_and_a_report(tmp_path, payers_csv):
    report = tmp_path / "scrub.csv"
    done = subprocess.run([sys.executable, "-m", "toolkit", "scrub", str(FIXTURE), "--ready", str(tmp_path / "R.837"),
                           "--held", str(tmp_path / "H.837"), "--rules", str(SAMPLE / "rules.csv"), "--payers",
                           str(payers_csv), "--report", str(report), "--as-of", "2026-11-27"],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "Held       1 claims" in done.stdout
    import pandas as pd

    rows = pd.read_csv(report, dtype=str)
    assert len(rows) == 5
    assert rows.loc[rows["Claim ID"] == "A1003", "Scrub"].tolist() == ["Held"]
    assert set(rows.loc[rows["Claim ID"] != "A1003", "Scrub"]) == {"Ready"}


def test_validate_reads_an_837_batch_one_report_row_per_service_line(tmp_path, payers_csv):
    report = tmp_path / "report.csv"
    done = subprocess.run([sys.executable, "-m", "toolkit", "validate", str(FIXTURE), "--rules",
                           str(SAMPLE / "rules.csv"), "--payers", str(payers_csv), "--report", str(report),
                           "--as-of", "2026-11-27"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    import pandas as pd

    frame = pd.read_csv(report, dtype=str)
    assert list(zip(frame["Claim ID"], frame["Line"])) == [("A1001", "1"), ("A1001", "2"), ("A1002", "1"),
                                                           ("A1003", "1"), ("A1004", "1")]
    assert frame.loc[frame["Claim ID"] == "A1003", "Status"].tolist() == ["RED"]
    assert "PAYER_UNKNOWN" not in " ".join(frame["Finding Codes"].fillna(""))


# ---------------------------------------------------------------- import into the workbook

@pytest.fixture()
def workbook(tmp_path) -> Path:
    from toolkit.workbook.build import build_workbook

    return build_workbook(tmp_path / "book.xlsm")


def test_import_adds_every_line_then_a_reimport_adds_nothing(workbook):
    from toolkit.jobs.claims import import_837_files
    from toolkit.workbook.files import WorkbookFile

    before = len(read_table(workbook, CLAIMS))
    first = import_837_files(WorkbookFile(workbook), [FIXTURE])
    assert (first.added, first.claims, first.lines) == (5, 4, 5)
    again = import_837_files(WorkbookFile(workbook), [FIXTURE])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    claims = read_table(workbook, CLAIMS)
    assert len(claims) == before + 5
    assert "Charge" in claims.columns


def test_reimport_updates_imported_columns_and_keeps_what_the_biller_typed(workbook, tmp_path):
    import pandas as pd

    from toolkit.jobs.claims import import_837_files
    from toolkit.workbook.files import WorkbookFile

    import_837_files(WorkbookFile(workbook), [FIXTURE])
    book = WorkbookFile(workbook)
    claims = book.read_table(CLAIMS)
    row = claims.index[(claims["Claim ID"] == "A1002")][0]
    book.write_columns(CLAIMS, pd.DataFrame({"Therapy Weeks": [6], "Therapy Notes": ["PT 6 weeks"]}, index=[row]))
    book.save()
    corrected = _variant(tmp_path, "corrected.837", ("HI*ABK:M25561~", "HI*ABK:M25562~"),
                         ("REF*G1*AUTH5512~", ""))
    summary = import_837_files(WorkbookFile(workbook), [corrected])
    assert (summary.added, summary.updated) == (0, 1)
    after = read_table(workbook, CLAIMS).loc[row]
    assert after["Dx Codes"] == "M25.562"  # imported column: updated from the file
    assert after["Prior Auth Number"] == "AUTH5512"  # a blank in the file never blanks a filled cell
    assert after["Therapy Notes"] == "PT 6 weeks" and float(after["Therapy Weeks"]) == 6


def test_reimport_never_replaces_a_payer_with_a_name_payers_does_not_know(workbook, tmp_path):
    import pandas as pd

    from toolkit.jobs.claims import import_837_files
    from toolkit.workbook.files import WorkbookFile

    # A payer the sample Payers knows by neither name, alias nor payer ID.
    batch = _variant(tmp_path, "unknown_payer.837", ("NM1*PR*2*MEDICARE PART B*****PI*00952~",
                                                     "NM1*PR*2*NORTHWIND MUTUAL*****PI*99999~"))
    import_837_files(WorkbookFile(workbook), [batch])
    book = WorkbookFile(workbook)
    claims = book.read_table(CLAIMS)
    rows = list(claims.index[claims["Claim ID"] == "A1004"])
    assert claims.loc[rows, "Payer"].tolist() == ["NORTHWIND MUTUAL"]
    book.write_columns(CLAIMS, pd.DataFrame({"Payer": ["Medicare"]}, index=rows))  # the biller maps it
    book.save()
    import_837_files(WorkbookFile(workbook), [batch])
    assert read_table(workbook, CLAIMS).loc[rows, "Payer"].tolist() == ["Medicare"]


def test_a_refused_file_is_named_and_the_other_files_are_still_imported(workbook, tmp_path):
    bad = _variant(tmp_path, "old.837", ("*00501*", "*00401*"))
    done = subprocess.run([sys.executable, "-m", "toolkit", "claims", "import-837", str(bad), str(FIXTURE),
                           "--workbook", str(workbook)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Refused: old.837: segment 1 (ISA): a 4010 file (ISA12 00401): mednec reads 5010 837P files "
        "(005010X222A1); export the batch again in 5010"]
    assert "5 claim lines added from 2 files" in done.stdout


def test_the_import_button_runs_the_same_job(workbook, monkeypatch, capsys):
    from toolkit.excel import entry

    monkeypatch.setenv(entry.CALLER_FILE_ENV, str(workbook))
    entry.import_837([str(FIXTURE)])
    assert "5 claim lines added from 1 file" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        entry.import_837([])
    assert str(exc.value.code) == "Import 837 Files could not finish: no 837 file was chosen"


# ---------------------------------------------------------------- public samples

shared_samples = sorted(SHARED_837.glob("*")) if SHARED_837.is_dir() else []


@pytest.mark.skipif(not shared_samples, reason="../shared/data/x12_837p is not here")
@pytest.mark.parametrize("path", shared_samples, ids=lambda p: p.name)
def test_every_public_sample_imports_or_is_refused_in_one_line(path, tmp_path):
    try:
        batch = read_837(path)
    except InputError as exc:
        assert str(exc).startswith(f"{path.name}: segment ") and "\n" not in str(exc)
        return
    assert batch.rows and all(r["Claim ID"] for r in batch.rows)
    whole, n = subset_text(batch, set(range(len(batch.claims))))
    assert n == len(batch.claims)
    assert whole == path.read_bytes().decode(batch.encoding).lstrip("\ufeff").lstrip()


@pytest.mark.skipif(not (SHARED_837 / "hccinfhir_sample_837_0.txt").exists(), reason="shared sample absent")
def test_a_public_batch_split_in_two_adds_no_pyx12_error_to_those_of_the_batch(tmp_path):
    source = SHARED_837 / "hccinfhir_sample_837_0.txt"
    received = set(pyx12_errors(source))  # its HL numbers start at 63, 49, …: pyx12 says so already
    batch = read_837(source)
    for name, keep, new in (("a.837", {0, 2, 4}, False), ("b.837", {1, 3}, True)):
        text, _ = subset_text(batch, keep, new_numbers=new)
        (tmp_path / name).write_text(text)
        assert set(pyx12_errors(tmp_path / name)) - received == set()


def test_a_batch_wrapped_at_80_characters_or_padded_with_nuls_reads_the_same(tmp_path):
    text = FIXTURE.read_text().replace("\n", "")
    wrapped = tmp_path / "wrapped.837"
    wrapped.write_text("\r\n".join(text[i:i + 80] for i in range(0, len(text), 80)))
    padded = tmp_path / "padded.837"
    padded.write_text(FIXTURE.read_text() + "\x00" * 40 + "\x1a")
    expected = read_claims_837(FIXTURE)
    for path in (wrapped, padded):
        assert read_claims_837(path).equals(expected)


def _two_transactions_two_interchanges(tmp_path) -> Path:
    """The fixture twice in one group (ST 0001/0002), then once more in a second interchange; the
    copies' claim IDs renamed, and only the first copy's A1003 keeps its RED diagnosis."""
    text = FIXTURE.read_text()
    head, rest = text.split("ST*837*0001*005010X222A1~\n", 1)
    body, tail = rest.split("GE*1*4711~\n", 1)
    body2 = ("ST*837*0002*005010X222A1~\n" + body.replace("SE*67*0001", "SE*67*0002")
             .replace("CLM*A1", "CLM*B1").replace("HI*ABK:M545~", "HI*ABK:M5450~"))
    second = (head.replace("000004711", "000004712").replace("*4711*", "*4712*")
              + "ST*837*0001*005010X222A1~\n" + body.replace("CLM*A1", "CLM*C1")
              + "GE*1*4712~\nIEA*1*000004712~\n")
    path = tmp_path / "multi.837"
    path.write_text(head + "ST*837*0001*005010X222A1~\n" + body + body2 + "GE*2*4711~\n" + tail + second)
    return path


def test_a_batch_of_several_transactions_and_interchanges_splits_into_valid_files(tmp_path, payers_csv):
    path = _two_transactions_two_interchanges(tmp_path)
    assert pyx12_errors(path) == []
    summary = _scrub(tmp_path, payers_csv, path=path)
    assert (summary.claims, summary.ready_claims, len(summary.held)) == (12, 10, 2)
    held = (tmp_path / "HELD.837").read_text()
    assert held.count("ISA*") == 2 and held.count("ST*837*") == 2 and "ST*837*0002" not in held
    for out in ("READY.837", "HELD.837"):
        assert pyx12_errors(tmp_path / out) == []
    assert sorted(set(read_claims_837(tmp_path / "HELD.837")["Claim ID"])) == ["A1003", "C1003"]


def test_a_subscriber_who_keeps_claims_but_loses_the_held_dependent_gets_hl04_zero(tmp_path, payers_csv):
    dependent = ("HL*3*2*23*0~\nPAT*19~\nNM1*QC*1*DOE*JOHN~\nN3*10 ELM STREET~\nN4*SPRINGFIELD*IL*627010000~\n"
                 "DMG*D8*20120101*M~\nCLM*A1005*180***11:B:1*Y*A*Y*Y~\nHI*ABK:M545~\nLX*1~\n"
                 "SV1*HC:72100*180*UN*1***1~\nDTP*472*D8*20261020~\n")
    path = _variant(tmp_path, "family.837", ("HL*2*1*22*0~", "HL*2*1*22*1~"),
                    ("HL*5*1*22*0~", "HL*6*1*22*0~"), ("HL*4*3*23*0~", "HL*5*4*23*0~"),
                    ("HL*3*1*22*1~", dependent + "HL*4*1*22*1~"), ("SE*67*0001", "SE*78*0001"))
    assert pyx12_errors(path) == []
    _scrub(tmp_path, payers_csv, path=path)
    ready = (tmp_path / "READY.837").read_text()
    assert "HL*2*1*22*0~" in ready and "HL*3*1*22*0~" in ready  # no child left; the Medicare subscriber renumbered
    assert pyx12_errors(tmp_path / "READY.837") == [] and pyx12_errors(tmp_path / "HELD.837") == []
    assert sorted(set(read_claims_837(tmp_path / "HELD.837")["Claim ID"])) == ["A1003", "A1005"]
