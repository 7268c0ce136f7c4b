"""The audit log: every act of the butler, encrypted, hash-chained, signed, append-only.

Each entry carries the SHA-256 of the previous entry; `verify()` recomputes the chain, so an edit, a deletion
or a reordering is found even by someone holding the key. The frame layer (`framelog`) already refuses bytes
altered without the key. Entries are also signed (HMAC-SHA256) with a key kept as a record in the vault, which a
key rotation carries over; once a log has a signed entry, every later entry must be signed.

An entry written through a vault names where the vault stood (`vault.seq`, its commit counter) and, for a change
of a record, exactly which staged bytes of `vault.log` it records (`at`, `end`, `sha256`): the entry is the commit
point of the change (see `butler.vault.store`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler.errors import AuditError, VaultCorrupt
from butler.vault.framelog import DATA_START, FrameLog, create_log
from butler.vault.lock import HomeLock

__all__ = ["GENESIS", "AuditEntry", "AuditHead", "AuditLog", "VerifyReport", "sign"]

MAGIC = b"BTLRAUD\x00"
GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev: str
    hash: str
    vault: dict[str, Any] | None = None  # where the vault stood; for a change, the staged bytes it commits
    sig: str | None = None

    def body(self) -> dict[str, Any]:
        body = {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "subject": self.subject, "details": self.details, "prev": self.prev}
        if self.vault is not None:
            body["vault"] = self.vault
        return body

    def to_json(self) -> dict[str, Any]:
        data = {**self.body(), "hash": self.hash}
        if self.sig is not None:
            data["sig"] = self.sig
        return data


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    head: str


@dataclass(frozen=True)
class AuditHead:
    """Where the audit log stands: its committed length, its last entry (offset and entry) and that entry's hash."""

    length: int
    last: int | None
    entry: AuditEntry | None

    @property
    def hash(self) -> str:
        return self.entry.hash if self.entry else GENESIS


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def sign(key: bytes, entry_hash: str) -> str:
    return hmac.new(key, b"butler/audit/" + entry_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _parse(path: Path, offset: int, plaintext: bytes) -> AuditEntry:
    try:
        entry = AuditEntry(**json.loads(plaintext))
    except (ValueError, TypeError) as exc:
        raise VaultCorrupt(f"{path}: unreadable audit entry at byte {offset}") from exc
    if _digest(entry.body()) != entry.hash:
        raise AuditError(f"audit entry {entry.seq} does not match its hash (it was edited)")
    return entry


KeySource = Callable[[], bytes | None]


class _Chain:
    """Checks entries one by one against the running hash chain and the signing key."""

    def __init__(self, path: Path, signing_key: KeySource | None = None) -> None:
        self.path = path
        self.signing_key = signing_key
        self.count = 0
        self.head = GENESIS
        self.last: int | None = None
        self.entry: AuditEntry | None = None
        self.signed = False  # a signed entry was seen: every later one must be signed

    def resume(self, offset: int, entry: AuditEntry) -> None:
        """Go on from `entry` at `offset`, checked by the caller, without reading what came before."""
        self.count, self.head, self.last, self.entry = entry.seq + 1, entry.hash, offset, entry
        self.signed = entry.sig is not None

    def feed(self, offset: int, plaintext: bytes) -> AuditEntry | None:
        if offset < 0:  # the file was replaced: start over
            self.count, self.head, self.last, self.entry, self.signed = 0, GENESIS, None, None, False
            return None
        entry = _parse(self.path, offset, plaintext)
        if entry.seq != self.count or entry.prev != self.head:
            raise AuditError(
                f"audit log broken at entry {self.count}: found entry {entry.seq} "
                "whose predecessor does not match (an entry was removed, inserted or reordered)"
            )
        self.check_signature(entry)
        self.count += 1
        self.head = entry.hash
        self.last, self.entry = offset, entry
        return entry

    def check_signature(self, entry: AuditEntry) -> None:
        if entry.sig is None:
            if self.signed:
                raise AuditError(f"audit entry {entry.seq} is not signed, though entries before it are")
            return
        key = self.signing_key() if self.signing_key else None
        if key is None:
            raise AuditError(f"audit entry {entry.seq} is signed, but the vault holds no audit signing key")
        if not hmac.compare_digest(sign(key, entry.hash), entry.sig):
            raise AuditError(f"audit entry {entry.seq} does not match its signature (it was re-chained)")
        self.signed = True


class AuditLog:
    """The open audit log of a vault. A vault sets `binder` (where the vault stands, settled first),
    `signing_key` and `on_commit` (the vault's freshness anchor follows each entry)."""

    def __init__(self, path: Path, data_key: bytes, lock: HomeLock) -> None:
        self._lock = lock
        self._path = path
        self._data_key = data_key
        self.binder: Callable[[], dict[str, Any]] | None = None
        self.signing_key: KeySource | None = None
        self.on_commit: Callable[[AuditHead], None] | None = None
        with lock.shared():
            self._log = FrameLog(path, MAGIC, data_key, b"audit")
        self._chain = _Chain(path, self._key)

    def _key(self) -> bytes | None:
        return self.signing_key() if self.signing_key else None

    @staticmethod
    def create(path: Path, vault_id: bytes, data_key: bytes) -> None:
        create_log(path, MAGIC, vault_id, data_key)

    @property
    def committed_length(self) -> int:
        """Bytes committed, as far as this process followed the log."""
        return self._log.committed_length

    @property
    def last_offset(self) -> int | None:
        return self._chain.last

    @property
    def last_entry(self) -> AuditEntry | None:
        return self._chain.entry

    # -- where the log stands ------------------------------------------------------------------------------
    def follow(self) -> AuditHead:
        """Read the entries committed since the last call, checking the chain; caller holds the lock."""
        for offset, plaintext in self._log.follow():
            self._chain.feed(offset, plaintext)
        return AuditHead(self._log.committed_length, self._chain.last, self._chain.entry)

    def tail(self, hints: Iterable[int] = ()) -> AuditHead:
        """The head of the log, found cheaply: from the furthest `hint` (an entry offset the caller trusts) that
        lies inside the log, or from the start, only the frames' lengths are read up to the last entry, which is
        decrypted and checked, and followed on from. Caller holds the lock."""
        commit = self._log.committed()
        start = DATA_START
        for hint in sorted(set(hints), reverse=True):
            if DATA_START <= hint < commit.length:
                try:
                    self._log.read_at(hint)  # authenticated at this offset: a frame of this very log
                except VaultCorrupt:
                    continue  # another copy of the log: the caller's checks say what is wrong
                start = hint
                break
        last = self._log.last_frame(start, commit.length)
        if last is None:
            self._chain = _Chain(self._path, self._key)
            self._log.resume(DATA_START)
            return self.follow()
        entry = self.entry_at(last)
        self._chain.resume(last, entry)
        self._log.resume(self._log.frame_end(last))
        return self.follow()

    def entry_at(self, offset: int) -> AuditEntry:
        """The entry at `offset`, authenticated and checked against its own hash and signature."""
        entry = _parse(self._path, offset, self._log.read_at(offset))
        _Chain(self._path, self._key).check_signature(entry)
        return entry

    # -- writing -------------------------------------------------------------------------------------------
    def append(self, action: str, subject: str = "", details: dict[str, Any] | None = None,
               actor: str = "butler", *, change: dict[str, Any] | None = None) -> AuditEntry:
        """Record one act. Holds the home lock exclusively while it follows the chain and appends. `change`
        names the staged vault bytes this entry commits (the vault passes it)."""
        with self._lock.exclusive():
            self.follow()
            vault = self.binder() if self.binder else None
            if change is not None:
                vault = {**(vault or {}), **change}
            body: dict[str, Any] = {
                "seq": self._chain.count, "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                "actor": actor, "action": action, "subject": subject, "details": details or {},
                "prev": self._chain.head}
            if vault is not None:
                body["vault"] = vault
            digest = _digest(body)
            key = self._key()
            entry = AuditEntry(**body, hash=digest, sig=sign(key, digest) if key else None)
            payload = json.dumps(entry.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
            offset = self._log.append([payload])[0]
            self._chain.feed(offset, payload)
            if self.on_commit is not None:
                self.on_commit(AuditHead(self._log.committed_length, offset, entry))
            return entry

    # -- reading everything --------------------------------------------------------------------------------
    def entries(self) -> list[AuditEntry]:
        """Every entry from the start, each checked against the chain; raises AuditError or VaultCorrupt."""
        with self._lock.shared():
            log = FrameLog(self._path, MAGIC, self._data_key, b"audit")
            try:
                chain = _Chain(self._path, self._key)
                return [e for offset, p in log.follow() if (e := chain.feed(offset, p)) is not None]
            finally:
                log.close()

    def verify(self) -> VerifyReport:
        entries = self.entries()
        return VerifyReport(len(entries), entries[-1].hash if entries else GENESIS)

    def close(self) -> None:
        self._log.close()
