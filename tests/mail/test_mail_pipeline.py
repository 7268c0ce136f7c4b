"""Commands sent ahead of their answers (`butler.mail.pipeline`) on the real servers.

Dovecot runs pipelined FETCH commands side by side: it can tag one before the one sent earlier and send a
command's messages after another command's tag. Each message must still be read once, from the command that asked
for it, without asking again (the first version asked again for 1,800 of 3,000 messages). A MOVE in flight must
claim its own COPYUID answer, and anything else using the connection reads the outstanding answers first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import butler.mail.imap as imap_module
from butler.mail import ImapSource, MailSweep
from butler.mail.errors import MailConnectionLost, MailSourceError
from butler.mail.fetching import fetch_ahead
from butler.mail.pipeline import Sent
from butler.mail.sources import FetchedMessage
from butler.mail.state import Journal, MailboxState, account_dir
from tests.mail.conftest import IMAP_PASS, Dovecot, ImapServer
from tests.mail.mailfactory import personal, promotion


def _asked_again(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Messages asked for again, one by one or through IMAPClient, after a pipelined FETCH."""
    again: list[int] = []
    real = imap_module.fetch_chunk

    def counting(client: object, chunk: list[int], body: bytes) -> object:
        again.extend(chunk)
        return real(client, chunk, body)

    monkeypatch.setattr(imap_module, "fetch_chunk", counting)
    return again


