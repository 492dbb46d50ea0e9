"""Build the NCCI index (PTP pairs and MUE values) from the CMS quarterly files, once.

Input, as CMS publishes it for practitioners:

* PTP: ``ccipra-v<NNN>r0-f1`` … ``-f4`` as .xlsx or tab-delimited .txt.  Some lines of AMA
  copyright text come first, so the header row (``Column 1``, ``Column 2``, ``*=in existence prior
  to 1996``, ``Effective Date``, ``Deletion Date *=no data``, ``Modifier 0=not allowed …``,
  ``PTP Edit Rationale``) is searched for; it may run over two rows.  Dates are YYYYMMDD and a
  deletion date of ``*`` means the edit is in force.
* MUE: ``MCR_MUE_PractitionerServices_Eff_<date>`` as .xlsx or .csv, with a copyright block before
  the header (``HCPCS/CPT Code`` — the cell may hold a line break —, ``Practitioner Services MUE
  Values``, ``MUE Adjudication Indicator`` such as ``3 Date of Service Edit: Clinical``, ``MUE
  Rationale``).

The layouts come from third-party readers of the real files (see the shared reference notes),
so the reader locates columns by their header words and stops with one line naming the file and
row when something does not fit, rather than guessing.  The rows are parsed one by one here
(hand-written, not pandas) because that is what lets an error name the row; this runs once per
quarter, not per Validate click.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sqlite3
import zipfile
from pathlib import Path
from typing import overload

from ..errors import InputError
from .ncci import ACTIVE

_CODE = re.compile(r"[0-9A-Z]{5}")
_SPACE = re.compile(r"\s+")
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rationales (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE ptp (
    col1 TEXT NOT NULL,          -- the Column 1 code (paid)
    col2 TEXT NOT NULL,          -- the Column 2 code (bundled into col1)
    effective INTEGER NOT NULL,  -- YYYYMMDD
    deletion INTEGER NOT NULL,   -- YYYYMMDD; 99991231 = in force
    modifier INTEGER NOT NULL,   -- 0 not allowed, 1 allowed, 9 not applicable
    rationale INTEGER,           -- rationales.id
    PRIMARY KEY (col1, col2, effective)
) WITHOUT ROWID;
CREATE TABLE mue (
    code TEXT PRIMARY KEY,
    units INTEGER NOT NULL,      -- the MUE value
    mai INTEGER NOT NULL,        -- 1 per line, 2 per day (policy), 3 per day (clinical)
    rationale INTEGER
) WITHOUT ROWID;
"""


def _norm(cell) -> str:
    return _SPACE.sub(" ", str(cell if cell is not None else "")).strip().casefold()


def _squash(cell) -> str:
    return _SPACE.sub("", str(cell if cell is not None else "")).casefold()


# ---------------------------------------------------------------- reading rows

