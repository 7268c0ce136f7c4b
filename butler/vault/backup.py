"""Encrypted backups of everything the person made in BUTLER_HOME, readable with the passphrase of the day.

Layout: magic "BTLRBAK\\0" | version u16 | four sections (u32 length + bytes: vault.key, vault.log, audit.log, home
files) | SHA-256 of everything before. The logs stay encrypted as they are. The home files section holds every
other file of the home — config.toml, policies, mail state and journals, the daemon's job store and state, the
TUI's notes — sealed with AES-256-GCM under a key derived from the data key (salt ‖ sealed archive), so the backup
reveals nothing without the passphrase. Left out: locks, sockets and links, earlier backups (`backups/`, any file
that is a backup), copies kept aside (`replaced-*`, `*.damaged-*`), unfinished writes, and the daemon's log. The
job store is copied with SQLite's backup API, so a running daemon does not tear it.

The checksum finds damage before anything is installed, and the import opens the copy fully (every frame
authenticated, the audit chain verified, the home files authenticated) before it replaces anything. A file that
is replaced is moved aside, never deleted. Version 1 backups (the vault only) still import.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import fnmatch
import hashlib
import os
import shutil
import sqlite3
import stat
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from butler import paths
from butler.atomic import atomic_write, fsync_dir
from butler.errors import UsageError, VaultBusy, VaultCorrupt, VaultExists, VaultVersionError
from butler.log import register_secret
from butler.vault import crypto
from butler.vault.freshness import AnchorStore
from butler.vault.keyfile import KeyFile
from butler.vault.store import AnchorFactory, Vault

__all__ = ["HOME_FILES_LEFT_OUT", "export_backup", "home_files", "import_backup"]

MAGIC = b"BTLRBAK\x00"
VERSION = 2
_VAULT_SECTIONS = ("vault.key", "vault.log", "audit.log")
_FILES_PURPOSE = b"backup-files"
_JOB_STORE = "schedule.sqlite"
_DAEMON_LOCK = "daemon.lock"  # butler.daemon.lock holds it while a daemon runs on the home

# What a backup leaves out, with why: patterns on a file's name at any depth ("/name": only at the top of the home;
# a trailing "/": a directory).
HOME_FILES_LEFT_OUT = {
    "locks": ("*.lock",),
    "earlier backups and copies kept aside": ("/backups/", "replaced-*/", ".import-*/", "*.damaged-*"),
    "unfinished writes": (".*.tmp", "*.new", "*-journal", "*-wal", "*-shm"),
    "the daemon's log": ("/daemon.log",),
}


def _left_out(relative: PurePosixPath, is_dir: bool) -> bool:
    for patterns in HOME_FILES_LEFT_OUT.values():
        for pattern in patterns:
            if pattern.endswith("/") != is_dir:
                continue
            pattern = pattern.rstrip("/")
            if pattern.startswith("/"):
                if str(relative) == pattern[1:]:
                    return True
            elif fnmatch.fnmatchcase(relative.name, pattern):
                return True
    return not is_dir and str(relative) in _VAULT_SECTIONS  # carried in sections of their own


def home_files(home: Path, *, skip: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(relative posix path, path) of every file of `home` a backup carries besides the vault, sorted."""
    skip_resolved = skip.resolve() if skip is not None else None
    for directory, dirnames, filenames in os.walk(home):
        here = Path(directory)
        relative_dir = PurePosixPath(here.relative_to(home).as_posix())
        keep = []
        for name in sorted(dirnames):
            relative = PurePosixPath(name) if str(relative_dir) == "." else relative_dir / name
            if not (here / name).is_symlink() and not _left_out(relative, True):
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            path = here / name
            relative = PurePosixPath(name) if str(relative_dir) == "." else relative_dir / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode) or _left_out(relative, False):
                continue
            if skip_resolved is not None and path.resolve() == skip_resolved:
                continue
            if _is_backup(path):
                continue
            yield str(relative), path


def _is_backup(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _read_file(relative: str, path: Path) -> bytes | None:
    """The file's bytes, a consistent copy for the SQLite job store; None when it vanished meanwhile."""
    if relative == _JOB_STORE:
        with tempfile.TemporaryDirectory(prefix="butler-backup-") as temp:
            copy = Path(temp) / "jobs.sqlite"
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
            return copy.read_bytes()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _pack_files(files: list[tuple[str, bytes]]) -> bytes:
    out = [struct.pack(">I", len(files))]
    for name, data in files:
        encoded = name.encode("utf-8")
        out.append(struct.pack(">H", len(encoded)) + encoded + struct.pack(">Q", len(data)) + data)
    return b"".join(out)


def _unpack_files(data: bytes, where: str) -> list[tuple[str, bytes]]:
    try:
        (count,) = struct.unpack_from(">I", data, 0)
        offset, files = 4, []
        for _ in range(count):
            (name_len,) = struct.unpack_from(">H", data, offset)
            name = data[offset + 2:offset + 2 + name_len].decode("utf-8")
            offset += 2 + name_len
            (size,) = struct.unpack_from(">Q", data, offset)
            offset += 8
            if offset + size > len(data):
                raise ValueError("truncated")
            files.append((name, data[offset:offset + size]))
            offset += size
        if offset != len(data):
            raise ValueError("trailing data")
    except (struct.error, ValueError, UnicodeDecodeError):
        raise VaultCorrupt(f"{where}: its home files section is damaged") from None
    for name, _ in files:
        _check_relative(name, where)
    return files


def _check_relative(name: str, where: str) -> PurePosixPath:
    relative = PurePosixPath(name)
    if (not name or relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts)
            or "\\" in name or "\0" in name or _left_out(relative, False)
            or any(_left_out(PurePosixPath(*relative.parts[:i]), True) for i in range(1, len(relative.parts)))):
        raise VaultCorrupt(f"{where}: it names a file butler never backs up: {name!r}")
    return relative


