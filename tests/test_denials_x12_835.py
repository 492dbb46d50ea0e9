"""The 835 reader: separators, envelopes, fragments, versions, and files from the wild."""

from __future__ import annotations

import datetime as dt

import pytest
from denials_support import FIXTURES, SHARED_835

from toolkit.denials.x12_835 import parse_835, read_835
from toolkit.errors import InputError, MednecError
from toolkit.x12 import tokenize

ISA = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260301*1200*^*00501*000000001*0*P*:~"
BODY = ("GS*HP*PAYER*CLINIC*20260301*1200*1*X*005010X221A1~ST*835*0001~BPR*I*0*C*NON************20260301~"
        "TRN*1*TRACE1*1~N1*PR*SOME PAYER~CLP*C1*4*100*0**12*PCN1~SVC*HC:97110:GP*100*0**1~DTM*472*20260210~"
        "CAS*CO*50*100~LQ*HE*N115~SE*10*0001~GE*1*1~IEA*1*000000001~")


def test_separators_come_from_the_isa_segment():
    text = (ISA + BODY).replace("*", "|").replace("~", "\n").replace(":", ">")
    # ISA16 is now '>' and the segment terminator a line break
    segments, seps = tokenize(text)
    assert (seps.element, seps.component, seps.segment) == ("|", ">", "\n")
    claim = parse_835(text)[0].claims[0]
    assert claim.lines[0].procedure == "97110" and claim.lines[0].modifiers == ["GP"]


def test_isa_without_space_padding_is_read_by_counting_separators():
    text = "ISA*00**00**ZZ*P*ZZ*C*260301*1200*^*00501*1*0*P*:~" + BODY
    remit = parse_835(text)[0]
    assert remit.payer_name == "SOME PAYER" and remit.claims[0].lines[0].adjustments[0].reason == "50"


def test_byte_order_mark_line_breaks_and_indentation_are_tolerated():
    text = "\ufeff" + (ISA + BODY).replace("~", "~\r\n    ")
    remit = parse_835(text.encode("utf-8"))[0]
    assert remit.trace_number == "TRACE1" and remit.payment_date == dt.date(2026, 3, 1)


def test_fragment_without_envelope_gets_separators_guessed():
    remit = read_835(FIXTURES / "acme_fragment_bom.835")[0]
    assert remit.payer_name == "Acme Health Plan"
    assert remit.claims[0].lines[0].remarks == ["N115"]


def test_several_transaction_sets_in_one_file_are_all_read():
    two = (ISA + BODY.replace("GE*1*1~IEA*1*000000001~", "")
           + BODY.split("~", 1)[1].replace("TRACE1", "TRACE2").replace("GE*1*1", "GE*2*1"))
    remits = parse_835(two)
    assert [r.trace_number for r in remits] == ["TRACE1", "TRACE2"]


def test_several_cas_triplets_in_one_segment_are_split():
    remit = read_835(FIXTURES / "medicare_denials.835")[0]
    line = next(c for c in remit.claims if c.patient_control_number == "CLM-1005").lines[0]
    assert [(a.group, a.reason, a.amount, a.quantity) for a in line.adjustments] == [
        ("CO", "45", 270.0, 3.0), ("CO", "151", 80.0, 2.0), ("PR", "2", 10.0, None)]


def test_claim_level_adjustments_stay_on_the_claim():
    remit = read_835(FIXTURES / "medicare_denials.835")[0]
    claim = next(c for c in remit.claims if c.patient_control_number == "CLM-1004")
    assert claim.lines == [] and claim.adjustments[0].reason == "29"
    assert claim.service_date == dt.date(2025, 1, 10)


def test_a_4010_remittance_is_refused_with_one_clear_line():
    text = (ISA + BODY).replace("005010X221A1", "004010X091A1").replace("00501", "00401")
    with pytest.raises(InputError) as err:
        parse_835(text, file="old.835")
    assert "4010" in str(err.value) and "5010" in str(err.value) and "\n" not in str(err.value)


def test_an_837_claim_file_is_refused_as_not_an_835():
    text = (ISA + BODY).replace("GS*HP", "GS*HC").replace("ST*835", "ST*837")
    with pytest.raises(InputError, match="not an 835"):
        parse_835(text, file="claims.txt")


@pytest.mark.parametrize("text", ["", "   ", "hello world", "Claim ID,Payer\n1,2\n", "ISA*00"])
def test_files_that_are_not_x12_are_refused(text):
    with pytest.raises(InputError):
        parse_835(text, file="x.txt")


def _shared_files():
    if not SHARED_835.is_dir():
        return []
    return sorted(SHARED_835.iterdir())


# The one outside sample that must be refused (4010-era); every other one must import.
REFUSED_SAMPLES = {"tigershark_835_4010_pipe_delimited.txt"}


@pytest.mark.skipif(not SHARED_835.is_dir(), reason="../shared/data/x12_835 is not beside the repository")
@pytest.mark.parametrize("path", _shared_files(), ids=lambda p: p.name)
def test_every_5010_public_sample_is_read_and_the_4010_one_refused_in_one_line(path):
    if path.name in REFUSED_SAMPLES:
        with pytest.raises(MednecError) as exc:
            read_835(path)
        assert str(exc.value).startswith(path.name) and "\n" not in str(exc.value)
        return
    remits = read_835(path)
    assert sum(len(r.claims) for r in remits) > 0
    assert all(r.version == "" or r.version.startswith(("005010", "5010")) for r in remits)


@pytest.mark.skipif(not SHARED_835.is_dir(), reason="../shared/data/x12_835 is not beside the repository")
def test_the_4010_public_sample_is_refused():
    with pytest.raises(InputError, match="4010"):
        read_835(SHARED_835 / "tigershark_835_4010_pipe_delimited.txt")
