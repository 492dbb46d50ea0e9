"""837P batches in the shapes PM systems and clearinghouses really write.

A corpus of outside 837P files (TR3 examples, library fixtures, generated samples) was run through
``claims import-837``, ``validate`` and ``scrub``; each shape below reproduces what one of them
does, built from our own fixture (``riverside_batch.837``, current codes, made-up people).  Every
variant is read by both readers (the column-wise one may decline, never disagree), and where scrub
applies its output is checked with pyx12.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import batch_variant

from toolkit.claims.scrub import subset_text
from toolkit.claims.x12_837 import claims_frame, is_837_file, read_837
from toolkit.claims.x12_837_fast import read_claims_fast
from toolkit.errors import InputError

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "x12_837p" / "riverside_batch.837"
SAMPLE = REPO / "workbooks" / "sample"
TEXT = FIXTURE.read_text()


_write = batch_variant


def _frame(path: Path) -> pd.DataFrame:
    """The reference reader's rows; the column-wise reader's, when it reads the file, must be equal."""
    reference = claims_frame(read_837(path))
    fast = read_claims_fast(path)
    if fast is not None:
        pd.testing.assert_frame_equal(fast, reference)
    return reference


def _pyx12_new_errors(received: Path, written: Path) -> set[str]:
    from test_claims_837 import pyx12_errors

    return set(pyx12_errors(written)) - set(pyx12_errors(received))


# ---------------------------------------------------------------- shapes read like the fixture

_GROUP = TEXT[TEXT.index("GS*"):TEXT.index("IEA*")]

SAME_ROWS = {
    # separators and line breaks
    "segments one per line with CRLF, no final newline": (lambda t: t.replace("~\n", "~\r\n").rstrip(), []),
    "no final segment terminator": (lambda t: t.rstrip().removesuffix("~"), []),
    "a line break as the segment terminator": (lambda t: t.replace("~\n", "\n"), []),
    "CRLF as the segment terminator": (lambda t: t.replace("~\n", "\r\n"), []),
    "a carriage return after each terminator": (lambda t: t.replace("~\n", "~\r"), []),
    "pipes and line breaks": (lambda t: t.replace("*", "|").replace("~\n", "\n"), []),
    "repetition separator U in ISA11": (lambda t: t, [("*^*00501", "*U*00501")]),
    "component separator ^ with repetition separator {": (lambda t: t.replace(":", "^"), [("*^*00501", "*{*00501")]),
    "indented segments": (lambda t: "\n".join("  " * min(i, 3) + s for i, s in enumerate(t.splitlines())) + "\n", []),
    "empty segments between and after": (lambda t: t, [("LX*2~\n", "LX*2~~\n"), ("IEA*1*000004711~\n",
                                                                                 "IEA*1*000004711~\n~\n")]),
    "trailing element and component separators": (lambda t: t, [
        ("SV1*HC:72100*180*UN*1***1~", "SV1*HC:72100*180*UN*1***1**~"), ("HI*ABK:J020~", "HI*ABK:J020*~"),
        ("SV1*HC:99213:25*", "SV1*HC:99213:25:*")]),
    # segments the reader skips or reads across
    "the claim's diagnoses split over two HI segments": (lambda t: t, [
        ("HI*ABK:M1711*ABF:M25561*ABF:I10~", "HI*ABK:M1711*ABF:M25561~\nHI*ABF:I10~"), ("SE*67", "SE*68")]),
    "an HI of condition codes after the diagnoses": (lambda t: t, [("HI*ABK:J020~", "HI*ABK:J020~\nHI*BG:01~"),
                                                                  ("SE*67", "SE*68")]),
    "K3 and NTE at claim and line": (lambda t: t, [
        ("DTP*472*D8*20261021~", "DTP*472*D8*20261021~\nNTE*ADD*SEEN IN CLINIC~"),
        ("HI*ABK:J020~", "K3*ABC~\nNTE*ADD*CLAIM NOTE~\nHI*ABK:J020~"), ("SE*67", "SE*70")]),
    "a drug line (LIN/CTP with an NDC)": (lambda t: t, [
        ("DTP*472*D8*20261021~", "DTP*472*D8*20261021~\nLIN**N4*00002143380~\nCTP****1*UN~"), ("SE*67", "SE*69")]),
    "an ambulance CR1": (lambda t: t, [("HI*ABK:J020~", "CR1*LB*180*****DH*12~\nHI*ABK:J020~"), ("SE*67", "SE*68")]),
    "a referring provider before the rendering provider": (lambda t: t, [
        ("HI*ABK:J020~\nNM1*82", "HI*ABK:J020~\nNM1*DN*1*WELBY*MARCUS****XX*1003000126~\nNM1*82"), ("SE*67", "SE*68")]),
    "an SV101 description": (lambda t: t, [("SV1*HC:72100*180", "SV1*HC:72100:::::XRAY LUMBAR SPINE*180")]),
    "ICD-10-CM codes sent with their dots": (lambda t: t, [("ABK:M1711*ABF:M25561", "ABK:M17.11*ABF:M25.561")]),
    "counts and control numbers in the trailers wrong": (lambda t: t, [
        ("SE*67*0001", "SE*60*0001"), ("GE*1*4711", "GE*3*4711"), ("IEA*1*000004711", "IEA*2*000004712")]),
}


@pytest.mark.parametrize("shape", list(SAME_ROWS))
def test_a_batch_in_a_real_world_shape_reads_the_same_lines_as_the_plain_batch(tmp_path, shape):
    make, replacements = SAME_ROWS[shape]
    path = _write(tmp_path, "shape.837", make(TEXT), *replacements)
    got, want = _frame(path), _frame(FIXTURE)
    got.attrs, want.attrs = {}, {}
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("shape", ["a line break as the segment terminator", "no final segment terminator",
                                   "indented segments", "trailing element and component separators",
                                   "counts and control numbers in the trailers wrong"])
def test_scrub_of_a_real_world_shape_passes_its_segments_through_and_adds_no_pyx12_error(tmp_path, shape):
    make, replacements = SAME_ROWS[shape]
    path = _write(tmp_path, "shape.837", make(TEXT), *replacements)
    batch = read_837(path)
    whole, written = subset_text(batch, set(range(len(batch.claims))))
    assert written == 4
    raw, _ = batch.raw_segments()
    kept = set(raw[batch.interchanges[0].isa + 3: batch.transactions[0].se])  # BHT … the last line, as received
    assert all(seg in whole for seg in kept)
    out = tmp_path / "held.837"
    text, _ = subset_text(batch, {1, 3}, new_numbers=True)
    out.write_text(text)
    assert _pyx12_new_errors(path, out) == set()
    assert not any("says" in n or "does not match" in n for n in read_837(out).notes)  # our counts are right


def test_wrong_counts_in_a_received_batch_are_noted_read_and_corrected_in_scrub(tmp_path):
    make, replacements = SAME_ROWS["counts and control numbers in the trailers wrong"]
    path = _write(tmp_path, "counts.837", make(TEXT), *replacements)
    batch = read_837(path)
    assert [n.split(": ", 2)[1] for n in batch.notes] == ["segment 69 (SE)", "segment 70 (GE)", "segment 71 (IEA)",
                                                           "segment 71 (IEA)"]
    assert "SE01 says 60, the file has 67 segments" in batch.notes[0]
    text, _ = subset_text(batch, set(range(len(batch.claims))))
    assert text.endswith("SE*67*0001~\nGE*1*4711~\nIEA*1*000004711~\n")


# ---------------------------------------------------------------- fixes from the corpus

def test_lower_case_procedure_modifier_and_diagnosis_codes_are_read_as_the_codes_they_name(tmp_path):
    path = _write(tmp_path, "lower.837", TEXT, ("SV1*HC:99213:25", "SV1*hc:99213:25"),
                  ("HC:20610:RT", "HC:20610:rt"), ("HI*ABK:M545", "HI*abk:m545"), ("HC:72100", "hc:72100"))
    got, want = _frame(path), _frame(FIXTURE)
    for column in ("CPT/HCPCS", "Modifiers", "Dx Codes"):
        assert got[column].tolist() == want[column].tolist()
    batch = read_837(path)
    text, _ = subset_text(batch, set(range(len(batch.claims))))
    assert "SV1*hc:99213:25" in text and "HI*abk:m545" in text  # scrub changes no byte of a claim


def test_a_utf16_batch_without_a_byte_order_mark_is_read_and_scrubbed_back_in_utf16(tmp_path):
    path = tmp_path / "unicode.837"
    path.write_bytes(TEXT.encode("utf-16-le"))  # what a Windows "Unicode" save without a BOM holds
    got, want = claims_frame(read_837(path)), claims_frame(read_837(FIXTURE))
    got.attrs, want.attrs = {}, {}
    pd.testing.assert_frame_equal(got, want)
    batch = read_837(path)
    text, _ = subset_text(batch, set(range(len(batch.claims))))
    assert text.encode(batch.encoding) == path.read_bytes()
    txt = tmp_path / "unicode.txt"
    txt.write_bytes(path.read_bytes())
    assert is_837_file(txt)


def test_a_cut_utf16_batch_without_a_byte_order_mark_is_refused_as_truncated(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_bytes(TEXT[: TEXT.index("HL*2")].encode("utf-16-le"))
    with pytest.raises(InputError, match=r"cut\.txt: segment \d+ \(\w+\): the file ends inside a transaction set"):
        read_837(path)


def _validate(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", "validate", str(path), "--rules",
                           str(SAMPLE / "rules.csv"), "--payers", str(SAMPLE / "payers.csv"),
                           "--report", str(tmp_path / "report.csv"), "--as-of", "2026-11-27"],
                          capture_output=True, text=True, cwd=REPO)


def test_validate_reads_a_batch_by_its_content_whatever_the_pm_system_named_it(tmp_path):
    path = tmp_path / "CLAIMS_20261120.dat"
    path.write_bytes(FIXTURE.read_bytes())
    assert is_837_file(path)
    done = _validate(path, tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(tmp_path / "report.csv")) == 5


@pytest.mark.parametrize("name, replacements, says", [
    ("institutional.837i", [("005010X222A1", "005010X223A2")], "segment 2 (GS): an 837I institutional claim"),
    ("remit.835", [("GS*HC*", "GS*HP*"), ("005010X222A1", "005010X221A1")],
     "segment 2 (GS): functional group 'HP' is not HC (health care claims); an 835 remittance goes to "
     "'mednec denials import-835'"),
    ("fragment.txt", [], "not an 837P file (no ISA or ST segment at the start)"),
])
def test_validate_refuses_another_x12_file_in_one_line_naming_its_segment(tmp_path, name, replacements, says):
    text = TEXT if name != "fragment.txt" else TEXT[TEXT.index("GS*"):]  # a GS…GE group without its ISA
    path = _write(tmp_path, name, text, *replacements)
    assert is_837_file(path)
    done = _validate(path, tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {name}: {says}")
    assert not (tmp_path / "report.csv").exists()


def test_a_claims_csv_named_txt_is_still_a_table(tmp_path):
    csv = tmp_path / "claims.txt"
    csv.write_text("Claim ID,Line\nST-1,1\n")
    starts_like_x12 = tmp_path / "st.txt"
    starts_like_x12.write_text("ST,Line\n1,1\n")
    assert not is_837_file(csv) and not is_837_file(starts_like_x12)
    assert not is_837_file(SAMPLE / "claims.csv")


# ---------------------------------------------------------------- shapes with their own values

def test_anesthesia_minutes_in_sv104_with_unit_mj_are_the_lines_units(tmp_path):
    path = _write(tmp_path, "anesthesia.837", TEXT, ("SV1*HC:99213*95*UN*1***1~", "SV1*HC:01402:AA*950*MJ*95***1~"))
    line = _frame(path).iloc[-1]
    assert (line["CPT/HCPCS"], line["Modifiers"], line["Units"], line["Charge"]) == ("01402", "AA", 95.0, 950.0)


def test_a_subscribers_own_claim_before_a_dependents_loop_is_the_subscribers(tmp_path):
    path = _write(tmp_path, "both.837", TEXT, (
        "NM1*PR*2*ACME HEALTH*****PI*ACME01~\nHL*4*3*23*0~",
        "NM1*PR*2*ACME HEALTH*****PI*ACME01~\nCLM*A1009*90***11:B:1*Y*A*Y*Y~\nHI*ABK:J020~\nLX*1~\n"
        "SV1*HC:99212*90*UN*1***1~\nDTP*472*D8*20261019~\nHL*4*3*23*0~"), ("SE*67", "SE*72"))
    frame = _frame(path)
    own = frame[frame["Claim ID"] == "A1009"].iloc[0]
    dependent = frame[frame["Claim ID"] == "A1003"].iloc[0]
    assert (own["Patient Name"], own["Patient ID"]) == ("ROE, RICHARD", "ACM889900")
    assert (dependent["Patient Name"], dependent["Patient ID"]) == ("ROE, SAM", "ACM889900")
    batch = read_837(path)
    out = tmp_path / "dependent_only.837"
    out.write_text(subset_text(batch, {[c.claim_id for c in batch.claims].index("A1003")})[0])
    assert _pyx12_new_errors(path, out) == set()
    assert read_837(out).rows[0]["Patient Name"] == "ROE, SAM"


def test_a_second_billing_provider_loop_bills_the_claims_under_it(tmp_path):
    path = _write(tmp_path, "two_billing.837", TEXT, (
        "HL*5*1*22*0~", "HL*6**20*1~\nNM1*85*2*NORTHSIDE CLINIC*****XX*1003000126~\nN3*1 MAIN ST~\n"
        "N4*SPRINGFIELD*IL*627010000~\nREF*EI*987654321~\nHL*5*6*22*0~"), ("SE*67", "SE*72"),
        ("NM1*82*1*PATEL*RAJ****XX*1245319599~\nPRV*PE*PXC*207Q00000X~\n", ""), ("SE*72", "SE*70"))
    frame = _frame(path)
    assert frame[frame["Claim ID"] == "A1004"].iloc[0]["Rendering Provider"] == "NORTHSIDE CLINIC (NPI 1003000126)"
    assert frame[frame["Claim ID"] == "A1003"].iloc[0]["Rendering Provider"] == \
        "RIVERSIDE ORTHOPEDICS (NPI 1234567893)"


def test_held_claims_from_several_groups_of_one_interchange_get_one_new_control_number_per_group(tmp_path):
    second = _GROUP.replace("*4711*X*", "*4712*X*").replace("GE*1*4711", "GE*1*4712").replace("CLM*A", "CLM*G")
    path = _write(tmp_path, "groups.837", TEXT, (_GROUP, _GROUP + second), ("IEA*1*", "IEA*2*"))
    batch = read_837(path)
    assert len(batch.interchanges[0].groups) == 2 and len(batch.rows) == 10
    keep = {i for i, c in enumerate(batch.claims) if c.claim_id in ("A1003", "G1003")}
    out = tmp_path / "held.837"
    out.write_text(subset_text(batch, keep, new_numbers=True)[0])
    held = read_837(out)
    gs06 = [held.segments[g.gs][6] for g in held.interchanges[0].groups]
    assert len(set(gs06)) == 2 and not set(gs06) & {"4711", "4712"}
    assert held.notes == [] and _pyx12_new_errors(path, out) == set()


def test_diagnoses_split_by_another_separator_than_isa16_refuse_the_file_instead_of_vanishing(tmp_path):
    # TR3 examples re-enveloped with ISA16 ':' but written with '>' throughout: read as declared, the
    # line would lose its diagnoses silently and be held for a reason the file does not have
    path = _write(tmp_path, "mixed.837", TEXT, ("HI*ABK:M545~", "HI*ABK>M545~"))
    assert read_claims_fast(path) is None
    with pytest.raises(InputError) as exc:
        read_837(path)
    assert str(exc.value) == ("mixed.837: segment 51 (HI): HI is not split by the component separator ':' the ISA "
                              "declares (ISA16) but by '>': wrong separators? Export the batch again from the PM "
                              "system")


def test_a_procedure_split_by_another_separator_than_isa16_names_the_one_it_uses(tmp_path):
    path = _write(tmp_path, "mixed.837", TEXT, ("SV1*HC:99213*95", "SV1*HC>99213*95"))
    with pytest.raises(InputError, match=r"\(SV1\): SV101 is not split by the component separator ':' the ISA "
                                         r"declares \(ISA16\) but by '>'"):
        read_837(path)


def test_two_claims_with_one_patient_control_number_keep_every_line_in_claims(tmp_path):
    # PM systems that put the patient's account number in CLM01 send two visits as two claims with
    # one CLM01: both claims' line 1 would be the same Claims row, and one visit would be lost
    path = _write(tmp_path, "account.837", TEXT, ("CLM*A1004*95", "CLM*A1001*95"))
    assert read_claims_fast(path) is None  # rare: the reference reader numbers the lines apart
    batch = read_837(path)
    rows = [(r["Claim ID"], r["Line"], r["CPT/HCPCS"]) for r in batch.rows]
    assert rows == [("A1001", 1, "20610"), ("A1001", 2, "99213"), ("A1002", 1, "97110"), ("A1003", 1, "72100"),
                    ("A1001", 3, "99213")]
    assert batch.notes == ["account.837: segment 66 (LX): its claim's CLM01 already has a line 1 in this file (two "
                           "claims with one CLM01, or a repeated LX): read as Line 3 so that no line is lost. Give "
                           "each claim its own patient control number (CLM01) in the PM system"]
    assert not any("A1001" in note for note in batch.notes)  # CLM01 is the patient's account number here


def test_importing_a_batch_with_a_repeated_patient_control_number_adds_every_line_once(tmp_path):
    import shutil

    from toolkit.jobs.claims import import_837_files
    from toolkit.tables import CLAIMS
    from toolkit.workbook.files import WorkbookFile, read_table

    path = _write(tmp_path, "account.837", TEXT, ("CLM*A1004*95", "CLM*A1001*95"))
    workbook = tmp_path / "book.xlsm"
    shutil.copy(REPO / "workbooks" / "medical_necessity.xlsm", workbook)
    first = import_837_files(WorkbookFile(workbook), [path])
    again = import_837_files(WorkbookFile(workbook), [path])
    claims = read_table(workbook, CLAIMS)
    mine = claims[claims["Claim ID"] == "A1001"].sort_values("Line")
    assert mine["CPT/HCPCS"].tolist() == ["20610", "99213", "99213"]
    assert pd.to_datetime(mine["Date of Service"]).dt.day.tolist() == [12, 12, 21]
    assert (first.added, again.added, again.unchanged) == (5, 0, 5)


def test_an_hi_qualifier_without_its_code_refuses_the_file_since_the_pointers_would_shift(tmp_path):
    # 'HI*BK*8901*BF:5559' (seen in a public test batch): skipping the bare 'BK' made pointer 1 name
    # the second code
    path = _write(tmp_path, "bare.837", TEXT, ("HI*ABK:M1711*ABF:M25561*ABF:I10~", "HI*ABK*M1711*ABF:M25561~"))
    assert read_claims_fast(path) is None
    with pytest.raises(InputError, match=r"^bare\.837: segment 22 \(HI\): HI01 has no code after its qualifier "
                                         r"\(the two are split by ':', ISA16\): the lines' diagnosis pointers would "
                                         r"name the wrong codes$"):
        read_837(path)


@pytest.mark.parametrize("gs08, says", [
    ("005010X223A2", "segment 2 (GS): an 837I institutional claim (GS08 005010X223A2)"),
    ("005010X224A2", "segment 2 (GS): an 837D dental claim (GS08 005010X224A2)"),
    ("005010X222A1", "segment 1 (ISA): a 4010 file (ISA12 00401)"),  # the envelope must be 5010 too
    ("004010X098A1", "segment 1 (ISA): a 4010 file (ISA12 00401)"),
])
def test_a_4010_envelope_is_refused_for_what_its_group_holds(tmp_path, gs08, says):
    # public generated 837I batches carry ISA12 00401 around GS08 005010X223A2: "export again in 5010"
    # would not help them
    path = _write(tmp_path, "env.837", TEXT, ("*00501*", "*00401*"), ("X*005010X222A1~\nST*837*0001*005010X222A1~",
                                                                      f"X*{gs08}~\nST*837*0001~"))
    with pytest.raises(InputError) as exc:
        read_837(path)
    assert str(exc.value).startswith(f"env.837: {says}")
    assert read_claims_fast(path) is None
