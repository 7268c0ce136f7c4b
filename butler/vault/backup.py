"""Encrypted backups: one file holding the key file and both logs, readable with the passphrase of the day.

Layout: magic "BTLRBAK\\0" | version u16 | three sections (u32 length + bytes: vault.key, vault.log,
audit.log) | SHA-256 of everything before. The logs stay encrypted as they are; the checksum finds damage
before anything is installed, and the import opens the copy fully (every frame authenticated, the audit chain
verified) before it replaces anything. A vault that is replaced is moved aside, never deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import struct
import tempfile
from pathlib import Path

from butler import paths
from butler.atomic import atomic_write, fsync_dir
from butler.errors import UsageError, VaultCorrupt, VaultExists, VaultVersionError
from butler.log import register_secret
from butler.vault.keyfile import KeyFile
from butler.vault.store import Vault

__all__ = ["export_backup", "import_backup"]

MAGIC = b"BTLRBAK\x00"
VERSION = 1
_SECTIONS = ("vault.key", "vault.log", "audit.log")


def export_backup(vault: Vault, target: Path) -> int:
    """Write a consistent snapshot of the vault to `target` (0600); returns its size in bytes."""
    with vault.lock.shared():
        vault.collections()  # follow to the end so the committed length is current
        parts = [paths.vault_key_path(vault.home).read_bytes()]
        for path in (paths.vault_log_path(vault.home), paths.audit_path(vault.home)):
            parts.append(path.read_bytes())
    body = MAGIC + struct.pack(">H", VERSION) + b"".join(struct.pack(">I", len(p)) + p for p in parts)
    data = body + hashlib.sha256(body).digest()
    atomic_write(target, data)
    vault.audit.append("vault.export", str(target), {"bytes": len(data)})
    return len(data)


def _parse(data: bytes, where: str) -> list[bytes]:
    if data[:8] != MAGIC:
        raise VaultCorrupt(f"{where} is not a butler backup")
    if len(data) < 10 + 32:
        raise VaultCorrupt(f"{where} is truncated")
    (version,) = struct.unpack(">H", data[8:10])
    if version > VERSION:
        raise VaultVersionError(f"{where} is a backup format {version}; this butler reads up to {VERSION}")
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise VaultCorrupt(f"{where} is damaged: its checksum does not match")
    parts, offset = [], 10
    for _ in _SECTIONS:
        (length,) = struct.unpack(">I", body[offset:offset + 4])
        parts.append(body[offset + 4:offset + 4 + length])
        offset += 4 + length
    if offset != len(body):
        raise VaultCorrupt(f"{where} has unexpected trailing data")
    return parts


def import_backup(source: Path, home: Path, passphrase: str, *, replace: bool = False) -> Path | None:
    """Install the backup at `source` as the vault in `home`.

    Verifies everything first. With `replace`, an existing vault is moved to `home/replaced-<time>/`
    (returned); without it, an existing vault is an error and nothing changes.
    """
    register_secret(passphrase)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    parts = _parse(data, str(source))
    data_key = KeyFile.from_bytes(parts[0], f"{source} (key)").unwrap(passphrase)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=paths.ensure_home(home)))
    try:
        for name, part in zip(_SECTIONS, parts, strict=True):
            atomic_write(staging / name, part)
        with Vault(staging, data_key) as check:
            check.audit.verify()
        exists = [name for name in _SECTIONS if (home / name).exists()]
        moved_to: Path | None = None
        if exists:
            if not replace:
                raise VaultExists(f"a vault already exists in {home}",
                                  "Pass --replace to move it aside (nothing is deleted), or import elsewhere.")
            moved_to = home / f"replaced-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}"
            moved_to.mkdir(mode=0o700)
            for name in exists:
                os.replace(home / name, moved_to / name)
        for name in _SECTIONS:
            os.replace(staging / name, home / name)
        fsync_dir(home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with Vault(home, data_key) as vault:
        vault.audit.append("vault.import", str(source), {"replaced": str(moved_to) if moved_to else None})
    return moved_to