def _rows(path: Path):
    """(row number as the user sees it, list of cells) for an .xlsx, or a .txt/.csv file."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError("file not found", file=path)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        yield from _sheet_rows(path)
    elif suffix in (".txt", ".csv", ".tsv", ""):
        yield from _text_rows(path)
    else:
        raise InputError("give the CMS file as .xlsx, .txt or .csv", file=path)


def _sheet_rows(path: Path):
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
        sheet = wb.get_sheet_by_index(0)
        first = sheet.start[0] if sheet.start else 0
        rows = sheet.iter_rows()
    except Exception:  # noqa: BLE001 - calamine raises several types for damaged zips / XML
        raise InputError("not a readable Excel file", file=path) from None
    for n, row in enumerate(rows, start=first + 1):
        yield n, list(row)


def _encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as such, else Windows-1252 (the © of older copyright lines)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def _text_rows(path: Path):
    encoding = _encoding(path)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        head = fh.read(200_000)
        if "\x00" in head[:4096]:
            raise InputError("not a text file (binary content)", file=path)
        delimiter = "\t" if "\t" in head else ","
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)  # streamed: a PTP file is tens of megabytes
        try:
            for row in reader:  # a quoted header cell may span two physical lines: count records
                yield reader.line_num, row
        except csv.Error as exc:
            raise InputError(f"cannot read the file as delimited text ({exc})", file=path,
                             row=reader.line_num) from None


def _code(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, int):  # a numeric cell in Excel loses the leading zero of 00100
        return f"{cell:05d}"
    return str(cell if cell is not None else "").strip().upper()


def _yyyymmdd(cell, *, deletion: bool) -> int:
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    if isinstance(cell, dt.date):
        return cell.year * 10000 + cell.month * 100 + cell.day
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell if cell is not None else "").strip()
    if deletion and text in ("*", ""):
        return ACTIVE
    if re.fullmatch(r"\d{8}", text):
        dt.datetime.strptime(text, "%Y%m%d")  # ValueError for 20241345
        return int(text)
    raise ValueError(text)


def _digit(cell, allowed: str) -> int:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell if cell is not None else "").strip()
    if text[:1] and text[0] in allowed and (len(text) == 1 or not text[1].isdigit()):
        return int(text[0])
    raise ValueError(text)


def _cell(row: list, i: int):
    return row[i] if i < len(row) else None


def _blank(row: list) -> bool:
    return all(str(c if c is not None else "").strip() == "" for c in row)


@overload
def _find(names: list[str], word: str, default: int) -> int: ...


@overload
def _find(names: list[str], word: str, default: None) -> int | None: ...


def _find(names: list[str], word: str, default: int | None) -> int | None:
    return next((i for i, n in enumerate(names) if word in n), default)


# ---------------------------------------------------------------- PTP

def read_ptp_file(path: Path | str) -> list[tuple]:
    """(col1, col2, effective, deletion, modifier, rationale) for each edit in one PTP file."""
    return list(iter_ptp_file(path))


def iter_ptp_file(path: Path | str):
    """``read_ptp_file`` one edit at a time: the four practitioner files hold millions of rows."""
    path = Path(path)
    rows = _rows(path)
    names = None
    for _n, row in rows:
        if _norm(_cell(row, 0)) in ("column 1", "column1") and _norm(_cell(row, 1)) in ("column 2", "column2"):
            names = [_norm(c) for c in row]
            break
    if names is None:
        raise InputError("no header row with 'Column 1' and 'Column 2': not a CMS NCCI PTP file", file=path)
    count, pending = 0, None
    for n, row in rows:
        if _blank(row):
            continue
        col1 = _code(_cell(row, 0))
        if not count and not _CODE.fullmatch(col1):  # the header's second row ("prior to 1996", "0=not allowed")
            names = [f"{a} {_norm(b)}" for a, b in zip(names + [""] * len(row), row + [""] * len(names))]
            continue
        if pending is None:
            pending = (_find(names, "effective", 3), _find(names, "deletion", 4),
                       _find(names, "modifier", 5), _find(names, "rationale", 6))
        eff, dele, mod, why = pending
        col2 = _code(_cell(row, 1))
        for header, code in (("Column 1", col1), ("Column 2", col2)):
            if not _CODE.fullmatch(code):
                raise InputError(f"'{code}' is not a CPT/HCPCS code", file=path, row=n, column=header)
        try:
            effective = _yyyymmdd(_cell(row, eff), deletion=False)
        except ValueError as exc:
            raise InputError(f"Effective Date '{exc}' is not a date of the form YYYYMMDD", file=path, row=n) from None
        try:
            deletion = _yyyymmdd(_cell(row, dele), deletion=True)
        except ValueError as exc:
            raise InputError(f"Deletion Date '{exc}' is not YYYYMMDD or *", file=path, row=n) from None
        try:
            modifier = _digit(_cell(row, mod), "019")
        except ValueError as exc:
            raise InputError(f"Modifier indicator '{exc}' is not 0, 1 or 9", file=path, row=n) from None
        rationale = _SPACE.sub(" ", str(_cell(row, why) or "")).strip()
        count += 1
        yield col1, col2, effective, deletion, modifier, rationale
    if not count:
        raise InputError("the PTP file has a header but no edits", file=path)


# ---------------------------------------------------------------- MUE

def read_mue_file(path: Path | str) -> list[tuple]:
    """(code, MUE value, MAI, rationale) for each code in one MUE file."""
    path = Path(path)
    rows = _rows(path)
    cols = None
    for _n, row in rows:
        names = [_squash(c) for c in row]
        code_at = _find(names, "hcpcs", None)
        value_at = _find(names, "muevalue", None)
        if code_at is not None and value_at is not None and code_at != value_at:
            cols = (code_at, value_at, _find(names, "adjudicationindicator", None), _find(names, "rationale", None))
            break
    if cols is None:
        raise InputError("no header row with 'HCPCS/CPT Code' and 'MUE Values': not a CMS MUE file", file=path)
    code_i, value_i, mai_i, why_i = cols
    out = []
    for n, row in rows:
        if _blank(row):
            continue
        code = _code(_cell(row, code_i))
        if not _CODE.fullmatch(code):
            raise InputError(f"'{code}' is not a CPT/HCPCS code", file=path, row=n, column="HCPCS/CPT Code")
        value = _cell(row, value_i)
        try:
            units = int(float(str(value).strip()))
            if units < 0 or float(str(value).strip()) != units:
                raise ValueError
        except (TypeError, ValueError):
            raise InputError(f"MUE value '{value}' is not a whole number", file=path, row=n) from None
        if mai_i is None:  # Medicaid MUE files have no MAI: the value applies per line
            mai = 1
        else:
            try:
                mai = _digit(_cell(row, mai_i), "123")
            except ValueError as exc:
                raise InputError(f"MUE Adjudication Indicator '{exc}' does not start with 1, 2 or 3",
                                 file=path, row=n) from None
        rationale = _SPACE.sub(" ", str(_cell(row, why_i) or "")).strip() if why_i is not None else ""
        out.append((code, units, mai, rationale))
    if not out:
        raise InputError("the MUE file has a header but no codes", file=path)
    return out


# ---------------------------------------------------------------- the index

_DATA_SUFFIXES = (".txt", ".csv", ".xlsx")


def _zip_members(zf: zipfile.ZipFile) -> list[str]:
    return [m for m in zf.namelist() if not m.endswith("/") and Path(m).suffix.lower() in _DATA_SUFFIXES
            and not Path(m).name.startswith(("~", "."))]


def _is_mue(name: str) -> bool:
    return "mue" in Path(name).name.lower()


def _one_per_part(names: list[str]) -> list[str]:
    """CMS ships each PTP part as .xlsx and .txt (and MUE as .xlsx and .csv): keep one copy of each,
    the text one (streamed, no spreadsheet reader needed)."""
    best: dict[str, str] = {}
    rank = {".txt": 0, ".csv": 1, ".xlsx": 2}
    for n in names:
        stem = Path(n).stem.lower()
        if stem not in best or rank[Path(n).suffix.lower()] < rank[Path(best[stem]).suffix.lower()]:
            best[stem] = n
    return sorted(best.values())


def expand_downloads(paths, folder: Path, *, plain_mue: bool = False) -> tuple[list[Path], list[Path]]:
    """The PTP files and MUE files among ``paths``, with the CMS zips (as downloaded) unpacked into
    ``folder``; README/PDF members are skipped.  A zip member is an MUE file when its name says MUE."""
    ptp: list[Path] = []
    mue: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise InputError("file not found", file=path)
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls") or not zipfile.is_zipfile(path):  # an .xlsx is a zip too
            (mue if plain_mue or _is_mue(path.name) else ptp).append(path)
            continue
        with zipfile.ZipFile(path) as zf:
            members = _zip_members(zf)
            inner = [m for m in members if not _is_mue(m) and re.search(r"(ccipra|ptp|-f\d)", Path(m).name, re.I)]
            mues = [m for m in members if _is_mue(m)]
            if not inner and not mues:
                raise InputError("no CMS PTP (ccipra-…) or MUE file inside the zip", file=path)
            for kind, names in ((ptp, _one_per_part(inner)), (mue, _one_per_part(mues))):
                for name in names:
                    target = folder / f"{len(ptp) + len(mue):02d}" / Path(name).name  # the name CMS gave it
                    target.parent.mkdir()
                    target.write_bytes(zf.read(name))
                    kind.append(target)
    return ptp, mue


def build_ncci_index(ptp_files, out: Path | str, *, mue_file: Path | str | None = None,
                     label: str | None = None) -> Path:
    """Read the PTP files and the MUE file and write the index at ``out`` (atomically).

    Any of them may be the zip CMS publishes (unpacked to a temporary folder here)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mednec-ncci-") as tmp:
        ptp, mues = expand_downloads(ptp_files or (), Path(tmp))
        (Path(tmp) / "mue").mkdir()
        if mue_file is not None:
            more_ptp, more_mue = expand_downloads([mue_file], Path(tmp) / "mue", plain_mue=True)
            ptp, mues = ptp + more_ptp, mues + more_mue
        if len(mues) > 1:
            raise InputError("more than one MUE file given: give only the practitioner MUE file", file=mues[1])
        return _build_ncci_index(ptp, out, mue_file=mues[0] if mues else None, label=label)


