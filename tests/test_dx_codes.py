"""Diagnoses read as code numbers (checks/dxcodes.py): the same findings, word for word, as reading
each line's Dx Codes on its own, on claims whose lines list the claim's codes in their own order."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from toolkit import find_findings
from toolkit.checks.base import _split_dx
from toolkit.checks.dxcodes import join_runs, number_runs, parse_dx, tuples
from toolkit.codesets.icd10cm import DX_SHAPE, CodeSets
from toolkit.values import first_positions

AS_OF = "2026-11-27"
RULES = pd.DataFrame([{"Payer": "Medicare", "CPT/HCPCS": "63047", "Covered Dx": "M48.061, M48.062",
                       "Policy": "Practice criteria (no LCD)"}])
PAYERS = pd.DataFrame([{"Payer": "Medicare", "Payer Type": "Medicare", "Timely Filing Days": "365",
                        "Appeal Window Days": "120"}])
# Real codes: Excludes1 pairs (M54.16 / M51.16, M54.50 / S39.012A), header codes (M54.5, M17), codes
# that are not codes (XYZ, M48.06), and one deleted in FY2026 April update vs FY2027 (across releases).
POOL = ["M48.062", "M54.16", "M51.16", "m54.16", "M5116", "M54.5", "M54.50", "S39.012A", "M17", "M17.11", "XYZ",
        "M48.06", "M54.59", "E11.9", "I10", "R52", "M47.816", "M51.36", "G89.29", "."]


def claim_line(claim: str, line: int, dx: str, dos: str = "2026-10-12") -> dict:
    return {"Claim ID": claim, "Line": str(line), "Patient ID": "MRN0001", "Payer": "Medicare",
            "Date of Service": dos, "CPT/HCPCS": "63047", "Units": "1", "Dx Codes": dx, "Therapy Weeks": "14",
            "Imaging Date": "2026-08-20", "Imaging Type": "MRI", "ABN on File": "N", "Note Sections": "S,O,A,P",
            "Rule-Out Dx": "N", "Patient Declined": "N"}


def messages(rows: list[dict], code: str) -> dict[int, str]:
    found = find_findings(pd.DataFrame(rows), RULES, PAYERS, as_of=AS_OF)
    mine = found[found["code"] == code]
    return dict(zip(mine["row"].tolist(), mine["message"].tolist()))


def test_each_line_names_the_excludes1_pair_in_its_own_pointer_order():
    rows = [claim_line("C1", 1, "M48.062, M54.16, M51.16"), claim_line("C1", 2, "M51.16, M48.062, M54.16")]
    said = messages(rows, "DX_EXCLUDES1")
    assert said[0].startswith("M54.16 and M51.16 are in an ICD-10-CM Excludes1 relation")
    assert said[1].startswith("M51.16 and M54.16 are in an ICD-10-CM Excludes1 relation")


def test_excludes1_across_the_lines_of_one_claim_but_not_across_claims():
    rows = [claim_line("C1", 1, "M54.16"), claim_line("C1", 2, "M51.16, M48.062"),
            claim_line("C2", 1, "M54.16"), claim_line("C3", 1, "M51.16")]
    said = messages(rows, "DX_EXCLUDES1")
    assert said == {0: said[0], 1: said[1]}
    assert said[0].startswith("M54.16 and M51.16 are in")
    assert said[1].startswith("M51.16 and M54.16 are in")


def test_a_line_without_claim_id_stands_alone():
    rows = [claim_line("", 1, "M54.16"), claim_line("", 2, "M51.16")]
    assert messages(rows, "DX_EXCLUDES1") == {}


@pytest.mark.parametrize("texts", [
    ["M17.11, m54.5", "M17.11,M54.5", " m1711 ;M54.5 ", "M17.11\u00a0M54.5", "", None, ".", "M17.11, M17.11",
     "a\x00b, c", ",;\t\n", "S83.241A M23.221"],
    [],
    [None, None],
])
def test_dx_texts_split_as_one_line_at_a_time(texts):
    values = np.empty(len(texts), dtype=object)
    values[:] = texts
    parsed = parse_dx(values)
    got = tuples(parsed.codes[parsed.flat], parsed.lens)[parsed.line] if len(texts) else []
    assert list(got) == [_split_dx(t or "") for t in texts]
    # equal tuples share a number, given in order of first appearance (as pd.factorize numbers them)
    split = np.empty(len(texts), dtype=object)
    split[:] = [_split_dx(t or "") for t in texts] if texts else []
    expected = pd.factorize(split)[0].tolist() if texts else []
    assert parsed.line.tolist() == expected


def test_runs_numbered_by_content_and_joined_in_order():
    flat = np.array([1, 2, 1, 2, 2, 1, 1], dtype="int64")
    lens = np.array([2, 0, 2, 2, 1], dtype="int64")
    starts = np.cumsum(lens) - lens
    assert number_runs(flat, starts, lens, 3).tolist() == [0, 1, 0, 2, 3]
    parts = np.array(["a", "b", "c", "d"], dtype=object)
    assert join_runs(parts, np.array([0, 0, 2, 2]), 3, "; ").tolist() == ["a; b", "", "c; d"]
    assert first_positions(np.array([0, 0, 1, 0, 2, 1])).tolist() == [0, 2, 4]


def _reference_excludes1(rows: list[dict]) -> dict[int, str]:
    """The rule as the checklist states it, line by line in plain Python: pairs among the line's own
    known codes (in its order), then between each and the other known codes of its claim (in order
    of first appearance over the claim's lines)."""
    sets = CodeSets.default()

    def infos(row):
        s = sets.for_date(pd.Timestamp(row["Date of Service"]).date())
        return [s.get(c) if DX_SHAPE.fullmatch(c) else None for c in _split_dx(row["Dx Codes"] or "")]

    def excluded(x, y):
        return x.code != y.code and (x.excludes(y.code) or y.excludes(x.code))

    per_line = [infos(r) for r in rows]
    union: dict[str, dict] = {}
    claims = pd.Series([r["Claim ID"] for r in rows])
    shared = (claims != "") & claims.duplicated(keep=False)
    for r, t, s in zip(rows, per_line, shared):
        if s:
            seen = union.setdefault(r["Claim ID"], {})
            for i in t:
                if i is not None:
                    seen.setdefault(i.code, i)
    out = {}
    for n, (r, t, s) in enumerate(zip(rows, per_line, shared)):
        known = [i for i in t if i is not None]
        pairs = [(a.dotted, b.dotted) for k, a in enumerate(known) for b in known[k + 1:] if excluded(a, b)]
        own = {i.code for i in known}
        others = list(union[r["Claim ID"]].values()) if s else []
        pairs += [(x.dotted, y.dotted) for x in known for y in others if y.code not in own and excluded(x, y)]
        if pairs:
            out[n] = "; ".join(f"{a} and {b}" for a, b in pairs) + (" are each" if len(pairs) > 1 else " are")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_excludes1_word_for_word_as_the_rule_reads_line_by_line(seed):
    rnd = random.Random(seed)
    rows = []
    for claim in range(150):
        cid = rnd.choice([f"C{claim}", f"C{claim}", "", f"C{rnd.randrange(claim + 1)}"])  # some interleaved
        codes = rnd.sample(POOL, rnd.randint(0, 5))
        for n in range(rnd.randint(1, 4)):
            mine = rnd.sample(codes, len(codes)) if rnd.random() < 0.6 else rnd.sample(POOL, rnd.randint(0, 3))
            # dates either side of the FY2027 release (October 1): a claim's lines may use two releases
            dos = rnd.choice(["2026-09-20", "2026-10-12", "2025-06-02"])
            rows.append(claim_line(cid, n + 1, rnd.choice([", ", ",", " ; "]).join(mine), dos))
    said = {k: v.split(" in an ICD-10-CM Excludes1 relation")[0] for k, v in messages(rows, "DX_EXCLUDES1").items()}
    assert said == _reference_excludes1(rows)
    assert len(said) > 20
