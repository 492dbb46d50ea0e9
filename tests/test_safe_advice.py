"""Advice that is safe to follow (issue 9 §2): ABN/GA/GZ, Excludes1 across the claim, messages
that never print blanks or placeholders, and Covered Dx written as billers and CMS articles write it."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_checks import AS_OF, INJECTION, KNEE_SCOPE, PAYERS, RULES, line

from toolkit import find_findings, validate_claims
from toolkit.errors import InputError
from toolkit.rules import CoveredDx


def findings_for(rows, rules=RULES, payers=PAYERS) -> pd.DataFrame:
    return find_findings(pd.DataFrame(rows), rules, payers, as_of=AS_OF)


def message(row, code, rules=RULES) -> str:
    f = findings_for([row], rules)
    return f.loc[f["code"] == code, "message"].iloc[0]


# ---------------------------------------------------------------- ABN, GA, GZ

def test_medicare_not_covered_line_without_abn_says_ga_only_with_an_abn_signed_before_and_gz_otherwise():
    text = message(line(dx="M54.50"), "DX_NOT_COVERED")
    assert "signed an ABN before the service" in text and "add modifier GA" in text
    assert "add GZ" in text and "An ABN signed after the service is not valid" in text
    assert "have the patient sign" not in text


def test_medicare_not_covered_line_with_abn_and_ga_is_not_told_to_get_an_abn():
    text = message(line(dx="M54.50", mods="GA", **{"ABN on File": "Y"}), "DX_NOT_COVERED")
    assert "signed ABN and modifier GA are on the line" in text
    assert "sign" not in text.split("signed ABN", 1)[1]  # no "sign an ABN" advice after the fact


def test_medicare_not_covered_line_with_gz_says_the_practice_bears_the_loss():
    text = message(line(dx="M54.50", mods="GZ"), "DX_NOT_COVERED")
    assert "GZ is on the line" in text and "practice bears the loss" in text


def test_commercial_not_covered_line_gets_no_abn_advice():
    text = message(line(**{**KNEE_SCOPE, "Dx Codes": "M17.11"}), "DX_NOT_COVERED")
    assert "ABN" not in text and "hold it" in text


# ---------------------------------------------------------------- Excludes1 across the claim

def test_excludes1_pair_on_two_lines_of_one_claim_flags_both_lines_and_says_query_the_provider():
    rows = [line(dx="M48.062, M51.16"), line(Line="2", cpt="99213", dx="M54.16")]
    f = findings_for(rows)
    hits = f[f["code"] == "DX_EXCLUDES1"]
    assert sorted(hits["row"]) == [0, 1]
    assert "M51.16 and M54.16" in hits["message"].iloc[0]
    assert "M54.16 and M51.16" in hits["message"].iloc[1]
    assert all("query the provider" in m for m in hits["message"])


def test_excludes1_pair_on_two_different_claims_is_quiet():
    rows = [line(dx="M48.062, M51.16"), line(**{"Claim ID": "000102"}, cpt="99213", dx="M54.16")]
    assert "DX_EXCLUDES1" not in set(findings_for(rows)["code"])


# ---------------------------------------------------------------- no nonsense in messages

ODD_LINES = [
    line(dx=""), line(cpt=""), line(Payer=""), line(dos=""), line(mods="??"), line(dx="M54.50", mods="GA GZ"),
    line(**{**KNEE_SCOPE, "Dx Codes": "", "Modifiers": "", "Prior Auth Number": ""}),
    line(**{**INJECTION, "Dx Codes": "", "Modifiers": "50", "Units": "9"}),
    line(**{"Therapy Weeks": "", "Imaging Date": "", "Note Sections": "x"}),
    line(cpt="97110", Payer="Sunrise MA", mods="GA", **{"ABN on File": "Y"}),
]
STAR_RULES = pd.concat([RULES, pd.DataFrame([{"Payer": "Medicare", "CPT/HCPCS": "99213", "Covered Dx": "*"},
                                             {"Payer": "Medicare", "CPT/HCPCS": "97110", "Covered Dx": ""}])])
NONSENSE = re.compile(r"\(none\)|\(\)|''|covered: \*|\bnan\b|\bNone\b(?! of)|\bNaT\b|:\s*\.|\s{2,}|\s[.,;]")


@pytest.mark.parametrize("row", ODD_LINES + [line(cpt="99213", dx=""), line(cpt="97110", dx="M54.50", mods="GP")])
def test_no_message_prints_a_blank_placeholder_or_nan(row):
    f = findings_for([row], STAR_RULES)
    assert len(f)
    for code, text in zip(f["code"], f["message"]):
        assert not NONSENSE.search(text), (code, text)


def test_a_line_without_diagnosis_under_a_star_rule_says_so_plainly():
    text = message(line(cpt="99213", dx=""), "DX_NOT_COVERED", STAR_RULES)
    assert text.startswith("The line has no diagnosis, so nothing supports 99213")
    assert "covered: any diagnosis" in text


# ---------------------------------------------------------------- Covered Dx as written

@pytest.mark.parametrize("text", ["M17.0 - M17.9", "M17.0 -M17.9", "M17.0-M17.9", "M17.1-", "M17.-", "M17.1*"])
def test_covered_dx_ranges_and_ICD_dash_prefixes_cover_M17_11(text):
    covered = CoveredDx.parse(text, strict=True)
    assert covered.covers("M1711")
    assert not covered.covers("M1611")


def test_spaced_range_in_the_rules_table_keeps_a_right_knee_line_green_of_dx_not_covered():
    rules = RULES.assign(**{"Covered Dx": RULES["Covered Dx"]})
    rules.loc[1, "Covered Dx"] = "M17.0 - M17.9"
    assert "DX_NOT_COVERED" not in set(findings_for([line(**INJECTION)], rules)["code"])


@pytest.mark.parametrize("bad", ["M17.9-M17.0", "knee OA", "M17.1--"])
def test_a_covered_dx_entry_that_is_no_code_prefix_or_range_is_one_error_naming_row_and_column(bad):
    rules = RULES.copy()
    rules.index = [2, 3, 4]
    rules.attrs = {"file": "rules.csv", "sheet": None}
    rules.loc[3, "Covered Dx"] = bad
    with pytest.raises(InputError) as err:
        validate_claims(pd.DataFrame([line()]), rules, PAYERS, as_of=AS_OF)
    text = str(err.value)
    assert text.startswith("rules.csv, row 3, column Covered Dx: ") and "\n" not in text


# ---------------------------------------------------------------- one Medicare predicate

def test_a_payer_type_typed_medicare_in_lower_case_gets_the_medicare_edits_and_advice():
    payers = PAYERS.copy()
    payers.loc[0, "Payer Type"] = "  medicare "
    f = findings_for([line(dx="M54.50", mods="GZ")], payers=payers)
    assert "GZ_EXPECTED_DENIAL" in set(f["code"])
    assert "practice bears the loss" in f.loc[f["code"] == "DX_NOT_COVERED", "message"].iloc[0]
    assert "THERAPY_MODIFIER_MISSING" in set(findings_for([line(cpt="97110")], payers=payers)["code"])
