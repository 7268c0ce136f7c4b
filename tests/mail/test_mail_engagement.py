"""Engagement per sender on real Dovecot: bulk senders the person reads, flags or writes to stay; newsletters the
person never opens leave; nothing in the mailbox changes but the moves (every flag of every message as it was)."""

from __future__ import annotations

from pathlib import Path

from butler.config import MailConfig
from butler.mail.engagement import Engagement, SenderEngagement, sent_folder
from butler.mail.imap import ImapSource
from butler.mail.sources import FolderInfo
from butler.mail.sweep import MailSweep
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.mailfactory import promotion


def _newsletter(sender: str, n: int) -> bytes:
    return (f"From: Weekly <{sender}>\r\nTo: person@home.example\r\nSubject: This week in science, issue {n}\r\n"
            f"Message-ID: <nl{n}.{sender}>\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\n"
            "List-Unsubscribe: <https://weekly.example/u>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nThree stories about comets, coral reefs and bees.\r\n"
            ).encode()


def _flags_by_id(dovecot: Dovecot) -> dict[str, tuple[str, frozenset[bytes]]]:
    """Message-ID → (folder, flags) over every folder, read with EXAMINE and BODY.PEEK."""
    client = dovecot.client()
    out: dict[str, tuple[str, frozenset[bytes]]] = {}
    try:
        for _, _, folder in client.list_folders():
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            if not uids:
                continue
            for data in client.fetch(uids, [b"FLAGS", b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values():
                header = next(v for k, v in data.items() if k.startswith(b"BODY["))
                key = header.decode().split(":", 1)[1].strip()
                out[key] = (str(folder), frozenset(data[b"FLAGS"]) - {b"\\Recent"})
    finally:
        client.logout()
    return out


def _mailbox(dovecot: Dovecot) -> None:
    """reads@: two of three promotions read; flags@: two flagged of three; writes@: the person wrote to it;
    never@: promotions never opened; weekly@: six newsletters never opened; kept@: two newsletters, one read."""
    dovecot.append(promotion("reads.example"), promotion("reads.example"), flags=[b"\\Seen"])
    dovecot.append(promotion("flags.example"), promotion("flags.example"), flags=[b"\\Flagged"])
    dovecot.append(promotion("reads.example"), promotion("flags.example"),
                   promotion("writes.example"), promotion("never.example"), promotion("never.example"),
                   *(_newsletter("news@weekly.example", n) for n in range(6)), _newsletter("hi@kept.example", 7))
    dovecot.append(_newsletter("hi@kept.example", 8), flags=[b"\\Seen"])
    client = dovecot.client()
    client.create_folder("Sent")
    client.logout()
    dovecot.append(b"From: person@home.example\r\nTo: News <news@writes.example>\r\nSubject: Re: your offer\r\n"
                   b"Message-ID: <sent1@home.example>\r\n\r\nPlease stop.\r\n", folder="Sent", flags=[b"\\Seen"])


def test_engagement_keeps_read_senders_moves_unopened_newsletters_and_changes_no_flag(
        dovecot: Dovecot, tmp_path: Path) -> None:
    _mailbox(dovecot)
    before = _flags_by_id(dovecot)
    settings = dovecot.settings()
    source = ImapSource(settings, IMAP_PASS)
    try:
        report = MailSweep(source, settings, home=tmp_path, engagement=MailConfig()).run()
    finally:
        source.close()
    after = _flags_by_id(dovecot)
    assert {key: flags for key, (_, flags) in after.items()} == {key: flags for key, (_, flags) in before.items()}
    where = {key: folder for key, (folder, _) in after.items()}
    by_sender: dict[str, set[str]] = {}
    for key, folder in where.items():
        domain = key.rstrip(">").rsplit("@", 1)[-1].removeprefix("news@").removeprefix("hi@")
        by_sender.setdefault(domain, set()).add(folder)
    assert by_sender["reads.example"] == {"INBOX"}
    assert by_sender["flags.example"] == {"INBOX"}
    assert by_sender["writes.example"] == {"INBOX"}
    assert by_sender["kept.example"] == {"INBOX"}
    assert by_sender["never.example"] == {"Promotions"}
    assert by_sender["weekly.example"] == {"Promotions"}
    assert report.engaged == {"kept": 7, "moved": 6}


def test_ignore_leaves_the_classifier_alone(dovecot: Dovecot, tmp_path: Path) -> None:
    _mailbox(dovecot)
    settings = dovecot.settings()
    source = ImapSource(settings, IMAP_PASS)
    try:
        report = MailSweep(source, settings, home=tmp_path, engagement=MailConfig(engagement="ignore")).run()
    finally:
        source.close()
    assert not report.engaged
    assert report.moved["Promotions"] == 9  # every promotion, read or not; no newsletter


def test_judge_needs_enough_reads_and_never_keeps_spam() -> None:
    e = Engagement(MailConfig(), {"a@x": SenderEngagement(messages=10, opened=2),
                                  "b@x": SenderEngagement(messages=10, opened=4),
                                  "c@x": SenderEngagement(messages=4), "d@x": SenderEngagement(messages=5)})
    assert e.judge("a@x", "promotion") is None  # 2 of 10 is below the 30% share
    assert e.judge("b@x", "promotion") == (True, "you read or flagged 4 of 10 messages from b@x")
    assert e.judge("b@x", "spam") is None
    assert e.judge("c@x", "newsletter") is None  # too few messages to say "never opens"
    assert e.judge("d@x", "newsletter") == (False, "you opened none of the 5 messages from d@x")
    assert e.judge("d@x", "personal") is None


def test_sent_folder_by_special_use_else_by_name() -> None:
    assert sent_folder([FolderInfo("INBOX"), FolderInfo("Gesendet"), FolderInfo("Out", frozenset({"\\sent"}))]) \
        == "Out"
    assert sent_folder([FolderInfo("INBOX"), FolderInfo("INBOX.Sent Items")], ".") == "INBOX.Sent Items"
    assert sent_folder([FolderInfo("INBOX"), FolderInfo("Archive")]) is None
