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

The two steps can also be taken apart (`stage`, then `commit`), so that another file can record the staged bytes
before they count: the vault does so with its audit log. The commit counter (seq) only grows, also across a
rewrite (compaction, rotation), which starts the new file above the old file's seq.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from butler.errors import VaultCorrupt, VaultVersionError
from butler.vault import crypto

__all__ = ["FrameLog", "Recovery", "Staged", "create_log", "header_key_id", "staging_path", "write_log"]

VERSION = 1
HEADER = struct.Struct(">8sH16s8s16s")
HEADER_LEN = 64
SLOT = struct.Struct(">QQ16s")
SLOT_OFFSETS = (64, 96)
DATA_START = 128
FRAME_LEN = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
_KEY_ID_AT = slice(26, 34)  # where the header names its data key


@dataclass(frozen=True)
class _Commit:
    seq: int
    length: int


@dataclass(frozen=True)
class Staged:
    """Frames written past the commit and synced, not yet committed: `commit` makes them count."""

    start: int  # the commit length they were written at
    end: int  # the commit length once committed
    seq: int  # the commit counter once committed
    sha256: str  # of the bytes from start to end, so another file can name exactly these bytes
    offsets: tuple[int, ...]


@dataclass(frozen=True)
class Recovery:
    """What `FrameLog.recover` found and did to one log."""

    path: Path
    recovered: bool  # False: the log was sound and nothing was written
    damaged_slots: tuple[int, ...]  # commit records that did not authenticate (0 = A, 1 = B)
    length: int  # bytes committed now
    frames: int  # frames committed now, every one authenticated
    past_commit: int  # bytes after the commit (an unfinished or lost write), kept in the copy
    kept: Path | None  # a copy of the file as it was, when something was written


def _slot_mac(meta_key: bytes, header: bytes, index: int, seq: int, length: int) -> bytes:
    return crypto.mac(meta_key, header + struct.pack(">BQQ", index, seq, length))


def staging_path(target: Path) -> Path:
    """Where a new copy of the log `target` is written before it replaces it (compaction, rotation)."""
    return target.with_name(target.name + ".new")


def header_key_id(path: Path) -> bytes | None:
    """The data-key id named in the header of the log at `path`, or None when there is no such file."""
    try:
        with open(path, "rb") as fh:
            return fh.read(HEADER_LEN)[_KEY_ID_AT]
    except FileNotFoundError:
        return None


def create_log(path: Path, magic: bytes, vault_id: bytes, data_key: bytes, *, after_seq: int = -1) -> None:
    """Write an empty log (header and both commit slots) at `path`, which must not exist. Its commits count on
    from above `after_seq` (the seq of the file it will replace)."""
    salt = os.urandom(16)
    header = HEADER.pack(magic, VERSION, vault_id, crypto.key_id(data_key), salt).ljust(HEADER_LEN, b"\0")
    meta_key = crypto.derive_subkey(data_key, salt, b"meta")
    first = max(0, after_seq + 1)
    first += first % 2  # slot A holds the even seqs
    slots = b"".join(
        SLOT.pack(seq, DATA_START, _slot_mac(meta_key, header, i, seq, DATA_START))
        for i, seq in ((0, first), (1, first + 1))
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, header + slots)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_log(path: Path, magic: bytes, vault_id: bytes, data_key: bytes, purpose: bytes,
              plaintexts: list[bytes], *, after_seq: int = -1) -> None:
    """A new log at `path` (which must not exist) holding `plaintexts` as frames, under `data_key`, its commits
    counting on from above `after_seq`."""
    create_log(path, magic, vault_id, data_key, after_seq=after_seq)
    log = FrameLog(path, magic, data_key, purpose)
    try:
        list(log.follow())
        for start in range(0, len(plaintexts), 512):  # bounded appends: memory stays flat for big vaults
            log.append(plaintexts[start:start + 512])
    finally:
        log.close()


