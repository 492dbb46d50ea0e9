"""Deliver queued ``.eml`` files over SMTP.

Where the settings come from: the environment (``MEDNEC_SMTP_HOST``, ``MEDNEC_SMTP_PORT``,
``MEDNEC_SMTP_USER``, ``MEDNEC_SMTP_FROM``, ``MEDNEC_DIGEST_RECIPIENTS``,
``MEDNEC_BILLING_MANAGER_EMAIL``) wins over the workbook's Settings sheet (keys ``SMTP Host``,
``SMTP Port``, ``SMTP User``, ``SMTP From``, ``Digest Recipients``, ``Billing Manager E-mail``).
The password comes ONLY from ``MEDNEC_SMTP_PASSWORD`` or the system keyring (service
``mednec``, user = SMTP User): a workbook is copied, shared and e-mailed, so it never holds one.

A message is sent with STARTTLS whenever the server offers it (port 465: TLS from the start).
The password is never sent over a connection without TLS: a server that offers no STARTTLS
gets no login unless Settings says ``SMTP Allow Unencrypted = Y`` (a relay on the practice's
own network).  A server certificate that is not trusted is reported as such, with the fix
(``SMTP CA File``: the practice's own certificate authority, as a .pem file), and the message
stays queued.
A message that could not be delivered stays in ``OUTBOX/pending`` and goes out on the next run;
a delivered one moves to ``OUTBOX/sent``; one the server rejects for good (unknown recipient)
moves to ``OUTBOX/failed``.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MednecError
from .message import pending_messages, read_eml, sent_folder

KEYRING_SERVICE = "mednec"
FAILED = "failed"

_KEYS = {  # attribute -> (Settings key, environment variable)
    "host": ("SMTP Host", "MEDNEC_SMTP_HOST"),
    "port": ("SMTP Port", "MEDNEC_SMTP_PORT"),
    "user": ("SMTP User", "MEDNEC_SMTP_USER"),
    "sender": ("SMTP From", "MEDNEC_SMTP_FROM"),
    "digest_recipients": ("Digest Recipients", "MEDNEC_DIGEST_RECIPIENTS"),
    "billing_manager": ("Billing Manager E-mail", "MEDNEC_BILLING_MANAGER_EMAIL"),
    "allow_unencrypted": ("SMTP Allow Unencrypted", "MEDNEC_SMTP_ALLOW_UNENCRYPTED"),
    "ca_file": ("SMTP CA File", "MEDNEC_SMTP_CA_FILE"),
}


class SendFailed(MednecError):
    """The message did not go out.  ``permanent``: the server rejected this message for good
    (5xx: unknown recipient, no recipients, message refused), so retrying cannot help; otherwise
    the server was unreachable or busy and the message stays queued."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def split_addresses(text: str) -> list[str]:
    return [a for a in re.split(r"[;,\s]+", text or "") if "@" in a]


@dataclass
class MailSettings:
    host: str = ""
    port: int = 587
    user: str = ""
    sender: str = ""
    digest_recipients: list[str] = field(default_factory=list)
    billing_manager: list[str] = field(default_factory=list)
    timeout: float = 30.0
    allow_unencrypted: bool = False  # log in without TLS: only when Settings says so
    ca_file: str = ""                # a .pem of the practice's own certificate authority

    @classmethod
    def load(cls, settings: dict[str, str] | None = None, env: Mapping[str, str] | None = None) -> MailSettings:
        """From the Settings sheet (a dict, keys matched ignoring case) and the environment."""
        from ..values import setting

        env = os.environ if env is None else env
        values = {}
        for attr, (key, var) in _KEYS.items():
            values[attr] = (env.get(var) or setting(settings, key)).strip()
        try:
            port = int(float(values["port"])) if values["port"] else 587
        except ValueError:
            raise MednecError(f"Settings: SMTP Port '{values['port']}' is not a number") from None
        return cls(host=values["host"], port=port, user=values["user"],
                   sender=values["sender"] or values["user"],
                   digest_recipients=split_addresses(values["digest_recipients"]),
                   billing_manager=split_addresses(values["billing_manager"]),
                   allow_unencrypted=values["allow_unencrypted"].casefold() in ("y", "yes", "true", "1"),
                   ca_file=values["ca_file"])

    @property
    def configured(self) -> bool:
        return bool(self.host)


