"""An IMAP mailbox as a `MailSource`, through IMAPClient (blocking: run it in a worker thread from async code).

LOGIN over TLS unless the host is 127.0.0.1 or plaintext was explicitly allowed. Reads with BODY.PEEK only
(never sets \\Seen). Moves with UID MOVE; without MOVE, UID COPY + \\Deleted + UID EXPUNGE of exactly those
UIDs (UIDPLUS), never a bare EXPUNGE. Uses CONDSTORE, where offered, to skip re-reading unchanged flags.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import ssl
from collections.abc import Iterator
from typing import Any

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError, LoginError  # type: ignore[import-untyped]

from butler.log import register_secret
from butler.mail.errors import MailAuthError, MailConfigError, MailSourceError
from butler.mail.message import BODY_PREFIX
from butler.mail.settings import MailSettings, is_loopback
from butler.mail.sources import FetchedMessage, FolderView

__all__ = ["ImapSource"]

_BODY = f"BODY.PEEK[]<0.{BODY_PREFIX}>".encode()
_CHUNK = 500


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class ImapSource:
    """A logged-in IMAP connection. `force_copy_fallback` exercises the path for servers without MOVE."""

    def __init__(self, settings: MailSettings, password: str, *, force_copy_fallback: bool = False,
                 timeout: float = 60.0) -> None:
        if not settings.host or not settings.username:
            raise MailConfigError("no IMAP host or user is set up")
        if not settings.tls and not (settings.allow_plaintext or is_loopback(settings.host)):
            raise MailConfigError(f"refusing plain IMAP to {settings.host}: the password would travel in clear")
        register_secret(password)
        self.account = settings.imap_account
        self._selected: str | None = None
        self._modseq: dict[str, int] = {}
        self._flags: dict[str, dict[str, bool]] = {}
        try:
            context = ssl.create_default_context() if settings.tls else None
            self.client = IMAPClient(settings.host, port=settings.imap_port, ssl=settings.tls,
                                     ssl_context=context, timeout=timeout)
        except (OSError, IMAPClientError) as exc:
            raise MailSourceError(f"cannot reach {settings.host}:{settings.imap_port}: {exc}") from None
        try:
            self.client.login(settings.username, password)
        except LoginError:
            self.client.shutdown()
            raise MailAuthError(f"{settings.host} refused the login for {settings.username}") from None
        caps = {c.upper() for c in self.client.capabilities()}
        self.can_move_atomically = b"MOVE" in caps and not force_copy_fallback
        self.condstore = b"CONDSTORE" in caps
        if not self.can_move_atomically and b"UIDPLUS" not in caps:
            raise MailSourceError("this server offers neither MOVE nor UIDPLUS; butler will not risk an EXPUNGE "
                                  "that could remove other messages")

    # -- folders -------------------------------------------------------------------------------------------
    def _select(self, folder: str) -> dict[bytes, Any]:
        try:
            info: dict[bytes, Any] = self.client.select_folder(folder)
        except IMAPClientError as exc:
            raise MailSourceError(f"cannot open folder {folder!r}: {exc}") from None
        self._selected = folder
        return info

    def ensure_folder(self, name: str) -> None:
        if not self.client.folder_exists(name):
            self.client.create_folder(name)
            self.client.subscribe_folder(name)

    def view(self, folder: str, after: int) -> FolderView:
        info = self._select(folder)
        validity = str(info.get(b"UIDVALIDITY", [0])[0] if isinstance(info.get(b"UIDVALIDITY"), list)
                       else info.get(b"UIDVALIDITY", 0))
        uidnext = int(info.get(b"UIDNEXT", 0) or 0)
        if uidnext and after >= uidnext - 1:
            return FolderView(validity, [], max(after, uidnext - 1))
        uids = sorted(u for u in self.client.search(["UID", f"{after + 1}:*"]) if u > after)
        return FolderView(validity, [str(u) for u in uids], max([after, *uids, uidnext - 1]))

    # -- messages ------------------------------------------------------------------------------------------
    def fetch(self, folder: str, uids: list[str]) -> Iterator[FetchedMessage]:
        if self._selected != folder:
            self._select(folder)
        for chunk in _chunks([int(u) for u in uids], 200):
            response = self.client.fetch(chunk, [_BODY, b"FLAGS"])
            for uid in chunk:
                data = response.get(uid)
                if data is None:
                    continue
                raw = next((v for k, v in data.items() if k.startswith(b"BODY[")), b"") or b""
                yield FetchedMessage(str(uid), bytes(raw), b"\\Seen" in data.get(b"FLAGS", ()))

    def move(self, folder: str, uids: list[str], target: str) -> dict[str, str]:
        if self._selected != folder:
            self._select(folder)
        numbers = [int(u) for u in uids]
        for chunk in _chunks(numbers):
            if self.can_move_atomically:
                self.client.move(chunk, target)
            else:
                self.client.copy(chunk, target)
                self.client.add_flags(chunk, [b"\\Deleted"], silent=True)
                self.client.uid_expunge(chunk)  # exactly these UIDs, never a bare EXPUNGE
        return {}

    def finish_interrupted_move(self, folder: str, uid: str, target: str, key: str) -> bool:
        """After a crash in the COPY fallback: if the copy reached `target`, remove the original (by UID).

        Only called for moves journaled as copies, so a genuine second copy of a message is never touched.
        """
        if key.startswith("sha:") or not self.locate(target, [key]):
            return False
        self._select(folder)
        self.client.add_flags([int(uid)], [b"\\Deleted"], silent=True)
        self.client.uid_expunge([int(uid)])
        return True

    def locate(self, folder: str, keys: list[str]) -> dict[str, str]:
        """Message-ID → UID in `folder`, for the given keys (one bulk header fetch)."""
        wanted = set(keys)
        if not wanted or not self.client.folder_exists(folder):
            return {}
        self._select(folder)
        parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
        found: dict[str, str] = {}
        response: dict[int, Any] = {}
        for chunk in _chunks(self.client.search(["ALL"]), 1000):
            response.update(self.client.fetch(chunk, [b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]))
        for uid, data in response.items():
            raw = next((v for k, v in data.items() if k.startswith(b"BODY[")), b"") or b""
            mid = str(parser.parsebytes(bytes(raw)).get("message-id", "")).strip()
            if mid in wanted:
                found.setdefault(mid, str(uid))
        return found

    def exists(self, folder: str, uids: list[str]) -> set[str]:
        if not uids or not self.client.folder_exists(folder):
            return set()
        self._select(folder)
        present: set[str] = set()
        for chunk in _chunks(sorted(int(u) for u in uids)):
            present |= {str(u) for u in self.client.search(["UID", ",".join(str(u) for u in chunk)])}
        return present & set(uids)

    def seen_flags(self, folder: str) -> dict[str, bool]:
        info = self._select(folder)
        cached = self._flags.get(folder)
        modifiers = None
        if self.condstore and cached is not None and folder in self._modseq:
            modifiers = [f"CHANGEDSINCE {self._modseq[folder]}"]
        flags = dict(cached or {})
        uids = self.client.search(["ALL"]) if info.get(b"EXISTS") else []
        if cached is not None:
            present = set(uids)
            flags = {u: v for u, v in flags.items() if int(u) in present}  # expunged or moved away meanwhile
        response: dict[int, Any] = {}
        for chunk in _chunks(uids, 1000):
            response.update(self.client.fetch(chunk, [b"FLAGS"], modifiers=modifiers))
        for uid, data in response.items():
            flags[str(uid)] = b"\\Seen" in data.get(b"FLAGS", ())
        if self.condstore and b"HIGHESTMODSEQ" in info:
            self._modseq[folder] = int(info[b"HIGHESTMODSEQ"])
            self._flags[folder] = flags
        return flags

    def close(self) -> None:
        with contextlib.suppress(IMAPClientError, OSError):
            self.client.logout()
