"""Generated claim files for the streaming and Dask tests (the benchmarks' generator, smaller sizes)."""

from __future__ import annotations

import re
import sys

from conftest import AS_OF, REPO, SAMPLE

sys.path.insert(0, str(REPO / "benchmarks"))
from _data import grouped_claim_rows, invented_ncci_index, write_rows_csv  # noqa: E402

STAMP = re.compile(rb"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")

__all__ = ["AS_OF", "SAMPLE", "STAMP", "grouped_claim_rows", "invented_ncci_index", "same_stamp",
           "write_rows_csv"]


def same_stamp(report: bytes) -> bytes:
    """The report with its Validated At stamps (the minute the run started) made equal."""
    return STAMP.sub(b"2026-11-27 09:00", report)
