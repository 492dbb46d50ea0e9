"""Rules rows from a CMS Medicare Coverage Database (MCD) billing-and-coding article.

A practice downloads the MCD "current article" CSV export (a zip holding a zip of CSV tables,
or the folder it unpacks to) and asks for one article (``A58745``).  The article lists its
CPT/HCPCS codes (``article_x_hcpc_code.csv``) and the ICD-10-CM codes that support medical
necessity (``article_x_icd10_covered.csv``), each in numbered groups.  Which ICD-10 group goes
with which CPT/HCPCS group is said only in the groups' free-text paragraphs, so by default every
covered group applies to every code; ``group_map`` narrows that when the paragraphs pair them.

Core only: files in, a DataFrame with the Rules headers out.  No CPT descriptors are copied
(the export's ``long_description`` is AMA text; the practice writes its own Description).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .tables import RULES

EXCEL_CELL_LIMIT = 32767  # characters Excel keeps in one cell

ARTICLE = "article.csv"
HCPC = "article_x_hcpc_code.csv"
HCPC_GROUP = "article_x_hcpc_code_group.csv"
COVERED = "article_x_icd10_covered.csv"
COVERED_GROUP = "article_x_icd10_covered_group.csv"
RELATED = "article_related_documents.csv"

KEY = ["article_id", "article_version"]
DOWNLOAD_HINT = ("download the 'Current Articles' CSV export from the CMS Medicare Coverage Database "
                 "(Downloads page) and give its zip or unpacked folder")


# ---------------------------------------------------------------- the download

class McdDownload:
    """The CSV tables of an MCD export: a folder, a zip, or a zip holding ``*_csv.zip``.

    Files are found by name (case-insensitive) anywhere in the folder or zip, one nested zip
    deep, because people unpack the CMS download in different ways.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._files: dict[str, tuple] = {}  # lower-case file name -> (kind, where, member)
        self._zips: list[zipfile.ZipFile] = []
        if self.path.is_dir():
            self._scan_folder(self.path)
        elif self.path.is_file():
            if not zipfile.is_zipfile(self.path):
                raise InputError("not a zip file or folder of the MCD CSV download; " + DOWNLOAD_HINT, file=self.path)
            self._scan_zip(self._open_zip(self.path), self.path.name)
        else:
            raise InputError("file or folder not found", file=self.path)

    def _open_zip(self, source) -> zipfile.ZipFile:
        try:
            zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"damaged zip file ({exc})", file=self.path) from None
        self._zips.append(zf)
        return zf

    def _scan_folder(self, folder: Path) -> None:
        candidates = sorted(folder.rglob("*"), key=lambda p: (len(p.parts), str(p)))
        for p in candidates:
            if p.is_file() and p.suffix.lower() == ".csv":
                self._files.setdefault(p.name.lower(), ("file", p, None))
        if self.has(ARTICLE):
            return
        for p in candidates:  # the CMS outer zip unpacked, its inner *_csv.zip not yet
            if (p.is_file() and p.suffix.lower() == ".zip" and "article" in p.name.lower()
                    and zipfile.is_zipfile(p)):
                self._scan_zip(self._open_zip(p), p.name)
                if self.has(ARTICLE):
                    return

    def _scan_zip(self, zf: zipfile.ZipFile, label: str, depth: int = 0) -> None:
        names = sorted(zf.namelist(), key=lambda n: (n.count("/"), n))
        for name in names:
            base = name.rsplit("/", 1)[-1].lower()
            if base.endswith(".csv"):
                self._files.setdefault(base, ("zip", zf, name))
        if depth == 0:
            for name in names:
                if name.lower().endswith(".zip"):
                    try:
                        inner = self._open_zip(io.BytesIO(zf.read(name)))
                    except (zipfile.BadZipFile, OSError, KeyError):
                        continue
                    self._scan_zip(inner, name, depth + 1)

    def has(self, name: str) -> bool:
        return name.lower() in self._files

    def _bytes(self, name: str) -> bytes:
        kind, where, member = self._files[name.lower()]
        try:
            return where.read_bytes() if kind == "file" else where.read(member)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(f"cannot read the file ({exc})", file=name) from None

    def table(self, name: str, required: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame:
        """The columns asked for (lower-case names, text values); a missing file or required
        column is a one-line error naming both."""
        if not self.has(name):
            raise InputError(f"not found in {self.path.name}; {DOWNLOAD_HINT}", file=name)
        raw = self._bytes(name)
        # The CMS files are Windows-1252/latin-1 (en dashes as 0x96); newer ones may be UTF-8.
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        wanted = {c.lower() for c in (*required, *optional)}
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                                usecols=lambda c: str(c).strip().lower() in wanted, engine="c")
        except (pd.errors.ParserError, ValueError) as exc:
            raise InputError(f"not a readable CSV file ({str(exc).splitlines()[0]})", file=name) from None
        except pd.errors.EmptyDataError:
            raise InputError("the file is empty", file=name) from None
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        frame = frame.loc[:, ~frame.columns.duplicated()]
        for column in required:
            if column.lower() not in frame.columns:
                raise InputError("the column is missing (is this the MCD article CSV download?)",
                                 file=name, column=column)
        for column in optional:
            if column.lower() not in frame.columns:
                frame[column.lower()] = ""
        frame.index = frame.index + 2  # the row Excel shows (header = row 1)
        return frame.apply(lambda s: s.str.strip())

    def close(self) -> None:
        for zf in self._zips:
            zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- the article

