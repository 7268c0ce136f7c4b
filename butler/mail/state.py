"""What a mailbox's sweeps remember between runs, under `BUTLER_HOME/mail/<account>/` (files 0600).

`state.json` (atomically replaced): per-folder UIDVALIDITY and last UID, which messages butler moved and where,
which it restored, per-sender counts, and the learned `Memory`. `journal.jsonl` (append-only, fsynced): every
planned, finished and undone move, so `butler mail undo` can put any message back and a sweep killed half-way
can tell what happened.
"""

from __future__ import annotations

import datetime as dt
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
from butler.mail.learn import Memory

__all__ = ["Journal", "MailboxState", "account_dir", "now_iso"]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def account_dir(account: str, home: Path | None = None) -> Path:
    """The directory holding one mailbox's state: a readable slug plus a hash, so any account name is safe."""
    slug = re.sub(r"[^a-z0-9.@-]+", "-", account.lower())[-60:].strip("-") or "mailbox"
    digest = hashlib.sha256(account.encode()).hexdigest()[:10]
    directory = (home or paths.butler_home()) / "mail" / f"{slug}-{digest}"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


@dataclass
class MailboxState:
    """One mailbox's sweep state; `save()` replaces the file atomically."""

    path: Path
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    moved: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → {folder, uid, sender, category, at}
    restored: set[str] = field(default_factory=set)  # put back by `undo`: never moved again
    kept: dict[str, str] = field(default_factory=dict)  # key → why it stays (rescued by the person, …)
    senders: dict[str, dict[str, Any]] = field(default_factory=dict)  # sender → {moved, read, unsubscribe, …}
    memory: Memory = field(default_factory=Memory)

    @classmethod
    def load(cls, directory: Path) -> MailboxState:
        path = directory / "state.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        return cls(path, folders=data.get("folders", {}), moved=data.get("moved", {}),
                   restored=set(data.get("restored", [])), kept=data.get("kept", {}),
                   senders=data.get("senders", {}), memory=Memory.from_json(data.get("memory", {})))

    def save(self) -> None:
        data = {"folders": self.folders, "moved": self.moved, "restored": sorted(self.restored),
                "kept": self.kept, "senders": self.senders, "memory": self.memory.to_json()}
        atomic_write(self.path, json.dumps(data, separators=(",", ":")).encode())

    def folder(self, name: str) -> dict[str, Any]:
        return self.folders.setdefault(name, {})

    def sender(self, sender: str) -> dict[str, Any]:
        return self.senders.setdefault(sender, {"moved": 0, "read": 0})

    def record_move(self, entry: dict[str, Any]) -> None:
        """Remember a finished move from its journal entry (`key`, `to`, `new_uid`, `sender`, `category`, `at`)."""
        self.moved[entry["key"]] = {"folder": entry["to"], "uid": entry["new_uid"], "sender": entry["sender"],
                                    "category": entry["category"], "at": entry["at"]}


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
