"""Requests end to end against a real SMTP server (aiosmtpd) and a real Dovecot on 127.0.0.1: sent once after
approval with the exact rendered text, a reply with an attachment linked and kept, the deadline passed on a
frozen clock, an admonition and a complaint proposed, a letter for a company without e-mail."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from butler.approvals import State, raw_item
from butler.errors import UsageError
from butler.mail.account import save_password, save_settings, save_smtp_password
from butler.mail.imap import ImapSource
from butler.mail.settings import MailSettings
from butler.rights import attachments, requests
from butler.rights.database import Database
from butler.rights.discover import discover_source
from butler.rights.draft import draft_request
from butler.rights.followup import deadline, remind
from butler.vault import Vault
from butler.wiring import desk
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.test_mail_unsubscribe_mailto import SMTP_PASSWORD, Inbox

EXPORT = b'{"customer": "Ada Lovelace", "orders": 12}'


def _mail_setup(vault: Vault, dovecot: Dovecot, port: int | None) -> MailSettings:
    settings = MailSettings(host="127.0.0.1", port=dovecot.port, username=dovecot.user, tls=False,
                            **({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                                "smtp_username": "me@example.org", "smtp_from": "me@example.org"} if port else {}))
    save_settings(vault, settings)
    save_password(vault, IMAP_PASS)
    save_smtp_password(vault, SMTP_PASSWORD)
    return settings


def _body(message: object) -> str:
    payload = message.get_payload(decode=True)  # type: ignore[attr-defined]
    text = bytes(payload).decode(message.get_content_charset() or "utf-8")  # type: ignore[attr-defined]
    return text.replace("\r\n", "\n")  # SMTP's line ends


def _reply(to_id: str | None, *, sender: str, subject: str, text: str, attachment: bytes | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "me@example.org"
    message["Subject"] = subject
    message["Date"] = "Tue, 07 Jul 2026 09:00:00 +0000"
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if to_id:
        message["In-Reply-To"] = to_id
        message["References"] = to_id
    message.set_content(text)
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="json", filename="export.json")
    return bytes(message)


def test_a_request_is_sent_once_after_approval_and_its_reply_is_linked_with_the_export(
        vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = _mail_setup(vault, dovecot, port)
    drafted = draft_request(vault, db, "skillshare.com", "access", fields=("name", "email"))
    assert inbox.received == []  # nothing leaves before the person approves
    the_desk = desk()
    said = the_desk.decide(vault, drafted.approval_id, approve=True)
    assert "mailed to skillshare@gdpr-rep.com" in said
    with pytest.raises(UsageError):
        the_desk.decide(vault, drafted.approval_id, approve=True)  # approving again sends nothing
    assert len(inbox.received) == 1
    _, rcpt, message = inbox.received[0]
    state = requests.request(vault, drafted.reference)
    assert state is not None and state.text == drafted.item.body
    assert rcpt == ["skillshare@gdpr-rep.com"] and message["Subject"] == state.subject
    assert _body(message) == state.text  # the exact rendered text, and only the chosen fields
    assert "Name: Ada Lovelace\nE-mail: ada@home.example\n" in state.text and "Address" not in state.text
    assert drafted.reference in message["Subject"]

    dovecot.append(_reply(str(message["Message-ID"]), sender="privacy@skillshare.com",
                          subject="Re: your request", text="Please find your data attached.", attachment=EXPORT),
                   _reply(None, sender="friend@elsewhere.example", subject="Lunch?", text="Hi Ada"))
    source = ImapSource(settings, IMAP_PASS)
    try:
        found = discover_source(vault, db, source, folders=["INBOX"])
        assert found.replies == 1
        assert source.client.search(["SEEN"]) == []  # read-only: nothing marked read
        again = discover_source(vault, db, source, folders=["INBOX"])
        assert again.replies == 0  # linked once, never twice
    finally:
        source.close()
    state = requests.request(vault, drafted.reference)
    assert state is not None and state.answered and state.replies[0]["linked_by"] == "thread headers"
    kept = attachments.of(vault, drafted.reference)
    assert [k["filename"] for k in kept] == ["export.json"]
    assert attachments.load(vault, kept[0]["id"]) == EXPORT
    assert remind(vault, db, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=400)) == []  # answered: no reminder
    assert requests.verify(vault, drafted.reference).ok
    assert len(inbox.received) == 1


class Clock:
    """The clock rights events are stamped with, frozen and moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> None:
        self.at = at
        monkeypatch.setattr(requests, "now", lambda: self.at)


