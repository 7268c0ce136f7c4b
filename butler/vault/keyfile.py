"""`vault.key`: the data key wrapped by the passphrase, with the KDF parameters that unwrap it.

Layout (big-endian): magic "BTLRKEY\\0" | version u16 | vault id (16) | KDF params (26) | wrapped key (60)
| SHA-256 of everything before (32). The checksum tells damage from a wrong passphrase; the AEAD binds the
wrapped key to every header byte before it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from butler.atomic import atomic_write
from butler.errors import VaultCorrupt, VaultNotFound, VaultVersionError, WrongPassphrase
from butler.vault import crypto

__all__ = ["KeyFile"]

MAGIC = b"BTLRKEY\x00"
VERSION = 1
_HEAD = struct.Struct(">8sH16s")
_WRAPPED_LEN = crypto.NONCE_LEN + crypto.KEY_LEN + crypto.TAG_LEN
_SIZE = _HEAD.size + crypto.KdfParams.PACKED_LEN + _WRAPPED_LEN + 32


@dataclass(frozen=True)
class KeyFile:
    vault_id: bytes
    kdf: crypto.KdfParams
    wrapped: bytes

    def _aad(self) -> bytes:
        return _HEAD.pack(MAGIC, VERSION, self.vault_id) + self.kdf.pack()

    def to_bytes(self) -> bytes:
        body = self._aad() + self.wrapped
        return body + hashlib.sha256(body).digest()

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "vault.key") -> KeyFile:
        if len(data) < _HEAD.size or data[:8] != MAGIC:
            if not data:
                raise VaultCorrupt(f"{where} is empty")
            raise VaultCorrupt(f"{where} is not a butler key file")
        _, version, _ = _HEAD.unpack_from(data)
        if version > VERSION:
            raise VaultVersionError(f"{where} has format version {version}; this butler reads up to {VERSION}")
        if len(data) != _SIZE:
            raise VaultCorrupt(f"{where} is truncated or has trailing data ({len(data)} bytes, expected {_SIZE})")
        body, digest = data[:-32], data[-32:]
        if hashlib.sha256(body).digest() != digest:
            raise VaultCorrupt(f"{where} is damaged: its checksum does not match")
        _, version, vault_id = _HEAD.unpack_from(body)
        if version != VERSION:
            raise VaultCorrupt(f"{where} has unknown format version {version}")
        kdf = crypto.KdfParams.unpack(body[_HEAD.size:_HEAD.size + crypto.KdfParams.PACKED_LEN])
        try:
            kdf.check_bounds()
        except ValueError as exc:
            raise VaultCorrupt(f"{where}: {exc}") from None
        wrapped = body[_HEAD.size + crypto.KdfParams.PACKED_LEN:]
        return cls(vault_id, kdf, wrapped)

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise VaultNotFound(f"no vault key file at {path}") from None
        return cls.from_bytes(data, str(path))

    def write(self, path: Path) -> None:
        atomic_write(path, self.to_bytes())

    @classmethod
    def wrap(cls, vault_id: bytes, data_key: bytes, passphrase: str, kdf: crypto.KdfParams) -> KeyFile:
        draft = cls(vault_id, kdf, b"")
        kek = crypto.derive_kek(passphrase, kdf)
        return cls(vault_id, kdf, crypto.wrap_key(kek, data_key, draft._aad()))

    def unwrap(self, passphrase: str) -> bytes:
        kek = crypto.derive_kek(passphrase, self.kdf)
        try:
            return crypto.unwrap_key(kek, self.wrapped, self._aad())
        except crypto.InvalidKey:
            raise WrongPassphrase("wrong passphrase: the vault key could not be unwrapped") from None
