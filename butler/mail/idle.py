"""Watching the inbox with IMAP IDLE (RFC 2177): a sweep as soon as new mail arrives, not only on the schedule.

`InboxWatcher.run()` keeps one connection of its own in IDLE on the inbox (selected read-only) and calls
`on_new()` when the server reports new mail: an `EXISTS` answered by a higher UIDNEXT, so messages leaving the
inbox (the sweep's own moves) never start another sweep. It re-enters IDLE every `renew_seconds` (servers drop
an IDLE after 30 minutes), reconnects after a lost connection with a growing pause, and stops within
`poll_seconds` once `stopping` is set. Where the server does not offer IDLE, `run()` returns at once and the
scheduled sweep is all there is.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from butler.mail.errors import MailSourceError

__all__ = ["InboxWatcher", "WatchedSource"]

log = logging.getLogger("butler.mail.idle")

_LOST = (IMAPClientError, OSError, socket.error, MailSourceError)


class WatchedSource(Protocol):
    """What the watcher needs of a connection: the IMAPClient (`ImapSource` is one) and a way to close it."""

    @property
    def client(self) -> Any: ...

    def close(self) -> None: ...


class InboxWatcher:
    """IDLE on `inbox` over connections from `connect`; `on_new()` once per arrival of new mail."""

    def __init__(self, connect: Callable[[], WatchedSource], on_new: Callable[[], object], stopping: threading.Event,
                 *, inbox: str = "INBOX", poll_seconds: float = 1.0, renew_seconds: float = 25 * 60,
                 retry_seconds: float = 5.0, max_retry_seconds: float = 300.0) -> None:
        self.connect = connect
        self.on_new = on_new
        self.stopping = stopping
        self.inbox = inbox
        self.poll_seconds = poll_seconds
        self.renew_seconds = renew_seconds
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.connections = 0  # connections made (reconnects show here)
        self.arrivals = 0  # times on_new ran
        self.source: WatchedSource | None = None
        self.idling = threading.Event()  # set while the server is told to report new mail (IDLE)

    def run(self) -> bool:
        """Watch until `stopping` is set; False at once when the server does not offer IDLE."""
        pause = self.retry_seconds
        while not self.stopping.is_set():
            try:
                self.source = self.connect()
            except _LOST as exc:
                log.warning("mail watch: cannot connect (%s); retrying in %.0f s", exc, pause)
                self.stopping.wait(pause)
                pause = min(pause * 2, self.max_retry_seconds)
                continue
            self.connections += 1
            try:
                if b"IDLE" not in {c.upper() for c in self.source.client.capabilities()}:
                    log.info("mail watch: the server does not offer IDLE; the scheduled sweep remains")
                    return False
                pause = self.retry_seconds
                self._watch(self.source.client)
            except _LOST as exc:
                if not self.stopping.is_set():
                    log.warning("mail watch: connection lost (%s); reconnecting in %.0f s", exc, pause)
                    self.stopping.wait(pause)
                    pause = min(pause * 2, self.max_retry_seconds)
            finally:
                self._close()
        return True

    def _uidnext(self, client: Any) -> int:
        return int(client.folder_status(self.inbox, [b"UIDNEXT"]).get(b"UIDNEXT", 0) or 0)

    def _watch(self, client: Any) -> None:
        client.select_folder(self.inbox, readonly=True)
        known = self._uidnext(client)
        while not self.stopping.is_set():
            client.idle()
            self.idling.set()
            started = time.monotonic()
            told = False
            while not told and not self.stopping.is_set() and time.monotonic() - started < self.renew_seconds:
                before = time.monotonic()
                answers = client.idle_check(timeout=self.poll_seconds)
                told = any(len(r) > 1 and r[1] == b"EXISTS" for r in answers if isinstance(r, tuple))
                if not answers and time.monotonic() - before < self.poll_seconds / 2:
                    break  # readable yet nothing to read: the server closed the connection (DONE will tell)
            self.idling.clear()
            client.idle_done()
            if not told:
                continue
            # new mail, not a message leaving; and again for mail that came while the sweep ran
            while not self.stopping.is_set() and (now := self._uidnext(client)) > known:
                known = now
                self.arrivals += 1
                try:
                    self.on_new()
                except Exception:  # a failed sweep is the sweep's to report; the watch goes on
                    log.exception("mail watch: the sweep for new mail failed")

    def _close(self) -> None:
        self.idling.clear()
        source, self.source = self.source, None
        if source is not None:
            with contextlib.suppress(*_LOST):
                source.close()
            with contextlib.suppress(*_LOST):  # a logout over a dead connection leaves the socket open
                source.client.shutdown()
