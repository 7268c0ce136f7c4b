r"""Sweeps on four real servers: Dovecot, Dovecot with an `INBOX.` namespace and a \\Junk folder, Cyrus IMAP in its
standard mode and Courier-IMAP (no MOVE). The invariants hold on each: no message lost or duplicated over all
folders, no flag changed, a second sweep changes nothing, undo puts everything back."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from butler.mail import ImapSource, MailSweep, SweepReport, UndoFilter
from butler.mail.errors import MailboxBusy, MailFolderGone
from butler.mail.state import MailboxLock, account_dir
from butler.mail.undo import restore
from tests.mail.conftest import IMAP_PASS, ImapServer
from tests.mail.mailfactory import list_mail, personal, promotion, receipt, spam

Snapshot = Counter[tuple[str, str, frozenset[bytes]]]


def snapshot(server: ImapServer) -> Snapshot:
    """(folder, digest of the message, flags) for every message in every folder, counted."""
    client = server.client()
    out: Snapshot = Counter()
    try:
        for _, _, name in client.list_folders():
            client.select_folder(name, readonly=True)
            uids = client.search()
            for item in (client.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}).values():
                body = next(v for k, v in item.items() if k.startswith(b"BODY["))
                flags = frozenset(item[b"FLAGS"]) - {b"\\Recent"}
                out[(str(name), hashlib.sha256(body).hexdigest()[:16], flags)] += 1
    finally:
        client.logout()
    return out


def everywhere(snap: Snapshot) -> Counter[tuple[str, frozenset[bytes]]]:
    """The same messages with the same flags, whatever their folder."""
    out: Counter[tuple[str, frozenset[bytes]]] = Counter()
    for (_, digest, flags), n in snap.items():
        out[(digest, flags)] += n
    return out


def folder_names(server: ImapServer) -> set[str]:
    client = server.client()
    try:
        return {str(name) for _, _, name in client.list_folders()}
    finally:
        client.logout()


def in_folder(snap: Snapshot, folder: str) -> int:
    return sum(n for (name, _, _), n in snap.items() if name == folder)


def sweep(server: ImapServer, **changes: object) -> SweepReport:
    source = ImapSource(server.settings(**changes), IMAP_PASS)
    try:
        return MailSweep(source, server.settings(**changes)).run()
    finally:
        source.close()


def undo(server: ImapServer, which: UndoFilter | None = None) -> object:
    source = ImapSource(server.settings(), IMAP_PASS)
    try:
        return restore(source, which or UndoFilter(last_sweep=True))
    finally:
        source.close()


def fill(server: ImapServer) -> None:
    server.append(*(promotion(f"brand{i % 3}.example") for i in range(4)))
    server.append(promotion("brand0.example"), promotion("brand1.example"), flags=[b"\\Seen"])
    server.append(receipt("brand0.example"), personal())
    server.append(list_mail(), flags=[b"\\Flagged"])


def test_sweep_moves_only_promotions_keeps_every_flag_and_undo_restores_all(imap: ImapServer) -> None:
    fill(imap)
    before = snapshot(imap)
    report = sweep(imap)
    after = snapshot(imap)
    promotions = imap.folder("Promotions")
    assert everywhere(after) == everywhere(before)  # nothing lost, nothing duplicated, no flag changed
    assert in_folder(after, promotions) == 6 and report.moved[promotions] == 6
    assert in_folder(after, "INBOX") == 3
    again = sweep(imap)
    assert again.examined == 0 and not again.moved and snapshot(imap) == after
    result = undo(imap)
    assert result.restored == 6 and result.missing == []  # type: ignore[attr-defined]
    assert everywhere(snapshot(imap)) == everywhere(before)
    assert in_folder(snapshot(imap), "INBOX") == 9
    assert not sweep(imap).moved  # restored mail is never moved again


def test_folder_names_from_the_settings_follow_the_namespace(imap: ImapServer) -> None:
    imap.append(promotion("a.example"), spam(1))
    report = sweep(imap, promotions_folder="Werbung", spam_folder="Unerwuenscht")
    after = snapshot(imap)
    assert in_folder(after, imap.folder("Werbung")) == 1 and in_folder(after, imap.folder("Unerwuenscht")) == 1
    assert report.moved == {imap.folder("Werbung"): 1, imap.folder("Unerwuenscht"): 1}


def test_spam_goes_to_the_junk_folder_where_the_server_has_one(imap: ImapServer) -> None:
    junk = imap.junk
    if imap.kind == "cyrus":  # a folder marked \Junk at creation (RFC 6154 CREATE-SPECIAL-USE)
        client = imap.client()
        client._imap._simple_command("CREATE", imap.folder("Junk"), "(USE (\\Junk))")
        client.logout()
        junk = imap.folder("Junk")
    imap.append(spam(1), spam(2), promotion("a.example"))
    sweep(imap)
    after = snapshot(imap)
    if junk is None:  # Dovecot as shipped and Courier: no \Junk, so spam goes with the promotions
        assert in_folder(after, imap.folder("Promotions")) == 3
    else:
        assert in_folder(after, junk) == 2 and in_folder(after, imap.folder("Promotions")) == 1


def test_an_existing_folder_in_another_case_is_used(imap: ImapServer) -> None:
    client = imap.client()
    client.create_folder(imap.folder("promotions"))
    client.logout()
    imap.append(promotion("a.example"))
    report = sweep(imap)
    after = snapshot(imap)
    assert in_folder(after, imap.folder("promotions")) == 1
    folders = folder_names(imap)
    assert imap.folder("Promotions") not in folders
    assert any("existing folder" in note for note in report.notes)


def test_a_renamed_folder_is_followed_and_a_removed_one_is_reported_not_recreated(imap: ImapServer) -> None:
    imap.append(promotion("a.example"))
    sweep(imap)
    client = imap.client()
    client.rename_folder(imap.folder("Promotions"), imap.folder("Marketing"))
    client.logout()
    imap.append(promotion("b.example"))
    report = sweep(imap)
    assert in_folder(snapshot(imap), imap.folder("Marketing")) == 2
    assert any("renamed to" in note for note in report.notes)
    assert undo(imap, UndoFilter(since="2000-01-01")).restored == 2  # type: ignore[attr-defined]
    sweep(imap)  # restored mail stays
    assert in_folder(snapshot(imap), "INBOX") == 2
    client = imap.client()
    client.select_folder("INBOX")  # not the folder about to go
    client.delete_folder(imap.folder("Marketing"))
    client.logout()
    imap.append(promotion("c.example"))
    with pytest.raises(MailFolderGone, match="is gone"):
        sweep(imap)
    folders = folder_names(imap)
    assert imap.folder("Promotions") not in folders and imap.folder("Marketing") not in folders
    assert in_folder(snapshot(imap), "INBOX") == 3


def test_a_duplicate_delivery_is_not_taken_for_a_correction(imap: ImapServer) -> None:
    raw = promotion("dup.example")
    imap.append(raw)
    sweep(imap)
    imap.append(raw)  # the same message delivered again
    report = sweep(imap)
    assert report.learned == [] and report.duplicates == 1
    assert in_folder(snapshot(imap), imap.folder("Promotions")) == 2
    client = imap.client()  # the person moves one copy back
    client.select_folder(imap.folder("Promotions"))
    first = sorted(client.search())[0]
    client.copy([first], "INBOX")
    client.delete_messages([first])
    client.uid_expunge([first])
    client.logout()
    report = sweep(imap)
    assert len(report.learned) == 1 and "dup.example" in report.learned[0]
    after = snapshot(imap)
    assert in_folder(after, "INBOX") == 1 and in_folder(after, imap.folder("Promotions")) == 1


def test_undo_finds_messages_without_shared_and_folded_message_ids(imap: ImapServer, butler_env: Path) -> None:
    imap.append(promotion("a.example", message_id=""), promotion("b.example", message_id=""),
                promotion("c.example", message_id="<shared@x.example>", subject="Sale: 20% off"),
                promotion("d.example", message_id="<shared@x.example>", subject="Sale: 40% off"),
                promotion("e.example", message_id="\n <folded.id@x.example>"))
    before = snapshot(imap)
    sweep(imap)
    assert in_folder(snapshot(imap), imap.folder("Promotions")) == 5
    journal = account_dir(imap.settings().imap_account) / "journal.jsonl"
    # as if the server had given no COPYUID (or renumbered the folder): undo must find them by identity
    lines = journal.read_text().splitlines()
    journal.write_text("".join(line.replace('"new_uid":"', '"new_uid_was":"') + "\n" for line in lines))
    result = undo(imap)
    assert result.restored == 5 and result.missing == []  # type: ignore[attr-defined]
    assert everywhere(snapshot(imap)) == everywhere(before) and in_folder(snapshot(imap), "INBOX") == 5


def test_undo_names_what_it_could_not_find(imap: ImapServer) -> None:
    imap.append(promotion("a.example", subject="Kept one"), promotion("b.example", subject="Deleted one"))
    sweep(imap)
    client = imap.client()  # the person deletes one of the moved messages
    client.select_folder(imap.folder("Promotions"))
    for uid, data in client.fetch(client.search(), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]).items():
        if b"Deleted one" in next(v for k, v in data.items() if k.startswith(b"BODY[")):
            client.delete_messages([uid])
            client.uid_expunge([uid])
    client.logout()
    result = undo(imap)
    assert result.restored == 1  # type: ignore[attr-defined]
    assert [m["subject"] for m in result.missing] == ["Deleted one"]  # type: ignore[attr-defined]
    assert "could not restore 1" in result.summary()  # type: ignore[attr-defined]


def test_read_counts_come_from_the_flags_of_moved_messages(imap: ImapServer) -> None:
    imap.append(*(promotion("read.example") for _ in range(3)), flags=[b"\\Seen"])
    imap.append(*(promotion("read.example") for _ in range(3)))
    imap.append(*(promotion("unread.example") for _ in range(6)))
    source = ImapSource(imap.settings(), IMAP_PASS)
    try:
        s = MailSweep(source, imap.settings())
        report = s.run()
    finally:
        source.close()
    assert s.state.senders["news@read.example"]["read"] == 3
    assert s.state.senders["news@unread.example"]["read"] == 0
    assert report.unsubscribe_candidates == ["news@unread.example"]
    assert "you read 0 of the 6 message(s)" in report.summary()
    client = imap.client()  # read later, in Promotions
    client.select_folder(imap.folder("Promotions"))
    client.add_flags(client.search(), [b"\\Seen"])
    client.logout()
    imap.append(promotion("unread.example"))
    assert sweep(imap).unsubscribe_candidates == []


def test_a_second_sweep_of_the_same_mailbox_is_refused_clearly(imap: ImapServer) -> None:
    imap.append(promotion("a.example"))
    with MailboxLock(account_dir(imap.settings().imap_account)), pytest.raises(MailboxBusy, match="another sweep"):
        sweep(imap)
    assert in_folder(snapshot(imap), "INBOX") == 1
    assert sweep(imap).moved


def test_flags_known_from_the_last_run_are_asked_again_only_where_condstore_shows_a_change(imap: ImapServer) -> None:
    imap.append(*(promotion("cs.example") for _ in range(5)))
    sweep(imap)
    client = imap.client()  # the person reads one in Promotions
    client.select_folder(imap.folder("Promotions"))
    client.add_flags(client.search()[:1], [b"\\Seen"])
    client.logout()
    source = ImapSource(imap.settings(), IMAP_PASS)
    asked: list[object] = []
    real_fetch = source.client.fetch

    def fetch(messages: object, data: object, modifiers: object = None) -> object:
        asked.append(modifiers)
        return real_fetch(messages, data, modifiers=modifiers)

    source.client.fetch = fetch
    try:
        s = MailSweep(source, imap.settings())
        s.run()
    finally:
        source.close()
    assert s.state.senders["news@cs.example"]["read"] == 1
    if source.condstore:
        assert any(m and "CHANGEDSINCE" in str(m) for m in asked)
