"""Raw cells → typed columns, with errors that name file, sheet, row and column.

Readers hand over a DataFrame of raw values (CSV text, or Excel numbers, dates and strings)
whose index is the row number the user sees and whose ``attrs`` carry ``file`` and ``sheet``.
Conversion works on the distinct values of a column, not row by row: a 100,000-line export has
a few hundred distinct dates.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .tables import PHI_COLUMNS, TableSpec, header_key

# pandas 3 stores text in Arrow arrays whenever pyarrow is installed (the "scale" extra brings it):
# measured 1.33x slower and twice the memory on Validate. Pin Python storage so results and speed
# do not depend on what else is installed; the Parquet and Dask paths convert where they need to.
pd.set_option("mode.string_storage", "python")

_DATE_FORMATS = (
    "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%Y/%m/%d", "%Y%m%d", "%d-%b-%Y", "%d %b %Y",
    "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%y", "%d.%m.%Y",
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(?:[a-z]+\.?)?\s*$", re.I)


# What exports put in a cell that has no value; read as blank rather than stopping the run.
NOT_APPLICABLE = frozenset({"n/a", "na", "n.a.", "-", "--", "null", "none", "unknown", "?"})


# Text a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @, tab, carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_guard(value):
    """A value bound for a CSV cell: text that could start a formula gets a leading apostrophe.

    Numbers are left alone (a negative amount is a number, not a formula); ``csv_unguard``
    takes the apostrophe back off, so a CSV written and read by mednec round-trips unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_guard_series(series: pd.Series) -> pd.Series:
    """``csv_guard`` over a text column, vectorised (reports have 100,000s of lines)."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series):
        return series
    text = series.astype(object)
    risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START), na_action="ignore")
    risky = risky.eq(True)  # NaN (blank cells) → False, without a float fill warning
    if not risky.any():
        return series
    out = text.copy()
    out[risky] = "'" + text[risky]
    return out


def csv_unguard(value):
    """Undo ``csv_guard`` on a value read from a CSV: ``'=x`` → ``=x``; any other text as it is."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def is_blank(value) -> bool:
    """None, NaN, NaT, pd.NA, a string of spaces or "N/A": an empty cell, whatever the reader made of it."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or text.casefold() in NOT_APPLICABLE
    if isinstance(value, (float, np.generic)):
        return bool(pd.isna(value))
    return False


def _where(series: pd.Series, bad_value) -> dict:
    """File, sheet and first row holding ``bad_value`` in ``series``."""
    rows = series.index[series.map(lambda v: v is bad_value or v == bad_value if not is_blank(v) else False)]
    return {
        "file": series.attrs.get("file"),
        "sheet": series.attrs.get("sheet"),
        "row": int(rows[0]) if len(rows) else None,
        "column": series.name,
    }


def parse_date(value) -> dt.date | None:
    """One cell → a date; ``ValueError`` when it cannot be a date."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        # An Excel serial day number (1900 date system).  Serials below 61 fall in
        # Excel's fictitious 29 Feb 1900; no claim date is that old.
        if not 61 <= value < 2958466:
            raise ValueError(value)
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = str(value).strip()
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # a serial number exported as text
        return parse_date(float(text))
    # A time of day after the date (Excel's CSV export writes "10/12/2026 0:00"): the date is what counts.
    text = re.sub(r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm]|Z|[+-]\d{2}:?\d{2})?$", "", text)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(value) from None


def as_date(value) -> dt.date | None:
    """A date from whatever a table, a frame or a file holds (date, datetime, Timestamp, Excel
    serial, text); None for a blank or for something that is not a date.  For values already
    checked once (reading a table reports bad dates by row and column with ``parse_date``)."""
    try:
        return parse_date(value)
    except (TypeError, ValueError):
        return None


def to_text(value) -> str:
    if type(value) is str:
        text = value.strip()
        return "" if text.casefold() in NOT_APPLICABLE else text
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stored an ID as a number
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip()


