"""`mailto:` unsubscribes against a real SMTP server on 127.0.0.1 (aiosmtpd): sent only when SMTP is set up,
only after approval, exactly once, to the one address the sender named, and nobody else."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from butler.errors import ButlerError
from butler.mail import UnsubscribeRefused
from butler.mail.account import save_password, save_settings, save_smtp_password, smtp_sender
from butler.mail.settings import MailSettings
from butler.mail.unsubscribe import mailto_request, propose, send_approved
from butler.vault import Vault
from butler.wiring import desk
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.mailfactory import promotion

SENDER = "news@shop.example"
SMTP_PASSWORD = "smtp-secret"
MAILTO_ONLY = {"list-unsubscribe": "<mailto:leave-4711@lists.shop.example?subject=unsubscribe%204711&body=bye>"}


@dataclass
class Inbox:
    """What the SMTP server accepted: (MAIL FROM, RCPT TO list, parsed message), and the logins it saw."""

    received: list[tuple[str, list[str], Message]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        ok = login == ("me@example.org", SMTP_PASSWORD)
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _set_up_smtp(vault: Vault, port: int, password: str = SMTP_PASSWORD) -> None:
    save_settings(vault, MailSettings(host="127.0.0.1", tls=False, username="me@example.org", smtp_host="127.0.0.1",
                                      smtp_port=port, smtp_security="none", smtp_from="me@example.org"))
    save_password(vault, "imap-secret")
    save_smtp_password(vault, password)


def test_a_mailto_uri_gives_one_address_its_subject_and_body_and_nothing_else() -> None:
    request = mailto_request(MAILTO_ONLY)
    assert (request.to, request.subject, request.body) == ("leave-4711@lists.shop.example", "unsubscribe 4711", "bye")
    sneaky = mailto_request({"list-unsubscribe": "<mailto:u@shop.example?to=a@evil.example&cc=b@evil.example"
                                                 "&bcc=c@evil.example&subject=hi%0D%0ABcc:%20d@evil.example>"})
    assert sneaky.to == "u@shop.example" and sneaky.subject == "hi Bcc: d@evil.example"  # no line break survives
    assert mailto_request({"list-unsubscribe": "<mailto:u@shop.example>"}).subject == "unsubscribe"
    for refused in ("<mailto:a@x.example,b@y.example>", "<mailto:%0D%0Aevil@x.example>", "<mailto:Shop>",
                    "<https://shop.example/u>", ""):
        with pytest.raises(UnsubscribeRefused):
            mailto_request({"list-unsubscribe": refused})


def test_without_smtp_no_mailto_request_is_queued(vault: Vault) -> None:
    assert propose(vault, SENDER, MAILTO_ONLY) is None
    assert not list(vault.records("approvals"))


def test_mailto_is_sent_once_and_only_after_approval(vault: Vault, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _set_up_smtp(vault, port)
    item = propose(vault, SENDER, MAILTO_ONLY, by_mail=True)
    assert item is not None and item["method"] == "mailto" and item["state"] == "pending"
    assert send_approved(vault, smtp=smtp_sender(vault)) == [] and inbox.received == []  # not approved yet

    said = desk().decide(vault, item["id"], approve=True)
    assert said == f"unsubscribed from {SENDER}: asked by mail to leave-4711@lists.shop.example"
    assert len(inbox.received) == 1 and inbox.logins == [("me@example.org", SMTP_PASSWORD)]
    mail_from, rcpt_to, message = inbox.received[0]
    assert mail_from == "me@example.org" and rcpt_to == ["leave-4711@lists.shop.example"]
    assert message["To"] == "leave-4711@lists.shop.example" and message["Subject"] == "unsubscribe 4711"
    assert message["Auto-Submitted"] == "auto-generated" and message.get_payload().strip() == "bye"

    with pytest.raises(ButlerError, match="already"):
        desk().decide(vault, item["id"], approve=True)
    assert send_approved(vault, smtp=smtp_sender(vault)) == [] and len(inbox.received) == 1  # once, never twice
    stored = vault.get("approvals", item["id"])
    assert stored is not None and stored.data["state"] == "done"
    assert [e.action for e in vault.audit.entries()].count("mail.unsubscribe.sent") == 1


def test_one_click_comes_before_mailto(vault: Vault, smtp: tuple[Inbox, int]) -> None:
    _set_up_smtp(vault, smtp[1])
    headers = {"list-unsubscribe": "<mailto:u@shop.example>, <http://127.0.0.1:9/u>",
               "list-unsubscribe-post": "List-Unsubscribe=One-Click"}
    item = propose(vault, SENDER, headers, by_mail=True, allow_loopback=True)
    assert item is not None and item["method"] == "one-click" and item["url"] == "http://127.0.0.1:9/u"


def test_a_refused_login_is_tried_once_and_says_so_without_the_password(vault: Vault,
                                                                         smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _set_up_smtp(vault, port, password="wrong-password-123")
    item = propose(vault, SENDER, MAILTO_ONLY, by_mail=True)
    assert item is not None
    said = desk().decide(vault, item["id"], approve=True)
    assert "tried once, but it failed" in said and "refused the login" in said and "wrong-password-123" not in said
    assert inbox.received == [] and inbox.logins == [("me@example.org", "wrong-password-123")]
    assert send_approved(vault, smtp=smtp_sender(vault)) == [] and len(inbox.logins) == 1  # not retried
    assert "wrong-password-123" not in repr([e.details for e in vault.audit.entries()])


def test_an_approved_mailto_waits_until_smtp_is_set_up(vault: Vault, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    item = propose(vault, SENDER, MAILTO_ONLY, by_mail=True)  # queued while SMTP was set up, say; now it is not
    assert item is not None
    said = desk().decide(vault, item["id"], approve=True)
    assert "once an SMTP server is set up" in said and inbox.received == []
    stored = vault.get("approvals", item["id"])
    assert stored is not None and stored.data["state"] == "approved"
    _set_up_smtp(vault, port)
    assert [r["status"] for r in send_approved(vault, smtp=smtp_sender(vault))] == [
        "mailed leave-4711@lists.shop.example"]
    assert len(inbox.received) == 1


def test_plain_smtp_is_refused_except_to_this_machine() -> None:
    with pytest.raises(ValueError, match=r"plain SMTP to smtp\.example\.org"):
        MailSettings(username="me@example.org", smtp_host="smtp.example.org", smtp_security="none")
    with pytest.raises(ValueError, match="From address"):
        MailSettings(username="me", smtp_host="smtp.example.org")
    assert MailSettings(username="me@example.org", smtp_host="smtp.example.org").smtp_port_number == 465


def test_a_real_sweep_proposes_mailto_only_senders_only_when_smtp_is_set_up(
        vault: Vault, smtp: tuple[Inbox, int], dovecot: Dovecot) -> None:
    """Dovecot holds unread promotions from a sender that offers only `mailto:`; the sweep moves them, and the
    unsubscribe is proposed, approved and mailed once when SMTP is set up, and not proposed at all without it."""
    from butler.mail.imap import ImapSource
    from butler.mail.sweep import MailSweep
    from butler.mail.unattended import propose_unsubscribes

    inbox, port = smtp
    mailto_only = promotion("mailonly.example").replace(
        b"List-Unsubscribe: <https://mailonly.example/u/abc123>, <mailto:unsub@mailonly.example>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        b"List-Unsubscribe: <mailto:unsub@mailonly.example?subject=remove>\r\n")
    assert b"One-Click" not in mailto_only
    smtp_settings: dict[str, object] = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                                        "smtp_username": "me@example.org", "smtp_from": "me@example.org"}
    queued: dict[bool, list[dict[str, Any]]] = {}
    for smtp_set_up in (False, True):  # two mailboxes with the same unread promotions: without, then with SMTP
        dovecot.new_user()
        dovecot.append(*[mailto_only] * 3)
        settings = dovecot.settings(unsubscribe_after_unread=1, **(smtp_settings if smtp_set_up else {}))
        source = ImapSource(settings, IMAP_PASS)
        try:
            sweep = MailSweep(source, settings, home=vault.home / f"mail-{smtp_set_up}")
            report = sweep.run()
        finally:
            source.close()
        assert report.moved.get("Promotions") == 3 and sweep.state.senders["news@mailonly.example"]["mailto"]
        assert report.unsubscribe_candidates == (["news@mailonly.example"] if smtp_set_up else [])
        queued[smtp_set_up] = propose_unsubscribes(vault, sweep, report.unsubscribe_candidates)
    assert queued[False] == [] and inbox.received == []
    assert [(i["method"], i["to"], i["subject"], i["state"]) for i in queued[True]] == [
        ("mailto", "unsub@mailonly.example", "remove", "pending")]
    save_settings(vault, dovecot.settings(**smtp_settings))
    save_smtp_password(vault, SMTP_PASSWORD)
    assert "asked by mail to unsub@mailonly.example" in desk().decide(vault, queued[True][0]["id"], approve=True)
    assert [rcpt for _, rcpt, _ in inbox.received] == [["unsub@mailonly.example"]]


def test_the_objection_letter_says_when_and_how_butler_unsubscribed(vault: Vault, smtp: tuple[Inbox, int],
                                                                    tmp_path: Path) -> None:
    import datetime as dt

    from tests.helpers.vaultkit import passphrase_file, run_main

    _set_up_smtp(vault, smtp[1])
    vault.put("profile", "me", {"name": "Ana Example"})
    item = propose(vault, SENDER, MAILTO_ONLY, by_mail=True)
    assert item is not None
    desk().decide(vault, item["id"], approve=True)
    vault.close()
    env = {"BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pp"))}
    out = run_main("mail", "unsubscribe", "letter", SENDER, env=env)
    assert out.returncode == 0, out.stderr
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert f"on {today} by writing to the unsubscribe address your messages name" in out.stdout
    assert "Article 21(2)" in out.stdout and out.stdout.rstrip().endswith("Ana Example")
    unknown = run_main("mail", "unsubscribe", "letter", "other@shop.example", env=env)
    assert unknown.returncode == 0 and "on [date] using the unsubscribe mechanism you provide" in unknown.stdout
