"""Synthetic claim files for the benchmarks, made from the shipped sample lines."""

from __future__ import annotations

import csv
import random
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "workbooks" / "sample"
DX_POOL = ["M48.061", "M48.062", "M51.16", "M51.17", "M54.16", "M54.17", "M54.50", "M54.59", "M17.11", "M17.12",
           "M17.0", "S83.241A", "S83.242A", "M23.221", "M75.101", "M75.121", "M54.5", "M75.61", "J02.0", "M25.561",
           "S43.431A", "M19.011", "M47.816", "M51.36", "R52", "Z00.00", "I10", "E11.9", "M79.604", "G89.29"]


def claim_rows(n: int, seed: int = 7) -> tuple[list[str], list[list[str]]]:
    """``n`` claim lines: the sample's lines with their IDs, dates and diagnoses varied."""
    with open(SAMPLE / "claims.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, base = rows[0], rows[1:]
    rnd = random.Random(seed)
    h = {name: i for i, name in enumerate(header)}
    out = []
    for i in range(n):
        row = list(base[i % len(base)])
        row[h["Claim ID"]] = f"{i + 100000:07d}"
        row[h["Patient ID"]] = f"MRN{rnd.randrange(1, 40000):06d}"
        row[h["Date of Service"]] = f"2026-{rnd.randint(8, 11):02d}-{rnd.randint(1, 28):02d}"
        if rnd.random() < 0.5:
            row[h["Dx Codes"]] = ", ".join(rnd.sample(DX_POOL, rnd.randint(1, 3)))
        out.append(row)
    return header, out


def write_claims_csv(path: Path, n: int) -> Path:
    header, rows = claim_rows(n)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path
