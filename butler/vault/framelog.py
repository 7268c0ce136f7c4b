"""An append-only file of encrypted frames with an authenticated commit point.

Layout (big-endian):
    0   magic (8) | version u16 | vault id (16) | data-key id (8) | file salt (16) | zero padding to 64
    64  commit slot A: seq u64 | committed length u64 | MAC (16)
    96  commit slot B: same
    128 frames: length u32 | nonce (12) | ciphertext | tag (16)

A write appends one frame at the committed length, fsyncs, then writes the *other* commit slot with seq + 1
and the new length, and fsyncs again. The write has happened once that slot is on disk; bytes past the committed
length are an unfinished write and are overwritten by the next one. Every byte up to the committed length is
authenticated: the header and slots by the slot MAC, each frame by AES-GCM with its offset and length as
associated data, so an edited, moved, dropped or reordered frame fails, and a file shorter than its committed
length is reported as truncated. Appends cost the same however long the file is.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from butler.errors import VaultCorrupt, VaultVersionError
from butler.vault import crypto

__all__ = ["FrameLog", "create_log", "write_log"]

VERSION = 1
HEADER = struct.Struct(">8sH16s8s16s")
HEADER_LEN = 64
SLOT = struct.Struct(">QQ16s")
SLOT_OFFSETS = (64, 96)
DATA_START = 128
FRAME_LEN = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


@dataclass(frozen=True)
class _Commit:
    seq: int
    length: int


def _slot_mac(meta_key: bytes, header: bytes, index: int, seq: int, length: int) -> bytes:
    return crypto.mac(meta_key, header + struct.pack(">BQQ", index, seq, length))


def create_log(path: Path, magic: bytes, vault_id: bytes, data_key: bytes) -> None:
    """Write an empty log (header and both commit slots) at `path`, which must not exist."""
    salt = os.urandom(16)
    header = HEADER.pack(magic, VERSION, vault_id, crypto.key_id(data_key), salt).ljust(HEADER_LEN, b"\0")
    meta_key = crypto.derive_subkey(data_key, salt, b"meta")
    slots = b"".join(
        SLOT.pack(seq, DATA_START, _slot_mac(meta_key, header, i, seq, DATA_START))
        for i, seq in ((0, 0), (1, 1))
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, header + slots)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_log(path: Path, magic: bytes, vault_id: bytes, data_key: bytes, purpose: bytes,
              plaintexts: list[bytes]) -> None:
    """A new log at `path` (which must not exist) holding `plaintexts` as frames, under `data_key`."""
    create_log(path, magic, vault_id, data_key)
    log = FrameLog(path, magic, data_key, purpose)
    try:
        list(log.follow())
        for start in range(0, len(plaintexts), 512):  # bounded appends: memory stays flat for big vaults
            log.append(plaintexts[start:start + 512])
    finally:
        log.close()


class FrameLog:
    """An open log. Callers hold the home lock: shared to read, exclusive to append."""

    def __init__(self, path: Path, magic: bytes, data_key: bytes, purpose: bytes) -> None:
        self.path = path
        self.magic = magic
        self._data_key = data_key
        self._purpose = purpose
        self._fd = -1
        self._open()

    # -- opening and following -------------------------------------------------------------------------
    def _open(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        try:
            self._fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            raise VaultCorrupt(f"{self.path} is missing") from None
        self._inode = os.fstat(self._fd).st_ino
        header = os.pread(self._fd, DATA_START, 0)
        where = str(self.path)
        if len(header) < 10 or header[:8] != self.magic:
            raise VaultCorrupt(f"{where} is {'empty' if not header else 'not a butler ' + self._kind()}")
        version = struct.unpack(">H", header[8:10])[0]
        if version > VERSION:
            raise VaultVersionError(f"{where} has format version {version}; this butler reads up to {VERSION}")
        if len(header) < DATA_START:
            raise VaultCorrupt(f"{where} is truncated: its header is incomplete")
        _, _, self.vault_id, key_id, salt = HEADER.unpack_from(header)
        if version != VERSION:
            raise VaultCorrupt(f"{where} has unknown format version {version}")
        if key_id != crypto.key_id(self._data_key):
            raise VaultCorrupt(f"{where} was written with another key (its header names a different key id)")
        self._header = header[:HEADER_LEN]
        self._salt = salt
        self._meta_key = crypto.derive_subkey(self._data_key, salt, b"meta")
        self._frame_key = crypto.derive_subkey(self._data_key, salt, self._purpose)
        self._aad_prefix = header[:HEADER.size]
        self._commit = _Commit(-1, DATA_START)
        self._end = DATA_START  # how far this process has read
        self.frames_read = 0

    def _kind(self) -> str:
        return "audit log" if self.magic.startswith(b"BTLRAUD") else "vault file"

    def _read_commit(self) -> _Commit:
        raw = os.pread(self._fd, DATA_START - HEADER_LEN, HEADER_LEN)
        if len(raw) != DATA_START - HEADER_LEN:
            raise VaultCorrupt(f"{self.path} is truncated: its commit record is incomplete")
        if self._header[HEADER.size:] != b"\0" * (HEADER_LEN - HEADER.size):
            raise VaultCorrupt(f"{self.path} is damaged: its header padding was altered")
        best: _Commit | None = None
        for i in range(2):
            seq, length, tag = SLOT.unpack_from(raw, i * SLOT.size)
            if _slot_mac(self._meta_key, self._header, i, seq, length) != tag or seq % 2 != i:
                raise VaultCorrupt(f"{self.path} is damaged: commit record {i} does not authenticate")
            if best is None or seq > best.seq:
                best = _Commit(seq, length)
        assert best is not None
        size = os.fstat(self._fd).st_size
        if best.length < DATA_START or best.length > size:
            raise VaultCorrupt(
                f"{self.path} is truncated: {size} bytes on disk but {best.length} were committed"
            )
        return best

    def replaced(self) -> bool:
        """True when another process swapped in a new file (compaction, rotation)."""
        try:
            return os.stat(self.path).st_ino != self._inode
        except FileNotFoundError:
            return True

    def follow(self) -> Iterator[tuple[int, bytes]]:
        """Yield (offset, plaintext) for every frame committed since the last call; reopen if replaced."""
        if self.replaced():
            self._open()
            yield from self._reset_marker()
        commit = self._read_commit()
        if commit.seq < self._commit.seq:
            raise VaultCorrupt(f"{self.path} went back in time: commit {commit.seq} after {self._commit.seq}")
        offset = self._end
        while offset < commit.length:
            head = os.pread(self._fd, FRAME_LEN.size, offset)
            if len(head) != FRAME_LEN.size:
                raise VaultCorrupt(f"{self.path} is truncated at byte {offset}")
            (length,) = FRAME_LEN.unpack(head)
            end = offset + FRAME_LEN.size + length
            if length < crypto.NONCE_LEN + crypto.TAG_LEN or length > MAX_FRAME or end > commit.length:
                raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: bad frame length")
            sealed = os.pread(self._fd, length, offset + FRAME_LEN.size)
            try:
                plaintext = crypto.open_(self._frame_key, sealed, self._aad(offset, length))
            except crypto.InvalidKey:
                raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: a frame does not authenticate") from None
            yield offset, plaintext
            offset = end
            self.frames_read += 1
        self._end = offset
        self._commit = commit

    def _reset_marker(self) -> Iterator[tuple[int, bytes]]:
        yield -1, b""  # tells the caller to drop what it indexed from the old file

    def _aad(self, offset: int, length: int) -> bytes:
        return self._aad_prefix + struct.pack(">QI", offset, length)

    def read_at(self, offset: int) -> bytes:
        head = os.pread(self._fd, FRAME_LEN.size, offset)
        (length,) = FRAME_LEN.unpack(head)
        sealed = os.pread(self._fd, length, offset + FRAME_LEN.size)
        try:
            return crypto.open_(self._frame_key, sealed, self._aad(offset, length))
        except crypto.InvalidKey:
            raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: a frame does not authenticate") from None

    # -- appending -------------------------------------------------------------------------------------
    def append(self, plaintexts: list[bytes]) -> list[int]:
        """Append frames after following to the end; returns their offsets. Caller holds the lock exclusive."""
        offset = self._commit.length
        if offset != self._end:
            raise RuntimeError("append before following the log to its end")
        blobs, offsets = [], []
        for plaintext in plaintexts:
            length = len(plaintext) + crypto.NONCE_LEN + crypto.TAG_LEN
            if length > MAX_FRAME:
                raise ValueError(f"record too large ({len(plaintext)} bytes)")
            sealed = crypto.seal(self._frame_key, plaintext, self._aad(offset, length))
            blobs.append(FRAME_LEN.pack(length) + sealed)
            offsets.append(offset)
            offset += FRAME_LEN.size + length
        data = b"".join(blobs)
        if os.fstat(self._fd).st_size > self._commit.length:  # drop an unfinished write's leftovers
            os.ftruncate(self._fd, self._commit.length)
        written = os.pwrite(self._fd, data, self._commit.length)
        if written != len(data):
            raise OSError(f"short write to {self.path}")
        os.fdatasync(self._fd)
        seq = self._commit.seq + 1
        index = seq % 2
        slot = SLOT.pack(seq, offset, _slot_mac(self._meta_key, self._header, index, seq, offset))
        os.pwrite(self._fd, slot, SLOT_OFFSETS[index])
        os.fdatasync(self._fd)
        self._commit = _Commit(seq, offset)
        self._end = offset
        return offsets

    @property
    def committed_length(self) -> int:
        return self._commit.length

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
