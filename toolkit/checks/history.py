"""DENIAL_HISTORY: this payer has kept denying lines like this one (the practice's own Denials log).

A line that is not yet submitted is compared with the real denials of the last ``months``
months (Settings ``Denial History Months``) before the run date, in three patterns:

* diagnosis: same payer, CPT/HCPCS, and the line's supporting diagnosis among the denied
  line's diagnoses (medical-necessity, non-covered and diagnosis-coding denials);
* modifier: same payer, CPT/HCPCS and the same set of modifiers (CARC 4 / 182 denials);
* authorization: same payer and CPT/HCPCS, the line has no Prior Auth Number (CARC 15 / 39 /
  197 / authorization denials).

A pattern fires at ``min_count`` denials (``Denial History Min``) and — when the Claims table
holds lines of that pattern submitted in the same window (Submitted Date) — at a denial rate of
at least ``rate`` (``Denial History Rate``).  A line already RED for the same reason (e.g.
DX_NOT_COVERED for the diagnosis pattern) does not get it twice.  Without a Denials log the check
is off and every result is what it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..codesets.icd10cm import format_dx, normalize_dx
from ..rules import payer_key
from ..values import map_unique
from .base import AMBER, check, within_runs
from .base import field as message_field

Pattern = Literal["diagnosis", "modifier", "authorization"]
PATTERNS: tuple[Pattern, ...] = ("diagnosis", "modifier", "authorization")

# "The same reason": RED checks whose finding already tells the biller what the denials say.
SAME_REASON: dict[Pattern, tuple[str, ...]] = {
    "diagnosis": ("DX_MISSING", "DX_INVALID", "DX_NOT_BILLABLE", "DX_NOT_COVERED", "DX_RULE_OUT",
                  "THERAPY_TOO_SHORT"),
    "modifier": ("MODIFIER_INVALID", "LATERALITY_CONFLICT", "GA_WITHOUT_ABN"),
    "authorization": ("PRIOR_AUTH_MISSING",),
}

# Which denials speak to which pattern: by CARC first, then by the log's Category.
AUTH_CARCS = frozenset({"15", "39", "197"})
MODIFIER_CARCS = frozenset({"4", "182"})
DIAGNOSIS_CARCS = frozenset({"11", "146", "167"})
DIAGNOSIS_CATEGORIES = frozenset({"medical necessity", "non-covered"})
NOT_DENIALS = frozenset({"", "routine", "patient share"})  # adjustments the log may still carry
_REVERSED = re.compile(r"revers|void|cancel|error", re.I)  # a Status that undoes the denial

DEFAULT_MIN, DEFAULT_MONTHS, DEFAULT_RATE = 2, 12, 0.5
SETTING_MIN, SETTING_MONTHS, SETTING_RATE = "Denial History Min", "Denial History Months", "Denial History Rate"
CITE_MAX = 5
USED_COLUMNS = ("Denial ID", "Payer", "Date of Service", "CPT/HCPCS", "Modifiers", "Dx Codes",
                "Denied Amount", "Denial Date", "Group Code", "CARC", "RARC", "Category", "Status")


def _carc(value: str) -> str:
    """``"CO-50"``, ``"co 50"`` or ``"50"`` → ``"50"``."""
    text = str(value or "").strip().upper()
    return re.sub(r"^(CO|PR|OA|PI|CR)[\s\-]*", "", text)


def _rarcs(value: str) -> list[str]:
    return [c for c in re.split(r"[\s,;:/]+", str(value or "").upper()) if c]


def pattern_of(carc: str, category: str) -> Pattern | None:
    """The pattern a denial speaks to (None: eligibility, timely filing, duplicates, …)."""
    carc, category = _carc(carc), str(category or "").strip().casefold()
    if carc in AUTH_CARCS or category == "authorization":
        return "authorization"
    if carc in MODIFIER_CARCS:
        return "modifier"
    if carc in DIAGNOSIS_CARCS or category in DIAGNOSIS_CATEGORIES:
        return "diagnosis"
    return None


def mods_pattern(mods) -> str:
    """A line's modifiers as a key: order and repeats do not matter (``"RT, 59"`` = ``"59 RT"``)."""
    return ",".join(sorted({m.strip().upper() for m in mods if str(m).strip()}))


def _parse_rate(text: str) -> float | None:
    text = str(text or "").strip().replace(",", ".")
    if not text:
        return None
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        return None
    return value / 100 if percent or value > 1 else value