def test_every_message_once_from_its_own_command_on_every_server(imap: ImapServer,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    imap.append(*(promotion(f"p{n}.example") for n in range(40)))
    imap.append(*(personal(subject=f"read {n}") for n in range(8)), flags=[b"\\Seen"])
    source = ImapSource(imap.settings(), IMAP_PASS)
    try:
        view = source.view("INBOX", 0)
        one_by_one = [m for uid in view.uids for m in source.fetch("INBOX", [uid])]
        monkeypatch.setattr(imap_module, "FETCH_BATCH", 3)  # several commands per batch, many in flight
        again = _asked_again(monkeypatch)
        batches = [view.uids[n:n + 7] for n in range(0, len(view.uids), 7)]
        handed = list(source.fetch_batches("INBOX", batches))
    finally:
        source.close()
    assert [[m.uid for m in batch] for batch in handed] == batches
    assert [m for batch in handed for m in batch] == one_by_one and len(one_by_one) == 48
    assert again == []


class ScriptedPipeline:
    """Answers as Dovecot may give them under load: a command's messages under the tag of the one before it, or
    of the one after it (a unit test of `fetch_ahead` alone; the real servers are above)."""

    def __init__(self, answers: dict[int, list[int]]) -> None:
        self.answers = answers  # command number → the uids whose messages come with its tag
        self.sent: list[Sent] = []

    def send(self, uids: list[int]) -> Sent:
        self.sent.append(Sent("FETCH", str(len(self.sent)).encode()))
        return self.sent[-1]

    def wait(self, sent: Sent) -> Sent:
        if not sent.done:
            sent.done, sent.kind = True, "OK"
            for uid in self.answers.get(int(sent.tag), []):
                sent.data += [(f"{uid} (UID {uid} RFC822.SIZE 5 FLAGS () BODY[]<0> {{5}}".encode(), b"mail!"), b")"]
        return sent

    def settle(self) -> None:
        for sent in self.sent:
            self.wait(sent)


def test_answers_under_another_commands_tag_are_not_asked_for_again() -> None:
    # commands 0-1 ask for 1-4 (batch one), 2-3 for 5-8 (batch two), 4 for 9-10 (batch three)
    pipeline = ScriptedPipeline({0: [1, 2, 3, 4, 5], 1: [], 2: [6], 3: [], 4: [7, 8, 9, 10]})
    again: list[int] = []

    def fallback(uids: list[int]) -> list[FetchedMessage]:
        again.extend(uids)
        return []

    batches = [["1", "2", "3", "4"], ["5", "6", "7", "8"], ["9", "10"]]
    handed = list(fetch_ahead(pipeline, pipeline.send, fallback, batches, 2))  # type: ignore[arg-type]
    assert [[m.uid for m in batch] for batch in handed] == batches
    assert again == [] and len(pipeline.sent) == 5


def test_another_folder_between_batches_and_a_batch_left_unread(dovecot: Dovecot) -> None:
    dovecot.append(*(promotion(f"p{n}.example") for n in range(30)))
    client = dovecot.client()
    client.create_folder("Promotions")
    client.logout()
    dovecot.append(personal(subject="elsewhere"), folder="Promotions")
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        view = source.view("INBOX", 0)
        batches = [view.uids[n:n + 5] for n in range(0, 30, 5)]
        fetched = source.fetch_batches("INBOX", batches)
        first = next(fetched)
        assert source.view("Promotions", 0).uids == ["1"]  # selects another folder with FETCHes in flight
        second = next(fetched)
        fetched.close()  # four batches asked for and never taken
        leftovers = dict(source.client._imap.untagged_responses)
        again = list(source.fetch("INBOX", [view.uids[-1]]))
    finally:
        source.close()
    assert [m.uid for m in first + second] == view.uids[:10]
    assert all(b"elsewhere" not in m.raw for m in first + second)
    assert "FETCH" not in leftovers  # the answers nobody took were read and dropped
    assert [m.uid for m in again] == [view.uids[-1]] and b"p29.example" in again[0].raw


@pytest.mark.parametrize("kind", ["dovecot", "cyrus"])  # the servers with MOVE
def test_moves_in_flight_claim_their_own_copyuid(request: pytest.FixtureRequest, kind: str) -> None:
    server: ImapServer = request.getfixturevalue(f"{kind}_server")
    server.new_user()
    server.append(*(promotion(f"m{n}.example") for n in range(10)))
    a, b = server.folder("Alpha"), server.folder("Beta")
    client = server.client()
    client.create_folder(a)
    client.create_folder(b)
    client.logout()
    source = ImapSource(server.settings(), IMAP_PASS)
    try:
        uids = source.view("INBOX", 0).uids
        to_a = source.start_move("INBOX", uids[:4], a)
        to_b = source.start_move("INBOX", uids[4:], b)
        rest = source.view("INBOX", 0).uids  # another command reads both answers first
        moved_b, moved_a = to_b(), to_a()
        validity_a, validity_b = source.status(a)[0], source.status(b)[0]
        in_a, in_b = source.view(a, 0).uids, source.view(b, 0).uids
    finally:
        source.close()
    assert rest == []
    assert sorted(moved_a.uids) == sorted(uids[:4]) and sorted(moved_a.uids.values()) == sorted(in_a)
    assert sorted(moved_b.uids) == sorted(uids[4:]) and sorted(moved_b.uids.values()) == sorted(in_b)
    assert (moved_a.validity, moved_b.validity) == (validity_a, validity_b)


def test_a_refused_move_is_an_error_and_the_connection_goes_on(dovecot: Dovecot) -> None:
    dovecot.append(promotion("r.example"), personal())
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        uids = source.view("INBOX", 0).uids
        answer = source.start_move("INBOX", uids[:1], "No such folder")
        with pytest.raises(MailSourceError, match="No such folder"):
            answer()
        assert source.view("INBOX", 0).uids == uids
    finally:
        source.close()


def test_moves_without_status_keep_a_true_uidnext_floor(dovecot: Dovecot, tmp_path: Path) -> None:
    """After its first move the sweep takes the target's UIDNEXT from the COPYUID answer, not a STATUS: the floor
    recovery searches above must be the real UIDNEXT when nobody else delivers."""
    dovecot.append(*(promotion(f"f{n}.example") for n in range(15)))
    settings = dovecot.settings(batch_size=5)
    source = ImapSource(settings, IMAP_PASS)
    try:
        report = MailSweep(source, settings, home=tmp_path, moves_at_once=1).run()
    finally:
        source.close()
    plans = [e for e in Journal(account_dir(settings.imap_account, tmp_path)).entries() if e["op"] == "plan"]
    assert sum(report.moved.values()) == 15
    assert sorted({int(e["to_next"]) for e in plans}) == [1, 6, 11]


def test_a_move_after_a_read_only_view_reopens_the_folder_read_write(dovecot: Dovecot) -> None:
    dovecot.append(promotion("ro.example"), personal())
    client = dovecot.client()
    client.create_folder("Promotions")
    client.logout()
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        uids = source.view("INBOX", 0, read_only=True).uids
        read = list(source.fetch("INBOX", uids))  # fetching keeps the read-only folder
        moved = source.move("INBOX", uids[:1], "Promotions")
        left = source.view("INBOX", 0).uids
    finally:
        source.close()
    assert len(read) == 2 and list(moved.uids) == uids[:1] and left == uids[1:]


def _stop_answering(source: ImapSource) -> None:
    """The server stops answering once the commands already sent are out: each read times out."""
    def timed_out(*_: object) -> bytes:
        raise TimeoutError("timed out")

    source._client._imap.readline = timed_out


def test_a_connection_that_times_out_mid_pipeline_is_given_up(dovecot: Dovecot) -> None:
    dovecot.append(promotion("t.example"), personal())
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        uids = source.view("INBOX", 0).uids
        fetched = source.fetch_batches("INBOX", [uids[:1], uids[1:]])
        _stop_answering(source)
        with pytest.raises(MailConnectionLost, match="FETCH failed: timed out"):
            next(fetched)
        with pytest.raises(MailConnectionLost):  # nothing more is sent on it: answers due would go astray
            source.status("INBOX")
    finally:
        source.close()  # quiet: the connection is closed already


def test_a_lost_connection_is_never_read_as_a_message_not_being_there(dovecot: Dovecot) -> None:
    """`exists` says which moved messages are still where butler put them; an answer lost on the way must not
    make them "gone" (the sweep would take a new copy of one for the person moving it back)."""
    dovecot.append(*(promotion(f"x{n}.example") for n in range(6)))
    client = dovecot.client()
    client.create_folder("Promotions")
    client.logout()
    dovecot.append(promotion("there.example"), folder="Promotions")
    source = ImapSource(dovecot.settings(), IMAP_PASS)
    try:
        uids = source.view("INBOX", 0).uids
        fetched = source.fetch_batches("INBOX", [uids[:2], uids[2:4], uids[4:]])
        next(fetched)  # the next batches are on their way
        _stop_answering(source)
        with pytest.raises(MailConnectionLost):
            source.exists("Promotions", ["1"])
        fetched.close()
    finally:
        source.close()


def test_a_sweep_that_loses_its_connection_learns_nothing_false(dovecot: Dovecot, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A promotion moved by one sweep comes again (a second delivery); the next sweep checks whether the first is
    still in Promotions while its FETCHes are on the way, and the connection breaks then. The sweep fails; it
    does not keep "moved back by you", learn to keep that sender's mail, or forget the first move."""
    first = promotion("dup.example", message_id="<dup-1@dup.example>")
    dovecot.append(first)
    settings = dovecot.settings(batch_size=2)
    source = ImapSource(settings, IMAP_PASS)
    try:
        MailSweep(source, settings, home=tmp_path, moves_at_once=1).run()
    finally:
        source.close()
    dovecot.append(first, *(promotion(f"n{n}.example") for n in range(7)))
    real_exists = ImapSource.exists

    def breaking(self: ImapSource, folder: str, uids: list[str]) -> set[str]:
        if self._pipeline.busy:
            _stop_answering(self)
        return real_exists(self, folder, uids)

    monkeypatch.setattr(ImapSource, "exists", breaking)
    source = ImapSource(settings, IMAP_PASS)
    try:
        with pytest.raises(MailConnectionLost):
            MailSweep(source, settings, home=tmp_path, moves_at_once=1).run()
    finally:
        source.close()
    state = MailboxState.load(account_dir(settings.imap_account, tmp_path))
    assert not state.kept and len(state.moved) == 1
    assert [e.get("key") for e in state.moved.values()] == ["<dup-1@dup.example>"]
