"""E-mail messages as files: HTML with a plain-text alternative, images inline by Content-ID.

An ``.eml`` file in an outbox folder opens in Outlook (or any mail program) as a ready message,
so the practice needs no SMTP set-up to get its digest; ``toolkit.mail.send`` delivers the
queued ones when SMTP is configured.

Outbox layout::

    OUTBOX/            drafts: open them in Outlook and send by hand
    OUTBOX/pending/    messages waiting for SMTP (a refused connection leaves them here)
    OUTBOX/sent/       delivered
    OUTBOX/failed/     rejected for good by the server (e.g. unknown recipient): kept, not retried
"""

from __future__ import annotations

import email.policy
import email.utils
import re
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

PENDING, SENT = "pending", "sent"


def build_message(*, subject: str, text: str, html: str, sender: str = "", recipients: Sequence[str] = (),
                  images: dict[str, bytes] | None = None, message_id: str | None = None) -> EmailMessage:
    """multipart/alternative (text, then multipart/related HTML + PNGs).

    ``html`` refers to each image as ``cid:NAME`` where NAME is its key in ``images``.
    """
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = subject
    if sender:
        msg["From"] = sender
    if recipients:
        msg["To"] = ", ".join(recipients)
    msg["Date"] = email.utils.formatdate(localtime=True)
    # Made once and kept in the .eml: a queued file resent after a crash carries the same ID, so
    # mail programs recognise the repeat; a digest rebuilt on purpose gets a new one.
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="mednec.local")
    msg["X-Unsent"] = "1"  # Outlook opens an .eml with this header as a draft ready to send
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    parts = msg.get_payload()  # multipart/alternative now: [text part, HTML part]
    assert isinstance(parts, list)
    html_part = parts[1]
    assert isinstance(html_part, EmailMessage)
    for cid, data in (images or {}).items():
        html_part.add_related(data, maintype="image", subtype="png", cid=f"<{cid}>",
                              filename=f"{cid}.png", disposition="inline")
    return msg


def safe_name(name: str) -> str:
    """A file name without characters Windows refuses."""
    return re.sub(r'[<>:"/\\|?*\s]+', "-", name).strip("-.") or "message"


def write_eml(msg: EmailMessage, folder: Path | str, name: str) -> Path:
    """Write ``msg`` as ``folder/name.eml`` atomically; the same name overwrites (no duplicates)."""
    from ..workbook.files import atomic_write

    path = Path(folder) / f"{safe_name(name)}.eml"
    data = msg.as_bytes(policy=email.policy.SMTP)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def read_eml(path: Path | str) -> EmailMessage:
    import email

    with open(path, "rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)


def pending_folder(outbox: Path | str) -> Path:
    return Path(outbox) / PENDING


def sent_folder(outbox: Path | str) -> Path:
    return Path(outbox) / SENT


def pending_messages(outbox: Path | str) -> list[Path]:
    folder = pending_folder(outbox)
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []
