"""Freshness: telling an older copy of the vault's files from the newest one.

Each file is authenticated on its own, so an older but genuine `vault.log` or `audit.log` (a restored copy, a sync
service going back, someone putting back a file) reads as valid. Three things catch it:

- The two files bind each other. Every record frame names the audit log's head when it was written; every audit
  entry names the vault's commit counter, and a change's entry names the exact bytes it commits. An older
  `vault.log` sits below the counter the audit log names; an older `audit.log` lacks the entry the vault names.
- The anchor: the head of both files (vault commit counter, audit length, last entry and its hash), kept outside
  them — beside the key in the OS keyring where there is one, else a small file in the platform's state directory
  (`anchors/<vault id>-<home>.json`). It is written after every commit, so it never runs ahead of the files; a
  copy of both files from before it, consistent with each other, is still caught.
- Inside one process, a file's commit counter never goes back.

What is not caught (see docs/vault.md): a rollback of the files together with the anchor, or with the anchor
removed (the next opening trusts what it finds, and says so in the log).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from butler import paths
from butler.errors import KeyringError, VaultRolledBack

__all__ = [
    "Anchor",
    "AnchorStore",
    "FileAnchors",
    "Head",
    "KeyringAnchors",
    "VaultRolledBack",
    "anchor_name",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    """Where the vault stands: the commit counter of vault.log, and audit.log's length, last entry and its hash."""

    vault_seq: int
    audit_length: int
    audit_last: int | None
    audit_hash: str

    def ahead_of(self, other: Head) -> bool:
        return (self.vault_seq, self.audit_length) > (other.vault_seq, other.audit_length)


@dataclass(frozen=True)
class Anchor:
    head: Head
    where: str  # for messages: "the OS keyring (SecretService.Keyring)", "/path/to/anchor.json"


class AnchorStore(Protocol):
    name: str

    def load(self) -> Anchor | None: ...

    def save(self, head: Head) -> None: ...


def anchor_name(vault_id: bytes, home: Path) -> str:
    """The anchor of one vault in one home: a copy of the vault elsewhere has an anchor of its own."""
    return f"{vault_id.hex()}-{hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:16]}"


def _encode(vault_id: bytes, head: Head) -> str:
    body = {"vault_id": vault_id.hex(), **asdict(head)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return json.dumps({**body, "sum": hashlib.sha256(text.encode()).hexdigest()[:16]}, sort_keys=True)


def _decode(vault_id: bytes, text: str, where: str) -> Head | None:
    """The head in an anchor's text; None (and a warning) when it is damaged or names another vault."""
    try:
        data: dict[str, Any] = json.loads(text)
        given = data.pop("sum")
        body = json.dumps(data, sort_keys=True, separators=(",", ":"))
        if hashlib.sha256(body.encode()).hexdigest()[:16] != given or data.pop("vault_id") != vault_id.hex():
            raise ValueError("checksum")
        head = Head(**data)
        if not (isinstance(head.vault_seq, int) and isinstance(head.audit_length, int)
                and (head.audit_last is None or isinstance(head.audit_last, int))
                and isinstance(head.audit_hash, str)):
            raise ValueError("types")
        return head
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("the freshness anchor in %s is damaged: it is ignored and written again", where)
        return None


class FileAnchors:
    """The anchor as a small file in the platform's state directory (0600, in 0700 directories)."""

    def __init__(self, vault_id: bytes, home: Path, directory: Path | None = None) -> None:
        self.vault_id = vault_id
        self.path = (directory or paths.state_dir() / "anchors") / f"{anchor_name(vault_id, home)}.json"
        self.name = str(self.path)

    def load(self) -> Anchor | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the freshness anchor %s: %s", self.path, exc.strerror)
            return None
        head = _decode(self.vault_id, text, str(self.path))
        return Anchor(head, str(self.path)) if head else None

    def save(self, head: Head) -> None:
        # No fsync: an anchor lost in a crash only lags behind the files, which is safe; os.replace keeps it whole.
        try:
            paths.private_dir(self.path.parent)
            temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, _encode(self.vault_id, head).encode())
            finally:
                os.close(fd)
            os.rename(temp, self.path)  # atomic within one directory, like os.replace on POSIX
        except OSError as exc:
            log.warning("cannot write the freshness anchor %s: %s", self.path, exc.strerror)


class KeyringAnchors:
    """The anchor in the OS keyring, beside the vault key (service `butler`, user `<vault id>-<home>.anchor`)."""

    def __init__(self, store: Any, vault_id: bytes, home: Path) -> None:
        self.store = store  # a butler.vault.keys.KeyringStore
        self.vault_id = vault_id
        self.user = f"{anchor_name(vault_id, home)}.anchor"
        self.name = f"the OS keyring ({store.name})"

    def load(self) -> Anchor | None:
        try:
            value = self.store.get_text(self.user)
        except KeyringError as exc:
            log.warning("cannot read the freshness anchor from the keyring: %s", exc.message)
            return None
        if value is None:
            return None
        with contextlib.suppress(ValueError):
            value = base64.b64decode(value, validate=True).decode()
        head = _decode(self.vault_id, value, self.name)
        return Anchor(head, self.name) if head else None

    def save(self, head: Head) -> None:
        try:
            self.store.put_text(self.user, base64.b64encode(_encode(self.vault_id, head).encode()).decode())
        except KeyringError as exc:
            log.warning("cannot write the freshness anchor to the keyring: %s", exc.message)
