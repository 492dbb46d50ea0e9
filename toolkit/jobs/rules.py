"""Rules jobs: fill the Rules table from a CMS Medicare Coverage Database article.

``import_mcd_rules`` takes a "book" (``WorkbookFile``, the live-Excel twin, or ``CsvRules`` for
a rules CSV) so the command line and an Excel button share one code path.  It only ever adds
rows, or — with ``replace`` — rewrites Covered Dx, Effective From and Effective To of rows it
imported before (same payer, code and Policy).  The practice's own criteria columns
(therapy weeks, imaging, prior auth, …), Description and Notes are never touched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError
from ..tables import PAYERS, RULES, header_key
from ..values import as_date

if TYPE_CHECKING:
    from ..mcd import Article

UPDATED_COLUMNS = ("Covered Dx", "Effective From", "Effective To")


class CsvRules:
    """A Rules CSV behind the book methods the import needs; created if it does not exist."""

    def __init__(self, path: Path | str):
        from ..workbook.files import read_csv

        self.path = Path(path)
        if self.path.suffix.lower() != ".csv":
            raise InputError("--out must be a .csv file (use --workbook for a workbook)", file=self.path)
        if self.path.exists() and self.path.stat().st_size:
            self.frame = read_csv(self.path)
        else:
            self.frame = pd.DataFrame(columns=RULES.headers, dtype=object)
            self.frame.index = pd.Index([], name="row", dtype="int64")
            self.frame.attrs = {"file": str(self.path), "sheet": None}

    def has_table(self, spec) -> bool:
        return spec is RULES

    def read_table(self, spec) -> pd.DataFrame:
        frame = self.frame.copy()
        frame.attrs = dict(self.frame.attrs)
        return frame

    def _column(self, header: str) -> str:
        for col in self.frame.columns:
            if header_key(col) == header_key(header):
                return col
        self.frame[header] = None
        return header

    def write_columns(self, spec, frame: pd.DataFrame) -> None:
        for header in frame.columns:
            col = self._column(header)
            self.frame[col] = self.frame[col].astype(object)
            for row, value in zip(frame.index, frame[header].tolist()):
                self.frame.loc[row, col] = value

    def append_rows(self, spec, frame: pd.DataFrame) -> list[int]:
        start = int(self.frame.index.max()) + 1 if len(self.frame) else 2  # header is row 1
        rows = list(range(start, start + len(frame)))
        new = pd.DataFrame({self._column(h): frame[h].tolist() for h in frame.columns}, index=rows, dtype=object)
        attrs = dict(self.frame.attrs)
        self.frame = pd.concat([self.frame.astype(object), new.reindex(columns=self.frame.columns)])
        self.frame.attrs = attrs
        return rows

    def save(self) -> Path:
        from ..workbook.files import write_csv

        return write_csv(self.frame, self.path, delimiter=self.frame.attrs.get("delimiter", ","),
                         bom=bool(self.frame.attrs.get("bom")))


@dataclass
class McdImportSummary:
    article: Article
    target: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already there with other codes/dates; no --replace
    skipped_groups: list[str] = field(default_factory=list)
    mapped: bool = False
    notes: list[str] = field(default_factory=list)

    def group_lines(self) -> list[str]:
        """The groups and the first line of each paragraph: the biller decides the pairing."""
        a = self.article
        lines = []
        for g in a.hcpcs_groups.values():
            lines.append(f"  CPT/HCPCS group {g.number} ({len(g.codes)} code{'s' if len(g.codes) != 1 else ''}: "
                         f"{', '.join(g.codes[:8])}{', …' if len(g.codes) > 8 else ''})"
                         + (f": {g.first_line}" if g.first_line else ""))
        for g in a.covered_groups.values():
            dual = f", {len(g.dual_dx)} dual-diagnosis" if g.dual_dx else ""
            lines.append(f"  ICD-10 covered group {g.number} ({len(g.codes)} code{'s' if len(g.codes) != 1 else ''}"
                         f"{dual})" + (f": {g.first_line}" if g.first_line else ""))
        return lines

    def lines(self) -> list[str]:
        a = self.article
        when = a.effective_from.isoformat() if a.effective_from else "always"
        until = a.effective_to.isoformat() if a.effective_to else "open-ended"
        out = [f"Article {a.display_id} version {a.version}" + (f" ({a.title})" if a.title else "")
               + f", effective {when} to {until}; Policy: {a.policy}"]
        out += self.group_lines()
        several = len(a.hcpcs_groups) > 1 or len(a.covered_groups) > 1
        if self.mapped:
            out.append("Groups paired as given by --group-map.")
            if self.skipped_groups:
                out.append(f"CPT/HCPCS group{'s' if len(self.skipped_groups) > 1 else ''} "
                           f"{', '.join(self.skipped_groups)} not in --group-map: those codes were not imported.")
        elif several:
            out.append("Every covered ICD-10 group was applied to every code. If the paragraphs pair them, "
                       "run again with --replace and --group-map (e.g. --group-map 1:1,2 --group-map 2:3).")
        out.append(f"{len(self.added)} rule{'s' if len(self.added) != 1 else ''} added to {self.target}"
                   + (f" ({', '.join(self.added)})" if self.added else "") + ".")
        if self.updated:
            out.append(f"{len(self.updated)} updated (Covered Dx and dates): {', '.join(self.updated)}.")
        if self.unchanged:
            out.append(f"{len(self.unchanged)} already up to date: {', '.join(self.unchanged)}.")
        if self.skipped:
            out.append(f"{len(self.skipped)} skipped, already in the Rules table with this Policy but other codes "
                       f"or dates: {', '.join(self.skipped)}. Use --replace to update their Covered Dx and dates.")
        out += [f"Note: {n}" for n in self.notes]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _key(value) -> str:
    from ..values import is_blank

    return "" if is_blank(value) else " ".join(str(value).split()).casefold()




def _same(existing: pd.Series, col: dict, new: dict) -> bool:
    from ..rules import CoveredDx

    def get(header):
        return existing[col[header_key(header)]] if header_key(header) in col else None

    old_dx = set(CoveredDx.parse(get("Covered Dx") or "").entries)
    return (old_dx == set(CoveredDx.parse(new["Covered Dx"]).entries)
            and as_date(get("Effective From")) == new["Effective From"]
            and as_date(get("Effective To")) == new["Effective To"])


def import_mcd_rules(book, source, *, article: str, payer: str, cpts=(), group_map=(), replace: bool = False,
                     imported_on: dt.date | None = None, target: str | None = None) -> McdImportSummary:
    """Add one Rules row per CPT/HCPCS code of the MCD article; rows already there (same payer,
    code and Policy) are left alone, or get the new Covered Dx and dates with ``replace``."""
    from ..mcd import McdDownload, rules_from_article
    from ..rules import payer_key

    if not book.has_table(RULES):
        raise InputError("no Rules sheet or tblRules table in the workbook", file=book.path)
    with McdDownload(source) as download:
        built = rules_from_article(download, article, payer=payer, cpts=cpts, group_map=group_map,
                                   imported_on=imported_on)
    summary = McdImportSummary(built.article, target or Path(book.path).name,
                               skipped_groups=built.skipped_groups, mapped=bool(group_map))
    existing = book.read_table(RULES)
    col = {header_key(c): c for c in existing.columns}

    def column(header):
        return existing[col[header_key(header)]] if header_key(header) in col else pd.Series("", index=existing.index)

    keys = pd.Series(list(zip(column("Payer").map(payer_key), column("CPT/HCPCS").map(lambda v: _key(v).upper()),
                              column("Policy").map(_key))), index=existing.index)
    new_rows, updates = [], []
    for record in built.rows.to_dict("records"):
        key = (payer_key(record["Payer"]), record["CPT/HCPCS"].upper(), _key(record["Policy"]))
        rows = keys.index[keys == key] if len(keys) else []
        code = record["CPT/HCPCS"]
        if not len(rows):
            new_rows.append(record)
            summary.added.append(code)
        elif all(_same(existing.loc[r], col, record) for r in rows):
            summary.unchanged.append(code)
        elif replace:
            updates += [(r, record) for r in rows]
            summary.updated.append(code)
        else:
            summary.skipped.append(code)
    if updates:
        frame = pd.DataFrame([{h: rec[h] for h in UPDATED_COLUMNS} for _, rec in updates],
                             index=[r for r, _ in updates], dtype=object)
        book.write_columns(RULES, frame)
    if new_rows:
        book.append_rows(RULES, pd.DataFrame(new_rows, columns=RULES.headers, dtype=object))
    summary.notes += _payer_notes(book, payer)
    if new_rows or updates:
        book.save()
    return summary


def _payer_notes(book, payer: str) -> list[str]:
    """Validate matches rules to claims by payer name: say so when the name is unknown."""
    from ..rules import payer_key

    try:
        if not book.has_table(PAYERS):
            return []
        payers = book.read_table(PAYERS)
    except InputError:
        return []
    col = next((c for c in payers.columns if header_key(c) == "payer"), None)
    if col is None or payer_key(payer) in set(payers[col].map(payer_key)):
        return []
    return [f"payer '{payer}' is not in the Payers table; rules apply to claims whose Payer is written the same way"]


# ---------------------------------------------------------------- rule suggestions from denial clusters

SUGGESTIONS_HINT = ("Proposed changes to Rules, learnt from your Denials log. Check the payer's policy, copy the "
                    "change into Rules yourself, then write Accepted or Rejected in Decision.")


@dataclass
class SuggestSummary:
    suggestions: list = field(default_factory=list)  # toolkit.suggestions.Suggestion
    target: str = ""
    as_of: dt.date | None = None

    def __str__(self) -> str:
        n = len(self.suggestions)
        still = sum(s.is_open for s in self.suggestions)
        head = (f"{n} rule suggestion{'s' if n != 1 else ''} ({still} open) from the denials of the "
                f"period before {self.as_of:%Y-%m-%d}, written to {self.target}.")
        if not n:
            return head + " No cluster of denials points at a Rules change."
        rows = [f"  {s.payer} {s.cpt}: {s.column} {s.current or '(blank)'} -> {s.proposed or '(see Why)'} "
                f"({len(s.denial_ids)} denials, ${s.denied_amount:,.2f})" for s in self.suggestions[:10]]
        more = [f"  … and {n - 10} more"] if n > 10 else []
        return "\n".join([head, *rows, *more])


def _optional_table(book, spec):
    try:
        return book.read_table(spec) if book.has_table(spec) else None
    except InputError:
        return None


def _decisions(book) -> tuple[dict, int]:
    """The biller's Decision per suggestion already on the sheet, and how many rows it has."""
    from ..suggestions import RULE_SUGGESTIONS
    from ..values import csv_unguard, to_text

    old = _optional_table(book, RULE_SUGGESTIONS)
    if old is None or old.empty:
        return {}, 0
    col = {header_key(c): c for c in old.columns}

    def get(header):
        if header_key(header) not in col:
            return pd.Series("", index=old.index)
        return old[col[header_key(header)]].map(lambda v: csv_unguard(to_text(v)))

    keys = zip(get("Payer").str.casefold(), get("CPT/HCPCS").str.upper(), get("Rule Column"), get("Proposed"))
    return {k: d for k, d in zip(keys, get("Decision")) if d}, len(old)


