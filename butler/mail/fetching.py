"""Fetching what classification reads, fast: one FETCH per batch, parsed without IMAPClient's general parser.

IMAPClient tokenizes every FETCH response in Python, which cost as much as classifying the messages; the answer to
`UID FETCH (UID RFC822.SIZE FLAGS BODY.PEEK[]<0.N>)` has one shape, read here from imaplib's raw lines and
literals with one regular expression per message. Anything of another shape returns None and the caller asks
IMAPClient instead, so a server's oddity costs speed, never a message.
"""

from __future__ import annotations

import contextlib
import re
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from butler.mail.errors import MailSourceError
from butler.mail.pipeline import Pipeline, Sent, failed
from butler.mail.sources import FetchedMessage

__all__ = ["body_of", "fetch_ahead", "fetch_chunk", "fetch_items", "parse_fetch", "uid_text"]

AHEAD = 4  # batches asked for before the one being judged: enough to judge while the server makes a MOVE
AHEAD_BYTES = 48 << 20  # … unless batches are large: about this much mail read ahead at most

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_BODY = re.compile(rb"\bBODY\[\]")


def uid_text(uids: list[int]) -> str:
    """A UID set with runs folded (`1:200,305`), so a batch's command stays short."""
    parts: list[str] = []
    start = prev = uids[0]
    for uid in [*uids[1:], -1]:
        if uid != prev + 1:
            parts.append(f"{start}:{prev}" if prev != start else str(start))
            start = uid
        prev = uid
    return ",".join(parts)


def fetch_chunk(client: Any, chunk: list[int], body_item: bytes) -> list[FetchedMessage]:
    """What classification reads of these messages, in UID order: parsed fast (`parse_fetch`), or by
    IMAPClient when the answer has another shape."""
    if not chunk:
        return []
    try:
        kind, data = client._imap.uid("FETCH", uid_text(sorted(chunk)), fetch_items(body_item))
    except IMAPClientError as exc:
        raise failed("fetching messages", exc) from None
    found = parse_fetch(data) if kind == "OK" else None
    if found is None:
        response = client.fetch(chunk, [body_item, b"FLAGS", b"RFC822.SIZE"])
        found = {}
        for uid, item in response.items():
            flags = item.get(b"FLAGS", ())
            found[str(uid)] = FetchedMessage(str(uid), body_of(item), b"\\Seen" in flags,
                                             int(item.get(b"RFC822.SIZE", 0)), b"\\Deleted" in flags)
    return [found[str(uid)] for uid in chunk if str(uid) in found]


def fetch_ahead(pipeline: Pipeline, send: Callable[[list[int]], Sent],
                fallback: Callable[[list[int]], list[FetchedMessage]], batches: list[list[str]],
                chunk_size: int) -> Generator[list[FetchedMessage], None, None]:
    """Each batch's messages in batch order, the FETCH commands of the next batches sent (`send`, which sees that
    the folder is selected) before one is handed over (`butler.mail.pipeline`): up to AHEAD batches, fewer when
    they are large. What the fast parse cannot read, or the server did not send, is asked for again through
    `fallback` (IMAPClient's parser); a message expunged meanwhile is simply not there."""
    queued: deque[tuple[list[str], list[Sent]]] = deque()
    got: dict[str, FetchedMessage] = {}
    todo = iter(batches)
    sent_all = False

    def send_next() -> bool:
        batch = next(todo, None)
        if batch is None:
            return False
        uids = sorted(int(u) for u in batch)
        queued.append((batch, [send(uids[at:at + chunk_size]) for at in range(0, len(uids), chunk_size)]))
        return True

    def absorb(command: Sent) -> None:
        parsed = parse_fetch(command.data) if pipeline.wait(command).kind == "OK" else None
        got.update(parsed or {})  # None: those messages are missing below, and asked for again
        command.data = []

    ahead, largest = 1, 0
    try:
        while True:
            while len(queued) <= ahead and not sent_all:  # the server reads the next batches while one is judged
                sent_all = not send_next()
            if not queued:
                break
            batch, commands = queued.popleft()
            for command in commands:
                absorb(command)
            later = (command for _, sent in queued for command in sent)
            while (missing := [int(u) for u in batch if u not in got]) and (extra := next(later, None)):
                absorb(extra)  # a server may tag a command before the one sent earlier, and answer it after
            if missing:
                got.update((m.uid, m) for m in fallback(missing))
            out = [got.pop(u) for u in batch if u in got]
            largest = max(largest, sum(len(m.raw) for m in out))  # the largest batch so far: mail gets no smaller
            ahead = max(1, min(AHEAD, AHEAD_BYTES // max(1, largest)))
            yield out
    finally:
        with contextlib.suppress(MailSourceError):  # closed early: what was sent ahead is read and dropped
            pipeline.settle()


def body_of(data: dict[bytes, Any]) -> bytes:
    """The literal of a BODY[…] item in IMAPClient's parsed FETCH data."""
    return bytes(next((v for k, v in data.items() if k.startswith(b"BODY[")), b"") or b"")


def fetch_items(body_item: bytes) -> str:
    """The FETCH items, in the order servers answer them, for `parse_fetch`."""
    return f"(UID RFC822.SIZE FLAGS {body_item.decode()})"


def _message(head: bytes, body: bytes) -> FetchedMessage | None:
    uid, size, flags = _UID.search(head), _SIZE.search(head), _FLAGS.search(head)
    if uid is None or size is None or flags is None:
        return None
    names = flags.group(1).split()
    return FetchedMessage(uid.group(1).decode(), body, b"\\Seen" in names, int(size.group(1)), b"\\Deleted" in names)


def parse_fetch(data: list[Any]) -> dict[str, FetchedMessage] | None:
    """uid → message from imaplib's `uid("FETCH", …)` data; None when a response is not of the expected shape.

    A response with a body is a (line, literal) pair followed by the rest of its line (items a server sends after
    the literal); one without a literal (an empty body, or a flag update from another session) is a plain line.
    """
    out: dict[str, FetchedMessage] = {}
    at = 0
    while at < len(data):
        item = data[at]
        if isinstance(item, tuple) and len(item) == 2:
            head, body = bytes(item[0]), bytes(item[1])
            tail = data[at + 1] if at + 1 < len(data) and isinstance(data[at + 1], bytes) else b""
            at += 2 if tail else 1
            message = _message(head + b" " + tail, body)
        elif isinstance(item, bytes):
            at += 1
            if not _BODY.search(item):
                continue  # a flag update, not an answer
            message = _message(item, b"")
        else:
            return None
        if message is None:
            return None
        out[message.uid] = message
    return out
