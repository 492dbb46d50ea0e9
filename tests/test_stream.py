"""Streaming validate: chunks of whole claims give the in-memory report byte for byte.

The NCCI index holds invented edits between codes the sample bills (see benchmarks/_data.py),
so the pair and MUE checks fire on claims that straddle the chunk boundaries.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scale_support import AS_OF, SAMPLE, grouped_claim_rows, invented_ncci_index, same_stamp, write_rows_csv

from toolkit.errors import InputError
from toolkit.jobs import validate as job
from toolkit.stream import NotGrouped, _cut, whole_groups

RULES, PAYERS = SAMPLE / "rules.csv", SAMPLE / "payers.csv"


@pytest.fixture(scope="module")
def ncci(tmp_path_factory) -> Path:
    return invented_ncci_index(tmp_path_factory.mktemp("ncci"))


@pytest.fixture(scope="module")
def claims_file(tmp_path_factory) -> Path:
    header, rows = grouped_claim_rows(6_000)
    return write_rows_csv(tmp_path_factory.mktemp("claims") / "claims.csv", header, rows)


def streamed(file: Path, out: Path, ncci: Path | None, chunk_lines: int | None = None):
    return job.run_validate(job.ValidateRequest(file, report=out, rules_path=RULES, payers_path=PAYERS,
                                                as_of=job.dt.date.fromisoformat(AS_OF), ncci_path=ncci,
                                                chunk_lines=chunk_lines))


def in_memory(file: Path, out: Path, ncci: Path | None):
    return job.validate_to_report(file, out, rules_path=RULES, payers_path=PAYERS, as_of=AS_OF, ncci_path=ncci)


def test_streamed_report_is_the_in_memory_report_byte_for_byte_with_claims_across_chunk_boundaries(
        claims_file, ncci, tmp_path):
    validation, _ = in_memory(claims_file, tmp_path / "memory.csv", ncci)
    outcome = streamed(claims_file, tmp_path / "streamed.csv", ncci, chunk_lines=997)
    memory, stream = (tmp_path / "memory.csv").read_bytes(), (tmp_path / "streamed.csv").read_bytes()
    assert same_stamp(stream) == same_stamp(memory)
    report = pd.read_csv(tmp_path / "streamed.csv", dtype=str, keep_default_na=False)
    claims = report["Claim ID"].to_numpy()
    across = [claims[k * 997 - 1] for k in range(1, 6) if claims[k * 997 - 1] == claims[k * 997]]
    assert across, "the generated file should have claims on both sides of a nominal chunk boundary"
    assert report["Finding Codes"].str.contains("NCCI_PTP_CONFLICT").sum() > 50
    assert report["Finding Codes"].str.contains("MUE_EXCEEDED").sum() > 50
    assert job.summary_text(outcome.validation) == job.summary_text(validation)


def test_a_chunk_of_one_line_still_keeps_each_claim_whole(ncci, tmp_path):
    header, rows = grouped_claim_rows(120, seed=5)
    small = write_rows_csv(tmp_path / "small.csv", header, rows)
    in_memory(small, tmp_path / "memory.csv", ncci)
    streamed(small, tmp_path / "streamed.csv", ncci, chunk_lines=1)
    assert same_stamp((tmp_path / "streamed.csv").read_bytes()) == same_stamp((tmp_path / "memory.csv").read_bytes())


def test_a_file_not_grouped_by_claim_is_refused_and_nothing_is_left_behind(claims_file, ncci, tmp_path):
    with open(claims_file, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    body = rows[1:]
    random.Random(3).shuffle(body)
    mixed = write_rows_csv(tmp_path / "mixed.csv", rows[0], body)
    out = tmp_path / "out" / "report.csv"
    out.parent.mkdir()
    with pytest.raises(NotGrouped, match="not grouped by Claim ID.*nothing was written"):
        streamed(mixed, out, ncci, chunk_lines=500)
    assert os.listdir(out.parent) == []
    # one chunk holding the whole file sees every claim whole: the same report as in memory
    streamed(mixed, out, ncci, chunk_lines=len(body))
    in_memory(mixed, tmp_path / "memory.csv", ncci)
    assert same_stamp(out.read_bytes()) == same_stamp((tmp_path / "memory.csv").read_bytes())


def test_the_cut_leaves_every_group_that_may_go_on_for_the_next_chunk():
    keys = np.array([1, 1, 2, 3, 3, 3], dtype=np.uint64)
    assert _cut(keys) == 3  # claim 3 may continue
    assert _cut(np.array([1, 2, 3, 2], dtype=np.uint64)) == 1  # claim 3 sits inside claim 2
    assert _cut(np.array([1, 2, 1, 3, 2], dtype=np.uint64)) == 0  # 2 and 1 interleave back to the first line
    assert _cut(np.array([5, 5, 5], dtype=np.uint64)) == 0


def test_whole_groups_never_split_a_claim_and_refuse_a_claim_that_comes_back():
    frame = pd.DataFrame({"Claim ID": ["A", "A", "B", "B", "B", "C", "D", "D"]},
                         index=pd.RangeIndex(2, 10, name="row"))
    chunks = [frame.iloc[i:i + 3] for i in range(0, len(frame), 3)]
    out = list(whole_groups(iter(chunks), ("Claim ID",), max_carry=100))
    assert [list(c["Claim ID"]) for c in out] == [["A", "A"], ["B", "B", "B"], ["C"], ["D", "D"]]
    assert pd.concat(out).index.tolist() == frame.index.tolist()
    back = pd.DataFrame({"Claim ID": ["A", "B", "C", "A"]})
    with pytest.raises(NotGrouped):
        list(whole_groups(iter([back.iloc[:2], back.iloc[2:]]), ("Claim ID",), max_carry=100))
    with pytest.raises(NotGrouped):  # one claim longer than the carry allows
        list(whole_groups(iter([frame.iloc[:2], frame.iloc[:0]]), ("Claim ID",), max_carry=1))


def test_parquet_in_and_out_keep_typed_columns_and_give_the_same_results(claims_file, ncci, tmp_path):
    pytest.importorskip("pyarrow")
    raw = pd.read_csv(claims_file, dtype=str, keep_default_na=False)
    typed = raw.assign(**{"Line": raw["Line"].astype("int64"), "Units": raw["Units"].astype(float),
                          "Date of Service": pd.to_datetime(raw["Date of Service"])})
    typed.to_parquet(tmp_path / "claims.parquet", index=False, row_group_size=700)
    in_memory(claims_file, tmp_path / "memory.csv", ncci)
    streamed(tmp_path / "claims.parquet", tmp_path / "report.parquet", ncci, chunk_lines=1000)
    got = pd.read_parquet(tmp_path / "report.parquet")
    assert got["Line"].dtype == "int64"
    want = pd.read_csv(tmp_path / "memory.csv", dtype=str, keep_default_na=False)
    cols = ["Claim ID", "Status", "Finding Codes", "Findings", "Policy", "Code Set"]
    pd.testing.assert_frame_equal(got[cols].astype(object), want[cols].astype(object))
    assert got["Line"].astype(str).tolist() == want["Line"].tolist()


def test_the_report_may_not_overwrite_an_input(claims_file, tmp_path):
    with pytest.raises(InputError, match="would overwrite the input"):
        streamed(claims_file, RULES, None)


def test_the_csv_path_imports_neither_dask_nor_pyarrow(sample_csvs, tmp_path):
    """pandas 3 itself loads pyarrow's core when it is installed; mednec must add none of it (nor dask)."""
    code = (
        "import sys, pandas\n"
        "before = set(sys.modules)\n"
        "import toolkit.cli.validate\n"
        "from toolkit.cli import main\n"
        f"try: main(['validate', {str(sample_csvs['claims'])!r}, '--rules', {str(sample_csvs['rules'])!r},"
        f" '--payers', {str(sample_csvs['payers'])!r}, '--report', {str(tmp_path / 'r.csv')!r}])\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "new = set(sys.modules) - before\n"
        "heavy = sorted(m for m in new if m.split('.')[0] in ('dask', 'distributed', 'pyarrow'))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.csv").exists()


