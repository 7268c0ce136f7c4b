"""Key derivations cannot hang: they run one at a time in a process. cryptography 50's Argon2id never returns when
two threads derive with lanes >= 2 at once (the daemon's two jobs unlocking together hung for good); here two
threads derive with four lanes at once, 100 times. The key file's KDF parameters are bounded, so a hostile or
mistaken header cannot make unlocking take half a minute.

Counted, never timed: each round joins its threads; the join's timeout only turns a hang into a failure.
"""

from __future__ import annotations

import threading

import pytest

from butler.vault import KdfParams, crypto

ROUNDS = 100
HANG_GUARD_SECONDS = 120
LANES_4 = KdfParams(crypto.KDF_ARGON2ID, 32, 1, 4, b"s" * 16)  # the reproduction: tiny memory, four lanes


def test_two_threads_deriving_with_four_lanes_at_once_never_hang() -> None:
    results: list[bytes] = []
    for _ in range(ROUNDS):
        threads = [threading.Thread(target=lambda: results.append(crypto.derive_kek("pw", LANES_4)), daemon=True)
                   for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HANG_GUARD_SECONDS)
            assert not thread.is_alive(), "a key derivation hung"
    assert len(results) == 2 * ROUNDS and len(set(results)) == 1


@pytest.mark.parametrize("params", [
    KdfParams(crypto.KDF_ARGON2ID, 1 << 20, 20, 4, bytes(16)),  # the 26 s, 1 GiB unlock the old bounds allowed
    KdfParams(crypto.KDF_ARGON2ID, 768 * 1024, 2, 4, bytes(16)),  # more than 512 MiB
    KdfParams(crypto.KDF_ARGON2ID, 256 * 1024, 8, 4, bytes(16)),  # 256 MiB × 8 passes: over the work bound
    KdfParams(crypto.KDF_ARGON2ID, 64 * 1024, 3, 16, bytes(16)),  # more than 8 lanes
    KdfParams(crypto.KDF_SCRYPT, 19, 1, 8, bytes(16)),  # 512 MiB of scrypt
])
def test_the_key_file_bounds_refuse_slow_unlocks(params: KdfParams) -> None:
    with pytest.raises(ValueError, match="out of bounds"):
        params.check_bounds()


def test_the_default_and_the_bounds_edge_pass() -> None:
    KdfParams.default().check_bounds()
    KdfParams(crypto.KDF_ARGON2ID, 512 * 1024, 3, 8, bytes(16)).check_bounds()
    KdfParams(crypto.KDF_ARGON2ID, 192 * 1024, 8, 4, bytes(16)).check_bounds()
