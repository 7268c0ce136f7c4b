"""Bad input: replies that answer nothing or are ambiguous, records with missing fields, an SMTP server that is
down, a send interrupted by a crash. Each is handled plainly, and nothing is ever sent twice."""

from __future__ import annotations

import os
from email.message import EmailMessage

import pytest

from butler import profile
from butler.approvals import NeedsAttention, State, move, raw_item
from butler.errors import ButlerError, UsageError
from butler.mail.account import save_password, save_settings, save_smtp_password
from butler.mail.message import BODY_PREFIX
from butler.mail.settings import MailSettings
from butler.models import Profile
from butler.rights import attachments, requests
from butler.rights.database import Database
from butler.rights.discover import MailReader
from butler.rights.draft import draft_request
from butler.rights.errors import RightsError
from butler.vault import Vault
from butler.wiring import desk
from tests.mail.test_mail_unsubscribe_mailto import Inbox


def _mail(sender: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "ada@home.example", subject
    message["Message-ID"] = f"<{abs(hash((sender, subject)))}@x.example>"
    message.set_content("We have received your request and will answer soon.")
    return bytes(message)


def _sent_by_letter(vault: Vault, db: Database, company: str) -> str:
    drafted = draft_request(vault, db, company, "access")  # no SMTP set up: written as a letter
    desk().decide(vault, drafted.approval_id, approve=True)
    return drafted.reference


def test_a_reply_without_references_links_by_sender_domain_only_when_that_is_unambiguous(
        vault: Vault, db: Database) -> None:
    first = _sent_by_letter(vault, db, "autohaus24")
    reader = MailReader(vault, db)
    reader.read([_mail("someone@elsewhere.example", "Your request"), _mail("info@autohaus24.de", "Ihre Anfrage")])
    assert reader.found.replies == 1  # the other sender's mail answers nothing
    state = requests.request(vault, first)
    assert state is not None and state.replies[0]["linked_by"] == "sender domain"

    second = _sent_by_letter(vault, db, "autohaus24")
    third = _sent_by_letter(vault, db, "autohaus24")
    reader.read([_mail("info@autohaus24.de", "Noch eine Antwort")])  # two open requests: which one? neither
    assert reader.found.replies == 1
    assert all(not requests.request(vault, r).replies for r in (second, third))  # type: ignore[union-attr]
    reader.read([_mail("info@autohaus24.de", "Noch eine Antwort")])
    assert reader.found.replies == 1  # and read twice, still linked to nothing


def test_a_company_record_with_missing_fields_still_gets_its_request(vault: Vault, db: Database) -> None:
    document = {"companies": [{"slug": "bare", "name": "Bare Ltd"}],
                "authorities": [{"slug": "x", "name": "X"}], "templates": db.templates}
    bare = Database(document)
    drafted = draft_request(vault, bare, "bare", "erasure")
    assert drafted.item.to == "" and drafted.item.recipient == "Bare Ltd"
    assert "Article 17 GDPR" in drafted.item.body
    said = desk().decide(vault, drafted.approval_id, approve=True)
    assert "written as a letter (it goes by post)" in said


def test_a_profile_without_the_chosen_fields_is_said_plainly(vault: Vault, db: Database) -> None:
    profile.save(vault, Profile(name="Ada Lovelace"))
    drafted = draft_request(vault, db, "skillshare", "access", fields=("name", "email", "address"))
    assert "E-mail" not in drafted.item.body
    assert "left out (not in your profile): email, address" in drafted.item.reasons
    with pytest.raises(RightsError, match="no identifying data"):
        draft_request(vault, db, "skillshare", "access", fields=("email",))


def test_a_request_record_with_missing_fields_is_a_clear_error(vault: Vault) -> None:
    vault.put(requests.COLLECTION, "DR-AAAAAAAA#000000", {"seq": 0, "status": "drafted"})
    with pytest.raises(RightsError, match="DR-AAAAAAAA#000000 is unreadable"):
        requests.request(vault, "DR-AAAAAAAA")


def test_an_smtp_server_that_is_down_fails_the_item_once_and_nothing_is_sent_later(
        vault: Vault, db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    save_settings(vault, MailSettings(host="127.0.0.1", tls=False, username="me@example.org", smtp_host="127.0.0.1",
                                      smtp_port=1, smtp_security="none", smtp_from="me@example.org"))
    save_password(vault, "imap-secret")
    drafted = draft_request(vault, db, "skillshare", "access")
    with pytest.raises(ButlerError, match="could not send"):
        desk().decide(vault, drafted.approval_id, approve=True)
    assert raw_item(vault, drafted.approval_id)["state"] == State.FAILED  # type: ignore[index]
    save_settings(vault, MailSettings(host="127.0.0.1", tls=False, username="me@example.org", smtp_host="127.0.0.1",
                                      smtp_port=port, smtp_security="none", smtp_from="me@example.org"))
    save_smtp_password(vault, "smtp-secret")
    with pytest.raises(UsageError):
        desk().decide(vault, drafted.approval_id, approve=True)
    assert inbox.received == []
    state = requests.request(vault, drafted.reference)
    assert state is not None and state.sent_at is None


def test_a_send_interrupted_by_a_crash_needs_attention_and_is_never_sent_again(
        vault: Vault, db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    save_settings(vault, MailSettings(host="127.0.0.1", tls=False, username="me@example.org", smtp_host="127.0.0.1",
                                      smtp_port=port, smtp_security="none", smtp_from="me@example.org"))
    drafted = draft_request(vault, db, "skillshare", "access")
    move(vault, drafted.approval_id, State.APPROVED, by="person")
    move(vault, drafted.approval_id, State.EXECUTING, by="butler", owner=_dead_pid())
    with pytest.raises(NeedsAttention, match="never sends twice"):
        desk().decide(vault, drafted.approval_id, approve=True)
    with pytest.raises(NeedsAttention):
        desk().decide(vault, drafted.approval_id, approve=True)
    assert inbox.received == []


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_an_export_larger_than_butler_reads_is_left_in_the_mailbox_not_kept_cut_off(
        vault: Vault, db: Database) -> None:
    reference = _sent_by_letter(vault, db, "autohaus24")
    message = EmailMessage()
    message["From"], message["Subject"] = "datenschutz@autohaus24.de", f"Auskunft {reference}"
    message["Message-ID"] = "<big@autohaus24.de>"
    message.set_content("Anbei Ihre Daten.")
    message.add_attachment(b"a" * 1000, maintype="text", subtype="csv", filename="small.csv")
    message.add_attachment(os.urandom(400_000), maintype="application", subtype="zip", filename="export.zip")
    reader = MailReader(vault, db)
    reader.read([bytes(message)[:BODY_PREFIX]])  # what a sweep or discovery fetches of it
    assert reader.found.replies == 1
    (reply,) = requests.request(vault, reference).replies  # type: ignore[union-attr]
    assert reply["left_in_mailbox"] == ["export.zip"] and len(reply["attachments"]) == 1
    assert [a["filename"] for a in attachments.of(vault, reference)] == ["small.csv"]
    assert "1 left in your mailbox" in reply["summary"]
