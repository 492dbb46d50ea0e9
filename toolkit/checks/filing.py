"""Filing checks: payer known, date of service possible, claim within the filing limit."""

from __future__ import annotations

import pandas as pd

from .base import AMBER, RED, check, field, per_distinct

MEDICARE_TIMELY_FILING_DAYS = 365  # 12 months from the date of service, when the Payers row is blank
# A blank Payer is PAYER_UNKNOWN (the contract's own item); these have no item of their own.
REQUIRED_VALUES = ("Claim ID", "Patient ID", "Date of Service")


@check("FIELD_MISSING", AMBER, "filing", "a required value (Claim ID, Patient ID, Date of Service) is blank",
       "{missing_fields} blank. Fill it in from the practice-management system before submitting.")
def field_missing(lines):
    blank = pd.Series(False, index=lines.index)
    for header in REQUIRED_VALUES:
        col = lines.c[header]
        blank |= col.isna() if header == "Date of Service" else lines.blank(header)
    return blank


@field("missing_fields")
def _missing_fields(lines, idx):
    out = []
    for i in idx:
        names = [h for h in REQUIRED_VALUES
                 if (pd.isna(lines.c.at[i, h]) if h == "Date of Service" else not str(lines.c.at[i, h]).strip())]
        out.append(f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}")
    return pd.Series(out, index=idx)


@check("PAYER_UNKNOWN", AMBER, "filing", "the payer is not in Payers",
       "{payer_unknown_lead}, so its filing limit and appeal window are unknown. "
       "Add the payer or correct the name.")
def payer_unknown(lines):
    return ~lines.payer_row["_known"]


@field("payer_unknown_lead")
def _payer_unknown_lead(lines, idx):
    return lines.coded("Payer", idx, lambda p: f"Payer '{p}' is not in the Payers table" if p
                     else "The line has no payer")


def timely_filing_limit(lines) -> pd.Series:
    days = pd.to_numeric(lines.payer_row["Timely Filing Days"], errors="coerce")
    medicare = lines.medicare
    return days.where(days.notna() | ~medicare, MEDICARE_TIMELY_FILING_DAYS)


def days_to_filing(lines) -> pd.Series:
    filed = lines.c["Submitted Date"].fillna(lines.today)
    return (filed - lines.dos).dt.days


@check("TIMELY_FILING", RED, "filing",
       "the days from date of service to Submitted Date (or to today) exceed the payer's Timely Filing Days",
       "{filing_days} days from the date of service to {filing_point}; {payer} allows {filing_limit}. "
       "The claim is past the filing limit: file only with proof of timely filing.")
def timely_filing(lines):
    limit = timely_filing_limit(lines)
    return limit.notna() & (days_to_filing(lines) > limit)


@field("filing_days")
def _filing_days(lines, idx):
    return per_distinct(lambda d: f"{d:g}", days_to_filing(lines)[idx])


@field("filing_point")
def _filing_point(lines, idx):
    return per_distinct(lambda d: "submission" if pd.notna(d) else "today", lines.c["Submitted Date"][idx])


@field("filing_limit")
def _filing_limit(lines, idx):
    return per_distinct(lambda d: f"{d:g}", timely_filing_limit(lines)[idx])


@check("DOS_FUTURE", RED, "filing", "the date of service is after today",
       "The date of service {dos} is after today ({today}). Correct the date, or wait until the "
       "service has been performed.")
def dos_future(lines):
    return lines.dos > lines.today


@field("today")
def _today(lines, idx):
    return pd.Series(lines.today.strftime("%Y-%m-%d"), index=idx)
