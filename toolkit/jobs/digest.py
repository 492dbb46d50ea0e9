"""Jobs: the monthly digest e-mail, the daily appeal-deadline reminder, the quarterly huddle pack.

Each takes a workbook-access object (``WorkbookFile`` or the live-Excel book) so the command
line, the Excel buttons and the scheduler share one code path.  Without ``send`` an e-mail is
written as a draft ``.eml`` into the outbox (it opens in Outlook); with ``send`` it is queued in
``OUTBOX/pending`` and delivered over SMTP; if the server cannot be reached it stays queued and
goes out on the next run.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ..errors import MednecError
from ..values import setting
from ..workbook.book import Book
from ..workbook.files import ReadOnlyWorkbook

OUTBOX_SETTING = "Outbox Folder"
OUTPUT_SETTING = "Output Folder"


@dataclass
class MailResult:
    path: Path | None  # where the .eml is now (outbox, outbox/pending or outbox/sent)
    sent: bool = False
    error: str | None = None  # why sending failed (the message stays queued)
    summary: str = ""
    also_sent: list[Path] = field(default_factory=list)  # older queued messages delivered on this run


# ---------------------------------------------------------------- reading the book

ReadOnlyBook = ReadOnlyWorkbook  # the digest, the reminder and the scheduler never write


def book_settings(book) -> dict[str, str]:
    try:
        return book.settings() or {}
    except MednecError:
        return {}


def _table(book: Book, spec, *, required: bool = True):
    import pandas as pd

    from ..values import coerce_table

    if not book.has_table(spec):
        if required:
            raise MednecError(f"the workbook has no {spec.name} sheet ({spec.table} table)")
        return coerce_table(spec, pd.DataFrame(columns=spec.headers))
    return coerce_table(spec, book.read_table(spec))


def _raw_table(book: Book, spec):
    """Raw cells with contract headers (no conversion): enough to collect patient IDs and names."""
    import pandas as pd

    from ..values import canonical_headers

    if not book.has_table(spec):
        return pd.DataFrame()
    return canonical_headers(spec, book.read_table(spec))


def _tips(book, settings):
    from ..digest import load_tips

    path = setting(settings, "Tips File")
    if path:
        path = Path(path)
        if not path.is_absolute():
            path = Path(book.path).parent / path
        return load_tips(path)
    return load_tips()


def _book_folder(book) -> Path:
    return Path(book.path).resolve().parent


def default_outbox(book) -> Path:
    """Settings' ``Outbox Folder``, else ``outbox`` beside the workbook."""
    folder = setting(book_settings(book), OUTBOX_SETTING)
    return (_book_folder(book) / folder) if folder else _book_folder(book) / "outbox"


def default_output(book) -> Path:
    folder = setting(book_settings(book), OUTPUT_SETTING)
    return (_book_folder(book) / folder) if folder else _book_folder(book)


# ---------------------------------------------------------------- PHI guard

def patient_identifiers(*frames) -> set[str]:
    """Patient IDs and names found in the tables, to make sure none reaches an e-mail."""
    found = set()
    for frame in frames:
        for column in ("Patient ID", "Patient Name"):
            if column in frame.columns:
                for v in frame[column].dropna().astype(str):
                    v = v.strip()
                    # Short all-digit IDs would match counts and procedure codes by accident.
                    if len(v) >= 3 and not (v.isdigit() and len(v) < 6):
                        found.add(v)
    return found


def assert_no_phi(msg, identifiers: set[str]) -> None:
    """Refuse to write an e-mail in which a patient name or ID from the workbook appears."""
    text = "\n".join(part.get_content() for part in msg.walk() if part.get_content_maintype() == "text")
    text += "\n" + str(msg["Subject"])
    for ident in identifiers:
        if re.search(rf"(?<![\w-]){re.escape(ident)}(?![\w-])", text, flags=re.I):
            raise MednecError("the e-mail would contain a patient name or ID from the workbook; "
                              "nothing was written or sent")


# ---------------------------------------------------------------- delivery

