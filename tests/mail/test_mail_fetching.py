"""Fetching what classification reads: the fast FETCH parser on the shapes servers answer in, its fallback, and
batches on real Dovecot: the same messages as one by one, no flag changed."""

from __future__ import annotations

import pytest

from butler.mail.fetching import parse_fetch, uid_text
from butler.mail.imap import ImapSource
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.mailfactory import personal, promotion


def test_items_before_and_after_the_literal_and_flag_updates() -> None:
    data = [
        (b"1 (UID 7 RFC822.SIZE 12 FLAGS (\\Seen) BODY[]<0> {5}", b"hello"), b")",
        (b"2 (UID 9 BODY[]<0> {3}", b"abc"), b" RFC822.SIZE 40 FLAGS (\\Deleted \\Flagged))",  # items after it
        b"3 (UID 11 FLAGS (\\Seen))",  # another session changed a flag: not an answer
        b"4 (UID 12 RFC822.SIZE 0 FLAGS () BODY[]<0> \"\")",  # an empty body, without a literal
    ]
    found = parse_fetch(data)
    assert found is not None and sorted(found) == ["12", "7", "9"]
    assert (found["7"].raw, found["7"].seen, found["7"].size, found["7"].deleted) == (b"hello", True, 12, False)
    assert (found["9"].raw, found["9"].seen, found["9"].size, found["9"].deleted) == (b"abc", False, 40, True)
    assert found["12"].raw == b""


@pytest.mark.parametrize("data", [
    [(b"1 (RFC822.SIZE 12 FLAGS () BODY[]<0> {5}", b"hello"), b")"],  # no UID
    [(b"1 (UID 7 BODY[]<0> {5}", b"hello"), b")"],  # no size or flags
    [None],
])
def test_another_shape_is_left_to_imapclient(data: list[object]) -> None:
    assert parse_fetch(data) is None


def test_uid_sets_fold_runs() -> None:
    assert uid_text([1, 2, 3, 5, 7, 8]) == "1:3,5,7:8"
    assert uid_text([4]) == "4"


def test_batches_are_the_messages_one_by_one_and_change_no_flag(dovecot: Dovecot) -> None:
    dovecot.append(*(promotion("a.example") for _ in range(7)))
    dovecot.append(personal(), personal(), flags=[b"\\Seen"])
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        view = source.view("INBOX", 0)
        one_by_one = [m for uid in view.uids for m in source.fetch("INBOX", [uid])]
        batches = [view.uids[n:n + 2] for n in range(0, len(view.uids), 2)]
        batched = [m for batch in source.fetch_batches("INBOX", batches) for m in batch]
        flags = source.seen_flags("INBOX")
    finally:
        source.close()
    assert batched == one_by_one and len(batched) == 9
    assert [m.seen for m in batched] == [False] * 7 + [True] * 2
    assert flags == {m.uid: m.seen for m in one_by_one}
    assert all(m.raw.startswith(b"From: ") and m.size == len(m.raw) for m in batched)