def open_suggestions(book, as_of: dt.date | None = None) -> list:
    """The suggestions not yet accepted or rejected on the sheet (for the quarterly huddle pack)."""
    from ..checks.history import DenialHistory
    from ..suggestions import suggest_rules
    from ..tables import CLAIMS, DENIALS

    denials = _optional_table(book, DENIALS)
    if denials is None or denials.empty:
        return []
    history = DenialHistory.from_settings(denials, book.settings())
    found = suggest_rules(_optional_table(book, RULES), history, _optional_table(book, CLAIMS), as_of=as_of)
    decisions, _ = _decisions(book)
    for s in found:
        s.decision = decisions.get(s.key, "")
    return [s for s in found if s.is_open]


def suggest_rule_changes(book, *, out: Path | str | None = None, as_of: dt.date | None = None) -> SuggestSummary:
    """Rule suggestions from the book's Denials log, onto its Rule Suggestions sheet (or ``out``, a CSV).

    Rules itself is never written. A Decision the biller typed on the sheet is kept for the same
    suggestion (payer, code, column, proposed value) when the sheet is rewritten."""
    from ..checks.history import DenialHistory
    from ..suggestions import RULE_SUGGESTIONS, suggest_rules, suggestions_frame
    from ..tables import CLAIMS, DENIALS

    denials = _optional_table(book, DENIALS)
    if denials is None:
        raise InputError("no Denials sheet or tblDenials table in the workbook: there are no denials to learn from",
                         file=getattr(book, "path", None))
    as_of = as_of or dt.date.today()
    history = DenialHistory.from_settings(denials, book.settings())
    suggestions = suggest_rules(_optional_table(book, RULES), history, _optional_table(book, CLAIMS), as_of=as_of)
    decisions, old_rows = _decisions(book)
    for s in suggestions:
        s.decision = decisions.get(s.key, "")
    from ..values import csv_guard_series

    # Payer names and codes come from files: text that would start a formula stays text, in CSV and sheet
    frame = suggestions_frame(suggestions).astype(object).apply(csv_guard_series)
    if out is not None:
        from ..workbook.files import write_csv

        out = Path(out)
        if out.suffix.lower() != ".csv":
            raise InputError("--out must be a .csv file", file=out)
        return SuggestSummary(suggestions, str(write_csv(frame, out)), as_of)
    rows = [list(r) for r in frame.itertuples(index=False, name=None)]
    blank = [[None] * len(RULE_SUGGESTIONS.headers)] * max(old_rows - len(rows), 0)
    book.write_cells(RULE_SUGGESTIONS.name, "A1", [[RULE_SUGGESTIONS.name], [SUGGESTIONS_HINT],
                                                   RULE_SUGGESTIONS.headers, *rows, *blank])
    book.save()
    return SuggestSummary(suggestions, f"the {RULE_SUGGESTIONS.name} sheet", as_of)