def test_past_the_deadline_an_admonition_then_a_complaint_is_proposed_and_each_sent_once(
        vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = smtp
    _mail_setup(vault, dovecot, port)
    clock = Clock(monkeypatch, dt.datetime(2026, 1, 31, 9, 0, tzinfo=dt.UTC))
    drafted = draft_request(vault, db, "autohaus24", "erasure")
    the_desk = desk()
    the_desk.decide(vault, drafted.approval_id, approve=True)
    state = requests.request(vault, drafted.reference)
    assert state is not None and state.sent_at is not None and state.language == "de"
    due = deadline(state)
    assert due == dt.datetime(2026, 2, 28, 9, 0, tzinfo=dt.UTC)  # one calendar month, clamped to February's end
    clock.at = due - dt.timedelta(hours=1)
    assert remind(vault, db) == []  # the day the period ends: nothing
    clock.at = frozen = due + dt.timedelta(days=1)
    queued = remind(vault, db)
    assert queued == [f"data-request:{drafted.reference}-admonition"]
    assert remind(vault, db) == []  # asked again: not queued twice
    item = raw_item(vault, queued[0])
    assert item is not None and item["state"] == State.PENDING and "Mahnung" in item["subject"]
    assert state.sent_at.date().isoformat() in item["body"] and "Art. 17 DSGVO" in item["body"]
    the_desk.decide(vault, queued[0], approve=True)
    assert len(inbox.received) == 2
    clock.at = later = frozen + dt.timedelta(days=15)
    complaint = remind(vault, db)
    assert complaint == [f"data-request:{drafted.reference}-complaint"]
    item = raw_item(vault, complaint[0])
    assert item is not None and item["to"] == db.authority_for("de").email  # type: ignore[union-attr]
    assert "Art. 77 DSGVO" in item["body"] and "autohaus24" in item["body"].lower()
    the_desk.decide(vault, complaint[0], approve=True)
    assert [rcpt for _, rcpt, _ in inbox.received] == [["datenschutz@autohaus24.de"]] * 2 + [[item["to"]]]
    clock.at = later + dt.timedelta(days=60)
    assert remind(vault, db) == []  # the complaint is the last step
    timeline = requests.request(vault, drafted.reference).timeline  # type: ignore[union-attr]
    print(f"\ntimeline of {drafted.reference} (deadline {due.date()}, clock frozen at {frozen.date()} and "
          f"{later.date()}):")
    for at, event, summary in timeline:
        print(f"  {at.date()}  {event:<8} {summary}")
    assert [e for _, e, _ in timeline] == ["drafted", "sent", "drafted", "sent", "drafted", "sent"]
    assert requests.verify(vault, drafted.reference).ok


def test_an_extension_moves_the_deadline_by_two_months_and_a_reference_in_the_subject_links_a_reply(
        vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = _mail_setup(vault, dovecot, port)
    drafted = draft_request(vault, db, "cdiscount", "access")
    desk().decide(vault, drafted.approval_id, approve=True)
    dovecot.append(_reply(None, sender="dpo@cdiscount.com", subject=f"Votre demande {drafted.reference}",
                          text="We need to extend the period by two further months (Art. 12(3))."))
    source = ImapSource(settings, IMAP_PASS)
    try:
        assert discover_source(vault, db, source, folders=["INBOX"]).replies == 1
    finally:
        source.close()
    state = requests.request(vault, drafted.reference)
    assert state is not None and state.extended and not state.answered
    assert state.replies[0]["linked_by"] == "reference in the subject"
    due = deadline(state)
    assert due is not None and state.sent_at is not None and (due - state.sent_at).days >= 89
    assert remind(vault, db, now=state.sent_at + dt.timedelta(days=40)) == []  # within the extended period
    assert len(inbox.received) == 1


def test_templates_render_in_english_german_and_french_from_the_real_database(vault: Vault, db: Database) -> None:
    english = draft_request(vault, db, "skillshare", "access").item
    german = draft_request(vault, db, "autohaus24", "objection").item
    french = draft_request(vault, db, "cdiscount", "erasure").item
    assert (english.language, german.language, french.language) == ("en", "de", "fr")
    assert english.body.startswith("To Whom It May Concern:") and "Article 15 GDPR" in english.body
    assert "Art. 21 Abs. 2 DSGVO" in german.body and german.subject.startswith("Widerspruch")
    assert "Article 17 du RGPD" in french.body and "Nom: Ada Lovelace" in french.body
    for item in (english, german, french):
        assert "{" not in item.body and "[" not in item.body.replace(f"[{item.reference}]", "")
        assert item.body.endswith("Ada Lovelace\n")


def test_a_company_without_e_mail_gets_a_letter_in_text_and_pdf(vault: Vault, db: Database) -> None:
    drafted = draft_request(vault, db, "4wmarketplace", "access", fields=("name",))
    assert drafted.item.to == ""
    said = desk().decide(vault, drafted.approval_id, approve=True)
    assert "written as a letter" in said
    folder = vault.home / "rights" / "letters"
    text = (folder / f"{drafted.reference}-request.txt").read_text()
    pdf = (folder / f"{drafted.reference}-request.pdf").read_bytes()
    assert drafted.item.body in text and "Via B. Quaranta, 40" in text
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert (folder / f"{drafted.reference}-request.pdf").stat().st_mode & 0o777 == 0o600
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref:xref + 4] == b"xref"  # the cross-reference table is where the trailer says
    state = requests.request(vault, drafted.reference)
    assert state is not None and state.how == "letter" and state.sent_at is not None


def test_a_company_that_answers_letters_only_gets_a_letter_even_with_smtp_set_up(
        vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _mail_setup(vault, dovecot, port)
    company = db.companies["kba-bund"]
    assert company.medium == "letter" and company.email  # an address, but the database says: by letter
    drafted = draft_request(vault, db, "kba-bund", "access")
    assert drafted.item.to == ""
    said = desk().decide(vault, drafted.approval_id, approve=True)
    assert "written as a letter (it goes by post)" in said and inbox.received == []
    asks = draft_request(vault, db, "skillshare", "access").item.reasons[-1]
    assert asks == "Skillshare, Inc. asks for: Name, E-Mail"