def _aad(vault_id: bytes) -> bytes:
    return MAGIC + struct.pack(">H", VERSION) + vault_id


def _seal_files(data_key: bytes, vault_id: bytes, archive: bytes) -> bytes:
    salt = os.urandom(16)
    return salt + crypto.seal(crypto.derive_subkey(data_key, salt, _FILES_PURPOSE), archive, _aad(vault_id))


def _open_files(data_key: bytes, vault_id: bytes, sealed: bytes, where: str) -> list[tuple[str, bytes]]:
    try:
        archive = crypto.open_(crypto.derive_subkey(data_key, sealed[:16], _FILES_PURPOSE), sealed[16:],
                               _aad(vault_id))
    except crypto.InvalidKey:
        raise VaultCorrupt(f"{where}: its home files section does not authenticate") from None
    return _unpack_files(archive, where)


def export_backup(vault: Vault, target: Path) -> int:
    """Write a consistent snapshot of the vault and the home's other files to `target` (0600); returns its size.

    Files outside the vault are read while the vault lock is held, so no butler writes the vault meanwhile;
    they have no lock of their own (a mail sweep may be writing its state: the last state saved is copied)."""
    with vault.lock.shared():
        vault.collections()  # follow to the end so the committed length is current
        parts = [paths.vault_key_path(vault.home).read_bytes()]
        for path in (paths.vault_log_path(vault.home), paths.audit_path(vault.home)):
            parts.append(path.read_bytes())
        files = [(name, data) for name, path in home_files(vault.home, skip=target)
                 if (data := _read_file(name, path)) is not None]
    parts.append(_seal_files(vault.data_key, vault.vault_id, _pack_files(files)))
    body = MAGIC + struct.pack(">H", VERSION) + b"".join(struct.pack(">I", len(p)) + p for p in parts)
    data = body + hashlib.sha256(body).digest()
    atomic_write(target, data)
    vault.audit.append("vault.export", str(target), {"bytes": len(data), "files": [name for name, _ in files]})
    return len(data)


def _parse(data: bytes, where: str) -> tuple[int, list[bytes]]:
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
    for _ in range(len(_VAULT_SECTIONS) + (1 if version >= 2 else 0)):
        if offset + 4 > len(body):
            raise VaultCorrupt(f"{where} is truncated")
        (length,) = struct.unpack(">I", body[offset:offset + 4])
        parts.append(body[offset + 4:offset + 4 + length])
        offset += 4 + length
    if offset != len(body):
        raise VaultCorrupt(f"{where} has unexpected trailing data")
    return version, parts


def _no_anchors(vault_id: bytes) -> list[AnchorStore]:
    return []  # a copy checked in a temporary directory leaves no anchor behind


def _daemon_runs(home: Path) -> bool:
    try:
        fd = os.open(home / _DAEMON_LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def import_backup(source: Path, home: Path, passphrase: str, *, replace: bool = False,
                  anchors: AnchorFactory | None = None) -> Path | None:
    """Install the backup at `source` in `home`: the vault and the home's other files.

    Verifies everything first. With `replace`, an existing vault is moved to `home/replaced-<time>/`
    (returned); without it, an existing vault is an error and nothing changes. Other files the backup brings
    that already exist are moved there too. The restored state becomes the vault's freshness anchor: restoring
    an older backup on purpose is not a rollback.
    """
    register_secret(passphrase)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    version, parts = _parse(data, str(source))
    key_file = KeyFile.from_bytes(parts[0], f"{source} (key)")
    data_key = key_file.unwrap(passphrase)
    files = _open_files(data_key, key_file.vault_id, parts[3], str(source)) if version >= 2 else []
    paths.ensure_home(home)
    if _daemon_runs(home):
        raise VaultBusy(f"the daemon runs on {home}: it would go on writing the home being replaced",
                        "Stop the daemon first (`systemctl --user stop butler`), then import again.")
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=home))
    try:
        for name, part in zip(_VAULT_SECTIONS, parts, strict=False):
            atomic_write(staging / name, part)
        with Vault(staging, data_key, anchors=_no_anchors, trust_files=True) as check:
            check.audit.verify()
        for name, content in files:
            target = staging / name
            paths.private_dir(target.parent)
            atomic_write(target, content)
        exists = [name for name in _VAULT_SECTIONS if (home / name).exists()]
        if exists and not replace:
            raise VaultExists(f"a vault already exists in {home}",
                              "Pass --replace to move it aside (nothing is deleted), or import elsewhere.")
        moved_to: Path | None = None
        clashes = exists + [name for name, _ in files if (home / name).exists()]
        if clashes:
            moved_to = home / f"replaced-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}"
            paths.private_dir(moved_to)
            for name in clashes:
                paths.private_dir((moved_to / name).parent)
                os.replace(home / name, moved_to / name)
        for name in _VAULT_SECTIONS:
            os.replace(staging / name, home / name)
        for name, _ in files:
            paths.private_dir((home / name).parent)
            os.replace(staging / name, home / name)
        fsync_dir(home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with Vault(home, data_key, anchors=anchors, trust_files=True) as vault:
        vault.rebind("vault.import", str(source), {"replaced": str(moved_to) if moved_to else None,
                                                   "files": [name for name, _ in files]})
    return moved_to