class SendMode(StrEnum):
    """What happens to an e-mail a job builds."""

    DRAFT = "draft"  # an .eml in the outbox, for someone to read and send by hand
    NOW = "now"  # queued and sent over SMTP at once (``--send``)
    QUEUE = "queue"  # queued only: the scheduler records the job as done first, then sends the queue


def send_mode(send: bool | SendMode) -> SendMode:
    """``--send`` as a flag (True/False) or a mode."""
    if isinstance(send, SendMode):
        return send
    return SendMode.NOW if send else SendMode.DRAFT


def _deliver(msg, name: str, outbox: Path, send: SendMode, settings: dict, env=None) -> MailResult:
    from ..mail.message import pending_folder, sent_folder, write_eml
    from ..mail.send import MailSettings, flush

    outbox = Path(outbox)
    if send is SendMode.DRAFT:
        return MailResult(write_eml(msg, outbox, name))
    path = write_eml(msg, pending_folder(outbox), name)
    if send is SendMode.QUEUE:  # the scheduler records the job as done first, then flushes the queue
        return MailResult(path)
    sent, errors = flush(outbox, MailSettings.load(settings, env), env)
    mine = sent_folder(outbox) / path.name
    if mine in sent:
        return MailResult(mine, sent=True, also_sent=[p for p in sent if p != mine])
    from ..mail.send import FAILED

    rejected = outbox / FAILED / path.name
    where = rejected if rejected.exists() and not path.exists() else path
    return MailResult(where, sent=False, error=errors[-1] if errors else "not sent",
                      also_sent=[p for p in sent if p != mine])


def _recipients(mail, kind: str, send: SendMode) -> list[str]:
    people = mail.digest_recipients if kind == "digest" else mail.billing_manager
    if send is not SendMode.DRAFT:
        if not mail.configured:
            raise MednecError("no SMTP server: put 'SMTP Host' (and 'SMTP Port') in the Settings sheet "
                              "or set MEDNEC_SMTP_HOST; without --send the e-mail is saved to the outbox")
        if not people:
            key = "Digest Recipients" if kind == "digest" else "Billing Manager E-mail"
            raise MednecError(f"no recipients: put '{key}' in the Settings sheet")
    return people


# ---------------------------------------------------------------- jobs

def build_digest(book, month, outbox: Path | str | None = None, send: bool | SendMode = False, *,
                 as_of: dt.date | None = None, env=None) -> MailResult:
    """The month's "Did you know?" e-mail (``month`` like ``2026-03``).

    ``send``: False (``SendMode.DRAFT``) = draft .eml in the outbox; True (``SendMode.NOW``) = queue
    and send now; ``SendMode.QUEUE`` = only queue it in OUTBOX/pending (the scheduler sends after
    recording the job as done).
    """
    send = send_mode(send)
    import pandas as pd

    from ..digest import digest_facts
    from ..mail.render import digest_message
    from ..mail.send import MailSettings
    from ..tables import CLAIMS, DENIALS

    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", str(month))
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise MednecError(f"month '{month}' is not a month: use YYYY-MM, e.g. 2026-03")
    month = pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
    today = as_of or dt.date.today()
    if month.end_time.date() >= today:
        from ..errors import InputError

        raise InputError(f"{month} has not ended yet (today is {today.isoformat()}): the digest reports on a "
                         f"finished month, e.g. --month {(pd.Period(today, freq='M') - 1)}")
    settings = book_settings(book)
    mail = MailSettings.load(settings, env)
    recipients = _recipients(mail, "digest", send)
    denials = _table(book, DENIALS)
    claims = _table(book, CLAIMS, required=False)
    facts = digest_facts(denials, month, claims=claims, tips=_tips(book, settings), as_of=as_of, settings=settings)
    practice = setting(settings, "Practice Name")
    msg = digest_message(facts, practice=practice, sender=mail.sender, recipients=recipients)
    assert_no_phi(msg, patient_identifiers(denials, claims))
    result = _deliver(msg, f"digest-{month}", Path(outbox) if outbox else default_outbox(book), send, settings, env)
    top = facts.top_reason
    result.summary = (f"{month}: {facts.denials} denials"
                      + (f", top reason {top.key} ({top.count})" if top else "")
                      + f", {facts.appeals_due} appeals due in 14 days")
    return result


