"""The checks and the report at 100,000 lines: run_checks and write_report, each timed in CPU seconds
inside fresh processes, for a CSV and for the same lines as an 837P batch, beside a bare pandas read
of the CSV (issue 13's baseline) from the same run.

    python benchmarks/bench_checks_report.py [LINES] [REPEATS] [--before TREE]

``--before TREE``: a copy of another mednec's ``toolkit`` folder's parent (for example
``git archive main toolkit | tar -x -C /tmp/before``) timed in the same run, so before and after
are measured under the same load. The medians of REPEATS fresh processes are printed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import SAMPLE, compile_toolkit, write_claims_csv  # noqa: E402
from bench_837 import PAYERS, write_batch  # noqa: E402

# One fresh process: read the lines, then time the two stages this benchmark is about.
PHASES = """
import datetime, json, pathlib, sys, time
t0 = time.process_time()
from toolkit.jobs.claims import read_claims_837
from toolkit.jobs.validate import (_read_claims, load_codesets, load_therapy_codes, read_override, run_checks,
                                   write_report)
from toolkit.tables import PAYERS, RULES
src, rules_csv, payers_csv, out = sys.argv[1:5]
rules, payers = read_override(rules_csv, RULES), read_override(payers_csv, PAYERS)
claims = read_claims_837(src, payers) if src.endswith(".837") else _read_claims(pathlib.Path(src))
codesets = load_codesets(None, {})
t1 = time.process_time()
validation = run_checks(claims, rules, payers, as_of=datetime.date(2026, 11, 27), codesets=codesets,
                        therapy_codes=load_therapy_codes({}, near=None))
t2 = time.process_time()
write_report(validation, out, codesets=codesets)
t3 = time.process_time()
print(json.dumps({"read": t1 - t0, "run_checks": t2 - t1, "write_report": t3 - t2}))
"""
BARE_READ = ("import sys, time; t = time.process_time(); import pandas as pd; "
             "pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False); print(time.process_time() - t)")


def stage_seconds(tree: Path, src: Path, payers: Path, out: Path) -> dict[str, float]:
    """One fresh process of ``PHASES`` with ``tree``'s mednec: its CPU seconds per stage."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out.unlink(missing_ok=True)  # replacing last run's 50 MB report would be timed as the writer's
    # cwd: the output's folder, so that ``import toolkit`` finds TREE's and not the current folder's.
    done = subprocess.run([sys.executable, "-c", PHASES, str(src), str(SAMPLE / "rules.csv"), str(payers), str(out)],
                          env=env, capture_output=True, text=True, cwd=out.parent)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(lines: int, repeats: int, before: Path | None) -> None:
    here = Path(__file__).resolve().parents[1]
    compile_toolkit()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        claims = write_claims_csv(tmp / "claims.csv", lines)
        batch = tmp / "batch.837"
        write_batch(claims, batch)
        payers = tmp / "payers.csv"
        payers.write_text(PAYERS)
        bare = statistics.median(
            float(subprocess.run([sys.executable, "-c", BARE_READ, str(claims)], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(repeats))
        trees = [("this tree", here)] + ([("--before", before.resolve())] if before else [])
        print(f"{lines:,} lines; CPU seconds, median of {repeats} fresh processes each")
        print(f"bare pandas read of the CSV (import included): {bare:5.2f} s")
        print(f"{'':10s} {'input':6s} {'run_checks':>10s} {'write_report':>12s} {'both':>6s} {'x bare read':>11s}")
        inputs = (("CSV", claims, SAMPLE / "payers.csv"), ("837P", batch, payers))
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(repeats):  # the trees and inputs alternate, so a busy spell hits them alike
            for name, tree in trees:
                for label, src, payer_file in inputs:
                    runs.setdefault((name, label), []).append(
                        stage_seconds(tree, src, payer_file, tmp / f"report-{label}.csv"))
        for (name, label), got in runs.items():
            checks = statistics.median(r["run_checks"] for r in got)
            report = statistics.median(r["write_report"] for r in got)
            both = statistics.median(r["run_checks"] + r["write_report"] for r in got)
            print(f"{name:10s} {label:6s} {checks:10.3f} {report:12.3f} {both:6.3f} {both / bare:10.2f}x")


if __name__ == "__main__":
    args = sys.argv[1:]
    before_tree = None
    if "--before" in args:
        at = args.index("--before")
        before_tree = Path(args[at + 1])
        del args[at:at + 2]
    main(int(args[0]) if args else 100_000, int(args[1]) if len(args) > 1 else 3, before_tree)
