"""IDLE on real Dovecot: each delivered message starts one sweep (counted, never timed); the watch reconnects
after a lost connection, stops when asked, and gives way to the scheduled sweep where IDLE is not offered."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from butler.mail.idle import InboxWatcher
from butler.mail.imap import ImapSource
from butler.mail.sweep import MailSweep, SweepReport
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.mailfactory import promotion

WAIT = 30  # a safety net for a broken watch, never a measurement


class Watch:
    def __init__(self, dovecot: Dovecot, home: Path) -> None:
        self.settings = dovecot.settings()
        self.reports: list[SweepReport] = []
        self.swept: queue.Queue[int] = queue.Queue()
        self.stopping = threading.Event()
        self.home = home
        self.watcher = InboxWatcher(lambda: ImapSource(self.settings, IMAP_PASS), self.sweep, self.stopping,
                                    poll_seconds=0.2, retry_seconds=0.05)
        self.thread = threading.Thread(target=self.watcher.run, name="test-idle")

    def sweep(self) -> None:
        source = ImapSource(self.settings, IMAP_PASS)
        try:
            self.reports.append(MailSweep(source, self.settings, home=self.home).run())
        finally:
            source.close()
        self.swept.put(len(self.reports))

    def idling(self) -> None:
        assert self.watcher.idling.wait(WAIT), "the watcher never entered IDLE"


@pytest.fixture
def watch(dovecot: Dovecot, tmp_path: Path) -> Iterator[Watch]:
    w = Watch(dovecot, tmp_path)
    w.thread.start()
    try:
        yield w
    finally:
        w.stopping.set()
        w.thread.join(WAIT)
    assert not w.thread.is_alive(), "the watcher did not stop"


def test_each_delivery_starts_one_sweep_of_the_inbox(watch: Watch, dovecot: Dovecot) -> None:
    watch.idling()
    dovecot.append(promotion("first.example"))
    assert watch.swept.get(timeout=WAIT) == 1
    assert watch.reports[0].examined == 1 and watch.reports[0].moved["Promotions"] == 1
    watch.idling()  # the sweep's own moves out of the inbox start no sweep
    dovecot.append(promotion("second.example"))
    assert watch.swept.get(timeout=WAIT) == 2
    assert watch.reports[1].examined == 1
    watch.idling()
    assert watch.watcher.arrivals == 2 and len(watch.reports) == 2


def test_the_watch_reconnects_after_a_lost_connection(watch: Watch, dovecot: Dovecot) -> None:
    watch.idling()
    source = watch.watcher.source
    assert source is not None
    source.client.socket().shutdown(socket.SHUT_RDWR)  # the connection drops under the watcher
    dovecot.append(promotion("meanwhile.example"))
    # the message came while the watch was down: the next connection only counts later arrivals
    while watch.watcher.connections < 2 or not watch.watcher.idling.is_set():
        watch.watcher.idling.wait(0.05)
    dovecot.append(promotion("after.example"))
    assert watch.swept.get(timeout=WAIT) == 1
    assert watch.watcher.connections == 2
    assert watch.reports[0].examined == 2  # the sweep takes the inbox as it is, both messages


class _NoIdle:
    class client:  # stands in for an IMAPClient without IDLE
        @staticmethod
        def capabilities() -> tuple[bytes, ...]:
            return (b"IMAP4REV1", b"MOVE")

        @staticmethod
        def shutdown() -> None:
            return None

    def close(self) -> None:
        return None


def test_without_idle_the_watch_ends_and_the_schedule_remains() -> None:
    called: list[Any] = []
    watcher = InboxWatcher(_NoIdle, lambda: called.append(1), threading.Event())
    assert watcher.run() is False
    assert watcher.connections == 1 and not called
