"""Sweeps against a real Dovecot: invariants, undo, learning from another client, crash safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from butler.mail import ImapSource, MailSweep, UndoFilter, undo_moves
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.mailfactory import list_mail, personal, promotion, receipt


def _snapshot(dovecot: Dovecot) -> dict[str, tuple[bytes, frozenset[bytes]]]:
    """Message-ID → (folder, flags) over every folder."""
    client = dovecot.client()
    out: dict[str, tuple[bytes, frozenset[bytes]]] = {}
    try:
        for _, _, name in client.list_folders():
            client.select_folder(name, readonly=True)
            uids = client.search()
            data = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            for item in data.values():
                header = next(v for k, v in item.items() if k.startswith(b"BODY["))
                mid = header.decode().split(":", 1)[1].strip()
                assert mid not in out, f"duplicated {mid}"
                out[mid] = (name.encode(), frozenset(item[b"FLAGS"]) - {b"\\Recent"})
    finally:
        client.logout()
    return out


def _count(dovecot: Dovecot) -> int:
    client = dovecot.client()
    try:
        return sum(client.folder_status(name, [b"MESSAGES"])[b"MESSAGES"] for _, _, name in client.list_folders())
    finally:
        client.logout()


def _fill(dovecot: Dovecot, n_promos: int = 6) -> None:
    client = dovecot.client()
    try:
        for i in range(n_promos):
            client.append("INBOX", promotion(f"brand{i % 3}.example"), flags=[b"\\Seen"] if i % 2 else [])
        client.append("INBOX", receipt("brand0.example"))
        client.append("INBOX", personal())
        client.append("INBOX", list_mail(), flags=[b"\\Flagged"])
    finally:
        client.logout()


def _sweep(dovecot: Dovecot, **kwargs: object) -> object:
    source = ImapSource(dovecot.settings(), IMAP_PASS, **kwargs)  # type: ignore[arg-type]
    try:
        return MailSweep(source, dovecot.settings()).run()
    finally:
        source.close()


@pytest.mark.parametrize("fallback", [False, True], ids=["move", "copy-expunge"])
def test_sweep_moves_promotions_only_and_keeps_flags(dovecot: Dovecot, fallback: bool) -> None:
    _fill(dovecot)
    before = _snapshot(dovecot)
    report = _sweep(dovecot, force_copy_fallback=fallback)
    after = _snapshot(dovecot)
    assert set(after) == set(before)  # nothing lost, nothing duplicated
    assert all(after[m][1] == before[m][1] for m in before)  # no flag changed, \Seen included
    moved = {m for m in after if after[m][0] == b"Promotions"}
    assert len(moved) == 6
    assert report.moved["Promotions"] == 6  # type: ignore[attr-defined]
    second = _sweep(dovecot, force_copy_fallback=fallback)
    assert second.examined == 0 and not second.moved  # type: ignore[attr-defined]
    assert _snapshot(dovecot) == after


def test_undo_restores_every_message(dovecot: Dovecot) -> None:
    _fill(dovecot)
    before = _snapshot(dovecot)
    _sweep(dovecot)
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        assert undo_moves(source, UndoFilter(last_sweep=True)) == 6
    finally:
        source.close()
    assert _snapshot(dovecot) == before
    again = _sweep(dovecot)
    assert not again.moved  # type: ignore[attr-defined]  # restored mail is never moved again


def test_message_moved_back_by_another_client_is_learned(dovecot: Dovecot) -> None:
    dovecot.append(promotion("keepme.example"))
    _sweep(dovecot)
    other = dovecot.client()  # the person's own mail client
    other.select_folder("Promotions")
    other.move(other.search(), "INBOX")
    other.append("INBOX", promotion("keepme.example", subject="New: 20% off boots"))
    other.append("INBOX", promotion("other.example"))
    other.logout()
    report = _sweep(dovecot)
    assert any("news@keepme.example" in line for line in report.learned)  # type: ignore[attr-defined]
    where = {mid: folder for mid, (folder, _) in _snapshot(dovecot).items()}
    assert sorted(where.values()).count(b"INBOX") == 2
    assert sorted(where.values()).count(b"Promotions") == 1


def test_hostile_mail_through_a_real_sweep(dovecot: Dovecot, butler_env: Path) -> None:
    from butler.mail.unsubscribe import propose
    from tests.helpers.vaultkit import make_vault
    from tests.mail.test_mail_classify import HOSTILE

    unsafe = ("https://10.1.2.3/u", "http://shop.example/u", "https://127.0.0.1/u")
    dovecot.append(*(raw or b"X-Empty: 1\r\n\r\n" for raw in HOSTILE.values()),
                   *(promotion("shop.example", one_click=uri) for uri in unsafe for _ in range(6)))
    before = _count(dovecot)
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        sweep = MailSweep(source, dovecot.settings(unsubscribe_after_unread=1))
        report = sweep.run()
    finally:
        source.close()
    assert _count(dovecot) == before
    assert report.moved["Promotions"] >= 18
    vault = make_vault(butler_env)
    try:
        for sender in report.unsubscribe_candidates:
            info = sweep.state.senders[sender]
            headers = {"list-unsubscribe": info["list_unsubscribe"],
                       "list-unsubscribe-post": "List-Unsubscribe=One-Click"}
            assert propose(vault, sender, headers) is None  # private, loopback or not https: never queued
        assert list(vault.records("approvals")) == []
    finally:
        vault.close()


async def test_sweep_runs_in_a_worker_thread_from_async_code(dovecot: Dovecot) -> None:
    from butler.mail.sweep import sweep_in_thread

    _fill(dovecot, n_promos=2)
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        report = await sweep_in_thread(MailSweep(source, dovecot.settings()))
    finally:
        source.close()
    assert report.moved["Promotions"] == 2
