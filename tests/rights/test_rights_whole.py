"""A data export larger than what butler reads of a message (256 KB) is kept whole, read-only, on real Dovecot:
through `butler rights discover` and through the mail sweep alike. Before, it was named as left in the mailbox."""

from __future__ import annotations

import random
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from butler.mail import ImapSource, MailSweep
from butler.rights import attachments, requests
from butler.rights.database import Database
from butler.rights.discover import MailReader, discover_source
from butler.rights.draft import draft_request
from butler.vault import Vault
from butler.wiring import desk
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.test_mail_unsubscribe_mailto import Inbox
from tests.rights.test_rights_requests import _mail_setup

EXPORT = random.Random(7).randbytes(700_000)  # a zip of the person's data, as a company sends it
SUMMARY = b'{"customer": "Ada Lovelace", "orders": 12}'


def _answer(vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int]) -> tuple[str, bytes]:
    """A sent access request and the company's reply with a large export: (reference, the reply's bytes)."""
    _mail_setup(vault, dovecot, smtp[1])
    drafted = draft_request(vault, db, "skillshare.com", "access", fields=("name", "email"))
    desk().decide(vault, drafted.approval_id, approve=True)
    _, _, sent = smtp[0].received[0]
    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "privacy@skillshare.com", "me@example.org", "Re: your request"
    reply["Message-ID"] = make_msgid(domain="skillshare.com")
    reply["In-Reply-To"] = reply["References"] = str(sent["Message-ID"])
    reply.set_content("Please find your data attached.")
    reply.add_attachment(SUMMARY, maintype="application", subtype="json", filename="summary.json")
    reply.add_attachment(EXPORT, maintype="application", subtype="zip", filename="export.zip")
    raw = bytes(reply)
    dovecot.append(raw)
    return drafted.reference, raw


def _kept(vault: Vault, reference: str) -> dict[str, bytes | None]:
    return {k["filename"]: attachments.load(vault, k["id"]) for k in attachments.of(vault, reference)}


def test_discovery_keeps_an_export_larger_than_it_reads(vault: Vault, db: Database, dovecot: Dovecot,
                                                        smtp: tuple[Inbox, int]) -> None:
    reference, raw = _answer(vault, db, dovecot, smtp)
    assert len(raw) > 900_000
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        found = discover_source(vault, db, source, folders=["INBOX"])
        again = discover_source(vault, db, source, folders=["INBOX"])
        seen = source.client.search(["SEEN"])
    finally:
        source.close()
    state = requests.request(vault, reference)
    assert state is not None and found.replies == 1 and found.kept_whole == 1 and again.kept_whole == 0
    assert _kept(vault, reference) == {"summary.json": SUMMARY, "export.zip": EXPORT}
    assert state.replies[0]["left_in_mailbox"] == [] and len(state.replies[0]["attachments"]) == 2
    assert [event for _, event, _ in state.timeline][-2:] == ["reply", "attachments"]
    assert requests.verify(vault, reference).ok and seen == []


def test_the_sweep_keeps_it_too(vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int],
                               tmp_path: Path) -> None:
    reference, _ = _answer(vault, db, dovecot, smtp)
    settings = dovecot.settings()
    source = ImapSource(settings, IMAP_PASS)
    try:
        reader = MailReader(vault, db)
        report = MailSweep(source, settings, home=tmp_path, readers=[reader]).run()
    finally:
        source.close()
    assert report.examined == 1 and not report.moved and reader.found.kept_whole == 1
    assert _kept(vault, reference) == {"summary.json": SUMMARY, "export.zip": EXPORT}


def test_a_reply_is_read_whole_once_even_when_its_export_stays_too_large(
        vault: Vault, db: Database, dovecot: Dovecot, smtp: tuple[Inbox, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    reference, _ = _answer(vault, db, dovecot, smtp)
    monkeypatch.setattr(attachments, "MAX_BYTES", 500_000)  # the 700 KB export is over the limit now
    reads: list[str] = []
    real = ImapSource.fetch_whole

    def counted(self: ImapSource, folder: str, uid: str, limit: int) -> bytes | None:
        reads.append(uid)
        return real(self, folder, uid, limit)

    monkeypatch.setattr(ImapSource, "fetch_whole", counted)
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        discover_source(vault, db, source, folders=["INBOX"])
        discover_source(vault, db, source, folders=["INBOX"])
        assert source.find_message("INBOX", "<r\u00e9ponse-42@skillshare.com>") == []  # not ASCII: not searched
    finally:
        source.close()
    state = requests.request(vault, reference)
    assert state is not None and len(reads) == 1  # the second run does not download it again
    assert state.replies[0]["left_in_mailbox"] == ["export.zip"] and state.replies[0]["read_whole"]
    assert _kept(vault, reference) == {"summary.json": SUMMARY}
