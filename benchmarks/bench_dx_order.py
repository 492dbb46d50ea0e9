"""Claims of several lines, each listing the claim's diagnoses in its own order: run_checks against
the same lines one to a claim.

Real files (837P batches, PM-system exports) have several lines a claim, and each line lists the
claim's codes in its own pointer order ("M48.062, M54.16, M51.16" then "M51.16, M48.062, M54.16"):
~70,000 distinct Dx Codes texts in 100,000 lines instead of ~13,000, and Excludes1 looked at across
each claim.  The diagnosis checks should scale with the distinct codes, not with those texts.
Target (issue 13 follow-up): run_checks on three lines a claim within ~1.2x of one line a claim.

Each figure is the CPU time of ``run_checks`` alone, once, in a fresh process (a Validate click is
one run in a fresh Python: first-call costs count), median of REPEATS, the files alternated.
``--against DIR`` also times another checkout of mednec (e.g. main before this change) on the same
files in the same sitting.

    python benchmarks/bench_dx_order.py [LINES] [REPEATS] [--against DIR]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _data import SAMPLE, compile_toolkit, write_claims_csv  # noqa: E402
from bench_837 import PAYERS, write_batch  # noqa: E402
from bench_checks_report import stage_seconds  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

def main(lines: int = 100_000, repeats: int = 3, against: Path | None = None) -> None:
    compile_toolkit()
    trees = {"this tree": ROOT, **({"--against": against} if against else {})}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one, three = tmp / "one.csv", tmp / "three.csv"
        write_claims_csv(one, lines)
        write_claims_csv(three, lines, lines_per_claim=3)
        write_batch(one, tmp / "one.837")
        write_batch(one, tmp / "three.837", lines_per_claim=3)
        payers_837 = tmp / "payers.csv"
        payers_837.write_text(PAYERS)
        files = {"CSV": (one, three, SAMPLE / "payers.csv"), "837P": (tmp / "one.837", tmp / "three.837", payers_837)}
        runs: dict[tuple[str, str, int], list[float]] = {}
        for _ in range(repeats):  # alternated, so a busy spell on the machine touches every run alike
            for tree_name, tree in trees.items():
                for kind, (a, b, payers) in files.items():
                    for n, path in ((1, a), (3, b)):
                        # (the one fresh-process child of bench_checks_report: read, run_checks, report)
                        phases = stage_seconds(tree, path, payers, tmp / "report.csv")
                        runs.setdefault((tree_name, kind, n), []).append(phases["run_checks"])
    print(f"{lines:,} claim lines; CPU seconds of run_checks, one run a fresh process, median of {repeats}")
    print(f"{'':22s} {'1 line a claim':>15s} {'3 lines a claim':>16s} {'ratio':>7s}  (target <= 1.2x)")
    for tree_name in trees:
        for kind in files:
            a, b = (statistics.median(runs[(tree_name, kind, n)]) for n in (1, 3))
            print(f"{tree_name + ', ' + kind:22s} {a:13.2f} s {b:14.2f} s {b / a:6.2f}x")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--against")]
    other = next((Path(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--against=")), None)
    main(int(args[0]) if args else 100_000, int(args[1]) if len(args) > 1 else 3, other)
