"""The audit log: every act of the butler, encrypted, hash-chained, append-only.

Each entry carries the SHA-256 of the previous entry; `verify()` recomputes the chain, so an edit, a deletion
or a reordering is found even by someone holding the key. The frame layer (`framelog`) already refuses bytes
altered without the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler.errors import AuditError, VaultCorrupt
from butler.vault.framelog import FrameLog, create_log
from butler.vault.lock import HomeLock

__all__ = ["GENESIS", "AuditEntry", "AuditLog", "VerifyReport"]

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

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
                "subject": self.subject, "details": self.details, "prev": self.prev}


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    head: str


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Chain:
    """Checks entries one by one against the running hash chain."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.head = GENESIS

    def feed(self, offset: int, plaintext: bytes) -> AuditEntry | None:
        if offset < 0:  # the file was replaced: start over
            self.count, self.head = 0, GENESIS
            return None
        try:
            entry = AuditEntry(**json.loads(plaintext))
        except (ValueError, TypeError) as exc:
            raise VaultCorrupt(f"{self.path}: unreadable audit entry at byte {offset}") from exc
        if entry.seq != self.count or entry.prev != self.head:
            raise AuditError(
                f"audit log broken at entry {self.count}: found entry {entry.seq} "
                "whose predecessor does not match (an entry was removed, inserted or reordered)"
            )
        if _digest(entry.body()) != entry.hash:
            raise AuditError(f"audit entry {entry.seq} does not match its hash (it was edited)")
        self.count += 1
        self.head = entry.hash
        return entry


class AuditLog:
    def __init__(self, path: Path, data_key: bytes, lock: HomeLock) -> None:
        self._lock = lock
        self._path = path
        self._data_key = data_key
        with lock.shared():
            self._log = FrameLog(path, MAGIC, data_key, b"audit")
        self._chain = _Chain(path)

    @staticmethod
    def create(path: Path, vault_id: bytes, data_key: bytes) -> None:
        create_log(path, MAGIC, vault_id, data_key)

    def append(self, action: str, subject: str = "", details: dict[str, Any] | None = None,
               actor: str = "butler") -> AuditEntry:
        """Record one act. Holds the home lock exclusively while it follows the chain and appends."""
        with self._lock.exclusive():
            for offset, plaintext in self._log.follow():
                self._chain.feed(offset, plaintext)
            body = {"seq": self._chain.count, "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                    "actor": actor, "action": action, "subject": subject, "details": details or {},
                    "prev": self._chain.head}
            entry = AuditEntry(**body, hash=_digest(body))  # type: ignore[arg-type]
            payload = json.dumps(entry.__dict__, separators=(",", ":"), ensure_ascii=False).encode()
            offset = self._log.append([payload])[0]
            self._chain.feed(offset, payload)
            return entry

    def entries(self) -> list[AuditEntry]:
        """Every entry from the start, each checked against the chain; raises AuditError or VaultCorrupt."""
        with self._lock.shared():
            log = FrameLog(self._path, MAGIC, self._data_key, b"audit")
            try:
                chain = _Chain(self._path)
                return [e for offset, p in log.follow() if (e := chain.feed(offset, p)) is not None]
            finally:
                log.close()

    def verify(self) -> VerifyReport:
        entries = self.entries()
        return VerifyReport(len(entries), entries[-1].hash if entries else GENESIS)

    def close(self) -> None:
        self._log.close()
