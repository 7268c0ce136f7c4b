"""An IMAP mailbox as a `MailSource`, through IMAPClient (blocking: run it in a worker thread from async code).

LOGIN over TLS unless the host is 127.0.0.1 or plaintext was explicitly allowed. Reads with BODY.PEEK only
(never sets \\Seen). Folder names follow the server's personal NAMESPACE (`INBOX.` on Cyrus and Courier) and
hierarchy separator. Moves with UID MOVE; without MOVE, UID COPY, then a check that each copy is there (COPYUID,
Message-ID and size), then \\Deleted + UID EXPUNGE of exactly the verified originals (UIDPLUS), never a bare
EXPUNGE. Uses CONDSTORE, where offered, to skip re-reading unchanged flags.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable, Generator, Iterator
from typing import Any

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError, LoginError  # type: ignore[import-untyped]

from butler.log import register_secret
from butler.mail.errors import MailAuthError, MailConfigError, MailConnectionLost, MailSourceError, absent_unless_lost
from butler.mail.fetching import body_of, fetch_ahead, fetch_chunk, fetch_items, uid_text
from butler.mail.message import BODY_PREFIX, read_facts
from butler.mail.pipeline import Pipeline, Sent, failed
from butler.mail.settings import MailSettings, is_loopback
from butler.mail.sources import (
    FetchedMessage,
    FolderInfo,
    FolderView,
    Identity,
    Moved,
    Peeked,
    match_identities,
    message_key,
)

__all__ = ["BODY_ITEM", "FETCH_BATCH", "ImapSource"]

BODY_ITEM = f"BODY.PEEK[]<0.{BODY_PREFIX}>".encode()  # what classification reads: the first 256 KiB, unseen
FETCH_BATCH = 200  # messages per FETCH command
MOVE_BATCH = 2000  # messages per MOVE command, their UIDs folded into ranges
_BODY = BODY_ITEM
_HEADER = b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"
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
        self._read_only = False  # the selected folder was opened with EXAMINE: nothing in it can change
        self.flag_cache: dict[str, Any] = {}  # folder → {validity, modseq, flags}: see seen_flags
        try:
            context = ssl.create_default_context() if settings.tls else None
            self._client = IMAPClient(settings.host, port=settings.imap_port, ssl=settings.tls,
                                      ssl_context=context, timeout=timeout)
        except (OSError, IMAPClientError) as exc:
            raise MailSourceError(f"cannot reach {settings.host}:{settings.imap_port}: {exc}") from None
        self._pipeline = Pipeline(self._client._imap)  # FETCH and MOVE sent ahead (`fetch_batches`, `start_move`)
        try:
            self.client.login(settings.username, password)
        except LoginError:
            self.client.shutdown()
            raise MailAuthError(f"{settings.host} refused the login for {settings.username}") from None
        caps = {c.upper() for c in self.client.capabilities()}
        self.can_move_atomically = b"MOVE" in caps and not force_copy_fallback
        self.condstore = b"CONDSTORE" in caps
        if self.condstore and b"ENABLE" in caps:  # so SELECT reports HIGHESTMODSEQ (Dovecot waits to be asked)
            with contextlib.suppress(IMAPClientError):
                self.client.enable("CONDSTORE")
        self.objectid = b"OBJECTID" in caps
        if not self.can_move_atomically and b"UIDPLUS" not in caps:
            raise MailSourceError("this server offers neither MOVE nor UIDPLUS; butler will not risk an EXPUNGE "
                                  "that could remove other messages")
        self.prefix, self.separator = self._namespace(b"NAMESPACE" in caps)

    @property
    def client(self) -> Any:
        """The IMAPClient, every answer to a command sent ahead read first."""
        if self._pipeline.broken:
            raise MailConnectionLost(self._pipeline.broken)
        if self._pipeline.busy:
            self._pipeline.settle()
        return self._client

    def _namespace(self, offered: bool) -> tuple[str, str]:
        """The personal namespace's prefix and hierarchy separator (RFC 2342), else "" and INBOX's separator."""
        if offered:
            with contextlib.suppress(IMAPClientError, ValueError, TypeError):
                personal = self.client.namespace().personal
                if personal:
                    prefix, separator = personal[0]
                    return str(prefix or ""), str(separator or "/")
        with contextlib.suppress(IMAPClientError):
            for _, delimiter, _name in self.client.list_folders("", "INBOX"):
                if delimiter:
                    return "", delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)
        return "", "/"

    # -- folders -------------------------------------------------------------------------------------------
    def _select(self, folder: str, *, read_only: bool = False) -> dict[bytes, Any]:
        client = self.client
        self._selected = None  # until the server says which folder is open
        try:
            info: dict[bytes, Any] = client.select_folder(folder, readonly=read_only)
        except IMAPClientError as exc:
            raise failed(f"opening folder {folder!r}", exc) from None
        self._selected, self._read_only = folder, read_only
        return info

    def _writable(self, folder: str) -> None:
        """`folder` selected read-write (SELECT), for a command that changes it."""
        if self._selected != folder or self._read_only:
            self._select(folder)

    def folders(self) -> list[FolderInfo]:
        try:
            listed = self.client.list_folders()
        except IMAPClientError as exc:
            raise failed("listing the folders", exc) from None
        return [FolderInfo(str(name), frozenset(f.decode().lower() if isinstance(f, bytes) else str(f).lower()
                                                for f in flags))
                for flags, _, name in listed]

    def qualify(self, name: str) -> str:
        if name.upper() == "INBOX":
            return "INBOX"
        if self.separator != "/":
            name = name.replace("/", self.separator)
        if self.prefix and not name.upper().startswith(self.prefix.upper()):
            return self.prefix + name
        return name

    def create_folder(self, name: str) -> None:
        try:
            self.client.create_folder(name)
        except IMAPClientError as exc:
            raise failed(f"creating folder {name!r}", exc) from None
        with contextlib.suppress(IMAPClientError):
            self.client.subscribe_folder(name)

    def folder_identity(self, name: str) -> str:
        what = [b"MAILBOXID", b"UIDVALIDITY"] if self.objectid else [b"UIDVALIDITY"]
        try:
            status = self.client.folder_status(name, what)
        except IMAPClientError as exc:
            return absent_unless_lost(exc, "")
        mailbox_id = status.get(b"MAILBOXID")
        if mailbox_id:
            value = mailbox_id[0] if isinstance(mailbox_id, list | tuple) else mailbox_id
            return "id:" + (value.decode() if isinstance(value, bytes) else str(value)).strip("()")
        return f"uidvalidity:{status.get(b'UIDVALIDITY', '')}"

    def count_keys(self, folder: str, keys: list[str]) -> int:
        try:
            self._select(folder)
            return sum(1 for key in keys if self.client.search(["HEADER", "MESSAGE-ID", key]))
        except (IMAPClientError, MailSourceError) as exc:
            return absent_unless_lost(exc, 0)

    def status(self, folder: str) -> tuple[str, int]:
        try:
            status = self.client.folder_status(folder, [b"UIDVALIDITY", b"UIDNEXT"])
        except IMAPClientError as exc:
            raise failed(f"reading folder {folder!r}", exc) from None
        return str(status.get(b"UIDVALIDITY", 0)), int(status.get(b"UIDNEXT", 0) or 0)

    def view(self, folder: str, after: int, *, read_only: bool = False) -> FolderView:
        info = self._select(folder, read_only=read_only)
        raw_validity = info.get(b"UIDVALIDITY", 0)
        validity = str(raw_validity[0] if isinstance(raw_validity, list) else raw_validity)
        uidnext = int(info.get(b"UIDNEXT", 0) or 0)
        if uidnext and after >= uidnext - 1:
            return FolderView(validity, [], max(after, uidnext - 1))
        uids = sorted(u for u in self.client.search(["UID", f"{after + 1}:*"]) if u > after)
        return FolderView(validity, [str(u) for u in uids], max([after, *uids, uidnext - 1]))

    # -- messages ------------------------------------------------------------------------------------------
    def fetch(self, folder: str, uids: list[str]) -> Iterator[FetchedMessage]:
        if self._selected != folder:
            self._select(folder)
        for chunk in _chunks([int(u) for u in uids], FETCH_BATCH):
            yield from fetch_chunk(self.client, chunk, _BODY)

    def fetch_batches(self, folder: str, batches: list[list[str]]) -> Generator[list[FetchedMessage], None, None]:
        """Each batch's messages, in order; the next batch's FETCH is on its way while the caller judges one."""
        def send(uids: list[int]) -> Sent:
            if self._selected != folder:  # something else selected another folder meanwhile
                self._select(folder)
            return self._pipeline.send("FETCH", uid_text(uids), fetch_items(_BODY))

        def again(uids: list[int]) -> list[FetchedMessage]:
            return list(self.fetch(folder, [str(u) for u in uids]))

        yield from fetch_ahead(self._pipeline, send, again, batches, FETCH_BATCH)

    def _run(self, what: str, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except IMAPClientError as exc:
            raise failed(what, exc) from None

    def start_move(self, folder: str, uids: list[str], target: str) -> Callable[[], Moved]:
        """UID MOVE now, in commands of MOVE_BATCH folded UIDs (each costs the server a sync); the answer when
        called. Without COPYUID the new uids stay unknown: undo and recovery find those messages by identity."""
        self._writable(folder)
        name = self._client._normalise_folder(target)
        sent = [(set(chunk), self._pipeline.send("MOVE", uid_text(chunk), name))
                for chunk in _chunks(sorted(int(u) for u in uids), MOVE_BATCH)]

        def answer() -> Moved:
            validity, mapping = "", {}
            for chunk, command in sent:
                if self._pipeline.wait(command).kind != "OK":
                    raise MailSourceError(f"moving to {target!r} failed: {command.text}")
                moved = self._pipeline.claim(chunk)
                if moved is not None:
                    validity = moved.validity
                    mapping.update(moved.uids)
            return Moved(validity or self.status(target)[0], mapping)
        return answer

    def move(self, folder: str, uids: list[str], target: str) -> Moved:
        return self.start_move(folder, uids, target)()

    def copy(self, folder: str, uids: list[str], target: str) -> Moved:
        self._writable(folder)
        validity, uidnext = self.status(target)
        mapping: dict[str, str] = {}
        for chunk in _chunks([int(u) for u in uids]):
            self._run(f"copying to {target!r}", self.client.copy, chunk, target)
            self._pipeline.copyuids += self._client._imap.untagged_responses.pop("COPYUID", [])
            answer = self._pipeline.claim(set(chunk))  # the answers about exactly these UIDs
            if answer is not None:
                validity = answer.validity
                mapping.update(answer.uids)
        missing = [u for u in uids if u not in mapping]
        if missing and uidnext:  # no COPYUID: the copies are the new messages (uid ≥ UIDNEXT) of the same identity
            originals = self.identities(folder, missing)
            found = self.identities(target, None, from_uid=uidnext)
            mapping.update(match_identities(originals, found, set(mapping.values())))
        return Moved(validity, mapping)

    def verify(self, folder: str, target: str, mapping: dict[str, str]) -> dict[str, str]:
        """The pairs original uid → copy uid whose copy is in `target` with the original's Message-ID and size."""
        if not mapping:
            return {}
        copies = self.identities(target, list(mapping.values()))
        originals = self.identities(folder, list(mapping))
        return {old: new for old, new in mapping.items()
                if old in originals and copies.get(new) == originals[old]}

    def expunge(self, folder: str, uids: list[str]) -> None:
        if not uids:
            return
        self._writable(folder)
        for chunk in _chunks([int(u) for u in uids]):
            self._run("flagging copied originals", self.client.add_flags, chunk, [b"\\Deleted"], True)
            self._run("expunging copied originals", self.client.uid_expunge, chunk)  # exactly these UIDs

    def undelete(self, folder: str, uids: list[str]) -> None:
        if not uids:
            return
        self._select(folder)
        for chunk in _chunks([int(u) for u in uids]):
            self._run("clearing \\Deleted", self.client.remove_flags, chunk, [b"\\Deleted"], True)

    def transfer(self, folder: str, uids: list[str], target: str) -> Moved:
        if self.can_move_atomically:
            return self.move(folder, uids, target)
        copied = self.copy(folder, uids, target)
        verified = self.verify(folder, target, copied.uids)
        self.expunge(folder, list(verified))
        return Moved(copied.validity, verified)

    def identities(self, folder: str, uids: list[str] | None = None, *, from_uid: int = 0) -> dict[str, Identity]:
        self._select(folder)
        if uids is None:
            numbers = [u for u in self.client.search(["UID", f"{max(from_uid, 1)}:*"]) if u >= from_uid]
        else:
            numbers = sorted({int(u) for u in uids})
        out: dict[str, Identity] = {}
        no_id: list[int] = []
        for chunk in _chunks(numbers, 1000):
            for uid, data in self.client.fetch(chunk, [_HEADER, b"RFC822.SIZE"]).items():
                header = body_of(data)
                mid = read_facts(header + b"\r\n").message_id if header.strip() else ""
                size = int(data.get(b"RFC822.SIZE", 0))
                if mid.strip():
                    out[str(uid)] = Identity(message_key(mid, ""), size)
                else:
                    no_id.append(uid)
        for chunk in _chunks(no_id, 100):  # no Message-ID: the key is a hash of the first bytes
            for uid, data in self.client.fetch(chunk, [_BODY, b"RFC822.SIZE"]).items():
                facts = read_facts(body_of(data))
                out[str(uid)] = Identity(message_key("", facts.fingerprint), int(data.get(b"RFC822.SIZE", 0)))
        return out

    def exists(self, folder: str, uids: list[str]) -> set[str]:
        if not uids:
            return set()
        try:
            self._select(folder)
        except MailSourceError as exc:
            return absent_unless_lost(exc, set())
        present: set[str] = set()
        for chunk in _chunks(sorted(int(u) for u in uids)):
            present |= {str(u) for u in self.client.search(["UID", ",".join(str(u) for u in chunk)])}
        return present & set(uids)

    def seen_flags(self, folder: str) -> dict[str, bool]:
        """uid → \\Seen for every message in `folder`. With CONDSTORE, only flags changed since the last call are
        fetched; `flag_cache` holds what is known (the sweep keeps it in its state between runs)."""
        info = self._select(folder)
        raw_validity = info.get(b"UIDVALIDITY", 0)
        validity = str(raw_validity[0] if isinstance(raw_validity, list) else raw_validity)
        cached = self.flag_cache.get(folder)
        if not isinstance(cached, dict) or cached.get("validity") != validity:
            cached = None
        modifiers = None
        if self.condstore and cached is not None:
            modifiers = [f"CHANGEDSINCE {int(cached['modseq'])}"]
        flags: dict[str, bool] = dict(cached["flags"]) if cached is not None else {}
        uids = self.client.search(["ALL"]) if info.get(b"EXISTS") else []
        if cached is None:  # two SEARCHes instead of a FETCH of every message's flags
            seen = set(self.client.search(["SEEN"])) if uids else set()
            flags = {str(uid): uid in seen for uid in uids}
        else:
            present = {str(u) for u in uids}
            flags = {u: v for u, v in flags.items() if u in present}  # expunged or moved away meanwhile
            response: dict[int, Any] = {}
            for chunk in _chunks(uids, 1000):
                response.update(self.client.fetch(chunk, [b"FLAGS"], modifiers=modifiers))
            for uid, data in response.items():
                flags[str(uid)] = b"\\Seen" in data.get(b"FLAGS", ())
        if self.condstore and b"HIGHESTMODSEQ" in info:
            self.flag_cache[folder] = {"validity": validity, "modseq": int(info[b"HIGHESTMODSEQ"]), "flags": flags}
        return flags

    def find_message(self, folder: str, message_id: str) -> list[str]:
        if not message_id.isascii():  # IMAP SEARCH takes ASCII here; such a message is not looked for
            return []
        try:
            self._select(folder, read_only=True)
            return [str(u) for u in self.client.search(["HEADER", "MESSAGE-ID", message_id])]
        except (MailSourceError, IMAPClientError) as exc:
            return absent_unless_lost(exc, [])

    def fetch_whole(self, folder: str, uid: str, limit: int) -> bytes | None:
        if self._selected != folder or not self._read_only:
            self._select(folder, read_only=True)
        try:
            size = self.client.fetch([int(uid)], [b"RFC822.SIZE"]).get(int(uid), {}).get(b"RFC822.SIZE")
            if size is None or int(size) > limit:
                return None
            data = self.client.fetch([int(uid)], [b"BODY.PEEK[]"]).get(int(uid))
        except IMAPClientError as exc:
            raise failed(f"fetching message {uid} of {folder!r}", exc) from None
        return body_of(data) if data else None

    def peek(self, folder: str, fields: tuple[str, ...], newest: int) -> list[Peeked]:
        try:  # EXAMINE: the server itself guarantees that nothing in the folder changes
            info = self._select(folder, read_only=True)
        except MailSourceError as exc:
            return absent_unless_lost(exc, [])
        if not newest or not info.get(b"EXISTS"):
            return []
        uids = sorted(self.client.search(["ALL"]))[-newest:]
        item = f"BODY.PEEK[HEADER.FIELDS ({' '.join(f.upper() for f in fields)})]".encode()
        out: list[Peeked] = []
        for chunk in _chunks(uids, 1000):
            for uid, data in self.client.fetch(chunk, [item, b"FLAGS"]).items():
                flags = data.get(b"FLAGS", ())
                out.append(Peeked(str(uid), body_of(data), b"\\Seen" in flags, b"\\Flagged" in flags))
        return out

    def close(self) -> None:
        with contextlib.suppress(IMAPClientError, OSError, MailSourceError):
            self.client.logout()
