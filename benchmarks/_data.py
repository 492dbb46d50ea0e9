"""Synthetic claim files for the benchmarks, made from the shipped sample lines, and the one timer
of a fresh process every benchmark uses."""

from __future__ import annotations

import csv
import functools
import random
import resource
import subprocess
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "workbooks" / "sample"


def fresh_process(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process running ``cmd``: a Validate click
    starts a fresh Python, and CPU time swings far less than wall time on a shared machine.
    A failing run stops the benchmark with the child's error output.  mednec's bytecode is written
    first (``compile_toolkit``), so every benchmark times the work, not compiling."""
    compile_toolkit()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(done.stderr)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@functools.cache
def compile_toolkit() -> None:
    """Write mednec's bytecode before timing fresh processes.

    An installed or once-run mednec has its .pyc files, as pandas (the baseline) has from its wheel;
    with PYTHONDONTWRITEBYTECODE set (as on the shared CI machine) every fresh process would otherwise
    compile ~40 of mednec's modules again (~0.06 s) and the benchmark would time that, not the work.
    """
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parents[1] / "toolkit", quiet=1)


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


def write_claims_csv(path: Path, n: int, lines_per_claim: int = 1) -> Path:
    """``n`` claim lines as a CSV; ``lines_per_claim`` > 1 makes them claims of that many lines, as a
    practice-management export lists them (``as_claims``)."""
    header, rows = claim_rows(n)
    if lines_per_claim > 1:
        rows = as_claims(header, rows, lines_per_claim)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


CLAIM_LEVEL = ("Claim ID", "Patient ID", "Patient Name", "Date of Birth", "Sex", "Payer", "Rendering Provider")


def as_claims(header: list[str], rows: list[list[str]], lines_per_claim: int) -> list[list[str]]:
    """Consecutive ``rows`` grouped into claims of ``lines_per_claim`` lines, as an 837P batch
    (``bench_837.write_batch``) and a PM system's export have them: the claim's first line gives the
    claim-level columns (``CLAIM_LEVEL``), lines are numbered 1, 2, …, and every line lists all the
    claim's diagnoses (up to 12) in its own order: its own codes first (up to 4, its pointers),
    then the claim's others.  So "M48.062, M54.16, M51.16" on one line is "M51.16, M48.062, M54.16"
    on the next, as a reader of the batch's HI and SV107 pointers gives them."""
    h = {name: i for i, name in enumerate(header)}
    out = []
    for at in range(0, len(rows), lines_per_claim):
        claim = [list(r) for r in rows[at: at + lines_per_claim]]
        line_dx = [[d.strip() for d in r[h["Dx Codes"]].split(",") if d.strip()] for r in claim]
        dx = list(dict.fromkeys(d for codes in line_dx for d in codes))[:12]
        for number, (row, codes) in enumerate(zip(claim, line_dx), start=1):
            for name in CLAIM_LEVEL:
                row[h[name]] = claim[0][h[name]]
            row[h["Line"]] = str(number)
            own = [d for d in codes if d in dx][:4]
            row[h["Dx Codes"]] = ", ".join(own + [d for d in dx if d not in own])
            out.append(row)
    return out


# ---------------------------------------------------------------- claims of several lines, and an NCCI index

# Invented NCCI edits between codes the sample bills (real-shaped codes; not CMS's values).
INVENTED_PTP = [  # Column 1, Column 2, effective, modifier indicator, rationale
    ("63047", "62323", "20200101", "0", "Standards of medical/surgical services"),
    ("29881", "29806", "20200101", "1", "Mutually exclusive procedures"),
    ("99214", "99213", "20200101", "0", "Misuse of column two code with column one code"),
    ("20610", "99213", "20200101", "1", "Standards of medical/surgical services"),
]
INVENTED_MUE = [("72148", 1, "2 Date of Service Edit: Policy", "CMS Policy"),
                ("20610", 2, "1 Line Edit", "Anatomic Consideration"),
                ("99213", 1, "3 Date of Service Edit: Clinical", "Clinical: Data")]


def grouped_claim_rows(n: int, seed: int = 11, max_lines: int = 4) -> tuple[list[str], list[list[str]]]:
    """``n`` lines in claims of 1 to ``max_lines`` lines (one patient, payer and date each), listed claim by claim.

    As in a practice's export, a patient's claims of one day follow each other (one claim in ten is a
    second claim for the previous claim's patient and date: NCCI pairs across claims)."""
    with open(SAMPLE / "claims.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, base = rows[0], rows[1:]
    h = {name: i for i, name in enumerate(header)}
    rnd = random.Random(seed)
    out: list[list[str]] = []
    claim = 0
    while len(out) < n:
        claim += 1
        first = base[rnd.randrange(len(base))]
        if claim == 1 or rnd.random() >= 0.1:
            patient, dos = f"MRN{claim:07d}", f"2026-{rnd.randint(8, 11):02d}-{rnd.randint(1, 28):02d}"
        for line in range(1, rnd.randint(1, max_lines) + 1):
            row = list(base[rnd.randrange(len(base))])
            row[h["Claim ID"]], row[h["Line"]] = f"C{claim:08d}", str(line)
            row[h["Patient ID"]], row[h["Payer"]], row[h["Date of Service"]] = patient, first[h["Payer"]], dos
            row[h["Units"]] = str(rnd.choice((1, 1, 1, 2, 3)))
            if rnd.random() < 0.5:
                row[h["Dx Codes"]] = ", ".join(rnd.sample(DX_POOL, rnd.randint(1, 3)))
            out.append(row)
    return header, out[:n]


def write_rows_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def invented_ncci_index(folder: Path) -> Path:
    """An NCCI index built by mednec from files in the CMS layouts holding ``INVENTED_*``."""
    from toolkit.codesets.build_ncci import build_ncci_index

    folder.mkdir(parents=True, exist_ok=True)
    head = ["Column 1", "Column 2", "*=in existence prior to 1996", "Effective Date", "Deletion Date *=no data",
            "Modifier 0=not allowed 1=allowed 9=not applicable", "PTP Edit Rationale"]
    lines = ["CPT codes, descriptions and other data only are copyright American Medical Association.", "",
             "Column1/Column 2 Edits", "\t".join(head)]
    lines += ["\t".join((c1, c2, "", eff, "*", mod, why)) for c1, c2, eff, mod, why in INVENTED_PTP]
    ptp = folder / "ccipra-v321r0-f1.txt"
    ptp.write_text("\r\n".join(lines) + "\r\n", encoding="cp1252")
    mue = folder / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv"
    with open(mue, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["HCPCS/\nCPT Code", "Practitioner Services MUE Values", "MUE Adjudication Indicator",
                      "MUE Rationale"])
        out.writerows(INVENTED_MUE)
    return build_ncci_index([ptp], folder / "ncci.sqlite", mue_file=mue, label="NCCI invented")
