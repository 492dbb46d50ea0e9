"""E-mail delivery against a real SMTP server on localhost (aiosmtpd), and the no-PHI promise."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
import socket
import ssl
import subprocess

import pytest
from click.testing import CliRunner

try:
    from test_digest import PATIENTS, make_workbook
except ImportError:  # tests/ imported as a package
    from tests.test_digest import PATIENTS, make_workbook

aiosmtpd = pytest.importorskip("aiosmtpd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler that keeps every envelope it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def smtp_env(monkeypatch):
    for var in ("MEDNEC_SMTP_HOST", "MEDNEC_SMTP_PORT", "MEDNEC_SMTP_USER", "MEDNEC_SMTP_PASSWORD",
                "MEDNEC_SMTP_FROM", "MEDNEC_DIGEST_RECIPIENTS", "MEDNEC_BILLING_MANAGER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def _digest(workbook, outbox, *extra):
    from toolkit.cli import cli

    return CliRunner().invoke(cli, ["digest", "--workbook", str(workbook), "--month", "2026-03",
                                    "--outbox", str(outbox), *extra])


def test_send_delivers_the_digest_to_a_real_smtp_server(tmp_path, smtp_server, smtp_env):
    wb = make_workbook(tmp_path / "wb.xlsx", settings={"SMTP Host": "127.0.0.1", "SMTP Port": str(smtp_server.port)})
    out = _digest(wb, tmp_path / "outbox", "--send")
    assert out.exit_code == 0, out.output
    assert "Sent" in out.output
    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == ["team@lakeside.test", "lead@lakeside.test"]
    assert envelope.mail_from == "mednec@lakeside.test"
    (msg,) = smtp_server.messages()
    assert msg["Subject"] == "Lakeside Spine: Did you know? Denials in March 2026"
    assert "X-Unsent" not in msg
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    assert not list((tmp_path / "outbox" / "pending").iterdir())
    assert [p.name for p in (tmp_path / "outbox" / "sent").iterdir()] == ["digest-2026-03.eml"]


def test_settings_from_environment_override_the_workbook(tmp_path, smtp_server, smtp_env):
    wb = make_workbook(tmp_path / "wb.xlsx", settings={"SMTP Host": "mail.invalid", "SMTP Port": "1"})
    smtp_env.setenv("MEDNEC_SMTP_HOST", "127.0.0.1")
    smtp_env.setenv("MEDNEC_SMTP_PORT", str(smtp_server.port))
    smtp_env.setenv("MEDNEC_DIGEST_RECIPIENTS", "other@lakeside.test")
    assert _digest(wb, tmp_path / "ob", "--send").exit_code == 0
    assert smtp_server.envelopes[0].rcpt_tos == ["other@lakeside.test"]


def test_refused_connection_leaves_the_message_queued_for_the_next_run(tmp_path, smtp_env):
    from aiosmtpd.controller import Controller

    port = free_port()  # nothing listens there yet
    wb = make_workbook(tmp_path / "wb.xlsx", settings={"SMTP Host": "127.0.0.1", "SMTP Port": str(port)})
    out = _digest(wb, tmp_path / "outbox", "--send")
    assert out.exit_code == 1
    queued = tmp_path / "outbox" / "pending" / "digest-2026-03.eml"
    assert queued.exists()
    assert "queued" in out.output

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from toolkit.jobs.digest import flush_outbox
        from toolkit.workbook.files import WorkbookFile

        sent, errors = flush_outbox(WorkbookFile(wb, writable=False), tmp_path / "outbox")
        assert errors == [] and [p.name for p in sent] == ["digest-2026-03.eml"]
        # A second run sends nothing more: the queue is empty, the copy is in sent/.
        assert flush_outbox(WorkbookFile(wb, writable=False), tmp_path / "outbox") == ([], [])
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1
    assert not queued.exists() and (tmp_path / "outbox" / "sent" / "digest-2026-03.eml").exists()


def test_next_send_run_delivers_what_was_queued_once(tmp_path, smtp_env):
    from aiosmtpd.controller import Controller

    port = free_port()
    wb = make_workbook(tmp_path / "wb.xlsx", settings={"SMTP Host": "127.0.0.1", "SMTP Port": str(port)})
    assert _digest(wb, tmp_path / "outbox", "--send").exit_code == 1
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        out = _digest(wb, tmp_path / "outbox", "--send")  # same month again: replaces the queued copy
    finally:
        controller.stop()
    assert out.exit_code == 0, out.output
    assert len(inbox.envelopes) == 1


def test_send_without_smtp_host_says_what_to_set_and_writes_nothing(tmp_path, smtp_env):
    wb = make_workbook(tmp_path / "wb.xlsx")
    out = _digest(wb, tmp_path / "outbox", "--send")
    assert out.exit_code == 1 and "SMTP Host" in out.output
    assert not (tmp_path / "outbox").exists()


@pytest.fixture
def tls_files(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def test_starttls_is_used_when_offered_and_the_password_comes_from_the_environment(tmp_path, tls_files, smtp_env):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = tls_files
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password, session.ssl is not None))
        return AuthResult(success=auth_data.password == b"s3cret")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="localhost", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    try:
        smtp_env.setenv("SSL_CERT_FILE", str(cert))  # trust the test certificate
        smtp_env.setenv("MEDNEC_SMTP_PASSWORD", "s3cret")
        wb = make_workbook(tmp_path / "wb.xlsx", settings={
            "SMTP Host": "localhost", "SMTP Port": str(controller.port), "SMTP User": "billing",
            "SMTP Password": "not-this-one"})  # a password in the workbook is never read
        out = _digest(wb, tmp_path / "outbox", "--send")
    finally:
        controller.stop()
    assert out.exit_code == 0, (out.output, out.exception)
    assert logins == [(logins[0][0], b"billing", b"s3cret", True)]
    assert len(inbox.envelopes) == 1


def test_password_is_only_taken_from_environment_or_keyring():
    from toolkit.mail.send import MailSettings, smtp_password

    mail = MailSettings.load({"SMTP Host": "h", "SMTP User": "u", "SMTP Password": "in-the-workbook"}, env={})
    assert not hasattr(mail, "password")
    assert smtp_password("u", env={"MEDNEC_SMTP_PASSWORD": "env-pw"}) == "env-pw"
    assert smtp_password("u", env={}) != "in-the-workbook"


# ---------------------------------------------------------------- no PHI, ever

def _all_text(raw: bytes) -> str:
    """Every byte of the message, with each part also decoded (base64/quoted-printable)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [raw.decode("latin-1")]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
        payload = part.get_payload(decode=True)
        if payload:
            parts.append(payload.decode("latin-1"))
    return "\n".join(parts)