@dataclass
class Group:
    """One numbered code group of the article, with the first line of its paragraph."""

    number: str
    codes: list[str]
    first_line: str = ""
    dual_dx: list[str] = field(default_factory=list)
    range_flags: list[str] = field(default_factory=list)  # per code: B/M/E inside a range the article prints


@dataclass
class Article:
    article_id: str
    version: str
    display_id: str
    title: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    lcds: list[str]  # display ids of related LCDs (L39240)
    hcpcs_groups: dict[str, Group]
    covered_groups: dict[str, Group]

    @property
    def policy(self) -> str:
        """What the Rules sheet's Policy column says: ``LCD L39240 / Article A58745``."""
        article = f"Article {self.display_id}"
        return f"LCD {', '.join(self.lcds)} / {article}" if self.lcds else article


def _group_number(value: str) -> str:
    """``"01"``, ``"1.0"`` and ``"1"`` are the same group."""
    text = str(value).strip()
    try:
        number = float(text)
        return str(int(number)) if number == int(number) else text
    except ValueError:
        return text


def _date(value: str, *, file: str, row: int, column: str) -> dt.date | None:
    if not value:
        return None
    stamp = pd.to_datetime(value, errors="coerce")
    if pd.isna(stamp):
        raise InputError(f"'{value[:30]}' is not a date", file=file, row=row, column=column)
    return stamp.date()


