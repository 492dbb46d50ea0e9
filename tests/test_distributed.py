"""Validate on Dask: the same results as the pandas core, with a claim's lines in different partitions.

Needs the scale extra (dask[distributed], pyarrow); skipped without it. The NCCI index holds
invented edits between codes the sample bills (benchmarks/_data.py).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
import pytest
from scale_support import AS_OF, SAMPLE, grouped_claim_rows, invented_ncci_index, same_stamp, write_rows_csv

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("dask.distributed")
pytest.importorskip("pyarrow")

from toolkit import run_checks  # noqa: E402
from toolkit.distributed import validate_dask  # noqa: E402
from toolkit.jobs import validate as job  # noqa: E402

RULES, PAYERS = SAMPLE / "rules.csv", SAMPLE / "payers.csv"


@pytest.fixture(scope="module")
def ncci(tmp_path_factory) -> Path:
    return invented_ncci_index(tmp_path_factory.mktemp("ncci"))


def test_a_claim_split_across_partitions_is_still_caught_by_the_pair_check(ncci):
    from toolkit.codesets.ncci import NcciEdits

    lines = pd.DataFrame([
        {"Claim ID": "C1", "Line": "1", "Patient ID": "P1", "Payer": "Medicare", "Date of Service": "2026-10-12",
         "CPT/HCPCS": "63047", "Units": "1", "Dx Codes": "M48.062"},
        *({"Claim ID": f"X{i}", "Line": "1", "Patient ID": "P2", "Payer": "Medicare",
           "Date of Service": "2026-10-12", "CPT/HCPCS": "72148", "Units": "1", "Dx Codes": "M54.16"}
          for i in range(6)),
        {"Claim ID": "C1", "Line": "2", "Patient ID": "P1", "Payer": "Medicare", "Date of Service": "2026-10-12",
         "CPT/HCPCS": "62323", "Units": "1", "Dx Codes": "M48.062"},
    ], index=pd.RangeIndex(2, 10, name="row"))
    ddf = dd.from_pandas(lines, npartitions=4, sort=False)
    assert ddf.npartitions == 4  # line 1 of C1 in the first partition, line 2 in the last
    rules, payers = pd.read_csv(RULES, dtype=str), pd.read_csv(PAYERS, dtype=str)
    got = validate_dask(ddf, rules, payers, as_of=AS_OF, edits=NcciEdits.open(ncci)).compute(scheduler="sync")
    assert "NCCI_PTP_CONFLICT" in got.loc[9, "Finding Codes"]  # 62323 bundled into 63047 on the same claim
    assert "63047 (line 1)" in got.loc[9, "Findings"]
    want = run_checks(lines, rules, payers, as_of=AS_OF, edits=ncci).results
    pd.testing.assert_series_equal(got.sort_index()["Findings"], want["Findings"], check_names=False)


def test_validate_dask_local_gives_the_in_memory_report_on_an_unsorted_file(ncci, tmp_path):
    header, rows = grouped_claim_rows(3_000, seed=9)
    random.Random(1).shuffle(rows)  # claims' lines far apart: streaming refuses, Dask regroups them
    claims = write_rows_csv(tmp_path / "claims.csv", header, rows)
    job.validate_to_report(claims, tmp_path / "memory.csv", rules_path=RULES, payers_path=PAYERS, as_of=AS_OF,
                           ncci_path=ncci)
    outcome = job.run_validate(job.ValidateRequest(
        claims, report=tmp_path / "dask.csv", rules_path=RULES, payers_path=PAYERS,
        as_of=job.dt.date.fromisoformat(AS_OF), ncci_path=ncci, chunk_lines=700, dask="local"))
    assert same_stamp((tmp_path / "dask.csv").read_bytes()) == same_stamp((tmp_path / "memory.csv").read_bytes())
    with open(tmp_path / "dask.csv", newline="", encoding="utf-8") as fh:
        assert any("NCCI_PTP_CONFLICT" in r["Finding Codes"] for r in csv.DictReader(fh))
    memory = job.validate_to_report(claims, tmp_path / "m2.csv", rules_path=RULES, payers_path=PAYERS, as_of=AS_OF,
                                    ncci_path=ncci)[0]
    assert job.summary_text(outcome.validation) == job.summary_text(memory)


@pytest.mark.slow
def test_streaming_in_memory_and_dask_local_agree_on_100k_lines(ncci, tmp_path):
    header, rows = grouped_claim_rows(100_000, seed=4)
    claims = write_rows_csv(tmp_path / "claims.csv", header, rows)
    common = {"rules_path": RULES, "payers_path": PAYERS, "ncci_path": ncci}
    job.validate_to_report(claims, tmp_path / "memory.csv", as_of=AS_OF, **common)
    as_of = job.dt.date.fromisoformat(AS_OF)
    job.run_validate(job.ValidateRequest(claims, report=tmp_path / "stream.csv", as_of=as_of, chunk_lines=9_973,
                                         **common))
    job.run_validate(job.ValidateRequest(claims, report=tmp_path / "dask.csv", as_of=as_of, chunk_lines=25_000,
                                         dask="local", **common))
    memory = same_stamp((tmp_path / "memory.csv").read_bytes())
    assert same_stamp((tmp_path / "stream.csv").read_bytes()) == memory
    assert same_stamp((tmp_path / "dask.csv").read_bytes()) == memory


def test_batches_that_cut_claims_as_spark_hands_them_over_give_the_in_memory_results(ncci):
    """mapInPandas after repartition + sortWithinPartitions by Claim ID: batches of 10 lines cut claims."""
    from toolkit.codesets.icd10cm import CodeSets
    from toolkit.codesets.ncci import NcciEdits
    from toolkit.context import CheckContext
    from toolkit.distributed import validate_batches
    from toolkit.report import report_frame

    header, rows = grouped_claim_rows(400, seed=8)
    lines = pd.DataFrame(rows, columns=header)
    rules, payers = pd.read_csv(RULES, dtype=str), pd.read_csv(PAYERS, dtype=str)
    ctx = CheckContext(rules, payers, CodeSets.default(), NcciEdits.open(ncci), as_of=job.dt.date(2026, 11, 27))
    batches = [lines.iloc[i:i + 10].reset_index(drop=True) for i in range(0, len(lines), 10)]
    got = pd.concat(list(validate_batches(batches, ctx)), ignore_index=True)
    want = report_frame(ctx.run(lines), ctx.codesets, ctx.edits)
    pd.testing.assert_frame_equal(got, want)
    assert got["Finding Codes"].str.contains("NCCI_PTP_CONFLICT").any()