def _parse_int(text: str) -> int | None:
    try:
        return int(float(str(text or "").strip()))
    except ValueError:
        return None


@dataclass
class DenialHistory:
    """The practice's Denials log and the thresholds DENIAL_HISTORY applies to it."""

    denials: pd.DataFrame
    min_count: int = DEFAULT_MIN
    months: int = DEFAULT_MONTHS
    rate: float = DEFAULT_RATE
    _real: pd.DataFrame | None = field(default=None, repr=False)
    # The rate's denominator over the whole Claims file, when a run checks it in chunks (see
    # ``counting_whole_file``); None: each run counts the submitted lines it is given.
    submitted: dict[Pattern, pd.Series] | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, denials: pd.DataFrame, settings: dict | None = None) -> DenialHistory:
        """Thresholds from the Settings keys (blank or unreadable: the defaults)."""
        from ..values import setting

        n = _parse_int(setting(settings, SETTING_MIN))
        months = _parse_int(setting(settings, SETTING_MONTHS))
        rate = _parse_rate(setting(settings, SETTING_RATE))
        return cls(denials, min_count=n if n and n > 0 else DEFAULT_MIN,
                   months=months if months and months > 0 else DEFAULT_MONTHS,
                   rate=rate if rate is not None and 0 <= rate <= 1 else DEFAULT_RATE)

    def real(self) -> pd.DataFrame:
        """Real denials, typed, one row each, with their pattern, date and CARC/RARC label."""
        if self._real is None:
            self._real = real_denials(self.denials)
        return self._real

    def claim_lines(self, index: pd.Index) -> pd.DataFrame:
        """Claim ID and Line of the denials at ``index`` (for linking to Claims; the check needs neither)."""
        from ..tables import DENIALS
        from ..values import canonical_headers, convert_column

        frame = canonical_headers(DENIALS, self.denials).loc[index]
        out = {}
        for header in ("Claim ID", "Line"):
            raw = frame[header] if header in frame.columns else pd.Series([None] * len(frame), index=frame.index,
                                                                          dtype=object, name=header)
            out[header] = convert_column(raw.copy(), DENIALS.column(header).kind)
        return pd.DataFrame({"claim": out["Claim ID"].fillna("").astype(str), "line": out["Line"].fillna(1.0)},
                            index=index)


def real_denials(denials: pd.DataFrame) -> pd.DataFrame:
    """Denials that count: a Category that is a denial, a Status that does not undo it, and a
    pattern this check knows. Columns: id, payer_k, cpt, dx (tuple), mods, pattern, date, label,
    amount."""
    from ..tables import DENIALS
    from ..values import canonical_headers, convert_column

    frame = canonical_headers(DENIALS, denials)
    d = pd.DataFrame(index=frame.index)
    for header in USED_COLUMNS:  # only what the check reads: a 20,000-row log has 27 columns
        raw = frame[header] if header in frame.columns else pd.Series([None] * len(frame), index=frame.index,
                                                                      dtype=object, name=header)
        raw = raw.copy()
        raw.attrs = dict(denials.attrs)
        d[header] = convert_column(raw, DENIALS.column(header).kind)
    category = map_unique(d["Category"].fillna(""), lambda k: str(k).strip().casefold())
    status = map_unique(d["Status"].fillna(""), lambda t: bool(_REVERSED.search(str(t)))).astype(bool)
    keep = ~category.isin(NOT_DENIALS) & ~status & (d["CPT/HCPCS"].fillna("") != "")
    d = d[keep]
    reason = _cat(d["CARC"].fillna(""), d["Category"].fillna(""))  # the pattern per distinct CARC|Category
    pattern = map_unique(pd.Series(reason, index=d.index), lambda r: pattern_of(*r.split("|", 1)))
    d = d[pattern.notna()]
    pattern = pattern[pattern.notna()]
    date = d["Denial Date"].fillna(d["Date of Service"])
    carc = map_unique(d["CARC"].fillna(""), _carc)
    rarcs = map_unique(d["RARC"].fillna(""), lambda r: tuple(_rarcs(r)))
    triple = pd.Series(_cat(d["Group Code"].fillna(""), carc, map_unique(rarcs, lambda t: t[0] if t else "")),
                       index=d.index)
    label = map_unique(triple, _label)
    ids = d["Denial ID"].fillna("").astype(str)
    if (ids == "").any():  # (the row's name is made only when a Denial ID is blank)
        ids = ids.where(ids != "", "row " + d.index.astype(str))
    return pd.DataFrame({
        "id": ids, "payer": d["Payer"], "payer_k": map_unique(d["Payer"], payer_key), "cpt": d["CPT/HCPCS"],
        "dx": map_unique(d["Dx Codes"], lambda t: tuple(dict.fromkeys(
            normalize_dx(c) for c in re.split(r"[,;\s]+", t or "") if c.strip()))),
        "mods": map_unique(d["Modifiers"], lambda t: mods_pattern(re.split(r"[,\s:;]+", t or ""))),
        "pattern": pattern, "date": date, "label": label, "carc": carc, "rarcs": rarcs,
        "amount": d["Denied Amount"].fillna(0.0),
    }, index=d.index)