def first_line(html: str, limit: int = 160) -> str:
    """The first line of a group paragraph (HTML in the export) as plain text."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):  # stdlib parser: the paragraphs are fragments with entities
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag in ("p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4"):
                self.parts.append("\n")

        def handle_endtag(self, tag):
            self.handle_starttag(tag, ())

        def handle_data(self, data):
            self.parts.append(data)

    parser = _Text()
    parser.feed(str(html or ""))
    parser.close()
    for line in "".join(parser.parts).replace("\xa0", " ").splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def _yes(value: str) -> bool:
    return str(value).strip().upper() in {"Y", "YES", "T", "TRUE", "1", "*"}


def _sort_key(value: str):
    try:
        return (0, float(value))
    except ValueError:
        return (1, 0.0)


def find_article(download: McdDownload, ref: str) -> Article:
    """The latest version of the article called ``ref`` (display id ``A58745`` or article_id)."""
    ref_text = str(ref or "").strip()
    if not ref_text:
        raise InputError("give the article number (--article), e.g. A58745")
    articles = download.table(ARTICLE, KEY + ["article_eff_date", "article_end_date"],
                              ["display_id", "title", "date_retired"])
    by_display = articles["display_id"].str.upper() == ref_text.upper()
    by_id = articles["article_id"] == re.sub(r"^[Aa]", "", ref_text)
    rows = articles[by_display] if by_display.any() else articles[by_id]
    if rows.empty:
        raise InputError(f"article {ref_text} is not in this download (check the article number, "
                         "e.g. A58745, and that you downloaded the article export)", file=ARTICLE)
    version_no = pd.to_numeric(rows["article_version"], errors="coerce")
    row = rows.loc[version_no.fillna(-1).idxmax()]
    at = int(row.name)
    display = row["display_id"] or f"A{row['article_id']}"
    effective_to = _date(row["article_end_date"], file=ARTICLE, row=at, column="article_end_date")
    if effective_to is None and row["date_retired"]:
        effective_to = _date(row["date_retired"], file=ARTICLE, row=at, column="date_retired")
    key = (row["article_id"], row["article_version"])
    return Article(
        article_id=row["article_id"], version=row["article_version"], display_id=display.upper(),
        title=row["title"],
        effective_from=_date(row["article_eff_date"], file=ARTICLE, row=at, column="article_eff_date"),
        effective_to=effective_to,
        lcds=_related_lcds(download, key),
        hcpcs_groups=_hcpcs_groups(download, key, display),
        covered_groups=_covered_groups(download, key, display),
    )


def _of(frame: pd.DataFrame, key) -> pd.DataFrame:
    return frame[(frame["article_id"] == key[0]) & (frame["article_version"] == key[1])]


def _paragraphs(download, name, group_column, key, extra=()) -> pd.DataFrame:
    if not download.has(name):
        return pd.DataFrame(columns=[group_column, "paragraph", *extra])
    frame = _of(download.table(name, KEY + [group_column], ["paragraph", *extra]), key)
    return frame.assign(**{group_column: frame[group_column].map(_group_number)})


def _related_lcds(download, key) -> list[str]:
    if not download.has(RELATED):
        return []
    related = _of(download.table(RELATED, KEY + ["r_lcd_id"]), key)
    ids = [v for v in related["r_lcd_id"] if v and v not in ("0",)]
    return [v.upper() if v[:1].isalpha() else f"L{v}" for v in dict.fromkeys(ids)]


def _hcpcs_groups(download, key, display) -> dict[str, Group]:
    codes = _of(download.table(HCPC, KEY + ["hcpc_code_id", "hcpc_code_group"]), key)
    codes = codes[codes["hcpc_code_id"] != ""]
    if codes.empty:
        raise InputError(f"article {display} version {key[1]} lists no CPT/HCPCS codes; nothing to import",
                         file=HCPC)
    paragraphs = _paragraphs(download, HCPC_GROUP, "hcpc_code_group", key)
    groups: dict[str, Group] = {}
    for number, part in codes.groupby(codes["hcpc_code_group"].map(_group_number), sort=False):
        lines = paragraphs.loc[paragraphs["hcpc_code_group"] == number, "paragraph"]
        groups[number] = Group(number, list(dict.fromkeys(part["hcpc_code_id"].str.upper())),
                               first_line(lines.iloc[0]) if len(lines) else "")
    return dict(sorted(groups.items(), key=lambda kv: _sort_key(kv[0])))


def _covered_groups(download, key, display) -> dict[str, Group]:
    codes = _of(download.table(COVERED, KEY + ["icd10_code_id", "icd10_covered_group"],
                               ["sort_order", "asterisk", "range"]), key)
    codes = codes[codes["icd10_code_id"] != ""]
    if codes.empty:
        raise InputError(f"article {display} version {key[1]} lists no covered ICD-10 codes "
                         "(a non-coverage article?); nothing to import", file=COVERED)
    paragraphs = _paragraphs(download, COVERED_GROUP, "icd10_covered_group", key, ("icd10_covered_ast",))
    codes = codes.assign(_group=codes["icd10_covered_group"].map(_group_number),
                         _order=codes["sort_order"].map(_sort_key), _code=codes["icd10_code_id"].str.upper())
    groups: dict[str, Group] = {}
    for number, part in codes.groupby("_group", sort=False):
        part = part.sort_values("_order", kind="stable").drop_duplicates("_code")
        lines = paragraphs.loc[paragraphs["icd10_covered_group"] == number, "paragraph"]
        dual = part.loc[part["asterisk"].map(_yes), "_code"]
        groups[number] = Group(number, part["_code"].tolist(), first_line(lines.iloc[0]) if len(lines) else "",
                               list(dict.fromkeys(dual)), part["range"].str.upper().tolist())
    return dict(sorted(groups.items(), key=lambda kv: _sort_key(kv[0])))


# ---------------------------------------------------------------- group map and rules rows

def parse_group_map(specs) -> dict[str, list[str]]:
    """``["1:1,2", "2:3"]`` (or ``"1:1,2;2:3"``) → CPT/HCPCS group → its ICD-10 covered groups."""
    if isinstance(specs, str):
        specs = [specs]
    mapping: dict[str, list[str]] = {}
    for spec in specs or ():
        for part in re.split(r"[;\s]+", str(spec).strip()):
            if not part:
                continue
            m = re.fullmatch(r"([^:]+):([^:]+)", part)
            if not m:
                raise InputError(f"--group-map '{part}' is not like 1:1,2 (CPT/HCPCS group : ICD-10 groups)")
            icd = [_group_number(g) for g in m.group(2).split(",") if g.strip()]
            if not icd:
                raise InputError(f"--group-map '{part}' names no ICD-10 group")
            target = mapping.setdefault(_group_number(m.group(1)), [])
            target.extend(g for g in icd if g not in target)
    return mapping


@dataclass
class McdRules:
    """The Rules rows built from one article, and what the biller should hear about it."""

    article: Article
    rows: pd.DataFrame
    skipped_groups: list[str] = field(default_factory=list)  # CPT/HCPCS groups left out by the map


def _ranges(group: Group) -> list[str]:
    """The group's codes with each run the article marks B(egin) … E(nd) written as ``lo-hi``
    (the range as the article prints it); codes outside a complete run stay as they are."""
    entries: list[str] = []
    run: list[str] = []
    for code, flag in zip(group.codes, group.range_flags or [""] * len(group.codes)):
        if flag == "B":
            entries += run
            run = [code]
        elif flag == "M" and run:
            run.append(code)
        elif flag == "E" and run:
            entries.append(f"{run[0]}-{code}")
            run = []
        else:
            entries += run + [code]
            run = []
    return entries + run


def _covered_text(groups: list[Group], article: Article, limit: int = EXCEL_CELL_LIMIT) -> str:
    """The codes as a plain list; when that would not fit in one Excel cell, the article's own
    ranges (``M23.200-M23.209``) instead of their codes one by one."""
    codes = list(dict.fromkeys(c for g in groups for c in g.codes))
    text = ", ".join(codes)
    if len(text) <= limit:
        return text
    text = ", ".join(dict.fromkeys(e for g in groups for e in _ranges(g)))
    if len(text) > limit:
        raise InputError(f"article {article.display_id}: {len(codes)} covered ICD-10 codes do not fit in one "
                         "Excel cell; use --group-map to give each CPT/HCPCS group only its own ICD-10 groups")
    return text


def _notes(article: Article, groups: list[Group], imported_on: dt.date) -> str:
    note = f"from CMS MCD article {article.display_id} version {article.version}, imported {imported_on.isoformat()}"
    dual = list(dict.fromkeys(c for g in groups for c in g.dual_dx))
    if dual:
        shown = ", ".join(dual[:40]) + (f" and {len(dual) - 40} more" if len(dual) > 40 else "")
        note += (f"; dual-diagnosis codes (covered only with the second diagnosis the article names): {shown}")
    return note


def rules_from_article(download: McdDownload, ref: str, *, payer: str, cpts=None, group_map=None,
                       imported_on: dt.date | None = None) -> McdRules:
    """One Rules row per CPT/HCPCS code of the article (or of ``cpts``), with the covered ICD-10
    codes of its groups (all covered groups unless ``group_map`` pairs them)."""
    if not str(payer or "").strip():
        raise InputError("give the payer name as it appears in your Payers table (--payer)")
    article = find_article(download, ref)
    imported_on = imported_on or dt.date.today()
    mapping = parse_group_map(group_map) if not isinstance(group_map, dict) else group_map
    for hg, group_numbers in mapping.items():
        if hg not in article.hcpcs_groups:
            raise InputError(f"--group-map: article {article.display_id} has no CPT/HCPCS group {hg} "
                             f"(it has {', '.join(article.hcpcs_groups)})")
        for ig in group_numbers:
            if ig not in article.covered_groups:
                raise InputError(f"--group-map: article {article.display_id} has no ICD-10 covered group {ig} "
                                 f"(it has {', '.join(article.covered_groups)})")
    wanted = [c.strip().upper() for c in (cpts or ()) if c.strip()]
    listed = {c for g in article.hcpcs_groups.values() for c in g.codes}
    missing = [c for c in wanted if c not in listed]
    if missing:
        raise InputError(f"article {article.display_id} does not list {', '.join(missing)}; nothing imported")
    records: list[dict[str, object]] = []
    seen: dict[str, list[Group]] = {}  # CPT/HCPCS code -> its covered ICD-10 groups
    skipped: list[str] = []
    for hg, group in article.hcpcs_groups.items():
        if mapping and hg not in mapping:
            skipped.append(hg)
            continue
        icd_groups = ([article.covered_groups[g] for g in mapping[hg]] if mapping
                      else list(article.covered_groups.values()))
        for code in group.codes:
            if wanted and code not in wanted:
                continue
            have = seen.setdefault(code, [])
            have.extend(g for g in list(icd_groups) if all(g is not h for h in have))
    for code, icd_groups in seen.items():  # a code in two CPT/HCPCS groups gets both groups' codes
        records.append({
            "Payer": str(payer).strip(), "CPT/HCPCS": code, "Description": None,
            "Covered Dx": _covered_text(icd_groups, article), "Policy": article.policy,
            "Effective From": article.effective_from, "Effective To": article.effective_to,
            "Notes": _notes(article, icd_groups, imported_on),
        })
    rows = pd.DataFrame(records, columns=RULES.headers, dtype=object)
    return McdRules(article, rows, skipped)
