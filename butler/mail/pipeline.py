"""IMAP commands sent ahead of their answers on one connection (pipelining, RFC 3501 §5.5).

While butler judges one batch of mail, the server reads the next batch from disk and makes the last MOVE: the
commands for them were sent before butler turned to judging. There is no thread (a thread reading the socket took
the interpreter lock from classification often enough to make a sweep slower); answers are read in the order the
commands were sent, when one is wanted. Any other use of the connection first reads every outstanding answer
(`settle`), so IMAPClient never meets a response meant for a command sent here.

A server may answer pipelined commands interleaved: the FETCH responses read while completing one command can
belong to the next, and a COPYUID can come before the tag of the command before. So FETCH answers are kept by UID
(`FetchedMessage.uid`) and COPYUID answers in one pool, each claimed by the MOVE whose source UIDs it names.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any, NoReturn

from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from butler.mail.errors import MailConnectionLost, MailSourceError, broke
from butler.mail.sources import Moved

__all__ = ["Pipeline", "Sent", "failed", "parse_copyuid"]


def failed(what: str, exc: BaseException) -> MailSourceError:
    """The error for an IMAP command that failed: MailConnectionLost when the connection itself did (imaplib's
    abort, a socket error or timeout), else MailSourceError (the server said NO or BAD)."""
    if broke(exc):
        return MailConnectionLost(f"{what} failed: the connection broke ({exc})")
    return MailSourceError(f"{what} failed: {exc}")


def _uid_set(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition(":")
        a, b = int(low), int(high or low)
        out.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
    return out


def parse_copyuid(data: bytes | str) -> Moved | None:
    """`COPYUID <validity> <source set> <target set>` (RFC 4315) → Moved; None if it does not parse."""
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    parts = text.strip().strip("[]").split()
    if parts and parts[0].upper() == "COPYUID":
        parts = parts[1:]
    if len(parts) < 3:
        return None
    try:
        old, new = _uid_set(parts[1]), _uid_set(parts[2])
    except ValueError:
        return None
    if len(old) != len(new):
        return None
    return Moved(parts[0], {str(a): str(b) for a, b in zip(old, new, strict=True)})


@dataclass
class Sent:
    """One UID command on its way: its answer once read (`kind`: OK or NO, `text` the server's words,
    `data` the untagged responses of its kind)."""

    command: str
    tag: bytes
    done: bool = False
    kind: str = ""
    text: str = ""
    data: list[Any] = field(default_factory=list)


class Pipeline:
    """UID commands on one imaplib connection (IMAPClient's `_imap`), their answers read in order."""

    def __init__(self, imap: Any) -> None:
        self._imap = imap
        self._out: deque[Sent] = deque()
        self.broken = ""  # why the connection was given up: nothing more may be sent or read on it
        self.copyuids: list[bytes] = []  # COPYUID response codes read so far, not yet claimed

    @property
    def busy(self) -> bool:
        return bool(self._out)

    def send(self, command: str, *args: str | bytes) -> Sent:
        """Send `UID <command> <args>` now; its answer is read by `wait` or `settle`."""
        if self.broken:
            raise MailConnectionLost(self.broken)
        try:
            tag = self._imap._command("UID", command, *args)
        except (IMAPClientError, OSError) as exc:
            self._lost(f"sending {command} failed: {exc}")
        sent = Sent(command, tag)
        self._out.append(sent)
        return sent

    def wait(self, sent: Sent) -> Sent:
        """Read answers, in order, up to and including `sent`'s."""
        while not sent.done:
            self._complete_next()
        return sent

    def settle(self) -> None:
        """Read every outstanding answer (before anything else uses the connection)."""
        while self._out:
            self._complete_next()

    def _complete_next(self) -> None:
        sent = self._out[0]
        try:
            sent.kind, said = self._imap._command_complete("UID", sent.tag)
            sent.text = b" ".join(x for x in said if isinstance(x, bytes)).decode(errors="replace")
        except (IMAPClientError, OSError) as exc:  # BAD, a timeout, a broken connection: the rest is lost with it
            self._lost(f"{sent.command} failed: {exc}")
        self._out.popleft()
        sent.data = self._imap.untagged_responses.pop(sent.command, [])  # on NO too: IMAPClient must not see them
        self.copyuids += self._imap.untagged_responses.pop("COPYUID", [])
        sent.done = True

    def _lost(self, why: str) -> NoReturn:
        """Give the connection up: the answers still due would reach whatever command came next."""
        for sent in self._out:
            sent.done, sent.kind = True, "LOST"
        self._out.clear()
        self.broken = why
        with contextlib.suppress(Exception):
            self._imap.shutdown()
        raise MailConnectionLost(why)

    def claim(self, uids: set[int]) -> Moved | None:
        """The COPYUID answers about these source UIDs (one MOVE's or COPY's), merged; None if there are none."""
        found: Moved | None = None
        keep: list[bytes] = []
        for data in self.copyuids:
            parsed = parse_copyuid(data)
            if parsed is None or not any(int(old) in uids for old in parsed.uids):
                keep.append(data)
                continue
            found = parsed if found is None else Moved(parsed.validity, {**found.uids, **parsed.uids})
        self.copyuids = keep
        return found