def test_without_the_scale_extra_parquet_and_dask_say_what_to_install(sample_csvs, tmp_path, cli):
    try:
        import pyarrow  # noqa: F401
        pytest.skip("pyarrow is installed: the message is for installs without the scale extra")
    except ImportError:
        pass
    base = [sample_csvs["claims"], "--rules", sample_csvs["rules"], "--payers", sample_csvs["payers"]]
    for extra in (["--report", tmp_path / "r.parquet"], ["--report", tmp_path / "r.csv", "--dask", "local"]):
        result = cli("validate", *base, *extra)
        assert result.exit_code == 1
        assert 'pip install "mednec[scale]"' in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.csv", "payers.csv", "rules.csv"]


def test_a_parquet_file_can_still_get_an_excel_report(claims_file, tmp_path):
    pytest.importorskip("pyarrow")
    import openpyxl

    pd.read_csv(claims_file, dtype=str, keep_default_na=False).head(50).to_parquet(tmp_path / "c.parquet")
    outcome = job.run_validate(job.ValidateRequest(tmp_path / "c.parquet", report=tmp_path / "r.xlsx",
                                                   rules_path=RULES, payers_path=PAYERS))
    assert sum(outcome.validation.counts().values()) == 50
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)["Report"]
    assert sum(1 for _ in sheet.iter_rows()) == 51


def test_lines_without_a_claim_id_anywhere_in_the_file_do_not_make_it_ungrouped(ncci, tmp_path):
    """A blank Claim ID pairs with nothing (FIELD_MISSING says so); such lines need no grouping."""
    header, rows = grouped_claim_rows(600, seed=6)
    at = header.index("Claim ID")
    blank = {row[at] for row in rows[5::97]}  # every line of a few claims scattered through the file
    for row in rows:
        if row[at] in blank:
            row[at] = ""
    claims = write_rows_csv(tmp_path / "claims.csv", header, rows)
    in_memory(claims, tmp_path / "memory.csv", ncci)
    streamed(claims, tmp_path / "streamed.csv", ncci, chunk_lines=50)
    assert same_stamp((tmp_path / "streamed.csv").read_bytes()) == same_stamp((tmp_path / "memory.csv").read_bytes())
    assert b"FIELD_MISSING" in (tmp_path / "streamed.csv").read_bytes()


def test_the_chunk_a_source_marks_last_is_checked_whole_not_cut_before_its_last_claim(claims_file):
    from toolkit.stream import LAST_CHUNK, csv_chunks

    chunks = list(csv_chunks(claims_file, 997))
    assert [bool(c.attrs.get(LAST_CHUNK)) for c in chunks] == [False] * (len(chunks) - 1) + [True]
    out = list(whole_groups(iter(chunks), ("Claim ID",), max_carry=10_000))
    assert sum(map(len, out)) == sum(map(len, chunks)) and len(out) == len(chunks)  # no tail left over
    whole = list(csv_chunks(claims_file, 1 << 20))
    assert len(whole) == 1 and list(whole_groups(iter(whole), ("Claim ID",), max_carry=10))[0].equals(whole[0])