def _label(triple: str) -> str:
    """``"co|50|N115"`` → ``"CO-50/N115"`` (the group code, the CARC, the first remark code)."""
    group, carc, rarc = triple.split("|")
    group = group.strip().upper()
    return f"{group + '-' if group else ''}{carc}{'/' + rarc if rarc else ''}"


def pattern_keys(real: pd.DataFrame, pattern: Pattern) -> pd.DataFrame:
    """One row per (denial, key) for ``pattern``: the diagnosis pattern has a key per diagnosis."""
    rows = real[real["pattern"] == pattern]
    base = _cat(rows["payer_k"].fillna(""), rows["cpt"].fillna(""))
    if pattern == "diagnosis":
        exploded = rows.assign(_base=base).explode("dx")
        exploded = exploded[exploded["dx"].notna() & (exploded["dx"] != "")]
        return exploded.assign(key=_cat(exploded["_base"], exploded["dx"].astype(str))).drop(columns="_base")
    if pattern == "modifier":
        return rows.assign(key=_cat(base, rows["mods"].fillna("")))
    return rows.assign(key=base)


@dataclass
class _Clusters:
    count: pd.Series  # key → denials in the window
    first: pd.Series  # key → earliest denial date
    top: pd.Series  # key → most frequent CO-50/N115 label
    ids: dict[str, tuple[str, ...]]  # key → the first CITE_MAX denial IDs, oldest first (a denial is in a key once)


def _clusters(keyed: pd.DataFrame) -> _Clusters:
    """Per key: its denials counted, the first date, the top label and the first IDs cited.

    On numbers (keys, IDs and labels numbered, one sort) rather than pandas sorts and groupbys,
    which cost more than the rest of the check on a 20,000-row log."""
    key_codes, keys = pd.factorize(keyed["key"].to_numpy(dtype=object))
    dates = keyed["date"].to_numpy()
    id_rank = pd.factorize(keyed["id"].to_numpy(dtype=object), sort=True)[0]
    order = np.lexsort((id_rank, dates))  # oldest first, then by ID; ties keep the log's order
    by_key = order[np.argsort(key_codes[order], kind="stable")]  # each key's denials together, oldest first
    grouped = key_codes[by_key]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(grouped) else np.empty(0, dtype=int)
    sizes = np.diff(np.r_[starts, len(grouped)])
    index = pd.Index(keys[grouped[starts]], dtype=object)
    count = pd.Series(sizes, index=index, dtype="int64")
    first = pd.Series(dates[by_key[starts]], index=index)
    label_codes, labels = pd.factorize(keyed["label"].to_numpy(dtype=object), sort=True)
    pair_codes, pairs = pd.factorize(key_codes.astype(np.int64) * max(len(labels), 1) + label_codes)
    n = np.bincount(pair_codes, minlength=len(pairs))
    pair_key, pair_label = pairs // max(len(labels), 1), pairs % max(len(labels), 1)
    best = np.lexsort((pair_label, -n, pair_key))  # per key: the most denials, then the first label A-Z
    top_at = best[np.r_[True, pair_key[best][1:] != pair_key[best][:-1]]] if len(best) else best
    top = pd.Series(np.asarray(labels, dtype=object)[pair_label[top_at]], index=pd.Index(keys[pair_key[top_at]],
                                                                                         dtype=object))
    rank = within_runs(sizes)  # each denial's place among its key's, oldest first
    cited = by_key[rank < CITE_MAX]
    ids: dict[str, list[str]] = {}
    for key, denial in zip(keys[key_codes[cited]].tolist(), keyed["id"].to_numpy(dtype=object)[cited].tolist()):
        ids.setdefault(key, []).append(denial)
    return _Clusters(count, first, top, {k: tuple(v) for k, v in ids.items()})


