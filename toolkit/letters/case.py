"""The typed seam of the letters: the kinds, what a builder is given, what it returns, the registry.

``LetterKind`` names the eight letters; ``AppealCase`` is everything a builder may use (the denial,
its claim line, rule and payer, and the facts already worked out from them); a builder returns a
``LetterDraft`` (what differs between kinds), and ``toolkit.letters.build_appeal`` turns the
draft into the dict a Word template is filled with.  ``LETTERS`` maps each kind to its builder,
the way ``toolkit.checks.base`` keeps its registry of checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from ..errors import MednecError


class LetterKind(StrEnum):
    """What a denial's letter argues and asks for (its Category decides; see ``denial_kind``)."""
    NECESSITY = "necessity"
    AUTHORIZATION = "authorization"
    TIMELY_FILING = "timely_filing"
    CORRECTION = "correction"
    DUPLICATE = "duplicate"
    ELIGIBILITY = "eligibility"
    NONCOVERED = "noncovered"
    BUNDLING = "bundling"


POLICY_KINDS = (LetterKind.NECESSITY, LetterKind.AUTHORIZATION)  # set the claim against the policy's criteria

# What a denial's Category asks the letter to do (Category as the denial log decoded it from
# toolkit/data/carc.csv; the CARC's own category when the cell is blank).  Anything else keeps
# the medical-necessity letter.
KIND_OF_CATEGORY = {
    "medical necessity": LetterKind.NECESSITY,
    "authorization": LetterKind.AUTHORIZATION,
    "timely filing": LetterKind.TIMELY_FILING,
    "coding": LetterKind.CORRECTION,
    "documentation": LetterKind.CORRECTION,
    "duplicate": LetterKind.DUPLICATE,
    "eligibility": LetterKind.ELIGIBILITY,
    "non-covered": LetterKind.NONCOVERED,
    "bundling": LetterKind.BUNDLING,
}


class NoLetter(MednecError):
    """No letter should be written for this denial; the message says what is true and what to do
    instead (one line).  Not an input error: the data is fine, a letter would overstate it."""

    exit_code = 1


@dataclass
class AppealCase:
    """One denial with everything a letter may say about it, worked out once."""
    kind: LetterKind
    denial: pd.Series
    claim: pd.Series | None  # the Claims line as it stands now (None: no longer in Claims)
    rule: pd.Series | None
    payer: pd.Series
    payer_name: str
    practice: str
    medicare: bool
    level2: bool  # the first appeal was Upheld: this is the second level
    today: dt.date
    codesets: Any  # toolkit.codesets.icd10cm.CodeSets
    code_tables: Any  # toolkit.denials.decode.CodeTables
    cpt: str
    dos: dt.date | None
    claim_id: str
    line: int
    codes: list[str]
    mods: list[str]
    units: float | None
    policy_ref: str
    group: str
    carc: str
    rarcs: list[str]
    reason: str
    denied: str  # the denied amount as money text, "" when none
    pa_number: str
    patient: dict
    same_day: list[pd.Series] = field(default_factory=list)

    @property
    def src(self) -> pd.Series:
        """The claim line when it is still in Claims, else the Denials row."""
        return self.claim if self.claim is not None else self.denial

    @property
    def the_line(self) -> str:
        from ..checklists import NOT_ON_FILE, short_date

        return (f"line {self.line} of claim {self.claim_id} ({self.cpt}, date of service "
                f"{short_date(self.dos) or NOT_ON_FILE})")

    @property
    def for_payment(self) -> str:
        return " for payment" + (f" of the denied amount of {self.denied}" if self.denied else "")

    @property
    def office_note(self) -> str:
        from ..checklists import NOT_ON_FILE, short_date

        return f"Office note for the date of service, {short_date(self.dos) or NOT_ON_FILE}"


@dataclass
class LetterDraft:
    """What a kind of letter decides.  Fields left ``None`` keep the appeal defaults
    (title and level sentence by payer and level, the deadline of the appeal window)."""
    opening: str
    requested: str
    quote_suffix: str = ""  # appended to the quoted denial: ". We disagree: …"
    title: str | None = None
    title_suffix: str = ""  # ": proof of timely filing"
    argument: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)
    enclosures: list[str] = field(default_factory=list)  # after the remittance and the claim
    claim_enclosure: str | None = None  # replaces "Claim C (CMS-1500), line N"
    salutation: str | None = None
    document: str = "Appeal of"  # the footer: "<document> claim C1001, line 1 · denial D-000001"
    level_text: str | None = None
    deadline: dt.date | None = None
    deadline_text: str | None = None
    criteria: list[dict] = field(default_factory=list)
    policy_sentence: str = ""
    warnings: list[str] = field(default_factory=list)  # weak points the biller must weigh before sending


Builder = Callable[[AppealCase], LetterDraft]
LETTERS: dict[LetterKind, Builder] = {}


def letter(kind: LetterKind) -> Callable[[Builder], Builder]:
    """Register the builder of one kind of letter."""
    def register(fn: Builder) -> Builder:
        LETTERS[kind] = fn
        return fn
    return register


def denial_kind(denial: pd.Series, code_tables=None) -> LetterKind:
    """Which letter a denial needs, from its Category, else its CARC's."""
    from ..checklists import text

    category = " ".join(text(denial.get("Category")).casefold().replace("-", " - ").split()).replace(" - ", "-")
    if not category and code_tables is not None:
        known = code_tables.carc.get(text(denial.get("CARC")).upper())
        category = known.category if known else ""
    category = {"non covered": "non-covered", "noncovered": "non-covered", "not covered": "non-covered",
                "medical-necessity": "medical necessity"}.get(category, category)
    return KIND_OF_CATEGORY.get(category, LetterKind.NECESSITY)
