"""The vault: records (collection, id) → JSON, encrypted in an append-only frame log.

One write appends one frame (O(1) however many records there are); reads come from an in-memory index of
offsets, kept current by following the log under the home lock, so the TUI and the daemon can share one vault.
Files are 0600 in a 0700 directory.

A change and its audit entry commit together or not at all. The change's frame is staged in `vault.log` (written
and synced past the commit), then its audit entry, naming those exact bytes, is committed in `audit.log`: that is
the commit point. Then `vault.log`'s own commit record follows. A process killed between the two leaves an entry
whose bytes are staged; whoever takes the lock next commits them (`_settle`). A write that fails before the entry
(a full disk) is not committed, so a retry applies once. Every frame names the audit log's head when it was
written and every entry names the vault's commit counter, and an anchor outside both files remembers their heads:
an older copy of either file, of both, or of a commit record is refused (`butler.vault.freshness`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler import paths
from butler.atomic import fsync_dir
from butler.errors import (
    AuditError,
    RecordConflict,
    UsageError,
    VaultCorrupt,
    VaultExists,
    VaultNotFound,
    VaultRolledBack,
)
from butler.log import register_secret
from butler.vault import crypto
from butler.vault.audit import AuditHead, AuditLog
from butler.vault.framelog import FrameLog, create_log, header_key_id, staging_path, write_log
from butler.vault.freshness import Anchor, AnchorStore, FileAnchors, Head
from butler.vault.keyfile import KeyFile
from butler.vault.lock import HomeLock

__all__ = ["AnchorFactory", "Record", "Vault", "VaultStatus"]

log = logging.getLogger(__name__)

MAGIC = b"BTLRVLT\x00"
COMPACT_MIN_BYTES = 1 << 20
META = "_meta"
AUDIT_KEY_ID = "audit-key"  # the audit signing key: a record, so a key rotation carries it over
HEAD_ID = "head"  # written last by a rewrite, so the newest frame names the audit log's head

AnchorFactory = Callable[[bytes], Sequence[AnchorStore]]


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

    def __init__(self, home: Path, data_key: bytes, *, lock_timeout: float = 10.0,
                 anchors: AnchorFactory | None = None, trust_files: bool = False) -> None:
        """Open the vault in `home` with `data_key`. `anchors` gives the freshness anchors for a vault id (default:
        a file in the platform's state directory). `trust_files` opens files older than their anchor or than each
        other (for `accept_rollback` only)."""
        self.home = home
        register_secret(data_key.hex())
        self._key = data_key
        if not paths.vault_log_path(home).exists():
            raise VaultNotFound(f"no vault in {home}")
        self.lock = HomeLock(paths.lock_path(home), timeout=lock_timeout)
        self._index: dict[str, dict[str, _Slot]] = {}
        self._live = 0
        self._last_op: tuple[int, dict[str, Any]] | None = None  # the newest frame: it names the audit head
        self._audit_key: bytes | None = None
        self._anchor_factory = anchors or _file_anchors(home)
        self._anchor_stores: list[AnchorStore] = []
        self._trusting = trust_files
        self._quiet_anchor = False  # inside a change: the anchor is written once, after the vault's commit
        from butler.vault import migrations

        try:
            # Opening is a read: one shared hold. Only unfinished work (a rewrite or rotation cut short, a change
            # whose vault commit was cut short, a schema migration) takes the exclusive lock, once, so opening never
            # queues twice behind busy writers.
            with self.lock.shared():
                settled = not _replacements_pending(home)
                if settled:
                    self._open_logs()
                    settled = self._check(settle=False) and migrations.up_to_date(self)
            if not settled:
                with self.lock.exclusive():
                    _finish_interrupted_replacements(home, data_key)
                    if not hasattr(self, "_log"):
                        self._open_logs()
                    self._check(settle=True)
                    migrations.apply_migrations(self)
        except BaseException:
            self.close()
            raise

    def _open_logs(self) -> None:
        """Open the record log and the audit log and read the records' index. Caller holds the lock."""
        self._log = FrameLog(paths.vault_log_path(self.home), MAGIC, self._key, b"records")
        self.audit = AuditLog(paths.audit_path(self.home), self._key, self.lock)
        self.audit.signing_key = self._signing_key
        self.audit.binder = self._bind_audit_entry
        self.audit.on_commit = self._audit_committed
        self._anchor_stores = list(self._anchor_factory(self._log.vault_id))
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
        vault = cls(home, data_key)  # the migrations give it its audit signing key
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
                self._index, self._live, self._last_op = {}, 0, None
                continue
            op = self._decode(plaintext, offset)
            self._apply(offset, op, len(plaintext))
            self._last_op = (offset, op)

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
        """Store `data`. With `expected_version`, refuse (RecordConflict) if the record changed meanwhile.

        The change and its audit entry commit together (without `audit`, there is no entry): when this raises,
        nothing was committed."""
        _check_name("collection", collection)
        _check_name("record", record_id)
        with self.lock.exclusive():
            audit_head = self._settle()
            current = self._index.get(collection, {}).get(record_id)
            version = current.version if current else 0
            if expected_version is not None and expected_version != version:
                raise RecordConflict(f"{collection}/{record_id} is at version {version}, not {expected_version}")
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            op = {"op": "put", "c": collection, "i": record_id, "v": version + 1, "t": now, "d": data}
            entry = ("vault.put", f"{collection}/{record_id}", {"version": version + 1}) if audit else None
            self._commit_op(op, audit_head, entry)
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
        """Remove a record, with its audit entry, together; False when there was none."""
        with self.lock.exclusive():
            audit_head = self._settle()
            if record_id not in self._index.get(collection, {}):
                return False
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            op = {"op": "del", "c": collection, "i": record_id, "t": now}
            self._commit_op(op, audit_head, ("vault.delete", f"{collection}/{record_id}", {}))
            return True

    def _commit_op(self, op: dict[str, Any], audit_head: AuditHead,
                   entry: tuple[str, str, dict[str, Any]] | None) -> None:
        """Stage the frame, commit its audit entry (the commit point), then the vault's own commit record."""
        op["a"] = _binding(audit_head, audited=entry is not None)
        payload = json.dumps(op, separators=(",", ":"), ensure_ascii=False).encode()
        staged = self._log.stage([payload])
        if entry is not None:
            action, subject, details = entry
            self._quiet_anchor = True
            try:
                self.audit.append(action, subject, details, change={
                    "log": self._log.file_id, "at": staged.start, "end": staged.end, "seq": staged.seq,
                    "sha256": staged.sha256})
            finally:
                self._quiet_anchor = False
        self._log.commit(staged)
        self._apply(staged.offsets[0], op, len(payload))
        self._last_op = (staged.offsets[0], op)
        self._save_anchors()

    # -- the audit log's side of a change -------------------------------------------------------------------
    def _settle(self) -> AuditHead:
        """Follow both logs to their end and commit a change whose audit entry committed but whose vault commit
        was cut short. Caller holds the lock exclusive. Returns the audit log's head."""
        self._follow()
        head = self.audit.follow()
        change = head.entry.vault if head.entry else None
        if (change and "at" in change and change.get("log") == self._log.file_id
                and self._log.committed_length == change["at"]):
            done = self._log.commit_staged_on_disk(change["at"], change["end"], change["seq"], change["sha256"])
            if done:
                log.info("committed a change whose writer stopped before its vault commit (audit entry %d)",
                         head.entry.seq if head.entry else -1)
                self._follow()
            elif not self._trusting:
                raise VaultRolledBack(
                    f"{self._log.path} does not hold the change audit entry {head.entry.seq if head.entry else '?'} "
                    f"records ({change.get('action', 'a write')} at byte {change['at']}): vault.log is older "
                    "than audit.log")
        return head

    def _bind_audit_entry(self) -> dict[str, Any]:
        """What every audit entry says of the vault: its commit counter (after settling a cut-short change)."""
        self._settle()
        return {"seq": self._log.commit_seq}

    def _audit_committed(self, head: AuditHead) -> None:
        if not self._quiet_anchor:
            self._save_anchors(head)

    def _signing_key(self) -> bytes | None:
        if self._audit_key is None:
            slot = self._index.get(META, {}).get(AUDIT_KEY_ID)
            if slot is not None:
                op = self._decode(self._log.read_at(slot.offset), slot.offset)
                try:
                    self._audit_key = base64.b64decode(op["d"]["key"], validate=True)
                except (KeyError, TypeError, ValueError):
                    raise VaultCorrupt(f"{self._log.path}: the audit signing key record is unreadable") from None
                register_secret(op["d"]["key"])
        return self._audit_key

    def make_audit_key(self) -> None:
        """Give the vault its audit signing key, once (a migration calls this)."""
        with self.lock.exclusive():
            self._follow()
            if AUDIT_KEY_ID not in self._index.get(META, {}):
                key = base64.b64encode(os.urandom(32)).decode()
                register_secret(key)
                self.put(META, AUDIT_KEY_ID, {"key": key}, audit=False)

    # -- freshness ------------------------------------------------------------------------------------------
    def _check(self, *, settle: bool) -> bool:
        """Check that vault.log and audit.log agree with each other and are not older than their anchors; raise
        the anchors when the files are ahead. Returns False when a cut-short change waits for `settle` (which
        needs the lock exclusive). Caller holds the lock."""
        anchors = [a for store in self._anchor_stores if (a := store.load()) is not None]
        binding = self._last_op[1].get("a") if self._last_op else None
        hints = [a.head.audit_last for a in anchors if a.head.audit_last is not None]
        if isinstance(binding, dict):
            hints += [v for v in (binding.get("last"), binding.get("len")) if isinstance(v, int)]
        head = self.audit.tail(hints)
        change = head.entry.vault if head.entry else None
        if (change and "at" in change and change.get("log") == self._log.file_id
                and self._log.committed_length == change["at"]):
            if not settle:
                return False
            head = self._settle()
            binding = self._last_op[1].get("a") if self._last_op else None
            change = head.entry.vault if head.entry else None
        if not self._trusting:
            self._check_bindings(head, change, binding)
            for anchor in anchors:
                self._check_anchor(anchor, head)
        self._raise_anchors(anchors, head)
        return True

    def _check_bindings(self, head: AuditHead, change: dict[str, Any] | None, binding: Any) -> None:
        vault_name, audit_name = self._log.path.name, self.audit_path.name
        seq = self._log.commit_seq
        if change and isinstance(change.get("seq"), int) and change["seq"] > seq:
            raise VaultRolledBack(
                f"{vault_name} is older than {audit_name}: it holds {seq} commits, but audit entry "
                f"{head.entry.seq if head.entry else '?'} was written when it held {change['seq']}")
        if not isinstance(binding, dict) or not isinstance(binding.get("len"), int):
            return  # a vault written before the files were bound to each other
        needed = binding["len"] + (1 if binding.get("audited") else 0)
        if head.length < needed:
            raise VaultRolledBack(
                f"{audit_name} is older than {vault_name}: the last change in {vault_name} follows "
                f"{binding['len']} bytes of audit log, but {audit_name} holds {head.length}")
        last = binding.get("last")
        if isinstance(last, int) and self._entry_hash(last) != binding.get("head"):
            raise VaultRolledBack(
                f"{audit_name} is not the one {vault_name} was written with: its entry at byte {last} differs")

    def _check_anchor(self, anchor: Anchor, head: AuditHead) -> None:
        remembered, where = anchor.head, anchor.where
        if self._log.commit_seq < remembered.vault_seq:
            raise VaultRolledBack(
                f"{self._log.path.name} is older than this vault has been: it holds {self._log.commit_seq} "
                f"commits, but {remembered.vault_seq} were seen (anchor in {where})")
        if head.length < remembered.audit_length:
            raise VaultRolledBack(
                f"{self.audit_path.name} is older than this vault has been: {head.length} bytes, but "
                f"{remembered.audit_length} were seen (anchor in {where})")
        if remembered.audit_last is not None and self._entry_hash(remembered.audit_last) != remembered.audit_hash:
            raise VaultRolledBack(
                f"{self.audit_path.name} was rewritten: its entry at byte {remembered.audit_last} is not the one "
                f"seen there (anchor in {where})")

    def _entry_hash(self, offset: int) -> str | None:
        try:
            return self.audit.entry_at(offset).hash
        except (VaultCorrupt, AuditError):
            return None

    def _head(self, audit: AuditHead) -> Head:
        return Head(self._log.commit_seq, audit.length, audit.last, audit.hash)

    def _raise_anchors(self, anchors: list[Anchor], audit: AuditHead) -> None:
        head = self._head(audit)
        found = {a.where for a in anchors}
        for store in self._anchor_stores:
            current = next((a for a in anchors if a.where == store.name), None)
            if current is None or head.ahead_of(current.head):
                if current is None and store.name not in found:
                    log.info("no freshness anchor for %s in %s yet: the files are trusted as they are",
                             self.home, store.name)
                store.save(head)

    def _save_anchors(self, audit: AuditHead | None = None) -> None:
        head = self._head(audit or AuditHead(self.audit.committed_length, self.audit.last_offset,
                                             self.audit.last_entry))
        for store in self._anchor_stores:
            store.save(head)

    def settle(self) -> None:
        """Follow both logs to their end (committing a cut-short change), under the exclusive lock."""
        with self.lock.exclusive():
            self._settle()

    @property
    def commit_seq(self) -> int:
        """The commit counter of vault.log, as far as this process followed it."""
        return self._log.commit_seq

    @property
    def committed_length(self) -> int:
        """The committed bytes of vault.log, as far as this process followed it."""
        return self._log.committed_length

    @property
    def anchor_factory(self) -> AnchorFactory:
        return self._anchor_factory

    @property
    def audit_path(self) -> Path:
        return paths.audit_path(self.home)

    def accept_rollback(self, by: str = "person") -> dict[str, Any]:
        """Take the files as they are as the newest state (open the vault with `trust_files=True` for this):
        bind them to each other again, write the anchors and record it in the audit log. Returns what the anchors
        remembered before."""
        with self.lock.shared():
            before = [{**a.head.__dict__, "where": a.where}
                      for store in self._anchor_stores if (a := store.load()) is not None]
        self.rebind("vault.rollback-accepted", "", {"anchors_were": before, "vault_commits": self.commit_seq},
                    actor=by)
        return {"anchors_were": before, "vault_commits": self.commit_seq}

    def rebind(self, action: str, subject: str, details: dict[str, Any], actor: str = "person") -> None:
        """Bind the files as they are to each other and to fresh anchors, and record why (an import, an accepted
        rollback). Only for a vault opened with `trust_files=True`."""
        with self.lock.exclusive():
            self._trusting = True
            try:
                self.mark_head()
                self.audit.append(action, subject, details, actor=actor)
            finally:
                self._trusting = False
            self._save_anchors()

    def mark_head(self) -> None:
        """Write a frame that names the audit log's head as it is now (after a rewrite, or to accept a rollback)."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        self.put(META, HEAD_ID, {"at": now}, audit=False)

    # -- maintenance -----------------------------------------------------------------------------------
    def _maybe_compact(self) -> None:
        size = self._log.committed_length
        if size > COMPACT_MIN_BYTES and self._live * 3 < size:
            self.compact()

    def compact(self) -> None:
        """Rewrite the log with only live records (atomic replace); others follow the new file."""
        with self.lock.exclusive():
            self._settle()
            self._rewrite()
            self.mark_head()
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
        write_log(temp, MAGIC, self._log.vault_id, self._key, b"records", self._live_payloads(),
                  after_seq=self._log.commit_seq)
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


def _binding(audit: AuditHead, *, audited: bool) -> dict[str, Any]:
    """What a record frame says of the audit log: its length and last entry when the frame was written, and
    whether the frame's own audit entry comes next (at that length)."""
    return {"len": audit.length, "last": audit.last, "head": audit.hash, "audited": audited}


def _file_anchors(home: Path) -> AnchorFactory:
    def factory(vault_id: bytes) -> list[AnchorStore]:
        return [FileAnchors(vault_id, home)]

    return factory


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
