"""The engine's bookkeeping on 100,000 claim lines: sorting and summarising the findings, typing
the Claims table — the current code against the code before issue 16, same data, same run.

    python benchmarks/bench_engine.py [LINES]

The "before" versions are copied below as they were, so the figures compare like with like and
the script checks both give the same output.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from _data import SAMPLE  # noqa: E402

from toolkit.checks import ORDER, SEVERITY_RANK  # noqa: E402
from toolkit.validation import AMBER, GREEN, RED, _finding_order, _summarise  # noqa: E402


def ranks(column: pd.Series, rank: dict, missing: int) -> np.ndarray:
    """``column.map(rank)`` through its few distinct values; values without a rank sort last."""
    codes, uniques = pd.factorize(column.to_numpy(dtype=object))
    return np.array([rank.get(u, missing) for u in uniques] + [missing], dtype=np.int64)[codes]


def sorted_now(findings: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """The findings table in run_checks' order (which has each finding's position and ranks already)."""
    rank = {c: i for i, c in enumerate(ORDER)}
    order = _finding_order(index.get_indexer(findings["row"]),
                           ranks(findings["severity"], SEVERITY_RANK, len(SEVERITY_RANK)),
                           ranks(findings["code"], rank, len(ORDER)))
    return findings.iloc[order].reset_index(drop=True)


def summarise_now(findings: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    return _summarise(findings, index, at=index.get_indexer(findings["row"]),
                      severity=ranks(findings["severity"], SEVERITY_RANK, len(SEVERITY_RANK)),
                      code_numbers=pd.factorize(findings["code"].to_numpy(dtype=object))[0])


def sorted_before(findings: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    rank = {c: i for i, c in enumerate(ORDER)}
    position = pd.Series(np.arange(len(index)), index=index)
    order = np.lexsort((findings["code"].map(rank).to_numpy(), findings["severity"].map(SEVERITY_RANK).to_numpy(),
                        position.reindex(findings["row"]).to_numpy()))
    return findings.iloc[order].reset_index(drop=True)


def summarise_before(findings: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    status = np.full(len(index), GREEN, dtype=object)
    codes_out = np.full(len(index), "", dtype=object)
    messages_out = np.full(len(index), "", dtype=object)
    pos = pd.Series(np.arange(len(index)), index=index).reindex(findings["row"]).to_numpy()
    starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
    ends = np.r_[starts[1:], len(pos)]
    codes = findings["code"].to_numpy(dtype=object)
    messages = findings["message"].to_numpy(dtype=object)
    worst = np.minimum.reduceat(findings["severity"].map(SEVERITY_RANK).to_numpy(), starts)
    lines = pos[starts]
    status[lines] = np.where(worst == SEVERITY_RANK[RED], RED, AMBER)
    single = ends - starts == 1
    codes_out[lines[single]] = codes[starts[single]]
    messages_out[lines[single]] = messages[starts[single]]
    many = ~single
    codes_out[lines[many]] = ["; ".join(codes[a:b]) for a, b in zip(starts[many], ends[many])]
    messages_out[lines[many]] = [" ".join(messages[a:b]) for a, b in zip(starts[many], ends[many])]
    return pd.DataFrame({"Status": status, "Finding Codes": codes_out, "Findings": messages_out}, index=index)


def coerce_before(spec, frame):
    """coerce_table with text columns converted once per distinct value, as before."""
    from toolkit import values

    fast, values._text_of_strings = values._text_of_strings, lambda series: None
    try:
        return values.coerce_table(spec, frame)
    finally:
        values._text_of_strings = fast


def findings_for(path: Path) -> tuple[pd.DataFrame, pd.Index, pd.DataFrame]:
    """The real findings of ``run_checks`` on the file, in check order (unsorted), with its raw table."""
    from toolkit.jobs.validate import read_override
    from toolkit.tables import PAYERS, RULES
    from toolkit.validation import run_checks
    from toolkit.workbook.files import read_csv

    raw = read_csv(path)
    rules, payers = read_override(SAMPLE / "rules.csv", RULES), read_override(SAMPLE / "payers.csv", PAYERS)
    validation = run_checks(raw, rules, payers,
                            as_of="2026-11-27")
    findings = validation.findings.drop(columns="policy")
    order = {c: i for i, c in enumerate(ORDER)}
    check_order = np.argsort(findings["code"].map(order).to_numpy(), kind="stable")
    return findings.iloc[check_order].reset_index(drop=True), validation.claims.index, raw


def best_of(fn, *args, runs: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.process_time()
        out = fn(*args)
        times.append(time.process_time() - start)
    return min(times), out


def main(n: int = 100_000) -> None:
    from _data import write_claims_csv

    from toolkit.tables import CLAIMS
    from toolkit.values import coerce_table

    path = write_claims_csv(Path("/tmp") / f"bench_engine_{n}.csv", n)
    findings, index, raw = findings_for(path)
    path.unlink()
    t_sort_old, sorted_old = best_of(sorted_before, findings, index)
    t_sort_new, sorted_new = best_of(sorted_now, findings, index)
    pd.testing.assert_frame_equal(sorted_old, sorted_new)
    t_sum_old, sum_old = best_of(summarise_before, sorted_old, index)
    t_sum_new, sum_new = best_of(summarise_now, sorted_new, index)
    pd.testing.assert_frame_equal(sum_old, sum_new)
    print(f"{n} lines, {len(findings)} findings from run_checks (CPU, best of 3; outputs identical)")
    print(f"  sorting findings  now {t_sort_new:5.2f} s   before {t_sort_old:5.2f} s")
    print(f"  _summarise        now {t_sum_new:5.2f} s   before {t_sum_old:5.2f} s   (issue 16: 0.64 -> ~0.21 s)")
    t_coerce_old, typed_old = best_of(coerce_before, CLAIMS, raw)
    t_coerce, typed = best_of(coerce_table, CLAIMS, raw)
    pd.testing.assert_frame_equal(typed_old, typed)
    print(f"  coerce_table      now {t_coerce:5.2f} s   before {t_coerce_old:5.2f} s")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