def smtp_password(user: str, env: Mapping[str, str] | None = None) -> str | None:
    """``MEDNEC_SMTP_PASSWORD``, else the system keyring (if the ``keyring`` package is
    installed), else None (servers on the practice network often relay without login)."""
    env = os.environ if env is None else env
    if env.get("MEDNEC_SMTP_PASSWORD"):
        return env["MEDNEC_SMTP_PASSWORD"]
    if not user:
        return None
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, user)
    except Exception:  # no keyring backend on this machine
        return None


def send_file(path: Path, mail: MailSettings, password: str | None = None) -> None:
    """Send one .eml; ``SendFailed`` (one line, no message content) when it did not go out."""
    msg = read_eml(path)
    del msg["X-Unsent"]
    if not mail.configured:
        raise SendFailed("no SMTP Host in Settings or MEDNEC_SMTP_HOST")
    context = _tls_context(mail)
    try:
        server: smtplib.SMTP
        if mail.port == 465:
            server = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout, context=context)
        else:
            server = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
        with server:
            server.ehlo()
            encrypted = mail.port == 465
            if not encrypted and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
                encrypted = True
            if mail.user and password:
                if not encrypted and not mail.allow_unencrypted:
                    raise SendFailed(
                        f"{mail.host}:{mail.port} offers no encryption (STARTTLS), so the password was not sent "
                        f"and {path.name} stays queued; use port 465 or 587 with TLS, or, only for a relay on "
                        "the practice's own network, set SMTP Allow Unencrypted = Y in Settings")
                server.login(mail.user, password)
            server.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendFailed(f"{path.name}: every recipient was refused by {mail.host} "
                         f"({', '.join(str(c) for c in codes)})", permanent=all(c >= 500 for c in codes)) from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        raise SendFailed(f"{path.name}: refused by {mail.host} ({exc.smtp_code} "
                         f"{_reply_text(exc.smtp_error)[:80]})", permanent=exc.smtp_code >= 500) from None
    except ssl.SSLCertVerificationError as exc:  # (also a ValueError: caught before that one)
        raise SendFailed(
            f"could not send {path.name}: the certificate of {mail.host} is not trusted "
            f"({exc.verify_message or 'verification failed'}); if the server uses the practice's own certificate "
            "authority, set SMTP CA File in Settings to its .pem file. The message stays queued") from None
    except ValueError as exc:  # e.g. no To/From in a hand-made .eml
        raise SendFailed(f"{path.name}: cannot be sent ({exc})", permanent=True) from None
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        if isinstance(exc, smtplib.SMTPResponseException):
            reason = f"{exc.smtp_code} {_reply_text(exc.smtp_error)[:80]}"
        raise SendFailed(f"could not send {path.name} via {mail.host}:{mail.port} ({reason})") from None


def _reply_text(reply: bytes | str) -> str:
    """The server's reply as text (smtplib gives bytes, but the exceptions may also carry str)."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _tls_context(mail: MailSettings) -> ssl.SSLContext:
    """The system's trusted authorities, plus the practice's own (``SMTP CA File``) if named."""
    if not mail.ca_file:
        return ssl.create_default_context()
    ca = Path(mail.ca_file).expanduser()
    try:
        return ssl.create_default_context(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise SendFailed(f"SMTP CA File {ca.name}: cannot be read as a .pem certificate file ({reason}); "
                         "the message stays queued") from None


def flush(outbox: Path | str, mail: MailSettings, env: dict[str, str] | None = None) -> tuple[list[Path], list[str]]:
    """Send every message waiting in OUTBOX/pending, oldest name first.

    Returns (sent files, one-line errors).  A file moves to OUTBOX/sent right after the server
    accepted it; one that failed stays pending for the next run.  After the first connection
    failure the rest are left for next time too (the server is down: no point trying each).
    A message the server rejects for good moves to OUTBOX/failed (kept, not retried), so it
    cannot hold up the messages behind it.
    """
    sent, errors = [], []
    password = smtp_password(mail.user, env)
    for path in pending_messages(outbox):
        try:
            send_file(path, mail, password)
        except SendFailed as exc:
            errors.append(str(exc))
            if exc.permanent:
                target = Path(outbox) / FAILED / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                continue
            break
        target = sent_folder(outbox) / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        sent.append(target)
    return sent, errors
