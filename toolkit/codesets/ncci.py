"""CMS NCCI edits: procedure-to-procedure (PTP) pairs and medically unlikely edits (MUE).

The practice downloads the quarterly CMS files and turns them once into a compact SQLite index
(``build_ncci``; ``mednec codeset ncci-build``).  Validate then opens the index and reads only the
edits for the codes and code pairs on the claims, so a click stays fast even though the
practitioner PTP table holds over a million pairs.  Without an index these edit layers are off.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

ACTIVE = 99991231  # "Deletion Date *": the edit is in force (as northstar maps it)

# Modifiers that may bypass a PTP edit with modifier indicator 1 when clinically true
# (NCCI Policy Manual ch. I; the CMS "NCCI PTP-associated modifiers").
NCCI_MODIFIERS = frozenset({
    "59", "XE", "XS", "XP", "XU",
    "RT", "LT", "E1", "E2", "E3", "E4", "FA", "TA", "LC", "LD", "LM", "RC", "RI",
    *(f"F{i}" for i in range(1, 10)), *(f"T{i}" for i in range(1, 10)),
    "24", "25", "57", "58", "78", "79", "27", "91",
})

MAI_NAMES = {1: "Line Edit", 2: "Date of Service Edit: Policy", 3: "Date of Service Edit: Clinical"}


@dataclass
class NcciEdits:
    """One NCCI index: PTP pairs with their dates and modifier indicator, and MUE values."""

    path: Path
    label: str
    source: str = ""

    @classmethod
    def open(cls, path: Path | str) -> NcciEdits:
        from ..errors import InputError

        path = Path(path)
        if not path.exists():
            raise InputError("NCCI index not found", file=path)
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                meta = dict(con.execute("SELECT key, value FROM meta"))
            finally:
                con.close()
        except sqlite3.DatabaseError:
            raise InputError("not an NCCI index built by mednec (use 'mednec codeset ncci-build')",
                             file=path) from None
        if meta.get("kind") != "ncci":
            raise InputError("not an NCCI index built by mednec (use 'mednec codeset ncci-build')", file=path)
        return cls(path, meta.get("label", path.name), meta.get("source", ""))

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def ptp(self, pairs):
        """The edits for the given (col1, col2) pairs: a DataFrame with col1, col2, effective and
        deletion (YYYYMMDD integers), modifier (0/1/9) and rationale."""
        import pandas as pd

        cols = ["col1", "col2", "effective", "deletion", "modifier", "rationale"]
        pairs = list(pairs)
        if not pairs:
            return pd.DataFrame({c: pd.Series(dtype=object if c in ("col1", "col2", "rationale") else "int64")
                                 for c in cols})
        con = self._connect()
        try:  # a temporary table lives outside the read-only file; one indexed join finds them all
            con.execute("CREATE TEMP TABLE wanted (col1 TEXT, col2 TEXT)")
            con.executemany("INSERT INTO temp.wanted VALUES (?, ?)", pairs)
            rows = con.execute(
                "SELECT p.col1, p.col2, p.effective, p.deletion, p.modifier, coalesce(r.text, '') "
                "FROM temp.wanted w JOIN ptp p ON p.col1 = w.col1 AND p.col2 = w.col2 "
                "LEFT JOIN rationales r ON r.id = p.rationale").fetchall()
        finally:
            con.close()
        frame = pd.DataFrame(rows, columns=cols)
        return frame.astype({"effective": "int64", "deletion": "int64", "modifier": "int64"})

    def mue(self, codes):
        """MUE values for the given codes: a DataFrame indexed by code with units, mai, rationale."""
        import pandas as pd

        codes = list(dict.fromkeys(codes))
        rows = []
        con = self._connect()
        try:
            for start in range(0, len(codes), 900):  # SQLite's bound-parameter limit
                chunk = codes[start:start + 900]
                rows += con.execute(
                    f"SELECT m.code, m.units, m.mai, coalesce(r.text, '') FROM mue m "
                    f"LEFT JOIN rationales r ON r.id = m.rationale WHERE m.code IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
        finally:
            con.close()
        return pd.DataFrame(rows, columns=["code", "units", "mai", "rationale"]).set_index("code")

    def counts(self) -> dict[str, int]:
        con = self._connect()
        try:
            return {"ptp": con.execute("SELECT count(*) FROM ptp").fetchone()[0],
                    "mue": con.execute("SELECT count(*) FROM mue").fetchone()[0]}
        finally:
            con.close()