def to_code(value) -> str:
    """A procedure code: text, upper case; a number Excel stripped of its leading zero regains it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not is_blank(value) \
            and float(value).is_integer() and 0 < value < 100000:
        return f"{int(value):05d}"
    return to_text(value).upper()


def parse_number(value) -> float:
    if is_blank(value):
        return math.nan
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    m = _NUMBER_WITH_UNIT.match(str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(1))


def parse_money(value) -> float:
    if isinstance(value, str):
        text = value.strip().replace("$", "").replace(",", "")
        if re.fullmatch(r"\(\s*[\d.]+\s*\)", text):
            text = "-" + text.strip("() ")
        value = text
    return parse_number(value)


_YES = {"y", "yes", "true", "1", "x"}
_NO = {"n", "no", "false", "0"}


def parse_yn(value) -> bool | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = to_text(value).casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(value)


_KIND_HELP = {
    "date": "is not a date (use e.g. 2026-03-15 or 03/15/2026)",
    "number": "is not a number",
    "int": "is not a whole number",
    "yn": "must be Y or N",
    "money": "is not an amount of money",
    "text": "is not text",
}


def map_unique(series: pd.Series, fn) -> pd.Series:
    """``series.map(fn)`` computed once per distinct value (blanks as ``fn(None)``).

    A 100,000-line export has a few hundred distinct dates, payers or modifier strings:
    this is what keeps the checks free of per-row Python loops.
    """
    codes, mapped = map_distinct(series, fn)
    return pd.Series(mapped[codes], index=series.index, name=series.name, dtype=object)


def object_ids(values: np.ndarray) -> np.ndarray:
    """``id`` of each item of an object array, read from the array's own pointers (in CPython an
    object's id is its address, and an object array holds those addresses) instead of calling
    ``id`` once per line: 4 ms a column at 100,000 lines, against 0.1 ms.  How the report and the
    summary number texts the checks share (one string object per distinct message)."""
    values = np.ascontiguousarray(values, dtype=object)
    if not len(values):
        return np.empty(0, dtype=np.uintp)
    pointers = (ctypes.c_size_t * len(values)).from_address(values.__array_interface__["data"][0])
    return np.frombuffer(memoryview(pointers), dtype=np.uintp).copy()  # copied while ``values`` holds them


def first_positions(codes: np.ndarray) -> np.ndarray:
    """Where each number first appears, for numbers as ``pd.factorize`` gives them (0, 1, 2, … in
    order of first appearance): ``np.unique(codes, return_index=True)[1]`` without its sort, and
    ``codes`` is already that call's inverse."""
    if not len(codes):
        return np.empty(0, dtype=np.intp)
    top = np.maximum.accumulate(codes)
    return np.flatnonzero(np.r_[True, top[1:] > top[:-1]])


Factor = tuple[np.ndarray, np.ndarray]  # pd.factorize of a column: each line's number, the distinct values


def _mostly_distinct(values: np.ndarray) -> bool:
    """Whether a column's values are mostly distinct (IDs), judged by its first 1,000: there,
    converting or numbering once per distinct value gains nothing and pays for the hashing."""
    head = values[:1000]
    return len(set(head.tolist())) * 2 > len(head)


def _factor(series: pd.Series) -> Factor | None:
    """The column numbered by distinct value, when its values repeat (None: mostly distinct)."""
    values = series.to_numpy(dtype=object)
    return None if _mostly_distinct(values) else factorize_objects(values)


def factorize_objects(values: np.ndarray) -> Factor:
    """``pd.factorize(values, use_na_sentinel=True)`` (the same numbers and distinct values), with
    each distinct *object* hashed once: pandas' CSV reader hands a repeated text as a few shared
    objects (100,000 dates of service are 448 objects), and numbering their addresses is cheaper
    than hashing 100,000 texts.  Mostly distinct objects (a workbook's cells, each its own
    object) are numbered by value as usual, judged by the first 1,000."""
    head = values[:1000]
    if len(set(map(id, head.tolist()))) * 2 > len(head):
        return pd.factorize(values, use_na_sentinel=True)
    object_codes = pd.factorize(object_ids(values))[0]
    first = first_positions(object_codes)
    if len(first) * 2 > len(values):
        return pd.factorize(values, use_na_sentinel=True)
    codes, uniques = pd.factorize(values[first], use_na_sentinel=True)
    return codes[object_codes], uniques


def _blank_factor(series: pd.Series) -> Factor | None:
    """A column of numbers that are all missing (an 837's absent Claims columns: float NaN) numbered
    without hashing 100,000 NaN objects: every line missing, no distinct value.  None otherwise."""
    if series.dtype.kind != "f" or not series.isna().all():
        return None
    return np.full(len(series), -1, dtype=np.intp), np.empty(0, dtype=object)


