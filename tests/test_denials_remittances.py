"""835s as payers really send them: routine adjustments, repeated and truncated files, payer names
and IDs, unknown codes, money, later remittances closing the loop, hostile sizes.

Every remittance here is written by the tests (real CARC/RARC codes, made-up people) and imported
into a real workbook that python-calamine reads back.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from denials_support import PAYER_HEADERS, build_workbook

from toolkit.cli import cli
from toolkit.denials.x12_835 import iter_835, parse_835
from toolkit.errors import InputError
from toolkit.jobs.denials import import_835_files
from toolkit.tables import DENIALS
from toolkit.workbook.files import WorkbookFile, read_table

PAYERS = [("Medicare", "Medicare", 365, None, "12345", "MEDICARE JH; NORIDIAN JE PART B"),
          ("Acme Health Plan", "Commercial", 90, 60, "", "ACME HEALTH; ACME PPO")]
HEADERS = PAYER_HEADERS + ["Payer ID", "Also Known As"]


def isa(control: str = "000000901") -> str:
    return (f"ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260410*0900*^*00501*{control}"
            "*0*P*:~")


def transaction(claims: list[str], *, payer: str = "N1*PR*NORIDIAN JE PART B*XV*12345", trace: str = "EFT0410",
                control: str = "0001", production: str = "20260408", payment: str = "20260410") -> str:
    """One ST…SE with a correct SE01 count.  ``claims`` are CLP… segment strings joined by '~'."""
    body = [f"ST*835*{control}*005010X221A1", f"BPR*I*100*C*ACH*CCP*01*9*DA*1*1**01*9*DA*1*{payment}",
            f"TRN*1*{trace}*1", f"DTM*405*{production}", payer, "N1*PE*SAMPLE CLINIC*XX*1234567893", "LX*1"]
    for c in claims:
        body += [s for s in c.split("~") if s]
    body.append(f"SE*{len(body) + 1}*{control}")
    return "~".join(body) + "~"


def interchange(*sets: str, control: str = "000000901") -> str:
    return (isa(control) + "GS*HP*PAYER*CLINIC*20260410*0900*1*X*005010X221A1~" + "".join(sets)
            + f"GE*{len(sets)}*1~IEA*1*{control}~")


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def book(tmp_path):
    return build_workbook(tmp_path / "practice.xlsx", payers=PAYERS, payer_headers=HEADERS, claims=[])


def log(path):
    return read_table(path, DENIALS)


DENIED_50 = "CLP*C-1*4*900*0**MB*PCN1~SVC*HC:64483:RT*900*0**1~DTM*472*20260301~CAS*CO*50*900~REF*6R*1-1~LQ*HE*N115"


# ---------------------------------------------------------------- what a denial is

@pytest.mark.parametrize("carc", ["131", "104", "237", "253", "59", "24", "144", "45", "94", "A2"])
def test_routine_adjustments_on_a_paid_claim_are_not_denials(tmp_path, book, carc):
    claim = f"CLP*D-{carc}*1*200*150**12*PCN{carc}~SVC*AD:D2740*200*150**1~DTM*472*20260301~CAS*CO*{carc}*50"
    summary = import_835_files(WorkbookFile(book), [write(tmp_path, "r.835", interchange(transaction([claim])))])
    assert summary.added == 0 and summary.paid_claims == 1 and not summary.unknown_codes
    assert len(log(book)) == 0


def test_an_unknown_code_on_a_paid_line_is_not_a_denial_but_is_listed(tmp_path, book):
    claim = "CLP*C-9*1*200*150**12*PCN9~SVC*HC:99213*200*150**1~DTM*472*20260301~CAS*CO*999*50"
    summary = import_835_files(WorkbookFile(book), [write(tmp_path, "r.835", interchange(transaction([claim])))])
    assert summary.added == 0 and dict(summary.unknown_codes) == {"CO-999": 1}
    assert any("codes not in the CARC table: CO-999 (1)" in n for n in summary.notes)


def test_an_unknown_code_on_a_line_that_paid_nothing_is_a_denial(tmp_path, book):
    claim = "CLP*C-9*1*200*0**12*PCN9~SVC*HC:99213*200*0**1~DTM*472*20260301~CAS*CO*999*200"
    summary = import_835_files(WorkbookFile(book), [write(tmp_path, "r.835", interchange(transaction([claim])))])
    row = log(book).iloc[0]
    assert summary.added == 1 and row["CARC"] == "999"
    assert "CARC 999 is not in the practice's CARC table" in row["Notes"]


def test_a_denied_claim_with_no_adjustment_gets_a_reason(tmp_path, book):
    claim = "CLP*C-7*4*300*0**MB*PCN7~DTM*232*20260301"
    import_835_files(WorkbookFile(book), [write(tmp_path, "r.835", interchange(transaction([claim])))])
    row = log(book).iloc[0]
    assert row["Reason"] == "Denied; the payer gave no reason code" and row["Denied Amount"] == 300


@pytest.mark.parametrize(("carc", "rarc", "cpt", "root"), [
    ("4", "", "97110", ""),  # a therapy code without GP: not laterality
    ("4", "N823", "27447", "MODIFIER_INVALID"),
    ("39", "", "29881", ""),  # authorization asked for and refused: no checklist item prevents it
    ("16", "M53", "20610", ""),  # units missing or invalid: not "units exceeded"
    ("97", "", "20610", "NCCI_PTP_CONFLICT"),
    ("236", "", "20610", "NCCI_PTP_CONFLICT"),
    ("151", "N362", "20610", "MUE_EXCEEDED"),
    ("181", "", "0001U", ""),  # a deleted code, not a malformed one
])
def test_root_causes_follow_the_code_the_remark_and_the_line(tmp_path, book, carc, rarc, cpt, root):
    claim = (f"CLP*C-1*4*100*0**MB*PCN1~SVC*HC:{cpt}*100*0**1~DTM*472*20260301~CAS*CO*{carc}*100"
             + (f"~LQ*HE*{rarc}" if rarc else ""))
    import_835_files(WorkbookFile(book), [write(tmp_path, "r.835", interchange(transaction([claim])))])
    assert log(book).iloc[0]["Root Cause"] == root


def test_the_code_tables_say_what_the_codes_mean():
    from toolkit.denials.decode import CodeTables

    t = CodeTables.load()
    assert "relieved of liability" in t.rarc["M27"] and "provider is liable" in t.rarc["M27"]
    assert "not identified on this claim" in t.carc["107"].reason
    assert "may not appeal" in t.rarc["N704"] and "resubmit" in t.rarc["N704"]
    assert not any(t.carc[c].is_denial for c in ("1", "2", "3", "23", "24", "45", "59", "94", "104", "131", "144",
                                                 "237", "253", "A2"))
    assert len(t.carc) > 200


# ---------------------------------------------------------------- repeated, truncated, damaged files

def test_an_interchange_repeated_in_one_file_is_logged_once(tmp_path, book):
    one = interchange(transaction([DENIED_50]))
    path = write(tmp_path, "repeated.835", one * 156)
    summary = import_835_files(WorkbookFile(book), [path])
    assert summary.added == 1 and summary.repeated_sets == 155
    assert "155 repeated transmissions of the same remittance read once" in str(summary)
    assert not any("#" in k for k in log(book)["Remit Key"])
    assert import_835_files(WorkbookFile(book), [path]).added == 0


def test_two_identical_lines_in_one_claim_stay_two_rows(tmp_path, book):
    line = "SVC*HC:20610*100*0**1~DTM*472*20260301~CAS*CO*50*100"
    claim = f"CLP*C-2*4*200*0**MB*PCN2~{line}~{line}"
    sixr = f"CLP*C-3*4*200*0**MB*PCN3~{line}~REF*6R*L1~{line}~REF*6R*L1"
    path = write(tmp_path, "two.835", interchange(transaction([claim, sixr])))
    assert import_835_files(WorkbookFile(book), [path]).added == 4
    assert import_835_files(WorkbookFile(book), [path]).added == 0


def test_a_truncated_file_is_refused_whole_and_adds_nothing(tmp_path, book):
    full = interchange(transaction([DENIED_50, DENIED_50.replace("C-1", "C-2")]))
    path = write(tmp_path, "cut.835", full[:len(full) // 2])  # a download cut short
    summary = import_835_files(WorkbookFile(book), [path])
    assert summary.added == 0 and len(log(book)) == 0
    assert summary.refused == ["cut.835: the file ends inside transaction set 0001 (no SE trailer): the file is "
                               "incomplete; ask the payer or clearinghouse for it again"]


@pytest.mark.parametrize(("damage", "expected"), [
    (lambda t: t.replace("SE*", "SE*4", 1), "the SE trailer of transaction set 0001 counts"),
    (lambda t: t.replace("IEA*1*000000901~", ""), "without the IEA trailer of interchange 000000901"),
    (lambda t: t.replace("GE*1*1~", ""), "functional group 1 has no GE trailer"),
    (lambda t: t.replace("GE*1*1", "GE*3*1"), "the GE trailer of functional group 1 counts 3 transaction sets"),
])
def test_missing_or_wrong_trailers_refuse_the_file(tmp_path, book, damage, expected):
    path = write(tmp_path, "bad.835", damage(interchange(transaction([DENIED_50]))))
    summary = import_835_files(WorkbookFile(book), [path])
    assert summary.added == 0 and len(summary.refused) == 1
    assert summary.refused[0].startswith("bad.835: ") and expected in summary.refused[0]


def test_an_837_is_refused_because_its_gs01_is_hc(tmp_path):
    text = interchange(transaction([DENIED_50])).replace("GS*HP", "GS*HC")
    with pytest.raises(InputError, match="its functional group code \\(GS01\\) is HC, an 835 remittance has HP"):
        parse_835(text, file="claims.txt")


def test_an_unreadable_amount_names_the_segment_never_becomes_zero(tmp_path):
    text = interchange(transaction([DENIED_50.replace("CAS*CO*50*900", "CAS*CO*50*9O0")]))
    with pytest.raises(InputError, match=r"CAS segment \d+ \(element CAS03\): the amount '9O0' is not a number"):
        parse_835(text, file="r.835")


def test_money_is_decimal(tmp_path):
    remit = parse_835(interchange(transaction([DENIED_50.replace("900", "900.10")])))[0]
    from decimal import Decimal

    assert remit.claims[0].lines[0].adjustments[0].amount == Decimal("900.10")


# ---------------------------------------------------------------- payers, dates, deadlines

def test_the_payer_is_mapped_by_its_835_payer_id(tmp_path, book):
    path = write(tmp_path, "r.835", interchange(transaction([DENIED_50])))
    summary = import_835_files(WorkbookFile(book), [path])
    row = log(book).iloc[0]
    assert row["Payer"] == "Medicare" and not summary.unmapped_payers
    # DTM*405 (April 8) is the denial date; Medicare: 5 days to receipt + 120 days
    assert row["Denial Date"] == dt.date(2026, 4, 8) and row["Appeal Deadline"] == dt.date(2026, 8, 11)
    assert "Medicare redetermination, 120 days from receipt (remittance date + 5 days)" in row["Notes"]


def test_the_payer_is_mapped_by_also_known_as_and_ref_2u(tmp_path, book):
    acme = transaction([DENIED_50], payer="N1*PR*ACME PPO~REF*2U*ACME77", trace="CHK9")
    import_835_files(WorkbookFile(book), [write(tmp_path, "a.835", interchange(acme))])
    row = log(book).iloc[0]
    assert row["Payer"] == "Acme Health Plan" and row["Appeal Deadline"] == dt.date(2026, 6, 7)  # +60


def test_an_unmapped_payer_is_named_in_the_summary(tmp_path, book):
    other = transaction([DENIED_50], payer="N1*PR*GLOBEX MUTUAL*XV*55555")
    path = write(tmp_path, "g.835", interchange(other))
    result = CliRunner().invoke(cli, ["denials", "import-835", str(path), "--workbook", str(book)])
    assert result.exit_code == 0, result.output
    assert ("Note: payer 'GLOBEX MUTUAL' (payer ID 55555) is not in Payers: add it, or an Also Known As, to Payers "
            "so deadlines and letters work") in result.output
    row = log(book).iloc[0]
    assert row["Payer"] == "GLOBEX MUTUAL" and "not in Payers" in row["Notes"]


def test_without_dtm_405_the_denial_date_is_bpr16(tmp_path, book):
    text = interchange(transaction([DENIED_50])).replace("DTM*405*20260408~", "").replace("SE*11", "SE*10")
    import_835_files(WorkbookFile(book), [write(tmp_path, "r.835", text)])
    assert log(book).iloc[0]["Denial Date"] == dt.date(2026, 4, 10)


# ---------------------------------------------------------------- closing the loop

def test_a_later_remittance_paying_a_logged_denial_marks_it_paid(tmp_path, book):
    import_835_files(WorkbookFile(book), [write(tmp_path, "first.835", interchange(transaction([DENIED_50])))])
    paid = ("CLP*C-1*1*900*720**MB*PCN1B~SVC*HC:64483:RT*900*720**1~DTM*472*20260301~CAS*CO*45*180~"
            "REF*6R*1-1")
    later = interchange(transaction([paid], trace="EFT0520", production="20260520", payment="20260520"),
                        control="000000902")
    summary = import_835_files(WorkbookFile(book), [write(tmp_path, "later.835", later)])
    row = log(book).iloc[0]
    assert summary.added == 0 and summary.resolved_paid == 1 and "1 Paid" in str(summary)
    assert (row["Status"], row["Resolved Date"]) == ("Paid", dt.date(2026, 5, 20))
    assert row["Outcome"] == "Paid 720.00 on the remittance of 2026-05-20 (trace EFT0520)"
    assert import_835_files(WorkbookFile(book), [tmp_path / "later.835"]).resolved_paid == 0


def test_a_reversal_and_re_adjudication_pays_the_logged_denial(tmp_path, book):
    import_835_files(WorkbookFile(book), [write(tmp_path, "first.835", interchange(transaction([DENIED_50])))])
    reversal = "CLP*C-1*22*-900*0**MB*PCN1~SVC*HC:64483:RT*-900*0**1~DTM*472*20260301"
    repaid = "CLP*C-1*1*900*700**MB*PCN1~SVC*HC:64483:RT*900*700**1~DTM*472*20260301~CAS*CO*45*200"
    later = interchange(transaction([reversal, repaid], trace="EFT0601", production="20260601"), control="000000903")
    summary = import_835_files(WorkbookFile(book), [write(tmp_path, "redo.835", later)])
    assert summary.resolved_paid == 1 and log(book).iloc[0]["Status"] == "Paid"


def test_a_new_denial_of_an_appealed_line_marks_it_upheld_once(tmp_path, book):
    import_835_files(WorkbookFile(book), [write(tmp_path, "first.835", interchange(transaction([DENIED_50])))])
    wb = WorkbookFile(book)
    import pandas as pd

    wb.write_columns(DENIALS, pd.DataFrame({"Status": ["Appealed"]}, index=[int(log(book).index[0])]))
    wb.save()
    again = interchange(transaction([DENIED_50.replace("PCN1", "PCN1C")], trace="EFT0615", production="20260615"),
                        control="000000904")
    path = write(tmp_path, "again.835", again)
    summary = import_835_files(WorkbookFile(book), [path])
    frame = log(book)
    assert summary.added == 0 and summary.resolved_upheld == 1 and len(frame) == 1
    assert (frame.iloc[0]["Status"], frame.iloc[0]["Resolved Date"]) == ("Upheld", dt.date(2026, 6, 15))
    assert frame.iloc[0]["Outcome"] == "Denied again on the remittance of 2026-06-15 (CO-50)"
    assert import_835_files(WorkbookFile(book), [path]).added == 0  # the re-denial's key is remembered


# ---------------------------------------------------------------- hostile sizes, streaming

def test_a_value_longer_than_an_excel_cell_does_not_break_idempotent_reimport(tmp_path, book):
    long_id = "C" + "9" * 40_000
    path = write(tmp_path, "long.835", interchange(transaction([DENIED_50.replace("CLP*C-1", f"CLP*{long_id}")])))
    assert import_835_files(WorkbookFile(book), [path]).added == 1
    assert import_835_files(WorkbookFile(book), [path]).added == 0
    frame = log(book)
    assert len(frame) == 1 and len(frame.iloc[0]["Claim ID"]) == 32_767 and len(frame.iloc[0]["Remit Key"]) <= 400


def test_segments_are_read_incrementally_across_chunk_boundaries(tmp_path):
    import io

    from toolkit.x12 import SegmentReader

    text = interchange(transaction([DENIED_50] * 50)).encode()
    whole = list(SegmentReader(text))
    reader = SegmentReader(io.BytesIO(text), chunk_bytes=7)
    assert list(reader) == whole and reader.segments_read == len(whole)
    remits = list(iter_835(io.BytesIO(text)))
    assert len(remits[0].claims) == 50


def test_a_file_above_the_size_limit_is_refused_in_one_line(tmp_path, book, monkeypatch):
    import toolkit.x12 as x12

    monkeypatch.setattr(x12, "MAX_FILE_BYTES", 1000)
    path = write(tmp_path, "big.835", interchange(transaction([DENIED_50] * 20)))
    summary = import_835_files(WorkbookFile(book), [path])
    assert summary.added == 0 and summary.refused[0].startswith("big.835: the file is")
    assert "limit for one X12 835 remittance file" in summary.refused[0]


def test_a_file_without_segment_terminators_is_refused(tmp_path, monkeypatch):
    import toolkit.x12 as x12

    monkeypatch.setattr(x12, "MAX_SEGMENT_CHARS", 500)
    text = "ST*835*0001~" + "N1*PR*" + "X" * 5000
    with pytest.raises(InputError, match="segment is longer than"):
        parse_835(text, file="x.835")
