"""What a mailbox's sweeps remember between runs, under `BUTLER_HOME/mail/<account>/` (files 0600).

`state.json` (atomically replaced): per-folder UIDVALIDITY and last UID, the folders butler uses (`places`),
which messages butler moved and where (by move id: the sweep and the message's inbox UID), which it restored,
per-sender counts, and the learned `Memory`. `journal.jsonl` (append-only, fsynced): every planned, copied,
finished and undone move, so `butler mail undo` can put any message back and a sweep killed half-way can tell
what happened. `sweep.lock`: one sweep or undo per mailbox at a time.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from butler import paths
from butler.atomic import atomic_write
from butler.mail.errors import MailboxBusy
from butler.mail.learn import Memory

__all__ = ["Journal", "MailboxLock", "MailboxState", "account_dir", "now_iso", "uid_ref"]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def account_dir(account: str, home: Path | None = None) -> Path:
    """The directory holding one mailbox's state: a readable slug plus a hash, so any account name is safe."""
    slug = re.sub(r"[^a-z0-9.@-]+", "-", account.lower())[-60:].strip("-") or "mailbox"
    digest = hashlib.sha256(account.encode()).hexdigest()[:10]
    directory = (home or paths.butler_home()) / "mail" / f"{slug}-{digest}"
    paths.private_dir(directory)  # "mail" too, whatever the umask
    return directory


def uid_ref(validity: str, uid: str) -> str:
    """A message's identity in a folder that `restored` and `kept` hold: UIDVALIDITY and UID."""
    return f"uid:{validity}/{uid}"


class MailboxLock:
    """One sweep or undo per mailbox at a time (`flock` on `sweep.lock`); a second one gets MailboxBusy at once."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "sweep.lock"
        self._fd: int | None = None

    def __enter__(self) -> MailboxLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise MailboxBusy("another sweep or undo of this mailbox is running"
                              + (f" (process {holder})" if holder else "")) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


@dataclass
class MailboxState:
    """One mailbox's sweep state; `save()` replaces the file atomically."""

    path: Path
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    # move id → {folder, validity, uid, key, size, seen, sender, category, at}: where each moved message is now
    moved: dict[str, dict[str, Any]] = field(default_factory=dict)
    restored: set[str] = field(default_factory=set)  # put back by `undo` (uid_ref, or a key): never moved again
    kept: dict[str, str] = field(default_factory=dict)  # uid_ref (or key) → why it stays (rescued by the person, …)
    places: dict[str, dict[str, Any]] = field(default_factory=dict)  # folder setting → {name, id} on the server
    flag_cache: dict[str, Any] = field(default_factory=dict)  # folder → {validity, modseq, flags} (CONDSTORE)
    senders: dict[str, dict[str, Any]] = field(default_factory=dict)  # sender → {moved, read, unsubscribe, …}
    memory: Memory = field(default_factory=Memory)

    @classmethod
    def load(cls, directory: Path) -> MailboxState:
        path = directory / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        moved = {str(k): dict(v) for k, v in dict(data.get("moved", {})).items()}
        for ident, entry in moved.items():
            entry.setdefault("key", ident)  # older state was keyed by Message-ID
        return cls(path, folders=data.get("folders", {}), moved=moved,
                   restored=set(data.get("restored", [])), kept=data.get("kept", {}), places=data.get("places", {}),
                   flag_cache=data.get("flag_cache", {}),
                   senders=data.get("senders", {}), memory=Memory.from_json(data.get("memory", {})))

    def save(self) -> None:
        data = {"folders": self.folders, "moved": self.moved, "restored": sorted(self.restored),
                "kept": self.kept, "places": self.places,
                "flag_cache": self.flag_cache, "senders": self.senders, "memory": self.memory.to_json()}
        atomic_write(self.path, json.dumps(data, separators=(",", ":")).encode())

    def folder(self, name: str) -> dict[str, Any]:
        return self.folders.setdefault(name, {})

    def sender(self, sender: str) -> dict[str, Any]:
        return self.senders.setdefault(sender, {"moved": 0, "read": 0})

    def record_move(self, entry: dict[str, Any]) -> None:
        """Remember a finished move from its journal entry (`id`, `key`, `to`, `to_validity`, `new_uid`, …)."""
        self.moved[str(entry.get("id") or entry["key"])] = {
            "folder": entry["to"], "validity": entry.get("to_validity"), "uid": entry.get("new_uid"),
            "key": entry["key"], "size": entry.get("size", 0), "seen": bool(entry.get("seen")),
            "sender": entry["sender"], "category": entry["category"], "at": entry["at"]}

    def moved_by_key(self) -> dict[str, list[str]]:
        """Message key → the move ids of moved messages with that key (a key can be shared)."""
        index: dict[str, list[str]] = {}
        for ident, entry in self.moved.items():
            index.setdefault(str(entry.get("key", ident)), []).append(ident)
        return index


class Journal:
    """An append-only JSON-lines log of moves. Each `append` is one fsynced write."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "journal.jsonl"

    def append(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        payload = "".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in entries)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, payload.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    yield json.loads(line)
                except ValueError:  # a line torn by a crash mid-write: the move it describes is re-checked
                    continue