def map_distinct(series: pd.Series, fn, factor: Factor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each line's number and ``fn`` of each distinct value (the last slot: of a missing value)."""
    codes, uniques = factor if factor is not None else factorize_objects(series.to_numpy(dtype=object))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    for i, u in enumerate(uniques):
        mapped[i] = fn(u)
    if (codes < 0).any():
        mapped[-1] = fn(None)  # code -1 (a missing value) takes the last slot
    return codes, mapped


def blank_numbered(codes: np.ndarray, mapped: np.ndarray) -> Factor:
    """``map_distinct``'s result with no −1 left: a missing value's lines point at the last slot
    (``fn(None)``), and that slot is dropped when no line is missing."""
    missing = codes < 0
    if missing.any():
        return np.where(missing, len(mapped) - 1, codes), mapped
    return codes, mapped[:-1]


def _converter(series: pd.Series, fn, kind: str):
    """``fn`` that turns a conversion failure into an ``InputError`` naming the cell."""

    def convert(value):
        try:
            return fn(value)
        except (ValueError, TypeError, OverflowError):
            # A patient's date of birth is not repeated in a message: the row and column find it.
            shown = "the value" if series.name in PHI_COLUMNS else _describe(value)
            raise InputError(f"{shown} {_KIND_HELP[kind]}", **_where(series, value)) from None

    return convert


def _convert_unique(series: pd.Series, fn, kind: str, factor: Factor | None = None,
                    numbering: dict[str, Factor] | None = None) -> pd.Series:
    """``map_unique`` that turns a conversion failure into an ``InputError`` naming the cell.
    ``numbering``: where to leave the converted column's numbering (see ``coerce_table``)."""
    codes, mapped = map_distinct(series, _converter(series, fn, kind), factor)
    if numbering is not None:  # each line's number and the converted value of each number (blank included)
        numbering[str(series.name)] = blank_numbered(codes, mapped)
    return pd.Series(mapped[codes], index=series.index, name=series.name, dtype=object)


def _typed_unique(series: pd.Series, fn, kind: str, dtype: str, factor: Factor | None = None) -> pd.Series:
    """``_convert_unique`` then ``astype(dtype)``, typed per distinct value before being spread
    to the lines (turning 100,000 date objects into datetime64 cost more than parsing them)."""
    codes, mapped = map_distinct(series, _converter(series, fn, kind), factor)
    if dtype == "datetime64[ns]":
        typed = pd.to_datetime(pd.Series(mapped, dtype=object), errors="coerce").astype(dtype).to_numpy()
    else:
        typed = pd.array(mapped, dtype=dtype)
    return pd.Series(typed[codes], index=series.index, name=series.name)


def _numbers_unique(series: pd.Series, fn, kind: str, factor: Factor | None = None) -> pd.Series:
    """``_convert_unique(...).astype(float)`` with the distinct values made floats before being
    spread to the lines (turning 100,000 objects into floats cost as much as the parsing)."""
    codes, mapped = map_distinct(series, _converter(series, fn, kind), factor)
    numbers = pd.Series(mapped, dtype=object).astype(float).to_numpy()
    return pd.Series(numbers[codes], index=series.index, name=series.name)


def _describe(value) -> str:
    text = str(value)
    return f"'{text[:30]}…'" if len(text) > 30 else f"'{text}'"


def _parse_int(value) -> float:
    n = parse_number(value)
    if not math.isnan(n) and not float(n).is_integer():
        raise ValueError(value)
    return n


_LONGEST_NOT_APPLICABLE = max(map(len, NOT_APPLICABLE))
# Every upper/lower-case spelling of the not-applicable words ("N/A", "Null", ...): an ASCII text is
# one of them exactly when its casefold is in NOT_APPLICABLE, and a set look-up spares casefolding
# 100,000 IDs (a new string each).  Non-ASCII text is still casefolded (the Kelvin sign folds to k).
_ASCII_SPACE = "".join(chr(i) for i in range(128) if chr(i).isspace())  # what str.strip takes off ASCII text
_NOT_APPLICABLE_ANY_CASE = frozenset("".join(spelling) for word in NOT_APPLICABLE
                                     for spelling in itertools.product(*({c.lower(), c.upper()} for c in word)))


def _text_of_strings(series: pd.Series) -> pd.Series | None:
    """``to_text`` over a column of mostly distinct text values (Claim and Patient IDs), in one pass.

    There the once-per-distinct-value conversion gains nothing and pays for the factorising.
    None (use ``map_unique``) when the first 1,000 values repeat, or some value is not a string."""
    if series.dtype.kind in "biufcmM":  # numbers or dates (an 837's blank columns are float NaN): not text
        return None
    values = series.to_numpy(dtype=object)
    if not _mostly_distinct(values):  # repeated values (payers, names): once per distinct value is faster
        return None
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    na, any_case, longest = NOT_APPLICABLE, _NOT_APPLICABLE_ANY_CASE, _LONGEST_NOT_APPLICABLE
    texts = values.tolist()
    joined = "\x00".join(texts)
    if joined.isascii() and joined.count("\x00") == len(texts) - 1 and not any(c in joined for c in _ASCII_SPACE) \
            and any_case.isdisjoint(texts):
        # The usual IDs: nothing to strip, and no value is a not-applicable word in any case
        # (ASCII: no casefolding needed), so the values stay as they are; a few scans of the
        # joined text instead of a Python test per ID.
        return pd.Series(values.copy(), index=series.index, name=series.name, dtype=object)
    out = np.empty(len(values), dtype=object)
    out[:] = [t if len(t) > longest or (t not in any_case and (t.isascii() or t.casefold() not in na)) else ""
              for t in map(str.strip, texts)]
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def convert_column(series: pd.Series, kind: str, factor: Factor | None = None,
                   numbering: dict[str, Factor] | None = None) -> pd.Series:
    """Convert one raw column to its kind; raises ``InputError`` naming the first bad cell.
    ``factor``: the column already numbered by distinct value (``coerce_table`` has it);
    ``numbering``: where a text column converted per distinct value leaves its numbering."""
    if kind == "text":
        stripped = _text_of_strings(series)
        return stripped if stripped is not None else _convert_unique(series, to_text, "text", factor, numbering)
    if kind == "code":
        return _convert_unique(series, to_code, "text", factor, numbering)
    if kind == "date":
        return _typed_unique(series, parse_date, "date", "datetime64[ns]", factor)
    if kind == "number":
        return _not_negative(series, _numbers_unique(series, parse_number, "number", factor))
    if kind == "int":
        return _not_negative(series, _numbers_unique(series, _parse_int, "int", factor))
    if kind == "money":
        return _numbers_unique(series, parse_money, "money", factor)
    if kind == "yn":
        return _typed_unique(series, parse_yn, "yn", "boolean", factor)
    raise ValueError(f"unknown column kind {kind}")


def _not_negative(raw: pd.Series, numbers: pd.Series) -> pd.Series:
    """Weeks, units, days and line numbers are never below zero: a typo, refused in one line."""
    negative = numbers < 0
    if negative.any():
        row = numbers.index[negative.to_numpy()][0]
        raise InputError(f"{_describe(raw.loc[row])} is negative; it must be 0 or more",
                         file=raw.attrs.get("file"), sheet=raw.attrs.get("sheet"), row=int(row), column=raw.name)
    return numbers


EXCEL_CELL_LIMIT = 32_767  # characters in one cell
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(frame: pd.DataFrame, distinct: dict | None = None) -> None:
    """A NUL or other control character in a cell (a damaged export, a crafted file) is refused,
    naming row and column: it cannot be written back to Excel and breaks letters and e-mails.
    Checked over each column's distinct values joined into one string (one regex pass);
    ``distinct``: column → its distinct values, where the caller has them already."""
    for column in frame.columns:
        if frame[column].dtype.kind in "biufcmM":  # numbers and dates hold no text (an 837's blank columns)
            continue
        values = frame[column].to_numpy(dtype=object)
        known = (distinct or {}).get(column)
        if known is None and pd.api.types.infer_dtype(values, skipna=False) == "string":
            texts = values.tolist()  # all text, mostly distinct (IDs): checked as they are, not numbered first
        else:
            texts = [v for v in (pd.unique(values) if known is None else known) if isinstance(v, str)]
        if texts and max(map(len, texts)) > EXCEL_CELL_LIMIT:
            row = next(r for r, v in zip(frame.index, values) if isinstance(v, str) and len(v) > EXCEL_CELL_LIMIT)
            raise InputError(f"the cell holds more than {EXCEL_CELL_LIMIT:,} characters, Excel's limit for one "
                             "cell; shorten it", file=frame.attrs.get("file"), sheet=frame.attrs.get("sheet"),
                             row=int(row), column=str(column))
        if not texts or not _CONTROL.search("\n".join(texts)):
            continue
        for row, value in zip(frame.index, values):
            if isinstance(value, str) and _CONTROL.search(value):
                char = _CONTROL.search(value).group(0)  # type: ignore[union-attr]
                raise InputError(f"the cell holds a control character (code {ord(char)}, e.g. a NUL byte); "
                                 "retype the cell or export the file again",
                                 file=frame.attrs.get("file"), sheet=frame.attrs.get("sheet"), row=int(row),
                                 column=str(column))


def canonical_headers(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Rename headers to the contract's spelling; check required ones; keep extra columns."""
    known = {header_key(h): h for h in spec.headers}
    seen: dict[str, object] = {}
    rename = {}
    for col in frame.columns:
        key = header_key(col)
        if key in seen and key:
            raise InputError(f"header '{known.get(key, col)}' appears twice", file=frame.attrs.get("file"),
                             sheet=frame.attrs.get("sheet"))
        seen[key] = col
        if key in known:
            rename[col] = known[key]
    missing = [h for h in spec.required if header_key(h) not in seen]
    if missing:
        raise InputError(
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}"
            f" in the {spec.name} table",
            file=frame.attrs.get("file"), sheet=frame.attrs.get("sheet"))
    out = frame.rename(columns=rename)
    out.attrs = dict(frame.attrs)
    return out


def coerce_table(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Headers canonicalised, every contract column present and converted; extras untouched."""
    return coerce_table_numbered(spec, frame)[0]


def coerce_table_numbered(spec: TableSpec, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Factor]]:
    """``coerce_table``, and the numbering of each text column it converted per distinct value:
    each line's number (a number per raw value: two spellings of one text keep two numbers) and
    the converted text of each number.  The checks number these columns again otherwise."""
    frame = canonical_headers(spec, frame)
    factors = {col: _blank_factor(frame[col]) or _factor(frame[col]) for col in frame.columns}  # numbered once
    refuse_control_characters(frame, {col: f[1] for col, f in factors.items() if f is not None})
    attrs = dict(frame.attrs)
    numbering: dict[str, Factor] = {}
    out = {}
    for col in frame.columns:
        out[col] = frame[col]
    for column in spec.columns:
        raw = (frame[column.header] if column.header in frame.columns
               else pd.Series([None] * len(frame), index=frame.index, dtype=object))
        raw = raw.copy(deep=False)  # its own name and attrs; the values are only read
        raw.name = column.header
        raw.attrs = attrs
        out[column.header] = convert_column(raw, column.kind, factors.get(column.header), numbering)
    # copy=False: the converted columns are new arrays already; copying them into one block per
    # dtype cost 0.008 s at 100,000 lines for nothing (the checks read column by column).
    result = pd.DataFrame(out, index=frame.index, copy=False)
    result.attrs = attrs
    return result, numbering


def setting(settings: dict | None, key: str) -> str:
    """One Settings value by its Key, matched in any case and spacing ("practice  name" finds
    "Practice Name"), stripped; "" when the key is missing or blank.  The one look-up every
    job, document and e-mail uses."""
    want = " ".join(key.split()).casefold()
    for k, v in (settings or {}).items():
        if " ".join(str(k).split()).casefold() == want:
            return to_text(v)
    return ""


def setting_path(settings: dict | None, key: str, near: Path | str | None = None) -> Path | None:
    """A file or folder named in Settings: ``~`` expanded, a relative path taken from the
    workbook's folder ``near`` (the one rule for every path key); None when the key is blank."""
    named = setting(settings, key)
    if not named:
        return None
    path = Path(named).expanduser()
    return Path(near) / path if not path.is_absolute() and near is not None else path


def settings_from_table(frame: pd.DataFrame) -> dict[str, str]:
    """The Settings table (Key, Value) as a dict, keys as typed; blank keys skipped."""
    cols = {header_key(c): c for c in frame.columns}
    if "key" not in cols:
        return {}
    keys = frame[cols["key"]].tolist()
    values = frame[cols["value"]].tolist() if "value" in cols else [""] * len(keys)
    return {to_text(k): to_text(v) for k, v in zip(keys, values) if to_text(k)}