def test_no_patient_name_or_id_appears_in_any_email(tmp_path, smtp_server, smtp_env):
    """Digests for every month of the log and reminders for every day around the deadlines,
    sent through a real SMTP server: none carries a patient name, ID or date of birth."""
    from toolkit.jobs.digest import build_digest, deadline_reminder
    from toolkit.workbook.files import WorkbookFile

    wb = make_workbook(tmp_path / "wb.xlsx", settings={"SMTP Host": "127.0.0.1", "SMTP Port": str(smtp_server.port)})
    book = WorkbookFile(wb, writable=False)
    for month in ("2025-11", "2026-02", "2026-03"):
        assert build_digest(book, month, tmp_path / "ob", send=True, env={}).sent
    for day in range(0, 20, 3):
        assert deadline_reminder(book, dt.date(2026, 3, 28) + dt.timedelta(days=day), tmp_path / "ob",
                                 send=True, env={}).sent
    assert len(smtp_server.envelopes) == 3 + 7
    forbidden = [p for p, _, _ in PATIENTS] + [n for _, n, _ in PATIENTS] + [n.split()[-1] for _, n, _ in PATIENTS]
    forbidden += [d.isoformat() for _, _, d in PATIENTS] + [f"{d:%m/%d/%Y}" for _, _, d in PATIENTS]
    forbidden += [f"C{1000 + i}" for i in range(10)]  # claim numbers stay out too
    for envelope in smtp_server.envelopes:
        text = _all_text(envelope.content)
        for value in forbidden:
            assert value.casefold() not in text.casefold(), value


def test_reminder_lists_due_appeals_by_denial_id_with_codes_only(tmp_path, smtp_env):
    from toolkit.jobs.digest import deadline_reminder
    from toolkit.mail.message import read_eml
    from toolkit.workbook.files import WorkbookFile

    wb = make_workbook(tmp_path / "wb.xlsx")
    result = deadline_reminder(WorkbookFile(wb, writable=False), dt.date(2026, 4, 1), tmp_path / "ob")
    msg = read_eml(result.path)
    assert result.path.name == "appeal-reminder-2026-04-01.eml"
    assert msg["To"] == "manager@lakeside.test"
    assert msg["Subject"] == "Lakeside Spine: 2 appeals due by Wed Apr 15"
    text = msg.get_body(("plain",)).get_content()
    assert "D-000004  2026-04-10  9  Medicare  64483  50  Ana" in text
    assert "D-000005  2026-04-15  14  Acme Health  64483  197  unassigned" in text
    assert "D-000006" not in text  # appealed already


def test_an_email_that_would_carry_a_patient_name_is_refused(tmp_path, smtp_env):
    from toolkit.errors import MednecError
    from toolkit.jobs.digest import build_digest
    from toolkit.workbook.files import WorkbookFile

    wb = make_workbook(tmp_path / "wb.xlsx", settings={"Practice Name": "Robert Quill"})
    with pytest.raises(MednecError, match="patient name or ID"):
        build_digest(WorkbookFile(wb, writable=False), "2026-03", tmp_path / "ob")
    assert not (tmp_path / "ob").exists()


class PickyInbox(Inbox):
    """Refuses recipients whose address starts with 'nobody' (550), like a real server."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_message_rejected_for_good_is_set_aside_and_does_not_block_the_queue(tmp_path, smtp_env):
    from aiosmtpd.controller import Controller

    from toolkit.jobs.digest import deadline_reminder
    from toolkit.workbook.files import WorkbookFile

    inbox = PickyInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        wb = make_workbook(tmp_path / "wb.xlsx", settings={
            "SMTP Host": "127.0.0.1", "SMTP Port": str(controller.port), "Digest Recipients": "nobody@lakeside.test"})
        book = WorkbookFile(wb, writable=False)
        out = _digest(wb, tmp_path / "outbox", "--send")
        reminder = deadline_reminder(book, dt.date(2026, 4, 1), tmp_path / "outbox", send=True, env={})
    finally:
        controller.stop()
    assert out.exit_code == 1 and "550" in out.output and "failed" in out.output
    assert (tmp_path / "outbox" / "failed" / "digest-2026-03.eml").exists()
    assert reminder.sent and [e.rcpt_tos for e in inbox.envelopes] == [["manager@lakeside.test"]]
    assert not list((tmp_path / "outbox" / "pending").glob("*.eml"))
