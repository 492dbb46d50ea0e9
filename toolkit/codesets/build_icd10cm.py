"""Build the compact ICD-10-CM index that Validate loads on every click.

Importing ``simple_icd_10_cm`` parses the whole CMS tabular XML (about 1.6 s and 200 MB), far
too slow for a fresh process per Excel button press.  This module does that once and writes a
small SQLite file holding, per code: billable (leaf), description, side (from the
description), an "unspecified" flag, and its Excludes1 references *including those inherited
from its parent codes, block and chapter*.  SQLite is in the standard library and lets
Validate look up only the codes present on the claims.

Two sources:

* the CMS tabular list shipped in ``simple-icd-10-cm`` (``build_from_tabular``) — the index
  committed with the package;
* a CMS "order" file of a newer fiscal year (``build_from_order_file``), e.g.
  ``icd10cm_order_2027.txt``, for a practice that needs a code set newer than the package.
  Order files carry no Excludes1 notes: those are taken from the shipped index for codes
  present in both.

Run ``python -m toolkit.codesets.build_icd10cm`` to rebuild the shipped index.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import tempfile
from pathlib import Path

from .icd10cm import SHIPPED_INDEX, describe_side, is_unspecified, normalize_dx

_CODE_REF = re.compile(r"[A-Z]\d[0-9A-Z](?:\.?[0-9A-Z]{0,4})?-?")
_REF_ITEM = re.compile(
    r"^(?P<lo>[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)\.?-?"
    r"(?:\s*-\s*(?P<hi>[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)\.?-?)?$"
)


def parse_excludes1_note(note: str) -> list[str]:
    """Turn one Excludes1 note into code references.

    ``"lumbar radiculitis NOS (M54.16)"`` gives ``["M5416"]`` (a prefix: the code and its
    children); ``"(M50.0-M50.9)"`` gives ``["M500-M509"]`` (a range); ``"(M51.1-)"`` gives
    ``["M511"]``.
    """
    refs: list[str] = []
    for group in re.findall(r"\(([^)]*)\)", note):
        for item in group.split(","):
            m = _REF_ITEM.match(item.strip())
            if not m:
                continue
            lo = normalize_dx(m.group("lo"))
            hi = m.group("hi")
            refs.append(f"{lo}-{normalize_dx(hi)}" if hi else lo)
    return refs


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE codes (
    code TEXT PRIMARY KEY,      -- without the dot, upper case
    billable INTEGER NOT NULL,  -- 1 = a leaf code that may be billed
    side TEXT NOT NULL,         -- R, L, B (bilateral) or '' from the description
    unspecified INTEGER NOT NULL,
    description TEXT NOT NULL,
    excludes1 TEXT NOT NULL     -- space-separated prefixes or LO-HI ranges, inherited
) WITHOUT ROWID;
"""


def _write_index(out: Path, rows, meta: dict[str, str]) -> Path:
    """Write atomically: a half-written index must never be picked up by Validate."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".icd10cm-", suffix=".sqlite", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        con.executemany("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?)", sorted(rows))
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    os.replace(tmp, out)
    return out


def _row(code: str, billable: bool, description: str, excludes1: list[str]):
    return (
        code,
        int(billable),
        describe_side(description),
        int(is_unspecified(description)),
        description,
        " ".join(dict.fromkeys(excludes1)),
    )


def build_from_tabular(out: Path = SHIPPED_INDEX) -> Path:
    """Build the index from the CMS tabular list shipped in ``simple-icd-10-cm``."""
    import importlib.metadata

    import simple_icd_10_cm as cm  # heavy: only ever imported here

    data_dir = Path(cm.__file__).parent / "data"
    tabular = sorted(p.name for p in data_dir.glob("icd10c-tabular-*.xml"))
    own: dict[str, list[str]] = {}
    parent: dict[str, str] = {}
    codes = cm.get_all_codes(with_dots=True)
    for item in codes:
        refs: list[str] = []
        for note in cm.get_excludes1(item):
            refs.extend(parse_excludes1_note(note))
        own[item] = refs
        p = cm.get_parent(item)
        if p:
            parent[item] = p

    def inherited(item: str) -> list[str]:
        out: list[str] = []
        seen = set()
        while item and item not in seen:
            seen.add(item)
            out.extend(own.get(item, ()))
            item = parent.get(item, "")
        return out

    rows = {}
    for item in codes:  # a one-category block (e.g. B10) is listed under the same name twice
        if not cm.is_category_or_subcategory(item) and not cm.is_extended_subcategory(item):
            continue  # chapters and blocks are not codes
        rows.setdefault(normalize_dx(item), _row(normalize_dx(item), cm.is_leaf(item), cm.get_description(item),
                                                 inherited(item)))
    rows = list(rows.values())
    version = importlib.metadata.version("simple-icd-10-cm")
    m = re.search(r"tabular-(\w+)-(\d+)-(\d{4})", tabular[-1] if tabular else "")
    label_date = dt.datetime.strptime(" ".join(m.groups()), "%B %d %Y").date() if m else None
    fy = (label_date.year + (1 if label_date.month >= 10 else 0)) if label_date else "?"
    meta = {
        "label": f"ICD-10-CM FY{fy}" + (f" ({label_date:%B} {label_date.day}, {label_date.year} update)" if label_date else ""),
        "effective_from": label_date.isoformat() if label_date else "",
        "source": f"CMS tabular list {tabular[-1] if tabular else '?'} via simple-icd-10-cm {version}",
        "codes": str(len(rows)),
    }
    return _write_index(out, rows, meta)


def build_from_order_file(order_file: Path, out: Path, *, effective_from: str, label: str | None = None,
                          excludes_from: Path = SHIPPED_INDEX) -> Path:
    """Build an index from a CMS ``icd10cm_order_YYYY.txt`` file (fixed width).

    Layout (CMS): order number (5), blank, code (7), blank, billable flag 0/1, blank, short
    description (60), blank, long description.
    """
    order_file = Path(order_file)
    excl: dict[str, str] = {}
    if excludes_from and Path(excludes_from).exists():
        with sqlite3.connect(f"file:{excludes_from}?mode=ro", uri=True) as con:
            excl = dict(con.execute("SELECT code, excludes1 FROM codes"))
    rows = []
    with open(order_file, encoding="utf-8-sig", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            code, flag = line[6:13].strip(), line[14:15]
            if not re.fullmatch(r"[A-Z]\d[0-9A-Z]{1,5}", code) or flag not in "01":
                from ..errors import InputError
                raise InputError("not a CMS ICD-10-CM order file (code, flag and descriptions in fixed columns)",
                                 file=order_file, row=n)
            description = line[77:].strip() or line[16:76].strip()
            rows.append(_row(code, flag == "1", description, excl.get(code, "").split()))
    if not rows:
        from ..errors import InputError
        raise InputError("the order file has no codes", file=order_file)
    meta = {
        "label": label or f"ICD-10-CM from {order_file.name}",
        "effective_from": effective_from,
        "source": f"CMS order file {order_file.name}; Excludes1 from the shipped tabular list",
        "codes": str(len(rows)),
    }
    return _write_index(out, rows, meta)


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    print(build_from_tabular())