def deadline_reminder(book, as_of: dt.date | None = None, outbox: Path | str | None = None,
                      send: bool | SendMode = False,
                      *, env=None, only_if_due: bool = False) -> MailResult:
    """The billing manager's list of open denials whose appeal deadline is within 14 days.

    ``only_if_due`` (the scheduler's daily run): no e-mail on a day with nothing due, so the
    reminder is never noise; ``path`` is then None.
    """
    send = send_mode(send)
    from ..digest import appeals_due
    from ..mail.render import reminder_message
    from ..mail.send import MailSettings
    from ..tables import CLAIMS, DENIALS

    as_of = as_of or dt.date.today()
    settings = book_settings(book)
    mail = MailSettings.load(settings, env)
    recipients = _recipients(mail, "reminder", send)
    denials = _table(book, DENIALS)
    due = appeals_due(denials, as_of)
    if only_if_due and not len(due):
        return MailResult(None, summary=f"no appeals due by {as_of + dt.timedelta(days=14)}")
    msg = reminder_message(due, as_of, practice=setting(settings, "Practice Name"), sender=mail.sender,
                           recipients=recipients)
    assert_no_phi(msg, patient_identifiers(denials, _raw_table(book, CLAIMS)))
    result = _deliver(msg, f"appeal-reminder-{as_of.isoformat()}",
                      Path(outbox) if outbox else default_outbox(book), send, settings, env)
    result.summary = f"{len(due)} appeals due by {as_of + dt.timedelta(days=14)}"
    return result


def huddle_pack(book, quarter, out_dir: Path | str | None = None, *, as_of: dt.date | None = None) -> Path:
    """The quarterly policy-huddle pack (.docx); ``quarter`` like ``2026Q1``."""
    import pandas as pd

    from ..checklists import nobreak_phone
    from ..huddle import huddle_facts
    from ..tables import DENIALS, RULES
    from ..word.huddle_pack import render_huddle_pack

    m = re.fullmatch(r"\s*(\d{4})-?Q([1-4])\s*", str(quarter), flags=re.I)
    if not m:
        raise MednecError(f"quarter '{quarter}' is not a quarter: use e.g. 2026Q1")
    quarter = pd.Period(year=int(m.group(1)), quarter=int(m.group(2)), freq="Q")
    settings = book_settings(book)
    from .rules import open_suggestions
    facts = huddle_facts(_table(book, RULES, required=False), _table(book, DENIALS), quarter,
                         tips=_tips(book, settings), as_of=as_of,
                         suggestions=open_suggestions(book, as_of or (quarter + 1).start_time.date()))
    folder = Path(out_dir) if out_dir else default_output(book)
    phone, npi = setting(settings, "Practice Phone"), setting(settings, "Practice NPI")
    contact = " · ".join(x for x in (f"Phone {nobreak_phone(phone)}" if phone else "",
                                     f"NPI {npi}" if npi else "") if x)
    letterhead = [line for line in (setting(settings, "Practice Address"), contact) if line]
    return render_huddle_pack(facts, folder / f"policy-huddle-{quarter}.docx",
                              practice=setting(settings, "Practice Name"), letterhead=letterhead)


def flush_outbox(book, outbox: Path | str | None = None, *, env=None) -> tuple[list[Path], list[str]]:
    """Send whatever is waiting in OUTBOX/pending (the scheduler calls this on every tick)."""
    from ..mail.message import pending_messages
    from ..mail.send import MailSettings, flush

    outbox = Path(outbox) if outbox else default_outbox(book)
    if not pending_messages(outbox):
        return [], []
    return flush(outbox, MailSettings.load(book_settings(book), env), env)
