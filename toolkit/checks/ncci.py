"""NCCI edit checks: code pairs not billable together on one day (PTP), and units above the MUE.

These are the second and third edit layers (medical necessity is the first): each has its own
data, the CMS quarterly files turned into an index by ``mednec codeset ncci-build``.  They run
only when the practice has loaded such an index (``--ncci``, the Settings key ``NCCI Index``);
without one they never flag a line.  An ABN does not shift liability for these denials.

Everything is done with pandas merges and group sums over all lines at once; the index is asked
only for the code pairs billed together on a claim and the codes present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..codesets.ncci import MAI_NAMES, NCCI_MODIFIERS
from .base import RED, check, field

_PTP_COLUMNS = ["row", "col1", "col1_line", "col1_claim", "modifier", "rationale"]


def _day(lines) -> np.ndarray:
    """Each line's date of service as YYYYMMDD (the PTP files' form), 0 when blank."""
    dos = lines.dos
    day = (dos.dt.year * 10000 + dos.dt.month * 100 + dos.dt.day).fillna(0)
    return day.to_numpy(dtype="int64")


def _claim_day_keys(lines) -> pd.DataFrame:
    """Position, Claim ID, day and code of the lines that have all three (the others cannot pair)."""
    claim = lines.c["Claim ID"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    day = _day(lines)
    cpt = lines.cpt.fillna("").to_numpy(dtype=object)
    ok = (claim != "") & (day > 0) & (cpt != "")
    return pd.DataFrame({"pos": np.flatnonzero(ok), "claim": claim[ok], "day": day[ok], "cpt": cpt[ok]})


def _patient_day_keys(lines) -> pd.DataFrame:
    """As ``_claim_day_keys`` but keyed by patient and rendering provider: CMS applies PTP and
    date-of-service MUE edits to the same patient, provider and date whatever the claim."""
    patient = lines.c["Patient ID"].fillna("").astype(str).str.strip()
    provider = lines.c["Rendering Provider"].fillna("").astype(str).str.strip().str.casefold() \
        if "Rendering Provider" in lines.c else ""
    key = (patient + "\x1f" + provider).to_numpy(dtype=object)
    day = _day(lines)
    cpt = lines.cpt.fillna("").to_numpy(dtype=object)
    ok = (patient.to_numpy(dtype=object) != "") & (day > 0) & (cpt != "")
    return pd.DataFrame({"pos": np.flatnonzero(ok), "claim": key[ok], "day": day[ok], "cpt": cpt[ok]})


def _same_day_pairs(keys: pd.DataFrame) -> pd.DataFrame:
    """(pos, pos1) of lines with different codes under the same key and day."""
    many = keys[keys.groupby(["claim", "day"])["cpt"].transform("nunique") > 1]  # only days with 2+ codes pair
    if many.empty:
        return pd.DataFrame({"pos": [], "pos1": [], "cpt": [], "col1": [], "day": []})
    pairs = many.merge(many[["claim", "day", "cpt", "pos"]].rename(columns={"cpt": "col1", "pos": "pos1"}),
                       on=["claim", "day"])
    return pairs[pairs["cpt"].to_numpy() != pairs["col1"].to_numpy()][["pos", "pos1", "cpt", "col1", "day"]]


_SIDE_MODIFIERS = ("RT", "LT")


def _ptp_hits(lines) -> pd.DataFrame:
    """One row per (Column 2 line, Column 1 line) edit that applies and is not bypassed.

    Lines pair when they share a claim and date of service, or a patient, rendering provider and
    date of service (across claims).  An edit is in force from its Effective Date through its
    Deletion Date (the last day in force).  RT/LT bypass an indicator-1 edit only when the two
    lines are on different sides; the other NCCI-associated modifiers bypass it on the Column 2 line.
    """
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _PTP_COLUMNS})
    if lines.edits is None:
        return empty
    pairs = pd.concat([_same_day_pairs(lines.derived("ncci_keys", _claim_day_keys)),
                       _same_day_pairs(lines.derived("ncci_patient_keys", _patient_day_keys))])
    if pairs.empty:
        return empty
    pairs = pairs.astype({"pos": "int64", "pos1": "int64", "day": "int64"}).drop_duplicates(["pos", "pos1"])
    wanted = pairs[["col1", "cpt"]].drop_duplicates()
    edits = lines.edits.ptp(wanted.itertuples(index=False, name=None))
    if edits.empty:
        return empty
    hits = pairs.merge(edits, left_on=["col1", "cpt"], right_on=["col1", "col2"])
    in_force = (hits["effective"] <= hits["day"]) & (hits["day"] <= hits["deletion"])
    pos, pos1 = hits["pos"].to_numpy(), hits["pos1"].to_numpy()
    other = lines.has_mod(*(NCCI_MODIFIERS - set(_SIDE_MODIFIERS))).to_numpy()[pos]
    rt, lt = lines.has_mod("RT").to_numpy(), lines.has_mod("LT").to_numpy()
    sides_differ = (rt[pos] & lt[pos1] & ~rt[pos1]) | (lt[pos] & rt[pos1] & ~lt[pos1])
    bypass = other | sides_differ
    hits = hits[in_force & ((hits["modifier"] == 0) | ((hits["modifier"] == 1) & ~bypass))]
    if hits.empty:
        return empty
    pos1 = hits["pos1"].to_numpy()
    line_no = lines.c["Line"].to_numpy()[pos1]
    claim = lines.c["Claim ID"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    same_claim = claim[hits["pos"].to_numpy()] == claim[pos1]
    return pd.DataFrame({
        "row": lines.index[hits["pos"].to_numpy()],
        "col1": hits["col1"].to_numpy(),
        "col1_line": line_no,
        "col1_claim": np.where(same_claim, "", claim[pos1]),
        "modifier": hits["modifier"].to_numpy(),
        "rationale": hits["rationale"].to_numpy(),
    })


def _join_per_row(rows: np.ndarray, values: np.ndarray, sep: str) -> pd.Series:
    """``values`` joined per row (``rows`` sorted): most lines have one value, joined only where more."""
    if not len(rows):
        return pd.Series(dtype=object)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], len(rows)]
    out = values[starts].astype(object)
    many = np.flatnonzero(ends - starts > 1)
    out[many] = [sep.join(values[starts[i]:ends[i]]) for i in many]
    return pd.Series(out, index=rows[starts])


def _ptp_by_line(lines) -> pd.DataFrame:
    """Per flagged line: the Column 1 codes it bundles into, the strictest indicator, the rationales."""
    hits = lines.derived("ncci_ptp", _ptp_hits)
    if hits.empty:
        return pd.DataFrame(columns=["col1", "modifier", "rationale", "other_claim"])
    line_no = pd.to_numeric(hits["col1_line"], errors="coerce")

    def show(code: str, line, claim: str) -> str:
        where = ([f"claim {claim}"] if claim else []) + ([f"line {int(line)}"] if pd.notna(line) else [])
        return f"{code} ({' '.join(where)})" if where else code

    shown = pd.Series([show(c, n, o) for c, n, o in zip(hits["col1"], line_no, hits["col1_claim"])], index=hits.index)
    position = pd.Series(np.arange(len(lines.index)), index=lines.index).reindex(hits["row"]).to_numpy()
    hits = hits.assign(shown=shown.to_numpy(), position=position).sort_values(["position", "col1"], kind="stable")
    names = hits.drop_duplicates(["position", "shown"])
    why = hits[hits["rationale"] != ""].drop_duplicates(["position", "rationale"])
    frame = pd.DataFrame({
        "col1": _join_per_row(names["position"].to_numpy(), names["shown"].to_numpy(dtype=object), ", "),
        "modifier": hits.groupby("position")["modifier"].min(),
        "other_claim": hits.assign(o=hits["col1_claim"] != "").groupby("position")["o"].any(),
    })
    frame["rationale"] = _join_per_row(why["position"].to_numpy(), why["rationale"].to_numpy(dtype=object), "; ")
    frame["rationale"] = frame["rationale"].fillna("")
    frame.index = lines.index[frame.index.to_numpy()]
    return frame


@check("NCCI_PTP_CONFLICT", RED, "ncci",
       "(added; only with an NCCI index) another line of the claim on the same date of service, or (added) "
       "a line of the same patient, rendering provider and date of service on another claim, bills the "
       "Column 1 code of an NCCI PTP edit in force (Effective Date through Deletion Date, both inclusive), "
       "and the modifier indicator is 0, or it is 1 and this Column 2 line has no NCCI-associated modifier "
       "(59, XE/XS/XP/XU, anatomic, 24/25/57/58/78/79, 27, 91; RT/LT count only when the two lines are on "
       "different sides)",
       "{cpt} is bundled into {ptp_column1} {ptp_where} (NCCI PTP edit{ptp_rationale}). {ptp_advice}")
def ncci_ptp_conflict(lines):
    hits = lines.derived("ncci_ptp", _ptp_hits)
    return lines.series(lines.index.isin(hits["row"]), dtype=bool)


@field("ptp_column1")
def _ptp_column1(lines, idx):
    return lines.derived("ncci_ptp_by_line", _ptp_by_line)["col1"].reindex(idx)


@field("ptp_where")
def _ptp_where(lines, idx):
    other = lines.derived("ncci_ptp_by_line", _ptp_by_line)["other_claim"].reindex(idx).fillna(False).astype(bool)
    return pd.Series(np.where(other, "on the same date of service for the same patient and provider",
                              "on the same claim and date of service"), index=idx)


@field("ptp_rationale")
def _ptp_rationale(lines, idx):
    why = lines.derived("ncci_ptp_by_line", _ptp_by_line)["rationale"].reindex(idx).fillna("")
    return pd.Series(np.where(why != "", ": " + why, ""), index=idx)


@field("ptp_advice")
def _ptp_advice(lines, idx):
    by_line = lines.derived("ncci_ptp_by_line", _ptp_by_line).reindex(idx)
    never = "These codes cannot be billed together on the same day: remove the line."
    maybe = ("If the service was distinct (separate site/session), add 59 or XS/XE/XP/XU; "
             "otherwise remove the line.")
    return pd.Series(np.where(by_line["modifier"].to_numpy() == 0, never, maybe), index=idx)


# ---------------------------------------------------------------- MUE

def _mue_over(lines) -> pd.DataFrame:
    """Per line above its MUE: the value, MAI, rationale, the units counted and over how many lines."""
    columns = ["limit", "mai", "rationale", "counted", "n_lines", "across"]
    if lines.edits is None:
        return pd.DataFrame(columns=columns)
    codes = [c for c in pd.unique(lines.cpt.fillna("")) if c]
    table = lines.edits.mue(codes)
    if table.empty:
        return pd.DataFrame(columns=columns)
    limit = lines.cpt.map(table["units"])
    mai = lines.cpt.map(table["mai"])
    units = lines.units.astype(float)
    counted = units.copy()
    n_lines = pd.Series(1, index=lines.index)
    # MAI 2 and 3 limit the units of a code per date of service: sum the lines of that day, on the
    # claim and (across claims) for the same patient and rendering provider; the larger sum counts.
    across = pd.Series(False, index=lines.index)
    for name, keys_of in (("ncci_keys", _claim_day_keys), ("ncci_patient_keys", _patient_day_keys)):
        keys = lines.derived(name, keys_of)
        per_day = keys[mai.to_numpy()[keys["pos"].to_numpy()] >= 2]
        if not len(per_day):
            continue
        per_day = per_day.assign(units=units.to_numpy()[per_day["pos"].to_numpy()])
        grouped = per_day.groupby(["claim", "day", "cpt"])["units"]
        pos = per_day["pos"].to_numpy()
        total, size = grouped.transform("sum").to_numpy(), grouped.transform("size").to_numpy()
        larger = total > counted.to_numpy()[pos]
        counted.iloc[pos[larger]] = total[larger]
        n_lines.iloc[pos[larger]] = size[larger]
        if name == "ncci_patient_keys":
            across.iloc[pos[larger]] = True
    over = limit.notna() & (counted > limit)
    return pd.DataFrame({
        "limit": limit[over].astype("int64"),
        "mai": mai[over].astype("int64"),
        "rationale": lines.cpt[over].map(table["rationale"]).fillna(""),
        "counted": counted[over],
        "n_lines": n_lines[over],
        "across": across[over],
    })


def _units(values: pd.Series) -> pd.Series:
    return values.map("{:g}".format)


@check("MUE_EXCEEDED", RED, "ncci",
       "(added; only with an NCCI index) the units exceed the code's CMS MUE value: on the line (MAI 1), "
       "or summed over the claim's lines of that code on the same date of service (MAI 2 and 3), or (added) "
       "over the lines of that code on the same patient, rendering provider and date of service across claims",
       "{mue_detail} {mue_advice}")
def mue_exceeded(lines):
    over = lines.derived("ncci_mue", _mue_over)
    return lines.series(lines.index.isin(over.index), dtype=bool)


@field("mue_detail")
def _mue_detail(lines, idx):
    over = lines.derived("ncci_mue", _mue_over).reindex(idx)
    cpt, limit = lines.cpt.reindex(idx), over["limit"].astype(str)
    per_line = _units(lines.units.reindex(idx)) + " units of " + cpt + " on this line exceed the MUE of " + \
        limit + " per line"
    across = pd.Series(np.where(over["n_lines"] > 1, " (" + over["n_lines"].astype(str) + " lines)", ""), index=idx)
    scope = pd.Series(np.where(over["across"].fillna(False).astype(bool),
                               " on this date of service for the patient and provider (all claims)",
                               " on this claim's date of service"), index=idx)
    per_day = _units(over["counted"]) + " units of " + cpt + scope + across + \
        " exceed the MUE of " + limit + " per day"
    why = over["rationale"].fillna("")
    source = (" (CMS MUE, MAI " + over["mai"].astype(str) + " " + over["mai"].map(MAI_NAMES).fillna("")
              + pd.Series(np.where(why != "", "; " + why, ""), index=idx) + ").")
    return pd.Series(np.where(over["mai"] == 1, per_line, per_day), index=idx) + source


@field("mue_advice")
def _mue_advice(lines, idx):
    over = lines.derived("ncci_mue", _mue_over).reindex(idx)
    limit = over["limit"].astype(str)
    advice = {
        1: "Bill at most " + limit + " on a line; units truly given beyond that go on another line with the "
           "modifier that explains them (e.g. 76, 91, RT/LT), otherwise reduce the units.",
        2: "Units above " + limit + " a day are not payable under CMS policy: reduce the units.",
        3: "Reduce the units to " + limit + ", or if more were medically necessary keep the documentation: "
           "the excess is paid only on appeal.",
    }
    mai = over["mai"].to_numpy()
    choices = [a.to_numpy(dtype=object) for a in (advice[1], advice[2], advice[3])]
    return pd.Series(np.select([mai == 1, mai == 2], choices[:2], choices[2]), index=idx)