def _build_ncci_index(ptp_files, out: Path | str, *, mue_file: Path | None, label: str | None) -> Path:
    from ..workbook.files import atomic_write

    ptp_files = [Path(p) for p in ptp_files or ()]
    if not ptp_files and mue_file is None:
        raise InputError("give at least one PTP file or an MUE file")
    mue = read_mue_file(mue_file) if mue_file is not None else []
    rationale_ids: dict[str, int] = {}

    def rid(text: str) -> int | None:
        return rationale_ids.setdefault(text, len(rationale_ids) + 1) if text else None

    mue_rows = list({r[0]: (*r[:3], rid(r[3])) for r in mue}.values())  # a repeated code: the last row wins
    sources = [p.name for p in ptp_files] + ([Path(mue_file).name] if mue_file is not None else [])

    def write(tmp: str) -> None:
        con = sqlite3.connect(tmp)
        try:
            con.executescript(_SCHEMA)
            for p in ptp_files:  # streamed into SQLite: millions of rows never sit in memory at once
                con.executemany("INSERT OR REPLACE INTO ptp VALUES (?, ?, ?, ?, ?, ?)",
                                ((*r[:5], rid(r[5])) for r in iter_ptp_file(p)))
            con.executemany("INSERT OR REPLACE INTO mue VALUES (?, ?, ?, ?)", sorted(mue_rows))
            con.executemany("INSERT INTO rationales VALUES (?, ?)", [(i, t) for t, i in rationale_ids.items()])
            meta = {
                "kind": "ncci",
                "label": label or f"NCCI edits from {sources[0]}",
                "source": "CMS " + ", ".join(sources),
                "ptp": str(con.execute("SELECT count(*) FROM ptp").fetchone()[0]),
                "mue": str(len(mue_rows)),
            }
            con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            con.commit()
            con.execute("VACUUM")
        finally:
            con.close()

    return atomic_write(Path(out), write)
