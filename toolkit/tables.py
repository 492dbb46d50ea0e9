"""The tables of the public contract (CONTRACT.md §1): names, headers and value kinds.

Users' files depend on these names: add columns, never rename them.  Each column has a kind
that says how a raw cell (Excel value or CSV text) becomes a value the checks can use; the
conversion itself lives in ``toolkit.values``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | code | int | number | date | yn | money | datetime
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    name: str  # the sheet name
    table: str  # the Excel Table (ListObject) name
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.header for c in self.columns if c.required]

    def column(self, header: str) -> Column:
        for c in self.columns:
            if c.header == header:
                return c
        raise KeyError(header)


def header_key(header: object) -> str:
    """Headers match case-insensitively, ignoring surrounding (and doubled) spaces."""
    return " ".join(str(header if header is not None else "").split()).casefold()


C = Column

CLAIMS = TableSpec("Claims", "tblClaims", (
    C("Claim ID", "text", True),
    C("Line", "int"),
    C("Patient ID", "text", True),
    C("Patient Name", "text"),
    C("Date of Birth", "date"),
    C("Sex", "text"),
    C("Payer", "text", True),
    C("Date of Service", "date", True),
    C("CPT/HCPCS", "code", True),
    C("Modifiers", "text"),
    C("Units", "number"),
    C("Dx Codes", "text", True),
    C("Therapy Weeks", "number"),
    C("Therapy Notes", "text"),
    C("Imaging Date", "date"),
    C("Imaging Type", "text"),
    C("Prior Auth Number", "text"),
    C("ABN on File", "yn"),
    C("Note Sections", "text"),
    C("Rule-Out Dx", "yn"),
    C("Patient Declined", "yn"),
    C("Submitted Date", "date"),
    C("Rendering Provider", "text"),
))

# Patient identifiers: shown only in the letters, never in messages, logs or e-mails.
PHI_COLUMNS = frozenset({"Patient ID", "Patient Name", "Date of Birth"})

# The only columns Validate ever writes.
RESULT_COLUMNS = ("Status", "Finding Codes", "Findings", "Policy", "Validated At")
REPORT_COLUMNS = ("Claim ID", "Line", "Status", "Finding Codes", "Findings", "Policy")

RULES = TableSpec("Rules", "tblRules", (
    C("Payer", "text", True),
    C("CPT/HCPCS", "code", True),
    C("Description", "text"),
    C("Covered Dx", "text", True),
    C("Min Therapy Weeks", "number"),
    C("Imaging Required", "yn"),
    C("Imaging Max Age Days", "int"),
    C("Prior Auth Required", "yn"),
    C("Laterality Required", "yn"),
    C("Max Units", "number"),
    C("Policy", "text"),
    C("Effective From", "date"),
    C("Effective To", "date"),
    C("Notes", "text"),
))

PAYER_TYPES = ("Medicare", "Medicare Advantage", "Medicaid", "Commercial", "Other")

PAYERS = TableSpec("Payers", "tblPayers", (
    C("Payer", "text", True),
    C("Payer Type", "text", True),
    C("Timely Filing Days", "int"),
    C("Appeal Window Days", "int"),
    C("Address", "text"),
    C("Phone", "text"),
    C("Fax", "text"),
    C("Portal", "text"),
    C("Payer ID", "text"),  # (added) the ID 835s carry (N1*PR…XV, REF*2U); several separated by ';'
    C("Also Known As", "text"),  # (added) names 835s use for this payer, separated by ';'
))

DENIAL_STATUSES = ("Open", "Appealed", "Resubmitted", "Paid", "Upheld", "Written Off")

DENIALS = TableSpec("Denials", "tblDenials", (
    C("Denial ID", "text"),
    C("Claim ID", "text"),
    C("Line", "int"),
    C("Patient ID", "text"),
    C("Payer", "text"),
    C("Date of Service", "date"),
    C("CPT/HCPCS", "code"),
    C("Modifiers", "text"),
    C("Dx Codes", "text"),
    C("Billed Amount", "money"),
    C("Paid Amount", "money"),
    C("Denied Amount", "money"),
    C("Denial Date", "date"),
    C("Group Code", "text"),
    C("CARC", "text"),
    C("RARC", "text"),
    C("Reason", "text"),
    C("Category", "text"),
    C("Root Cause", "text"),
    C("Status", "text"),
    C("Appeal Deadline", "date"),
    C("Resubmitted Date", "date"),
    C("Resolved Date", "date"),
    C("Outcome", "text"),
    C("Owner", "text"),
    C("Notes", "text"),
    C("Source", "text"),
))

SETTINGS = TableSpec("Settings", "tblSettings", (C("Key", "text", True), C("Value", "text")))

