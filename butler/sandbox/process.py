"""One sandboxed child as butler holds it: its pipes, the threads that read its messages, write butler's and
drain what it prints, its limits on output and on requests in flight, and how it is stopped.

Butler writes what the pipe takes at once itself and leaves the rest to a writer thread of its own, so a child
that never reads cannot block the caller past its deadline. A child that prints and logs more than
`Limits.output_bytes`, sends what butler cannot read, or keeps sending what nobody asked for is stopped (its
process killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import queue
import select
import subprocess
import threading
from typing import Any

from butler.log import redact
from butler.sandbox import jail, wire
from butler.sdk import ConnectorError, FatalError

__all__ = ["EOF", "MAX_RELAYS", "ChildProcess", "run_child"]

log = logging.getLogger("butler.sandbox")
EOF: dict[str, Any] = {"eof": True}
MAX_RELAYS = 1000  # the most HTTP requests one call may make
_IN_FLIGHT = 8
"""The most requests of a child butler holds at once (until each answer is written); then its reader waits."""
_MAX_UNASKED = 100
"""The most messages (log lines aside) a child may send while no call waits on it, or of no kind butler reads."""
_KINDS = frozenset({"http", "result", "error", "eof"})
_LINE_COST = 100  # what a log line costs of the output limit besides its text: empty ones are not free


class ChildProcess:
    """One child: its pipes, a thread reading its messages, a thread writing butler's (a child that does not read
    blocks that thread, never the caller), and a thread draining (and counting) what it prints."""

    def __init__(self, first: dict[str, Any], limits: jail.Limits, paths: list[str], who: str) -> None:
        self.who = who
        self.limits = limits
        self.cap = jail.ProcessCap(limits.processes, limits.memory_mb)
        self.proc = jail.start(paths, self.cap)
        self.stopped: str | None = None  # why butler stopped it
        self.gone = False  # its messages ended: it died, or was stopped
        self.opening: dict[str, Any] | None = None  # `ready`, `described` or `error`: the answer to `first`
        self.opened = threading.Event()
        self.printed = bytearray()
        self.output = 0  # bytes printed and logged, against `limits.output_bytes`
        self._unasked = 0
        self._outbox: queue.SimpleQueue[tuple[bytes, int | None] | None] = queue.SimpleQueue()
        self._slots = threading.Condition()
        self._relaying: set[int] = set()
        self._tokens = itertools.count()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]] | None = None
        self._early: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wlock = threading.Lock()  # the pipe to the child: who writes, and whether it is still open
        self._queued = 0  # messages the writer thread holds (a new one may not overtake them)
        self._closed = False
        assert self.proc.stdin is not None
        os.set_blocking(self.proc.stdin.fileno(), False)
        threading.Thread(target=self._read, name=f"sandbox-{who}", daemon=True).start()
        threading.Thread(target=self._drain, name=f"sandbox-{who}-output", daemon=True).start()
        threading.Thread(target=self._write, name=f"sandbox-{who}-input", daemon=True).start()
        self.send({**first, "path": paths, "limits": limits.as_message()})

    # -- the child's output ---------------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        stream = self.proc.stdout
        while True:
            head = stream.read(4)
            if len(head) < 4:
                break
            size = int.from_bytes(head, "big")
            if size > wire.MAX_MESSAGE:
                self.stop(f"connector {self.who!r} sent a message larger than butler accepts")
                break
            body = stream.read(size)
            try:
                message = json.loads(body)
                if not isinstance(message, dict):
                    raise ValueError
                self._deliver(message)
            except Exception:  # not JSON, nested past the recursion limit, …: never this thread's end
                self.stop(f"connector {self.who!r} sent something butler cannot read")
                break
        self.gone = True
        self._deliver(EOF)
        stream.close()

    def _deliver(self, message: dict[str, Any]) -> None:
        if "log" in message:
            entry = message["log"] if isinstance(message["log"], dict) else {}
            given = entry.get("level")
            level = min(max(given, logging.DEBUG), logging.ERROR) if isinstance(given, int) else logging.INFO
            text = wire.printable(str(entry.get("message", ""))[:4000])
            if self._spend(len(text) + _LINE_COST, "logged"):
                logging.getLogger(f"butler.connectors.{self.who}").log(level, "%s", redact(text))
            return
        if self.opening is None and message is not EOF:
            self.opening = message
            self.opened.set()
            return
        if message is EOF:
            self.opened.set()
        with self._lock:
            waiter = self._waiter
            if waiter is None and message is EOF:
                self._early.append(message)
                return
            if waiter is None or not _KINDS.intersection(message):  # nobody asked: dropped; past a few, stopped
                self._unasked += 1
                unasked = self._unasked
        if waiter is None or not _KINDS.intersection(message):
            if unasked > _MAX_UNASKED:
                self.stop(f"connector {self.who!r} sent more than {_MAX_UNASKED} messages butler did not ask for")
            return
        if "http" in message:
            message["slot"] = self._slot()
        loop, messages = waiter
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(messages.put_nowait, message)

    def _slot(self) -> int:
        """A place among the requests being relayed, once there is one (the reader waits here)."""
        with self._slots:
            while len(self._relaying) >= _IN_FLIGHT and self.stopped is None and self._waiter is not None:
                self._slots.wait(1.0)
            token = next(self._tokens)
            self._relaying.add(token)
            return token

    def release(self, slot: int | None = None, *, every: bool = False) -> None:
        """A relayed request ended (its answer written, or given up), or `every` one did."""
        with self._slots:
            if every:
                self._relaying.clear()
            self._relaying.discard(slot if slot is not None else -1)
            self._slots.notify_all()

    def _spend(self, size: int, how: str) -> bool:  # False, and the child stopped, past the output limit
        with self._lock:
            self.output += size
            over = self.output > self.limits.output_bytes
        if over:
            self.stop(f"connector {self.who!r} {how} more than {self.limits.output_bytes} bytes")
        return not over

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        while chunk := os.read(self.proc.stderr.fileno(), 65536):
            if len(self.printed) < 16384:
                self.printed += chunk[: 16384 - len(self.printed)]
            if not self._spend(len(chunk), "printed"):
                break
        self.proc.stderr.close()

    def _write(self) -> None:
        """Write what `send` could not write at once, waiting for the child to read (never on the caller)."""
        assert self.proc.stdin is not None
        stdin = self.proc.stdin
        try:
            while (item := self._outbox.get()) is not None:
                view, slot = memoryview(item[0]), item[1]
                while view:
                    try:
                        view = view[os.write(stdin.fileno(), view):]
                    except BlockingIOError:
                        select.select([], [stdin.fileno()], [], 1.0)
                with self._wlock:
                    self._queued -= 1
                if slot is not None:
                    self.release(slot)
        except (OSError, ValueError):
            pass  # it is gone; its reader says so
        finally:
            with self._wlock:
                self._closed = True
                with contextlib.suppress(OSError):
                    stdin.close()
            self.release(every=True)

    # -- talking to it --------------------------------------------------------------------------------
    def send(self, message: dict[str, Any], slot: int | None = None) -> None:
        """Send `message` to the child (`slot`: the relayed request it answers, released once written).

        What the pipe takes at once is written here; the rest goes to the writer thread, so a child that does
        not read never blocks the caller (and a hand-off to another thread is paid only then)."""
        data = wire.pack(message)
        with self._wlock:
            if self._closed:
                if slot is not None:
                    self.release(slot)
                return
            if self._queued == 0:
                assert self.proc.stdin is not None
                try:
                    written = os.write(self.proc.stdin.fileno(), data)
                except BlockingIOError:
                    written = 0
                except (OSError, ValueError):
                    written = len(data)  # it is gone; its reader says so
                if written == len(data):
                    if slot is not None:
                        self.release(slot)
                    return
                data = data[written:]
            self._queued += 1
            self._outbox.put((data, slot))

    def listen(self) -> asyncio.Queue[dict[str, Any]]:
        messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        with self._lock:
            for message in self._early:
                messages.put_nowait(message)
            self._early.clear()
            self._waiter = (asyncio.get_running_loop(), messages)
        return messages

    def unlisten(self) -> None:
        with self._lock:
            self._waiter = None
        self.release(every=True)  # the call's relays are cancelled; what it did not take is dropped

    def stop(self, why: str) -> None:
        if self.stopped is None:
            self.stopped = why
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._outbox.put(None)  # its writer closes the pipe
        self.release(every=True)
        self.cap.remove()

    def close(self) -> None:
        self.send({"close": True})
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self.stop("closed")

    def ended(self) -> ConnectorError:
        why = self.stopped or f"its process ended (exit status {self.proc.poll()})"
        log.debug("connector %s printed: %s", self.who, redact(bytes(self.printed).decode(errors="replace")))
        return FatalError(f"connector {self.who!r} stopped: {why}",
                          "Butler ran it in its sandbox and stopped it; tell the connector's author.")


def run_child(first: dict[str, Any], *, limits: jail.Limits, paths: list[str], who: str,
              wait: float = 60.0) -> dict[str, Any]:
    """Start a child for one answer (`describe`), wait for it and stop the child."""
    child = ChildProcess(first, limits, paths, who)
    try:
        if not child.opened.wait(wait) or child.opening is None:
            raise child.ended()
        return child.opening
    finally:
        child.stop("done")
