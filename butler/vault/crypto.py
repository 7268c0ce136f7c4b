"""The vault's cryptography, and nothing else: key derivation, key wrapping, record sealing.

A random 256-bit data key (DK) encrypts everything. The passphrase only wraps the DK, through a key-encryption
key from Argon2id (scrypt where the installed `cryptography` lacks Argon2id). Each log file derives its own
record key from the DK with HKDF and a per-file random salt, so random 96-bit nonces stay far from collision.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

try:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    HAVE_ARGON2 = True
except ImportError:  # cryptography < 44
    HAVE_ARGON2 = False

__all__ = [
    "KDF_ARGON2ID",
    "KDF_SCRYPT",
    "KEY_LEN",
    "NONCE_LEN",
    "TAG_LEN",
    "KdfParams",
    "derive_kek",
    "derive_subkey",
    "key_id",
    "mac",
    "open_",
    "seal",
    "unwrap_key",
    "wrap_key",
]

KEY_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
KDF_ARGON2ID = 1
KDF_SCRYPT = 2

# Bounds on parameters read from a file: a hostile header must not make unlock take minutes or gigabytes. The
# default (192 MiB, t=3) costs ≈0.4 s on two cores; the bounds allow about 2.5 times its work, ≈1 s.
MAX_MEMORY_KIB = 512 * 1024  # 512 MiB
MAX_ITERATIONS = 8
MAX_LANES = 8
MAX_WORK_KIB = 1536 * 1024  # memory × passes: 512 MiB × 3, 192 MiB × 8
MAX_SCRYPT_LOG_N = 18  # 256 MiB at r=8
MAX_SCRYPT_R = 8

# One key derivation at a time in a process. cryptography 50's Argon2id never returns when two threads derive
# with lanes >= 2 at once: two threads each calling Argon2id(salt=..., length=32, iterations=1, lanes=4,
# memory_cost=32).derive(b"pw") hang in the first round (a daemon's two jobs unlocking together did, for good).
# Serialised, 300 rounds pass; scrypt shares the lock because it is as heavy.
_DERIVE_LOCK = threading.Lock()


class InvalidKey(Exception):
    """Decryption failed: wrong key or altered data."""


@dataclass(frozen=True)
class KdfParams:
    """Parameters stored in the key file. `memory_kib`/`lanes` mean log2(N)/r for scrypt."""

    algorithm: int
    memory_kib: int
    iterations: int
    lanes: int
    salt: bytes

    @classmethod
    def default(cls) -> KdfParams:
        # ≈0.4 s on two cores: well inside the 0.3–1 s unlock target, heavy on memory for GPUs.
        if HAVE_ARGON2:
            return cls(KDF_ARGON2ID, 192 * 1024, 3, 4, os.urandom(16))
        return cls(KDF_SCRYPT, 17, 1, 8, os.urandom(16))

    @classmethod
    def fast_for_tests(cls) -> KdfParams:
        if HAVE_ARGON2:
            return cls(KDF_ARGON2ID, 8 * 1024, 1, 1, os.urandom(16))
        return cls(KDF_SCRYPT, 12, 1, 8, os.urandom(16))

    def check_bounds(self) -> None:
        if self.algorithm == KDF_ARGON2ID:
            ok = (8 * self.lanes <= self.memory_kib <= MAX_MEMORY_KIB and 1 <= self.iterations <= MAX_ITERATIONS
                  and 1 <= self.lanes <= MAX_LANES and self.memory_kib * self.iterations <= MAX_WORK_KIB)
        elif self.algorithm == KDF_SCRYPT:
            ok = (10 <= self.memory_kib <= MAX_SCRYPT_LOG_N and 1 <= self.lanes <= MAX_SCRYPT_R
                  and self.iterations == 1)
        else:
            ok = False
        if not ok or len(self.salt) != 16:
            raise ValueError("key derivation parameters out of bounds")

    def describe(self) -> str:
        if self.algorithm == KDF_ARGON2ID:
            return f"Argon2id m={self.memory_kib // 1024} MiB t={self.iterations} p={self.lanes}"
        return f"scrypt N=2^{self.memory_kib} r={self.lanes}"

    def pack(self) -> bytes:
        return struct.pack(">BIIB16s", self.algorithm, self.memory_kib, self.iterations, self.lanes, self.salt)

    @classmethod
    def unpack(cls, data: bytes) -> KdfParams:
        algorithm, memory, iterations, lanes, salt = struct.unpack(">BIIB16s", data)
        return cls(algorithm, memory, iterations, lanes, salt)

    PACKED_LEN = 26


def derive_kek(passphrase: str, params: KdfParams) -> bytes:
    """The key-encryption key for `passphrase`; raises ValueError for parameters out of bounds.

    Derivations in one process run one after the other (see `_DERIVE_LOCK`)."""
    params.check_bounds()
    secret = passphrase.encode("utf-8")
    if params.algorithm == KDF_ARGON2ID and not HAVE_ARGON2:
        raise ValueError("this vault needs Argon2id: install cryptography >= 44")
    with _DERIVE_LOCK:
        if params.algorithm == KDF_ARGON2ID:
            kdf = Argon2id(salt=params.salt, length=KEY_LEN, iterations=params.iterations, lanes=params.lanes,
                           memory_cost=params.memory_kib)
            return kdf.derive(secret)
        return Scrypt(salt=params.salt, length=KEY_LEN, n=1 << params.memory_kib, r=params.lanes,
                      p=1).derive(secret)


def derive_subkey(key: bytes, salt: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=salt, info=b"butler/" + purpose).derive(key)


def key_id(key: bytes) -> bytes:
    """A short public fingerprint of a data key, to tell which key a file was written with."""
    return hmac.new(key, b"butler/key-id", hashlib.sha256).digest()[:8]


def mac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()[:16]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """nonce ‖ ciphertext ‖ tag, AES-256-GCM with a random nonce."""
    nonce = os.urandom(NONCE_LEN)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_LEN + TAG_LEN:
        raise InvalidKey("sealed data too short")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_LEN], sealed[NONCE_LEN:], aad)
    except InvalidTag as exc:
        raise InvalidKey("authentication failed") from exc


def wrap_key(kek: bytes, data_key: bytes, aad: bytes) -> bytes:
    return seal(kek, data_key, aad)


def unwrap_key(kek: bytes, wrapped: bytes, aad: bytes) -> bytes:
    return open_(kek, wrapped, aad)
