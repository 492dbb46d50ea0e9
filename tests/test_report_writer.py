"""The fast report writer writes the bytes pandas' ``to_csv`` writes (formula-guarded), only faster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scale_support import AS_OF, SAMPLE, grouped_claim_rows, write_rows_csv

from toolkit.jobs import validate as job
from toolkit.report import csv_text, report_frame
from toolkit.values import csv_guard_series


def pandas_bytes(frame: pd.DataFrame) -> str:
    """The old path: guard the text columns, then ``DataFrame.to_csv`` as ``write_csv`` called it."""
    guarded = frame.copy()
    for c in guarded.columns:
        guarded[c] = csv_guard_series(guarded[c])
    return guarded.to_csv(index=False, date_format="%Y-%m-%d")


@pytest.mark.parametrize("lines", [0, 10_000])
def test_report_csv_is_byte_for_byte_what_to_csv_wrote(lines, tmp_path):
    if lines:
        header, rows = grouped_claim_rows(lines, seed=2)
        claims = write_rows_csv(tmp_path / "claims.csv", header, rows)
    else:
        claims = SAMPLE / "claims.csv"
    validation, out = job.validate_to_report(claims, tmp_path / "report.csv", rules_path=SAMPLE / "rules.csv",
                                             payers_path=SAMPLE / "payers.csv", as_of=AS_OF)
    expected = pandas_bytes(report_frame(validation, job.load_codesets()))
    assert out.read_bytes() == expected.encode("utf-8")
    assert expected.count("\n") == len(validation.results) + 1


def test_hostile_and_odd_cells_are_written_as_to_csv_writes_them():
    frame = pd.DataFrame({
        "text": ["x,y", 'say "no"', "two\nlines", "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", None, np.nan,
                 "", " padded ", "plain"],
        "n": range(12),
        "f": [1.0, 0.1, np.nan, 1e-5, 2.5, 3.0, 1e20, -0.0, 7.25, 1 / 3, 2.0, 4.5],
        "yes": [True, False] * 6,
        "day": pd.to_datetime(["2026-01-02"] * 11 + [None]),
    })
    assert csv_text(frame) == pandas_bytes(frame)
    assert "'=HYPERLINK" in csv_text(frame)  # a formula is neutralised, not written live


def test_a_lone_carriage_return_is_quoted():
    """Python 3.11's csv leaves it bare (3.12 quotes it); bare, it splits the row in most readers."""
    assert csv_text(pd.DataFrame({"a": ["one\rtwo"]}), lineterminator="\n") == 'a\n"one\rtwo"\n'


def test_columns_the_same_on_every_line_are_written_as_to_csv_writes_them():
    """Trailing columns with one value (Validated At, Code Set) end each line as one piece."""
    frame = pd.DataFrame({
        "id": ["a", "b", "c"], "n": [1, 1, 1], "stamp": ["2026-11-27 09:00"] * 3,
        "quoted": ["x, y"] * 3, "blank": [None] * 3, "guarded": ["=1+1"] * 3,
    })
    assert csv_text(frame) == pandas_bytes(frame)
    assert csv_text(frame[["n", "stamp"]]) == pandas_bytes(frame[["n", "stamp"]])  # every column constant
    assert csv_text(frame.iloc[:0]) == pandas_bytes(frame.iloc[:0])
