"""The vault: records (collection, id) → JSON, encrypted in an append-only frame log.

One write appends one frame (O(1) however many records there are); reads come from an in-memory index of
offsets, kept current by following the log under the home lock, so the TUI and the daemon can share one vault.
Every change is also appended to the audit log. Files are 0600 in a 0700 directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler import paths
from butler.atomic import fsync_dir
from butler.errors import RecordConflict, UsageError, VaultCorrupt, VaultExists, VaultNotFound
from butler.log import register_secret
from butler.vault import crypto
from butler.vault.audit import AuditLog
from butler.vault.framelog import FrameLog, create_log, header_key_id, staging_path, write_log
from butler.vault.keyfile import KeyFile
from butler.vault.lock import HomeLock

__all__ = ["Record", "Vault", "VaultStatus"]

MAGIC = b"BTLRVLT\x00"
COMPACT_MIN_BYTES = 1 << 20


@dataclass(frozen=True)
class Record:
    collection: str
    id: str
    version: int
    updated: str
    data: dict[str, Any]


@dataclass(frozen=True)
class _Slot:
    offset: int
    version: int
    size: int


@dataclass(frozen=True)
class VaultStatus:
    home: Path
    vault_id: str
    records: dict[str, int]
    vault_bytes: int
    live_bytes: int
    audit_bytes: int
    audit_entries: int
    kdf: str


def _check_name(kind: str, value: str) -> None:
    if not value or len(value) > 200 or any(ord(ch) < 32 for ch in value):
        raise UsageError(f"invalid {kind} name {value!r}: 1–200 printable characters")


class Vault:
    """An open vault. Use `Vault.create` or `butler.vault.keys.open_vault`; close it (or use `with`)."""

    def __init__(self, home: Path, data_key: bytes, *, lock_timeout: float = 10.0) -> None:
        self.home = home
        register_secret(data_key.hex())
        self._key = data_key
        if not paths.vault_log_path(home).exists():
            raise VaultNotFound(f"no vault in {home}")
        self.lock = HomeLock(paths.lock_path(home), timeout=lock_timeout)
        self._index: dict[str, dict[str, _Slot]] = {}
        self._live = 0
        from butler.vault import migrations

        try:
            # Opening is a read: one shared hold. Only unfinished work (a rewrite or rotation cut short, a schema
            # migration) takes the exclusive lock, once, so opening never queues twice behind busy writers.
            with self.lock.shared():
                settled = not _replacements_pending(home)
                if settled:
                    self._open_logs()
                    settled = migrations.up_to_date(self)
            if not settled:
                with self.lock.exclusive():
                    _finish_interrupted_replacements(home, data_key)
                    if not hasattr(self, "_log"):
                        self._open_logs()
                    migrations.apply_migrations(self)
        except BaseException:
            self.close()
            raise

    def _open_logs(self) -> None:
        """Open the record log and the audit log and read the records' index. Caller holds the lock."""
        self._log = FrameLog(paths.vault_log_path(self.home), MAGIC, self._key, b"records")
        self.audit = AuditLog(paths.audit_path(self.home), self._key, self.lock)
        self._follow()

    @property
    def data_key(self) -> bytes:
        """The data key, for the keyring only; never log or print it."""
        return self._key

    @property
    def vault_id(self) -> bytes:
        """The vault's id, as its log's header names it (and its key file)."""
        return self._log.vault_id

    # -- creation --------------------------------------------------------------------------------------
    @classmethod
    def create(cls, home: Path, passphrase: str, kdf: crypto.KdfParams | None = None) -> Vault:
        """Create a vault in `home`; refuses to touch an existing one."""
        register_secret(passphrase)
        paths.ensure_home(home)
        key_path, log_path, audit_path = (paths.vault_key_path(home), paths.vault_log_path(home),
                                          paths.audit_path(home))
        for existing in (key_path, log_path, audit_path):
            if existing.exists():
                raise VaultExists(f"a vault already exists in {home} ({existing.name})")
        vault_id, data_key = os.urandom(16), os.urandom(crypto.KEY_LEN)
        create_log(log_path, MAGIC, vault_id, data_key)
        AuditLog.create(audit_path, vault_id, data_key)
        KeyFile.wrap(vault_id, data_key, passphrase, kdf or crypto.KdfParams.default()).write(key_path)
        fsync_dir(home)
        vault = cls(home, data_key)
        vault.audit.append("vault.create", vault_id.hex())
        return vault

    @staticmethod
    def key_from_passphrase(home: Path, passphrase: str) -> bytes:
        register_secret(passphrase)
        return KeyFile.read(paths.vault_key_path(home)).unwrap(passphrase)

    # -- reading ---------------------------------------------------------------------------------------
    def _follow(self) -> None:
        for offset, plaintext in self._log.follow():
            if offset < 0:
                self._index, self._live = {}, 0
                continue
            self._apply(offset, self._decode(plaintext, offset), len(plaintext))

    def _apply(self, offset: int, op: dict[str, Any], size: int) -> None:
        bucket = self._index.setdefault(op["c"], {})
        old = bucket.pop(op["i"], None)
        if old is not None:
            self._live -= old.size
        if op["op"] == "put":
            bucket[op["i"]] = _Slot(offset, op["v"], size)
            self._live += size
        if not bucket:
            del self._index[op["c"]]

    def _decode(self, plaintext: bytes, offset: int) -> dict[str, Any]:
        try:
            op: dict[str, Any] = json.loads(plaintext)
            if op["op"] not in ("put", "del") or not isinstance(op["c"], str) or not isinstance(op["i"], str):
                raise ValueError(op["op"])
        except (ValueError, KeyError, TypeError):
            raise VaultCorrupt(f"{self._log.path}: unreadable record at byte {offset}") from None
        return op

    def get(self, collection: str, record_id: str) -> Record | None:
        with self.lock.shared():
            self._follow()
            slot = self._index.get(collection, {}).get(record_id)
            if slot is None:
                return None
            op = self._decode(self._log.read_at(slot.offset), slot.offset)
        if op["c"] != collection or op["i"] != record_id:  # belt and braces: AAD already binds the offset
            raise VaultCorrupt(f"record {collection}/{record_id} points at another record")
        return Record(collection, record_id, op["v"], op["t"], op["d"])

    def ids(self, collection: str) -> list[str]:
        with self.lock.shared():
            self._follow()
            return sorted(self._index.get(collection, {}))

    def records(self, collection: str) -> Iterator[Record]:
        for record_id in self.ids(collection):
            record = self.get(collection, record_id)
            if record is not None:
                yield record

    def collections(self) -> dict[str, int]:
        with self.lock.shared():
            self._follow()
            return {name: len(bucket) for name, bucket in sorted(self._index.items())}

    # -- writing ---------------------------------------------------------------------------------------
    def put(self, collection: str, record_id: str, data: dict[str, Any], *,
            expected_version: int | None = None, audit: bool = True) -> Record:
        """Store `data`. With `expected_version`, refuse (RecordConflict) if the record changed meanwhile."""
        _check_name("collection", collection)
        _check_name("record", record_id)
        with self.lock.exclusive():
            self._follow()
            current = self._index.get(collection, {}).get(record_id)
            version = current.version if current else 0
            if expected_version is not None and expected_version != version:
                raise RecordConflict(f"{collection}/{record_id} is at version {version}, not {expected_version}")
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            op = {"op": "put", "c": collection, "i": record_id, "v": version + 1, "t": now, "d": data}
            self._append(op)
            if audit:
                self.audit.append("vault.put", f"{collection}/{record_id}", {"version": version + 1})
            self._maybe_compact()
            return Record(collection, record_id, version + 1, now, data)

    def update(self, collection: str, record_id: str,
               change: Callable[[dict[str, Any] | None], dict[str, Any]]) -> Record:
        """Read, change and write one record under the exclusive lock: no update is ever lost."""
        with self.lock.exclusive():
            current = self.get(collection, record_id)
            return self.put(collection, record_id, change(current.data if current else None),
                            expected_version=current.version if current else 0)

    def delete(self, collection: str, record_id: str) -> bool:
        with self.lock.exclusive():
            self._follow()
            if record_id not in self._index.get(collection, {}):
                return False
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            self._append({"op": "del", "c": collection, "i": record_id, "t": now})
            self.audit.append("vault.delete", f"{collection}/{record_id}")
            return True

    def _append(self, op: dict[str, Any]) -> None:
        payload = json.dumps(op, separators=(",", ":"), ensure_ascii=False).encode()
        offset = self._log.append([payload])[0]
        self._apply(offset, op, len(payload))

    # -- maintenance -----------------------------------------------------------------------------------
    def _maybe_compact(self) -> None:
        size = self._log.committed_length
        if size > COMPACT_MIN_BYTES and self._live * 3 < size:
            self.compact()

    def compact(self) -> None:
        """Rewrite the log with only live records (atomic replace); others follow the new file."""
        with self.lock.exclusive():
            self._follow()
            self._rewrite()
            self.audit.append("vault.compact", "", {"bytes": self._log.committed_length})

    def _live_payloads(self) -> list[bytes]:
        out = []
        for bucket in self._index.values():
            for slot in bucket.values():
                out.append(self._log.read_at(slot.offset))
        return out

    def _rewrite(self) -> None:
        target = paths.vault_log_path(self.home)
        temp = staging_path(target)
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        write_log(temp, MAGIC, self._log.vault_id, self._key, b"records", self._live_payloads())
        os.replace(temp, target)
        fsync_dir(self.home)
        self._follow()

    def close(self) -> None:
        if hasattr(self, "_log"):  # not yet there when opening failed early
            self._log.close()
        if hasattr(self, "audit"):
            self.audit.close()
        self.lock.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> VaultStatus:
        with self.lock.shared():
            self._follow()
            kf = KeyFile.read(paths.vault_key_path(self.home))
            entries = len(self.audit.entries())
            return VaultStatus(
                home=self.home, vault_id=kf.vault_id.hex(), records=self.collections(),
                vault_bytes=paths.vault_log_path(self.home).stat().st_size, live_bytes=self._live,
                audit_bytes=paths.audit_path(self.home).stat().st_size, audit_entries=entries,
                kdf=kf.kdf.describe(),
            )


def _replacements_pending(home: Path) -> bool:
    """A rewrite or a key rotation left a staged copy beside a log: opening must finish or drop it."""
    return any(staging_path(target).exists() for target in (paths.vault_log_path(home), paths.audit_path(home)))


def _finish_interrupted_replacements(home: Path, data_key: bytes) -> None:
    """Complete a rotation whose key file was switched, or drop a rewrite that never got that far."""
    wanted = crypto.key_id(data_key)
    for target in (paths.vault_log_path(home), paths.audit_path(home)):
        temp = staging_path(target)
        staged = header_key_id(temp)
        if staged is None:
            continue
        if staged == wanted:
            current = header_key_id(target)  # None: there is no `target`
            if current is not None and current != wanted:  # the key file already names the new key: finish the switch
                os.replace(temp, target)
                continue
        temp.unlink()  # an unfinished copy of data that is still in `target`
    fsync_dir(home)
