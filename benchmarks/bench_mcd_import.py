"""``mednec rules import-mcd`` on a download the size of the real CMS "current article" export.

The real export (2026) has about 2,000 articles, 18,000 article × CPT/HCPCS rows and 431,000
article × covered ICD-10 rows.  This script invents a download of that size (no CMS rows), as
the zip holding ``current_article_csv.zip``, and times a fresh ``mednec`` process importing one
article into a rules CSV, against a bare pandas read of the biggest file.

    python benchmarks/bench_mcd_import.py [COVERED_ROWS]
"""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ARTICLES = 2000


def _csv(header, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("cp1252")


def build(path: Path, covered_rows: int) -> None:
    rnd = random.Random(7)
    files = {
        "article.csv": _csv(
            ["article_id", "article_version", "article_type", "title", "article_pub_date", "article_eff_date",
             "article_end_date", "description", "status", "last_updated", "display_id"],
            [[str(50000 + i), "3", "6", f"Invented article {i}", "", "2025-10-01 00:00:00", "",
              "<p>" + "Invented text, " * 200 + "</p>", "A", "", f"A{50000 + i}"] for i in range(ARTICLES)]),
        "article_x_hcpc_code.csv": _csv(
            ["article_id", "article_version", "hcpc_code_id", "hcpc_code_version", "hcpc_code_group", "range",
             "last_updated", "long_description", "short_description"],
            [[str(50000 + i % ARTICLES), "3", f"{10000 + i:05d}", "1", str(1 + i % 3), "N", "", "x", "x"]
             for i in range(18000)]),
        "article_x_icd10_covered.csv": _csv(
            ["article_id", "article_version", "icd10_code_id", "icd10_code_version", "icd10_covered_group", "range",
             "last_updated", "sort_order", "description", "asterisk"],
            [[str(50000 + rnd.randrange(ARTICLES)), "3", f"M{rnd.randrange(10, 99)}.{rnd.randrange(100, 999)}", "1",
              str(1 + i % 3), "N", "", str(i), "invented description of a diagnosis", "N"]
             for i in range(covered_rows)]),
    }
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("current_article_csv.zip", inner.getvalue())
    folder = path.with_suffix("")
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def timed(cmd) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    covered_rows = int(sys.argv[1]) if len(sys.argv) > 1 else 431_000
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "current_article.zip"
        build(source, covered_rows)
        folder = source.with_suffix("")
        print(f"download: {covered_rows:,} covered rows, zip {source.stat().st_size / 1e6:.1f} MB")
        read = "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False, encoding='cp1252')"
        bare = timed([sys.executable, "-c", read, str(folder / "article_x_icd10_covered.csv")])
        print(f"bare pandas read of article_x_icd10_covered.csv: {bare:.2f} s")
        for label, src in (("zip", source), ("folder", folder)):
            out = Path(tmp) / f"rules-{label}.csv"
            took = timed([sys.executable, "-m", "toolkit", "rules", "import-mcd", str(src), "--article", "A50007",
                          "--payer", "Medicare", "--out", str(out)])
            print(f"mednec rules import-mcd from the {label}: {took:.2f} s")


if __name__ == "__main__":
    main()