class FrameLog:
    """An open log. Callers hold the home lock: shared to read, exclusive to append."""

    vault_id: bytes  # as its header names it

    def __init__(self, path: Path, magic: bytes, data_key: bytes, purpose: bytes) -> None:
        self.path = path
        self.magic = magic
        self._data_key = data_key
        self._purpose = purpose
        self._fd = -1
        self._seen_seq = -1  # the highest commit this process saw, across replacements of the file
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

    def _slots(self, incomplete: str, padding: str) -> list[_Commit | None]:
        """Each commit slot's record, or None for a slot that does not authenticate. Raises VaultCorrupt, worded
        `{path} {incomplete}` or `{path} {padding}`, when the slots are cut short or the header padding was altered."""
        raw = os.pread(self._fd, DATA_START - HEADER_LEN, HEADER_LEN)
        if len(raw) != DATA_START - HEADER_LEN:
            raise VaultCorrupt(f"{self.path} {incomplete}")
        if self._header[HEADER.size:] != b"\0" * (HEADER_LEN - HEADER.size):
            raise VaultCorrupt(f"{self.path} {padding}")
        slots: list[_Commit | None] = []
        for i in range(2):
            seq, length, tag = SLOT.unpack_from(raw, i * SLOT.size)
            sound = _slot_mac(self._meta_key, self._header, i, seq, length) == tag and seq % 2 == i
            slots.append(_Commit(seq, length) if sound else None)
        return slots

    def _read_commit(self) -> _Commit:
        slots = self._slots("is truncated: its commit record is incomplete",
                            "is damaged: its header padding was altered")
        best: _Commit | None = None
        for i, commit in enumerate(slots):
            if commit is None:
                raise VaultCorrupt(f"{self.path} is damaged: commit record {i} does not authenticate")
            if best is None or commit.seq > best.seq:
                best = commit
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
        commit = self.committed()
        for offset, plaintext in self._frames(self._end, commit.length):
            yield offset, plaintext
            self.frames_read += 1
        self._end = max(self._end, commit.length)  # frames end exactly at the commit, or `_frames` raised
        self._commit = commit

    def committed(self) -> _Commit:
        """The commit on disk now (not followed yet); raises VaultCorrupt when it went back in time."""
        commit = self._read_commit()
        if commit.seq < self._seen_seq:
            raise VaultCorrupt(f"{self.path} went back in time: commit {commit.seq} after {self._seen_seq}")
        self._seen_seq = commit.seq
        return commit

    def resume(self, end: int) -> None:
        """Take every frame before `end` (a frame boundary the caller checked) as read, and follow on from there:
        a reader that trusts a known frame need not decrypt the whole file again."""
        commit = self.committed()
        if not DATA_START <= end <= commit.length:
            raise VaultCorrupt(f"{self.path} is truncated: it ends before byte {end}")
        self._commit, self._end = _Commit(commit.seq, end), end

    def last_frame(self, start: int, end: int) -> int | None:
        """The offset of the last frame between the frame boundary `start` and `end`, reading only the frames'
        length fields (no decryption); None when there is none."""
        last, offset = None, start
        while offset < end:
            head = os.pread(self._fd, FRAME_LEN.size, offset)
            if len(head) != FRAME_LEN.size:
                raise VaultCorrupt(f"{self.path} is truncated at byte {offset}")
            (length,) = FRAME_LEN.unpack(head)
            if length < crypto.NONCE_LEN + crypto.TAG_LEN or length > MAX_FRAME or offset + 4 + length > end:
                raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: bad frame length")
            last, offset = offset, offset + FRAME_LEN.size + length
        return last

    def frame_end(self, offset: int) -> int:
        """Where the frame at `offset` ends (its length field only; `read_at` authenticates it)."""
        head = os.pread(self._fd, FRAME_LEN.size, offset)
        if len(head) != FRAME_LEN.size:
            raise VaultCorrupt(f"{self.path} is truncated at byte {offset}")
        (length,) = FRAME_LEN.unpack(head)
        end: int = offset + FRAME_LEN.size + length
        return end

    def _frames(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """(offset, plaintext) of each frame from `start` to the committed length `end`; raises VaultCorrupt at the
        first frame that is cut short, has an impossible length or does not authenticate."""
        offset = start
        while offset < end:
            head = os.pread(self._fd, FRAME_LEN.size, offset)
            if len(head) != FRAME_LEN.size:
                raise VaultCorrupt(f"{self.path} is truncated at byte {offset}")
            (length,) = FRAME_LEN.unpack(head)
            frame_end = offset + FRAME_LEN.size + length
            if length < crypto.NONCE_LEN + crypto.TAG_LEN or length > MAX_FRAME or frame_end > end:
                raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: bad frame length")
            yield offset, self._open_frame(offset, length)
            offset = frame_end

    def _reset_marker(self) -> Iterator[tuple[int, bytes]]:
        yield -1, b""  # tells the caller to drop what it indexed from the old file

    def _aad(self, offset: int, length: int) -> bytes:
        return self._aad_prefix + struct.pack(">QI", offset, length)

    def read_at(self, offset: int) -> bytes:
        head = os.pread(self._fd, FRAME_LEN.size, offset)
        if len(head) != FRAME_LEN.size:
            raise VaultCorrupt(f"{self.path} is truncated at byte {offset}")
        (length,) = FRAME_LEN.unpack(head)
        if length < crypto.NONCE_LEN + crypto.TAG_LEN or length > MAX_FRAME:
            raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: bad frame length")
        return self._open_frame(offset, length)

    def _open_frame(self, offset: int, length: int) -> bytes:
        """The plaintext of the frame of `length` sealed bytes at `offset`; VaultCorrupt if it does not authenticate."""
        sealed = os.pread(self._fd, length, offset + FRAME_LEN.size)
        try:
            return crypto.open_(self._frame_key, sealed, self._aad(offset, length))
        except crypto.InvalidKey:
            raise VaultCorrupt(f"{self.path} is damaged at byte {offset}: a frame does not authenticate") from None

    # -- recovering ------------------------------------------------------------------------------------
    def recover(self, keep: Path) -> Recovery:
        """Bring the log back to its newest commit that authenticates, as do all the frames before it.

        For a commit record torn by a power loss or a file cut short: the log returns to the last write both
        agree on, losing at most the writes after it. Before anything is written, the file is copied to `keep`
        (0600). A log that is sound is left alone. Raises VaultCorrupt when no commit can be trusted. The caller
        holds the lock exclusive.
        """
        unreadable = "cannot be recovered: its header is damaged"
        slots = self._slots(unreadable, unreadable)
        size = os.fstat(self._fd).st_size
        trusted = sorted((c for c in slots if c is not None), key=lambda c: c.seq, reverse=True)
        damaged = [i for i, c in enumerate(slots) if c is None]
        for commit in trusted:
            if DATA_START <= commit.length <= size:
                try:
                    frames = sum(1 for _ in self._frames(DATA_START, commit.length))
                except VaultCorrupt:
                    continue
                break
        else:
            raise VaultCorrupt(f"{self.path} cannot be recovered: no commit record agrees with the frames before it")
        if not damaged and commit == trusted[0]:
            return Recovery(self.path, False, (), commit.length, frames, size - commit.length, None)
        self._copy_to(keep)
        seq = trusted[0].seq + 1
        if seq % 2 == commit.seq % 2:  # write the other slot: the commit we return to stays as it is
            seq += 1
        index = seq % 2
        os.pwrite(self._fd, SLOT.pack(seq, commit.length, _slot_mac(self._meta_key, self._header, index, seq,
                                                                      commit.length)), SLOT_OFFSETS[index])
        os.fdatasync(self._fd)
        self._commit, self._end = _Commit(-1, DATA_START), DATA_START  # follow from the start again
        return Recovery(self.path, True, tuple(damaged), commit.length, frames, size - commit.length, keep)

    def rewind(self, length: int, keep: Path) -> Recovery:
        """Make the log end at `length`, a frame boundary before its commit: the writes after it go (a copy of
        the file as it was is kept at `keep`, unless a file is there already). Caller holds the lock exclusive
        and followed the log to its end."""
        if not DATA_START <= length < self._commit.length or self._commit.length != self._end:
            raise VaultCorrupt(f"{self.path} cannot go back to byte {length}")
        frames = sum(1 for _ in self._frames(DATA_START, length))
        if not keep.exists():
            self._copy_to(keep)
        self._write_slot(self._commit.seq + 1, length)  # the other slot: the current commit stays whole if it tears
        past = self._commit.length - length
        self._commit, self._end = _Commit(-1, DATA_START), DATA_START  # follow from the start again
        return Recovery(self.path, True, (), length, frames, past, keep)

    def _copy_to(self, keep: Path) -> None:
        fd = os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            offset = 0
            while chunk := os.pread(self._fd, 1 << 20, offset):
                os.write(fd, chunk)
                offset += len(chunk)
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- appending -------------------------------------------------------------------------------------
    def append(self, plaintexts: list[bytes]) -> list[int]:
        """Append frames after following to the end; returns their offsets. Caller holds the lock exclusive."""
        staged = self.stage(plaintexts)
        self.commit(staged)
        return list(staged.offsets)

    def stage(self, plaintexts: list[bytes]) -> Staged:
        """Write frames past the commit and sync them; nothing counts until `commit`. Caller holds the lock
        exclusive and followed the log to its end."""
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
        return Staged(self._commit.length, offset, self._commit.seq + 1, hashlib.sha256(data).hexdigest(),
                      tuple(offsets))

    def commit(self, staged: Staged) -> None:
        """Make `staged` count: write the other commit slot and sync. Caller still holds the lock exclusive."""
        if staged.start != self._commit.length or staged.seq <= self._commit.seq:
            raise RuntimeError("commit of frames staged at another point of the log")
        self._write_slot(staged.seq, staged.end)
        self._commit = _Commit(staged.seq, staged.end)
        self._end = staged.end

    def commit_staged_on_disk(self, start: int, end: int, seq: int, sha256: str) -> bool:
        """Commit bytes a process staged and then lost (it died before its commit), when they are still there,
        exactly: `start` is the commit now and the bytes up to `end` hash to `sha256` and authenticate as frames.
        Returns False, writing nothing, when they are not. Caller holds the lock exclusive and followed the log."""
        if start != self._commit.length or start != self._end or end <= start:
            return False
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start or hashlib.sha256(data).hexdigest() != sha256:
            return False
        try:
            for _ in self._frames(start, end):
                pass
        except VaultCorrupt:
            return False
        seq = max(seq, self._commit.seq + 1)
        seq += (seq - self._commit.seq + 1) % 2  # the other slot: the commit there now stays whole if this tears
        self._write_slot(seq, end)
        self._commit = _Commit(seq, start)  # follow() reads the frames now committed
        self._seen_seq = seq
        return True

    def _write_slot(self, seq: int, length: int) -> None:
        index = seq % 2
        slot = SLOT.pack(seq, length, _slot_mac(self._meta_key, self._header, index, seq, length))
        os.pwrite(self._fd, slot, SLOT_OFFSETS[index])
        os.fdatasync(self._fd)
        self._seen_seq = max(self._seen_seq, seq)

    @property
    def committed_length(self) -> int:
        return self._commit.length

    @property
    def file_id(self) -> str:
        """Names this copy of the log: a rewrite (compaction, rotation) makes a file with another id."""
        salt: bytes = self._salt
        return salt[:8].hex()

    @property
    def commit_seq(self) -> int:
        """The commit counter as far as this process followed the log."""
        return self._commit.seq

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
