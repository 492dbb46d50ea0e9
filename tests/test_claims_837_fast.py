"""The column-wise 837P reader (``x12_837_fast``) against the reference reader (``x12_837._Reader``).

``mednec validate FILE.837`` reads the lines column-wise; the reference reader stays the
definition.  Every file here is read by both: the column-wise frame must equal the reference
frame, or the column-wise reader must decline (None) and the reference reader reads or refuses
the file with its own one-line message.  Files it must read itself are asserted not None, so a
reader that always declined would fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import batch_variant

from toolkit.claims.x12_837 import claims_frame, read_837, read_claims_837
from toolkit.claims.x12_837_fast import read_claims_fast
from toolkit.errors import InputError

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "x12_837p" / "riverside_batch.837"
SHARED_837 = REPO.parent / "shared" / "data" / "x12_837p"
PAYERS = pd.DataFrame({"Payer": ["Medicare", "Acme Health PPO"], "Payer Type": ["Medicare", "Commercial"],
                       "Timely Filing Days": ["365", "90"], "Appeal Window Days": ["120", "180"],
                       "Payer ID": ["00952", ""], "Also Known As": ["", "ACME HEALTH; Acme PPO"]})


def _same_as_reference(path: Path, payers=None) -> pd.DataFrame | None:
    """The column-wise frame (None when it declines), checked against the reference reader."""
    fast = read_claims_fast(path, payers)
    try:
        reference = claims_frame(read_837(path, payers=payers))
    except InputError as exc:
        assert fast is None, "the column-wise reader read a file the reference reader refuses"
        with pytest.raises(InputError) as again:
            read_claims_837(path, payers=payers)
        assert str(again.value) == str(exc)  # the refusal keeps the reference reader's words
        return None
    if fast is not None:
        pd.testing.assert_frame_equal(fast, reference)
        assert fast.attrs == reference.attrs
    pd.testing.assert_frame_equal(read_claims_837(path, payers=payers), reference)
    return fast


def _variant(tmp_path: Path, name: str, *replacements: tuple[str, str], text: str | None = None) -> Path:
    return batch_variant(tmp_path, name, FIXTURE.read_text() if text is None else text, *replacements)


def test_the_fixture_is_read_column_wise_with_and_without_payers():
    assert _same_as_reference(FIXTURE) is not None
    mapped = _same_as_reference(FIXTURE, PAYERS)
    assert mapped is not None and set(mapped["Payer"]) == {"Medicare", "Acme Health PPO"}


shared_samples = sorted(SHARED_837.glob("*")) if SHARED_837.is_dir() else []


@pytest.mark.skipif(not shared_samples, reason="../shared/data/x12_837p is not here")
@pytest.mark.parametrize("path", shared_samples, ids=lambda p: p.name)
def test_every_public_sample_reads_the_same_or_is_refused_by_the_reference_reader(path):
    _same_as_reference(path)


@pytest.mark.parametrize("name, replacements", [
    ("crlf.837", [("~\n", "~\r\n")]),
    ("one_line.837", [("~\n", "~")]),
    ("pipes.837", [("*", "|")]),
    ("component.837", [(":", ">")]),  # ISA16 and every composite
    ("claim_date.837", [("LX*1~\nSV1*HC:72100*180*UN*1***1~\nDTP*472*D8*20261020~",
                         "DTP*434*RD8*20261019-20261020~\nLX*1~\nSV1*HC:72100*180*UN*1***1~")]),
    ("line_auth_and_rendering.837", [("DTP*472*D8*20261014~", "DTP*472*D8*20261014~\nREF*G1*LINEAUTH~\n"
                                      "NM1*82*1*LEE*KIM****XX*1003000126~")]),
    ("patient_id.837", [("NM1*QC*1*ROE*SAM~", "NM1*QC*1*ROE*SAM****MI*PT0042~")]),
    ("no_patient_name.837", [("NM1*QC*1*ROE*SAM~\n", "")]),
    ("other_payer.837", [("CLM*A1003*180***11:B:1*Y*A*Y*Y~\nHI*ABK:M545~",
                          "CLM*A1003*180***11:B:1*Y*A*Y*Y~\nHI*ABK:M545~\nHI*ABF:R52~\nSBR*S*18*******MB~\n"
                          "NM1*82*1*LATE*NOT****XX*1003000126~\nREF*G1*TOO LATE~")]),
    ("loop_dates.837", [("SV1*HC:99213:25*125*UN*1***1~\nDTP*472*D8*20261012~",
                         "SV1*HC:99213:25*125*UN*1***1~\nDTP*472*D8*20261013~\nSVD*00952*100*HC:99213**1~\n"
                         "DTP*472*D8*20261231~")]),
    ("unknown_segment.837", [("HI*ABK:J020~", "HI*ABK:J020~\nZZZ*SOMETHING*ELSE~")]),
    ("bad_date.837", [("DMG*D8*19500314*F~", "DMG*D8*19501399*F~"), ("DTP*472*D8*20261021~", "DTP*472*D8*2026~")]),
    ("icd9.837", [("HI*ABK:J020~", "HI*BK:4659~")]),
    # spaces beside element separators: the column reader strips each element as the tokenizer does
    ("spaced_elements.837", [("NM1*QC*1*ROE*SAM~", "NM1*QC*1* ROE *SAM ~"), ("REF*G1*AUTH5512~", "REF*G1*\tAUTH5512 ~"),
                             ("CLM*A1003*180***", "CLM* A1003*180***")]),
    # a long run of blanks in a few values and between two segments: stripped past every blank
    ("long_blanks.837", [("NM1*QC*1*ROE*SAM~", "NM1*QC*1*ROE" + " " * 40 + "*" + "\t " * 30 + "SAM~"),
                         ("LX*2~\n", "LX*2~\n \r\n  \n" + " " * 50)]),
    ("no_units.837", [("*UN*1***", "*UN****"), ("*UN*4***", "*UN****")]),  # every Units blank: a column of None
    ("some_units.837", [("*UN*4***", "*UN****")]),
    ("no_dates.837", [("DTP*472*D8*20261012~\n", ""), ("DTP*472*D8*20261014~\n", ""), ("DTP*472*D8*20261020~\n", ""),
                      ("DTP*472*D8*20261021~\n", "")]),
    ("no_birth_dates.837", [("DMG*D8*19500314*F~\n", ""), ("DMG*D8*19780930*M~\n", ""), ("DMG*D8*20100601*M~\n", ""),
                            ("DMG*D8*19440722*M~\n", "")]),
])
def test_a_variant_the_column_reader_handles_reads_the_same(tmp_path, name, replacements):
    assert _same_as_reference(_variant(tmp_path, name, *replacements), PAYERS) is not None


def test_several_transactions_and_interchanges_in_one_file_read_the_same(tmp_path):
    text = FIXTURE.read_text()
    head, rest = text.split("ST*837*0001", 1)
    body, tail = ("ST*837*0001" + rest).split("GE*1*4711~\n", 1)
    second = body.replace("ST*837*0001", "ST*837*0002").replace("SE*67*0001", "SE*67*0002").replace("CLM*A", "CLM*B")
    batch = head + body + second + "GE*2*4711~\n" + tail
    other = batch.replace("CLM*B", "CLM*C").replace("CLM*A", "CLM*D").replace("*HC:99213", "*HC:99214")
    frame = _same_as_reference(_variant(tmp_path, "two.837", text=batch + other))
    assert frame is not None and len(frame) == 4 * len(read_claims_837(FIXTURE))


@pytest.mark.parametrize("name, replacements", [
    ("accent.837", [("*ROE*SAM~", "*ROÉ*SAM~")]),  # not ASCII: byte and character offsets differ
    ("no_digit_line.837", [("LX*2~", "LX*B~")]),
    ("two_sv1.837", [("SV1*HC:99213*95*UN*1***1~", "SV1*HC:99213*95*UN*1***1~\nSV1*HC:99212*55*UN*1***1~")]),
    ("hl_parent.837", [("HL*4*3*23*0~", "HL*4*9*23*0~")]),
    ("claim_under_billing.837", [("HL*2*1*22*0~\nSBR*P*18*******MB~", "HL*2*1*20*0~\nSBR*P*18*******MB~")]),
    ("v4010.837", [("*00501*", "*00401*")]),
    ("institutional.837", [("005010X222A1", "005010X223A2")]),
    ("separators.837", [("SV1*HC:99213*95", "SV1*HC>99213*95")]),
    ("no_sv1.837", [("SV1*HC:99213*95*UN*1***1~\n", "")]),
    ("truncated.837", [("GE*1*4711~\nIEA*1*000004711~\n", "")]),
    ("lower_case.837", [("LX*1~\nSV1*HC:72100", "lx*1~\nSV1*HC:72100")]),
])
def test_what_the_column_reader_does_not_handle_goes_to_the_reference_reader(tmp_path, name, replacements):
    path = _variant(tmp_path, name, *replacements)
    assert read_claims_fast(path) is None
    _same_as_reference(path)


def test_a_wrapped_or_byte_order_marked_batch_goes_to_the_reference_reader(tmp_path):
    text = FIXTURE.read_text().replace("\n", "")
    wrapped = tmp_path / "wrapped.837"
    wrapped.write_text("\r\n".join(text[i:i + 80] for i in range(0, len(text), 80)))
    utf16 = tmp_path / "utf16.837"
    utf16.write_bytes(FIXTURE.read_text().encode("utf-16"))
    for path in (wrapped, utf16):
        assert read_claims_fast(path) is None
        _same_as_reference(path)
    bom = tmp_path / "bom.837"
    bom.write_bytes(b"\xef\xbb\xbf" + FIXTURE.read_bytes())
    assert _same_as_reference(bom) is not None


def test_a_generated_batch_of_thousands_of_lines_reads_the_same(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _data import write_claims_csv
    from bench_837 import write_batch

    batch = tmp_path / "batch.837"
    write_batch(write_claims_csv(tmp_path / "claims.csv", 3000), batch)
    frame = _same_as_reference(batch, PAYERS)
    assert frame is not None and len(frame) == 3000


def test_a_value_in_the_last_bytes_of_the_file_is_read_whole():
    import numpy as np

    from toolkit.claims.x12_837_fast import _File

    f = _File(b"ABC*DEF*GH", "*")  # a 3-byte window cannot start at byte 8: the value is shifted into it
    assert f.bytes(np.array([8, 4, 0]), np.array([10, 7, 0])).tolist() == [b"GH", b"DEF", b""]


#: Segments a PM system or a damaged file may put anywhere: the mutations below draw from them.
_EXTRA = ["NM1*82*1*LEE*KIM****XX*1003000126", "REF*G1*AX1", "DTP*472*D8*20261111", "DTP*434*RD8*20261001-20261002",
          "SBR*S*18*******MB", "SVD*00952*100*HC:99213**1", "LIN**N4*00002", "HI*ABF:R52*ABK:M545",
          "NM1*QC*1*DOE*JO****MI*Q1", "DMG*D8*20000101*F", "NM1*IL*1*X*Y****MI*Z9", "NM1*PR*2*OTHER*****PI*99",
          "NM1*85*2*BILL*****XX*1", "LX*7", "SV1*HC:97110:GP*10*UN*2***1:2:3", "HL*9*3*23*0", "HL*10*1*22*0",
          "CLM*Z1*10***11:B:1", "PAT*19", "ZZZ*1", "DTP*472*D8*BAD", "NM1*82*1***** *XX*", "SV1*HC:99213*", "LX*X"]


def test_hundreds_of_shuffled_and_damaged_batches_read_the_same_or_go_to_the_reference_reader(tmp_path):
    import random

    segments = FIXTURE.read_text().strip().removesuffix("~").split("~\n")
    rnd = random.Random(13)
    outcomes = set()
    for trial in range(200):
        s = list(segments)
        for _ in range(rnd.randint(1, 4)):  # delete, duplicate, swap or insert a segment inside the envelopes
            op, i = rnd.random(), rnd.randrange(3, len(s) - 3)
            if op < 0.3:
                del s[i]
            elif op < 0.5:
                s.insert(i, s[rnd.randrange(3, len(s) - 3)])
            elif op < 0.6:
                s[i], s[i + 1] = s[i + 1], s[i]
            else:
                s.insert(i, rnd.choice(_EXTRA))
        path = tmp_path / f"mutant{trial}.837"
        path.write_text("~\n".join(s) + "~\n")
        outcomes.add(_same_as_reference(path) is not None)
    assert outcomes == {True, False}  # both paths were taken


@pytest.mark.parametrize("dtype", [object, pd.StringDtype("python"), pd.Series(["x"]).dtype], ids=str)
def test_text_columns_are_built_for_each_way_pandas_may_keep_text(dtype):
    import numpy as np

    from toolkit.claims.x12_837_fast import _File, _text_column

    f = _File(b"CLM*A1001*275~CLM*B7*9~", "*")
    column = _text_column(f, np.array([4, 18, 0]), np.array([9, 20, 0]), dtype)
    assert column.dtype == dtype and column.tolist() == ["A1001", "B7", ""]


def test_each_lines_dx_column_matches_the_line_by_line_rule_for_any_pointers():
    """The grid form of a line's Dx Codes (``_line_dx_column``) against the reference reader's
    rule (``x12_837._dx_text``) on 3,000 random lines: pointers out of range, repeated, zero, more pointers
    than codes, a code twice in HI, claims without codes."""
    import random

    import numpy as np

    from toolkit.claims.x12_837 import _dx_text
    from toolkit.claims.x12_837_fast import _line_dx_column

    rnd = random.Random(13)
    pool = ["M1711", "M5450", "E119", "I10", "Z794", "M25561", "S83241A", "G8929"]
    his = [tuple(("10", rnd.choice(pool)) for _ in range(rnd.randint(0, 12))) for _ in range(300)]
    claims = [tuple(f"{code[:3]}.{code[3:]}" if len(code) > 3 else code for _, code in hi) for hi in his]
    texts = [":".join(str(rnd.choice([0, 1, 2, 3, 4, 5, 9, 12, 13])) for _ in range(rnd.randint(0, 4)))
             for _ in range(40)] + ["1:x:2", " 3 : 1 ", "2:2:1"]
    claim_of_row = np.array([rnd.randrange(len(claims)) for _ in range(3000)])
    pointers_of_row = np.array([rnd.randrange(len(texts)) for _ in range(3000)])
    got = _line_dx_column(claim_of_row, claims, pointers_of_row, texts, ":")
    want = [_dx_text(his[c], texts[p], ":")[0] for c, p in zip(claim_of_row, pointers_of_row)]
    assert got.tolist() == want
    assert _line_dx_column(np.zeros(0, dtype=int), [], np.zeros(0, dtype=int), [], ":").tolist() == []