def _cat(*parts) -> np.ndarray:
    """Text columns joined with "|", on object arrays (pandas' string arithmetic is ~10x slower)."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + "|" + np.asarray(part, dtype=object)
    return out


def _base_codes(lines) -> tuple[np.ndarray, np.ndarray]:
    """Each line's "payer key|CPT" as a number, and the distinct texts: keys are built on numbers
    and turned into text only for the few distinct ones (100,000 lines, a few dozen payer × code)."""
    def compute(ls):
        payer_codes, payers = pd.factorize(ls.c["Payer"].to_numpy(dtype=object), use_na_sentinel=False)
        cpt_codes, cpts = pd.factorize(ls.cpt.to_numpy(dtype=object), use_na_sentinel=False)
        codes, pairs = pd.factorize(payer_codes.astype("int64") * (len(cpts) + 1) + cpt_codes)
        texts = np.array([f"{payer_key(payers[p // (len(cpts) + 1)])}|{cpts[p % (len(cpts) + 1)]}"
                          for p in pairs.tolist()], dtype=object)
        return codes, texts
    return lines.derived("history_base", compute)


def _mods_table(lines) -> np.ndarray:
    """Modifier-pattern text per entry of ``lines._mods_factor`` (the last entry: no modifiers)."""
    _, uniques = lines._mods_factor
    return np.array([mods_pattern(u) for u in uniques] + [""], dtype=object)


def _line_keys(lines, pattern: Pattern, where: np.ndarray) -> pd.Series:
    """The key for ``pattern`` of the lines at the boolean mask ``where`` (payer key|CPT, then the
    supporting diagnosis or the modifier pattern)."""
    codes, texts = _base_codes(lines)
    base = codes[where].astype(np.int64)
    if pattern == "authorization":
        return pd.Series(texts[base], index=lines.index[where], dtype=object)
    if pattern == "diagnosis":
        tail_codes, tails = pd.factorize(lines.supporting_code.to_numpy(dtype=object)[where])
    else:
        tail_codes, tails = lines._mods_factor[0][where], _mods_table(lines)
    # Numbered pairs first, text per distinct pair: a few hundred keys shared by 100,000 lines.
    pair, pairs = pd.factorize(base * (len(tails) + 1) + tail_codes)
    table = _cat(texts[pairs // (len(tails) + 1)], np.asarray(tails, dtype=object)[pairs % (len(tails) + 1)])
    return pd.Series(table[pair], index=lines.index[where], dtype=object)


def _count_pairs(codes: np.ndarray, texts: np.ndarray, other: np.ndarray, expand) -> dict[str, int]:
    """Count lines per (payer|CPT number, other number); ``expand(j)`` gives the key tails of ``j``."""
    width = int(other.max()) + 1 if len(other) else 1
    pairs = pd.Series(codes.astype("int64") * width + other).value_counts()
    counts: dict[str, int] = {}
    for pair, n in zip(pairs.index.tolist(), pairs.tolist()):
        b, j = divmod(pair, width)
        for tail in expand(j):
            key = f"{texts[b]}|{tail}" if tail is not None else texts[b]
            counts[key] = counts.get(key, 0) + n
    return counts


def counting_whole_file(history: DenialHistory, chunks, *, as_of, codesets) -> DenialHistory:
    """``history`` with the rate's denominator counted over every chunk of a Claims file.

    A streamed or distributed run checks each chunk on its own; counted per chunk, a pattern with
    6 lines submitted across the file and 2 denials (33 %) would look like 2 of 0 (it fires) in a
    chunk holding none of the 6.  One first pass over the file counts the submitted lines of each
    pattern, so every chunk rates against the whole file, as the in-memory run and Excel do."""
    import datetime as dt
    from dataclasses import replace

    from ..rules import prepare_payers, prepare_rules
    from ..tables import CLAIMS
    from ..values import coerce_table
    from .base import ClaimLines

    today = as_of or dt.date.today()
    totals: dict[Pattern, pd.Series] = {p: pd.Series(dtype="int64") for p in PATTERNS}
    rules, payers = prepare_rules(None), prepare_payers(None)  # the counts need neither
    for chunk in chunks:
        typed = coerce_table(CLAIMS, _counted_only(chunk)).reset_index(drop=True)
        lines = ClaimLines(typed, rules, payers, today=today, codesets=codesets)
        start, end = _window(lines, history)
        for p in PATTERNS:
            counted = _submitted_counts(lines, p, start, end)
            if len(counted):
                totals[p] = totals[p].add(counted, fill_value=0).astype("int64")
    return replace(history, submitted=totals)


#: What the rate's denominator reads of a line (``_submitted_counts``, ``_base_codes``): the first
#: pass over a file types only these.
_COUNTED = ("Payer", "CPT/HCPCS", "Dx Codes", "Modifiers", "Submitted Date", "Prior Auth Number")


def _counted_only(chunk: pd.DataFrame) -> pd.DataFrame:
    """The chunk with the columns the count does not read left blank (all-missing numbers, which
    ``coerce_table`` types without looking at a value): the first pass typed all 20-odd columns
    of every chunk to count six."""
    from ..tables import CLAIMS
    from ..values import canonical_headers

    named = canonical_headers(CLAIMS, chunk)
    blank = np.full(len(named), np.nan)
    out = pd.DataFrame({c: named[c] if c in _COUNTED else blank for c in named.columns}, index=named.index)
    out.attrs = dict(named.attrs)
    return out


def _submitted_counts(lines, pattern: Pattern, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """key → claim lines of this pattern submitted in the window (the rate's denominator)."""
    sub = lines.c["Submitted Date"]
    inside = ((sub > start) & (sub <= end)).to_numpy()
    if pattern == "authorization":
        inside = inside & lines.blank("Prior Auth Number").to_numpy()
    if not inside.any():
        return pd.Series(dtype="int64")
    codes, texts = _base_codes(lines)
    if pattern == "diagnosis":  # a line counts for each diagnosis on it, as the denials do
        dx_codes, dx_uniques = lines._dx_factor
        counts = _count_pairs(codes[inside], texts, dx_codes[inside], lambda j: set(dx_uniques[j]))
    elif pattern == "modifier":
        table = _mods_table(lines)
        counts = _count_pairs(codes[inside], texts, lines._mods_factor[0][inside], lambda j: [table[j]])
    else:
        counts = _count_pairs(codes[inside], texts, np.zeros(int(inside.sum()), dtype="int64"), lambda j: [None])
    return pd.Series(counts, dtype="int64")


def _say(pattern: Pattern, cpt: str, key: str, n: int, submitted: int, first, top: str) -> str:
    """The message after the payer's name (the line's own spelling of it goes first)."""
    times = f"{n} time{'s' if n != 1 else ''}"
    since = f"since {first:%B %Y}" if pd.notna(first) else "in the period"
    share = f", {n} of the {submitted} lines submitted" if submitted else ""
    if pattern == "diagnosis":
        return (f" denied {cpt} with {format_dx(key.rsplit('|', 1)[1])} {times} {since}{share} ({top}). "
                "Check the policy before submitting.")
    if pattern == "modifier":
        mods = key.rsplit("|", 1)[1]
        how = f"with modifier{'s' if ',' in mods else ''} {mods.replace(',', ', ')}" if mods else "without a modifier"
        return (f" denied {cpt} {how} {times} {since}{share} ({top}). "
                "Check which modifiers the payer expects before submitting.")
    return (f" denied {cpt} for a missing authorization {times} {since}{share} ({top}) and this line "
            "has no Prior Auth Number. Check whether the payer requires one before submitting.")


def _cite(ids: list[str], total: int) -> str:
    """"Denials D-1, D-2 … and 7 more": each denial counts in one pattern and one key only."""
    shown = ", ".join(ids[:CITE_MAX])
    return f"Denials {shown}" + (f" and {total - CITE_MAX} more" if total > CITE_MAX else "")


def _window(lines, history: DenialHistory) -> tuple[pd.Timestamp, pd.Timestamp]:
    end = lines.today
    return end - pd.DateOffset(months=history.months), end


@dataclass
class _Hits:
    keys: pd.Series  # candidate line → its key in a hot cluster
    said: dict[str, str]  # key → the sentence after the payer's name
    ids: dict[str, tuple[str, ...]]  # key → the first denial IDs counted
    count: dict[str, int]  # key → how many denials
    at: np.ndarray  # the positions of ``keys``' lines among the claim lines


def _pattern_hits(lines, history: DenialHistory, real: pd.DataFrame, pattern: Pattern,
                  candidates: pd.Series) -> _Hits | None:
    """The candidate lines that match a hot cluster of ``pattern``, and what to say per cluster."""
    keyed = pattern_keys(real, pattern)
    if not len(keyed):
        return None
    clusters = _clusters(keyed)
    count = clusters.count
    sub = (history.submitted[pattern] if history.submitted is not None
           else _submitted_counts(lines, pattern, *_window(lines, history)))
    sub = sub.reindex(count.index).fillna(0).astype(int)
    ok = (count >= history.min_count) & ((sub == 0) | (count >= history.rate * sub))
    hot = count.index[ok.to_numpy()]
    if not len(hot):
        return None
    if pattern == "authorization":
        candidates = candidates & lines.blank("Prior Auth Number")
    for code in SAME_REASON[pattern]:
        candidates = candidates & ~lines.mask(code)
    where = candidates.to_numpy()
    keys = _line_keys(lines, pattern, where)
    inside = keys.isin(hot).to_numpy()
    keys = keys[inside]
    if not len(keys):
        return None
    used = pd.unique(keys.to_numpy())
    n, n_sub = count.reindex(used).tolist(), sub.reindex(used).tolist()
    said = {k: _say(pattern, k.split("|")[1], k, int(a), int(b), f, t)
            for k, a, b, f, t in zip(used.tolist(), n, n_sub, clusters.first.reindex(used).tolist(),
                                     clusters.top.reindex(used).tolist())}
    return _Hits(keys, said, {k: clusters.ids[k] for k in used}, dict(zip(used.tolist(), map(int, n))),
                 np.flatnonzero(where)[inside])


def _history(lines) -> dict[str, pd.Series]:
    """Per flagged line: the message (one sentence per pattern that fires) and the denials cited.

    Lines are grouped by (payer as written, key per pattern): each distinct group's message and
    citation is made once, so 100,000 lines cost a few thousand sentences, not 100,000."""
    history: DenialHistory | None = getattr(lines, "denials", None)
    empty = {"mask": pd.Series(False, index=lines.index), "message": pd.Series(dtype=object),
             "cite": pd.Series(dtype=object)}
    if history is None:
        return empty
    start, end = _window(lines, history)
    real = history.real()
    real = real[(real["date"] > start) & (real["date"] <= end)]
    candidates = lines.c["Submitted Date"].isna() | (lines.c["Submitted Date"] > end)  # not yet submitted
    if not len(real) or not candidates.any():
        return empty
    hits = [h for p in PATTERNS if (h := _pattern_hits(lines, history, real, p, candidates)) is not None]
    if not hits:
        return empty
    mask = np.zeros(len(lines.index), dtype=bool)
    for h in hits:
        mask[h.at] = True
    at = np.flatnonzero(mask)  # the flagged lines' positions, in line order
    flagged = lines.index[at]
    payer_code, payers = pd.factorize(lines.c["Payer"].fillna("").to_numpy(dtype=object)[at])
    combo = payer_code.astype("int64")
    key_tables = []
    for h in hits:  # one number per (payer, key per pattern): the lines' groups
        code, table = pd.factorize(h.keys.to_numpy(dtype=object))
        line_code = np.full(len(lines.index), -1, dtype=np.int64)
        line_code[h.at] = code
        combo = combo * (len(table) + 1) + (line_code[at] + 1)
        key_tables.append(table)
    codes, uniques = pd.factorize(combo)
    messages, cites = [], []
    for u in uniques:
        parts, rest = [], int(u)
        for table in reversed(key_tables):
            rest, c = divmod(rest, len(table) + 1)
            parts.append(table[c - 1] if c else None)
        payer, keys = payers[rest], parts[::-1]
        messages.append(" ".join(payer + h.said[k] for h, k in zip(hits, keys) if k))
        ids = [i for h, k in zip(hits, keys) if k for i in h.ids[k]]
        cites.append(_cite(ids, sum(h.count[k] for h, k in zip(hits, keys) if k)))
    message = pd.Series(np.asarray(messages, dtype=object)[codes], index=flagged, dtype=object)
    cite = pd.Series(np.asarray(cites, dtype=object)[codes], index=flagged, dtype=object)
    return {"mask": pd.Series(mask, index=lines.index), "message": message, "cite": cite}


@check("DENIAL_HISTORY", AMBER, "history",
       "the practice's Denials log shows this payer denied this code with this diagnosis (or these "
       "modifiers, or without prior authorization) at least Denial History Min times in the last "
       "Denial History Months months, and at least Denial History Rate of such lines submitted when known",
       "{denial_history}")
def denial_history(lines):
    return lines.derived("denial_history", _history)["mask"]


@message_field("denial_history")
def _denial_history(lines, idx):
    return lines.derived("denial_history", _history)["message"].reindex(idx)


def denial_citations(lines) -> pd.Series:
    """Per flagged line: "Denials D-000012, D-000031" for the Policy column."""
    return lines.derived("denial_history", _history)["cite"]
