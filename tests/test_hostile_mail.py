"""Mail in a hostile world (issue 17 §3): no password in clear, untrusted certificates explained
and kept queued.  Real SMTP servers (aiosmtpd) on 127.0.0.1, a self-signed certificate made here."""

from __future__ import annotations

import ssl

import pytest

try:
    from test_digest import make_workbook
    from test_mail import Inbox, _digest, free_port, smtp_env, tls_files  # noqa: F401 (fixtures)
except ImportError:  # tests/ imported as a package
    from tests.test_digest import make_workbook
    from tests.test_mail import Inbox, _digest, free_port, smtp_env, tls_files  # noqa: F401

pytest.importorskip("aiosmtpd")


def _plain_server_with_login(logins):
    """A server that offers AUTH but no STARTTLS (what a misconfigured relay does)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    return inbox, controller


def test_a_server_without_tls_never_receives_the_password_and_the_mail_stays_queued(tmp_path, smtp_env):
    logins: list = []
    inbox, controller = _plain_server_with_login(logins)
    controller.start()
    try:
        smtp_env.setenv("MEDNEC_SMTP_PASSWORD", "s3cret")
        wb = make_workbook(tmp_path / "wb.xlsx", settings={
            "SMTP Host": "127.0.0.1", "SMTP Port": str(controller.port), "SMTP User": "billing"})
        out = _digest(wb, tmp_path / "outbox", "--send")
    finally:
        controller.stop()
    assert out.exit_code != 0
    assert logins == [] and inbox.envelopes == []
    assert "offers no encryption" in out.output and "SMTP Allow Unencrypted = Y" in out.output
    assert len(list((tmp_path / "outbox" / "pending").glob("*.eml"))) == 1


def test_allow_unencrypted_in_settings_lets_a_local_relay_log_in(tmp_path, smtp_env):
    logins: list = []
    inbox, controller = _plain_server_with_login(logins)
    controller.start()
    try:
        smtp_env.setenv("MEDNEC_SMTP_PASSWORD", "s3cret")
        wb = make_workbook(tmp_path / "wb.xlsx", settings={
            "SMTP Host": "127.0.0.1", "SMTP Port": str(controller.port), "SMTP User": "billing",
            "SMTP Allow Unencrypted": "Y"})
        out = _digest(wb, tmp_path / "outbox", "--send")
    finally:
        controller.stop()
    assert out.exit_code == 0, out.output
    assert logins == [(b"billing", b"s3cret")] and len(inbox.envelopes) == 1


def _tls_server(cert, key):
    from aiosmtpd.controller import Controller

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    return inbox, Controller(inbox, hostname="localhost", port=free_port(), tls_context=context,
                             require_starttls=True)


def test_an_untrusted_certificate_is_named_with_its_fix_and_the_mail_is_kept_for_the_next_run(
        tmp_path, tls_files, smtp_env):
    cert, key = tls_files
    inbox, controller = _tls_server(cert, key)
    controller.start()
    try:
        settings = {"SMTP Host": "localhost", "SMTP Port": str(controller.port)}
        wb = make_workbook(tmp_path / "wb.xlsx", settings=settings)
        out = _digest(wb, tmp_path / "outbox", "--send")
        assert out.exit_code != 0
        assert "certificate of localhost is not trusted" in out.output and "SMTP CA File" in out.output
        assert "Digest Recipients" not in out.output  # not blamed on the addresses
        assert not (tmp_path / "outbox" / "failed").exists()
        assert len(list((tmp_path / "outbox" / "pending").glob("*.eml"))) == 1
        # The fix the message names: trust the practice's own certificate authority.
        wb = make_workbook(tmp_path / "wb.xlsx", settings={**settings, "SMTP CA File": str(cert)})
        out = _digest(wb, tmp_path / "outbox", "--send")
    finally:
        controller.stop()
    assert out.exit_code == 0, out.output
    assert len(inbox.envelopes) == 1  # the queued digest (the re-run for the same month replaced it)
    assert not list((tmp_path / "outbox" / "pending").glob("*.eml"))
