"""The shipped CARC and RARC tables: complete against X12's published lists, one row per code,
a short meaning in the practice's own words for every code, and those meanings reaching the
denial log, the import summary and the letters.

The lists were checked against X12's lists as published 2024-03-01 (an x12.org copy of 2024-06-18)
and, for retired remark codes, OpenEMR's list of current codes (2018-11 release); the tables' header
comments say so.  X12's wording is not kept in the repository: ``fixtures/x12_code_text_digests.json``
holds, per code, the first 16 hex digits of the SHA-256 of X12's description normalised as
``_normalised`` below, so a meaning that repeats X12's sentence word for word is caught without
shipping the sentence.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest
from denials_support import SHARED_835, build_workbook

from toolkit.denials.decode import DATA_DIR, CodeTables

DIGESTS = Path(__file__).parent / "fixtures" / "x12_code_text_digests.json"


def _codes(text: str) -> set[str]:
    return set(text.split())


# X12's current CARCs on 2024-03-01 (295): numbers 1-306 less the retired ones, A/B series, P1-P32.
CURRENT_CARCS = _codes("""
1 2 3 4 5 6 7 8 9 10 11 12 13 14 16 18 19 20 21 22 23 24 26 27 29 31 32 33 34 35 39 40 44 45 49 50 51 53 54 55 56 58
59 60 61 66 69 70 74 75 76 78 85 89 90 91 94 95 96 97 100 101 102 103 104 105 106 107 108 109 110 111 112 114 115
116 117 118 119 121 122 128 129 130 131 132 133 134 135 136 137 139 140 142 143 144 146 147 148 149 150 151 152 153
154 155 157 158 159 160 161 163 164 166 167 169 170 171 172 173 174 175 176 177 178 179 180 181 182 183 184 185 186
187 188 189 190 192 193 194 195 197 198 199 200 201 202 203 204 205 206 207 208 209 210 211 212 213 215 216 219 222
223 224 225 226 227 228 229 231 232 233 234 235 236 237 238 239 240 241 242 243 245 246 247 248 249 250 251 252 253
254 256 257 258 259 260 261 262 263 264 265 266 267 268 269 270 271 272 273 274 275 276 277 278 279 280 281 282 283
284 285 286 287 288 289 290 291 292 293 294 295 296 297 298 299 300 301 302 303 304 305 306 A0 A1 A5 A6 A8 B1 B4 B7
B8 B9 B10 B11 B12 B13 B14 B15 B16 B20 B22 B23
""") | {f"P{i}" for i in range(1, 33)}
# Retired CARCs a payer's older system may still send: kept, with X12's stop date.
RETIRED_CARCS_KEPT = {"15": "2018-05-01", "42": "2007-06-01", "165": "2018-05-01", "A2": "2008-01-01",
                      "A7": "2015-07-01"}

# Every remark code on X12's list (N813 and N814 were never issued); 78 of them are retired.
ALL_RARCS = ({f"M{i}" for i in range(1, 145)} | {f"MA{i:02d}" for i in range(1, 135)}
             | {f"N{i}" for i in range(1, 896)} - {"N813", "N814"})
RETIRED_RARCS = _codes("""
M33 M34 M35 M43 M48 M57 M58 M63 M68 M72 M78 M88 M92 M98 M101 M106 M108 M110 M118 M120 M128 M140 MA03 MA05 MA06
MA11 MA29 MA38 MA49 MA51 MA52 MA78 MA82 MA85 MA86 MA87 MA95 MA98 MA101 MA102 MA104 MA105 MA119 MA124 MA127 MA129
N14 N17 N18 N29 N38 N41 N44 N60 N66 N73 N100 N101 N102 N145 N164 N165 N166 N168 N169 N201 N225 N361 N365 N483 N484
N514 N515 N553 N627 N632 N735 N742
""")

CATEGORIES = {"patient share", "routine", "coding", "documentation", "non-covered", "eligibility", "authorization",
              "medical necessity", "coordination of benefits", "bundling", "duplicate", "timely filing", "other"}
LONGEST = 120  # characters: a short sentence a biller reads in the log (most are under 90)


def _raw(name: str) -> list[dict[str, str]]:
    """The shipped table exactly as written (the loader's dict would hide a repeated code)."""
    text = (DATA_DIR / f"{name}.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def _normalised(sentence: str) -> str:
    """Lower case, a leading "Alert:" dropped, every run of other characters one space."""
    sentence = re.sub(r"^\s*alert:\s*", "", sentence.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", sentence).split())


def _digest(sentence: str) -> str:
    return hashlib.sha256(_normalised(sentence).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- complete, one row per code

def test_the_rarc_table_holds_every_remark_code_x12_published_and_marks_the_retired_ones():
    rows = _raw("rarc")
    codes = [r["RARC"] for r in rows]
    assert set(codes) == ALL_RARCS and len(codes) == 1171
    retired = {r["RARC"] for r in rows if r["Deactivated"]}
    assert retired == RETIRED_RARCS
    assert len(ALL_RARCS - retired) == 1093
    for code in ("M1", "M27", "M144", "MA01", "MA130", "MA134", "N1", "N362", "N704", "N807", "N890", "N895"):
        assert code in codes and code not in retired
    dates = {r["RARC"]: r["Deactivated"] for r in rows}
    assert dates["MA95"] == "2003-02-28" and dates["N29"] == "2016-03-01" and dates["N14"] == "before 2019-07-01"


def test_the_carc_table_holds_every_current_code_and_only_the_retired_ones_remits_still_carry():
    rows = _raw("carc")
    current = {r["CARC"] for r in rows if not r["Deactivated"]}
    assert current == CURRENT_CARCS and len(current) == 295
    assert {r["CARC"]: r["Deactivated"] for r in rows if r["Deactivated"]} == RETIRED_CARCS_KEPT
    codes = {r["CARC"] for r in rows}
    assert not codes & {"W1", "W9", "Y1", "Y3", "D1", "25"}  # retired long ago: left out
    for code in ("1", "45", "107", "253", "306", "A0", "B23", "P1", "P12", "P32"):
        assert code in current


@pytest.mark.parametrize("name", ["carc", "rarc"])
def test_no_code_is_listed_twice(name):
    codes = [r[name.upper()] for r in _raw(name)]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("name", ["carc", "rarc"])
def test_every_meaning_is_a_short_sentence_in_plain_words(name):
    for r in _raw(name):
        meaning = r["Reason"]
        assert meaning.strip() == meaning and meaning, r
        assert len(meaning) <= LONGEST, r
        assert not meaning.endswith("."), r  # quoted inside the letters' own sentences
        assert "missing/incomplete/invalid" not in meaning.lower(), r  # X12's slash lists, not a biller's words


def test_every_carc_has_a_known_category_and_a_denial_flag():
    for r in _raw("carc"):
        assert r["Category"] in CATEGORIES, r
        assert r["Denial"] in ("Y", "N"), r


def test_the_new_carcs_follow_the_denial_rule():
    rows = {r["CARC"]: r for r in _raw("carc")}
    for refused in ("188", "282", "296", "302", "306", "P7", "P13", "P21", "P27", "P30"):
        assert rows[refused]["Denial"] == "Y", refused
    for routine in ("281", "290", "293", "295", "303", "P3", "P12", "P18", "P24", "P32"):
        assert rows[routine]["Denial"] == "N", routine


@pytest.mark.parametrize("name", ["carc", "rarc"])
def test_each_table_says_which_x12_list_and_date_it_follows_and_where_it_came_from(name):
    comments = " ".join(line for line in (DATA_DIR / f"{name}.csv").read_text(encoding="utf-8").splitlines()
                        if line.startswith("#"))
    assert "as published 2024-03-01" in comments
    assert "x12.org copy of the list taken 2024-06-18" in comments and "BillingUtilities.php" in comments
    assert "Deactivated" in comments


# ---------------------------------------------------------------- own words, not X12's

def test_the_digest_file_covers_every_code_in_both_tables():
    digests = json.loads(DIGESTS.read_text(encoding="utf-8"))
    assert {r["RARC"] for r in _raw("rarc")} <= set(digests)
    assert {r["CARC"] for r in _raw("carc")} <= set(digests)


def test_no_meaning_repeats_x12s_description_word_for_word():
    digests = json.loads(DIGESTS.read_text(encoding="utf-8"))
    every_x12_sentence = set(digests.values())
    for name in ("carc", "rarc"):
        for r in _raw(name):
            code = r[name.upper()]
            assert _digest(r["Reason"]) != digests[code], f"{name} {code} repeats X12's wording"
            assert _digest(r["Reason"]) not in every_x12_sentence, f"{name} {code} repeats an X12 sentence"


def test_the_digest_check_catches_a_copied_sentence():
    digests = json.loads(DIGESTS.read_text(encoding="utf-8"))
    # X12's MA130 text as quoted in this repository's own docs and tests: the check must see it as a copy.
    copied = ("Your claim contains incomplete and/or invalid information, and no appeal rights are afforded because "
              "the claim is unprocessable. Please submit a new claim with the complete/correct information.")
    assert _digest(copied) == digests["MA130"]
    assert _digest("alert: " + copied.upper()) == digests["MA130"]


# ---------------------------------------------------------------- the meanings reach the log, summary, letters

def test_the_reviewed_meanings_keep_their_sense():
    t = CodeTables.load()
    assert "relieved of liability" in t.rarc["M27"] and "provider is liable" in t.rarc["M27"]
    assert "may not appeal" in t.rarc["N704"] and "resubmit" in t.rarc["N704"]
    assert "no appeal" in t.rarc["MA130"].lower()


def test_a_users_own_table_without_the_deactivated_column_still_overrides(tmp_path):
    own = tmp_path / "my_rarc.csv"
    own.write_text("RARC,Reason\nN36,Our own words for N36\n", encoding="utf-8")
    t = CodeTables.load({"RARC Table": str(own)}, base_dir=tmp_path)
    assert t.rarc == {"N36": "Our own words for N36"}


def _835(claims: str) -> str:
    from test_denials_remittances import interchange, transaction

    return interchange(transaction([claims], payer="N1*PR*ACME HEALTH"))


def _book(tmp_path):
    payers = [("Acme Health Plan", "Commercial", 90, 60, "", "ACME HEALTH")]
    return build_workbook(tmp_path / "practice.xlsx", payers=payers, claims=[],
                          payer_headers=["Payer", "Payer Type", "Timely Filing Days", "Appeal Window Days",
                                         "Payer ID", "Also Known As"])


def _log(book):
    from toolkit.tables import DENIALS
    from toolkit.workbook.files import read_table

    return read_table(book, DENIALS)


def test_codes_new_to_the_tables_are_decoded_in_the_log_and_not_listed_as_unknown(tmp_path):
    from toolkit.jobs.denials import import_835_files
    from toolkit.workbook.files import WorkbookFile

    # CO-306 with N706 (records missing) refused a line; CO-281 and PI-P12 only reduced a paid one.
    claims = ("CLP*C-1*4*100*0**MB*PCN1~SVC*HC:99214*100*0**1~DTM*472*20260301~CAS*CO*306*100~LQ*HE*N706"
              "~CLP*C-2*1*200*150**MB*PCN2~SVC*HC:99213*200*150**1~DTM*472*20260302~CAS*CO*281*30~CAS*PI*P12*20")
    path = tmp_path / "r.835"
    path.write_text(_835(claims), encoding="utf-8")
    book = _book(tmp_path)
    summary = import_835_files(WorkbookFile(book), [path])
    assert not summary.unknown_codes
    assert not any("not in the CARC table" in line for line in summary.advice())
    log = _log(book)
    assert list(log["CARC"].astype(str)) == ["306"]  # the routine reductions are not denials
    reason = log.iloc[0]["Reason"]
    assert "discharge status (CARC 306)" in reason and "The documentation is missing (N706)" in reason
    assert "Remark N706" not in reason


def test_a_code_still_missing_from_the_tables_is_listed_as_before(tmp_path):
    from toolkit.jobs.denials import import_835_files
    from toolkit.workbook.files import WorkbookFile

    claims = "CLP*C-1*4*100*0**MB*PCN1~SVC*HC:99214*100*0**1~DTM*472*20260301~CAS*CO*999*100~LQ*HE*N999"
    path = tmp_path / "r.835"
    path.write_text(_835(claims), encoding="utf-8")
    book = _book(tmp_path)
    summary = import_835_files(WorkbookFile(book), [path])
    assert dict(summary.unknown_codes) == {"CO-999": 1}
    assert "Remark N999" in _log(book).iloc[0]["Reason"]


@pytest.mark.skipif(not SHARED_835.is_dir(), reason="../shared/data/x12_835 is not beside the repository")
def test_a_remark_code_from_an_outside_remit_now_has_the_practices_meaning(tmp_path):
    """The de-identified Nebraska Medicaid remit carries N36, which the 71-code table did not know."""
    from toolkit.jobs.denials import import_835_files
    from toolkit.workbook.files import WorkbookFile

    book = _book(tmp_path)
    summary = import_835_files(WorkbookFile(book), [SHARED_835 / "oopfactory_835_nebraska_medicaid_masked.txt"])
    assert not summary.unknown_codes
    log = _log(book)
    n36 = log[log["RARC"].astype(str).str.contains("N36")]
    assert len(n36) > 0
    meaning = CodeTables.load().rarc["N36"]
    assert all(f"{meaning} (N36)" in r for r in n36["Reason"])
    assert not any("Remark N36" in r for r in log["Reason"])


def test_the_appeal_letter_quotes_the_practices_meaning_of_a_newly_listed_remark_code(tmp_path):
    from docs_workbook import CLAIM_ROWS, DENIAL_ROWS, make_workbook
    from test_documents_appeal import TODAY, docx_text

    from toolkit.jobs.documents import appeal_letter
    from toolkit.workbook.files import WorkbookFile

    row = dict(DENIAL_ROWS[1], Reason=None, RARC="N661", Status="Open")
    wb = make_workbook(tmp_path / "wb.xlsx", denials=[row], claims=[dict(r) for r in CLAIM_ROWS])
    out = appeal_letter(WorkbookFile(wb, writable=False), row["Denial ID"], tmp_path / "out", today=TODAY)
    text = docx_text(out)
    assert "remark code N661: the records do not show the services were medically necessary" in text
    assert "N661: see the remittance" not in text
