"""Flipping any single byte of vault.log, audit.log or vault.key is detected, never read as other data."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, VAULT_FILES, make_vault

from butler.errors import AuditError, ButlerError, VaultCorrupt, VaultVersionError
from butler.vault import Vault
from butler.vault.framelog import DATA_START

RECORDS = {f"r{i}": {"i": i, "name": f"record {i}", "tags": ["a", "b"][: i % 3]} for i in range(12)}
RANDOM_FRAME_BYTES = {"vault.log": 250, "audit.log": 200}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("pristine") / "butler"
    with make_vault(home) as vault:
        for record_id, data in RECORDS.items():
            vault.put("items", record_id, data)
        vault.put("items", "r3", {"i": 3, "name": "changed"})
        vault.delete("items", "r5")
    return home


def _expected() -> dict[str, dict[str, object]]:
    out = dict(RECORDS)
    out["r3"] = {"i": 3, "name": "changed"}
    del out["r5"]
    return out


def _read_everything(home: Path) -> None:
    """Unlock, read every record and verify the audit log; assert nothing differs from what was written."""
    data_key = Vault.key_from_passphrase(home, PASSPHRASE)
    with Vault(home, data_key) as vault:
        got = {r.id: r.data for r in vault.records("items")}
        assert got == _expected(), "a flipped byte changed what the vault returned"
        vault.audit.verify()


def _positions(pristine: Path, rng: random.Random) -> list[tuple[str, int]]:
    picks: list[tuple[str, int]] = []
    for name in ("vault.log", "audit.log"):
        size = (pristine / name).stat().st_size
        picks += [(name, at) for at in range(DATA_START)]  # every header and commit-slot byte
        picks += [(name, at) for at in rng.sample(range(DATA_START, size), RANDOM_FRAME_BYTES[name])]
    picks += [("vault.key", at) for at in range((pristine / "vault.key").stat().st_size)]  # every byte
    return picks


def test_pristine_copy_reads_back(pristine: Path, tmp_path: Path) -> None:
    home = tmp_path / "copy"
    shutil.copytree(pristine, home)
    _read_everything(home)


@pytest.mark.slow
def test_every_single_byte_flip_is_detected(pristine: Path, tmp_path: Path) -> None:
    rng = random.Random(4242)
    positions = _positions(pristine, rng)
    assert len(positions) >= 500
    originals = {name: (pristine / name).read_bytes() for name in VAULT_FILES}
    home = tmp_path / "victim"
    undetected, wrong_kind = [], []
    for name, at in positions:
        if home.exists():
            shutil.rmtree(home)
        shutil.copytree(pristine, home)
        data = bytearray(originals[name])
        data[at] ^= 1 << rng.randrange(8)
        (home / name).write_bytes(bytes(data))
        try:
            _read_everything(home)
        except (VaultCorrupt, VaultVersionError, AuditError) as exc:
            if name == "vault.key" and isinstance(exc, AuditError):
                wrong_kind.append((name, at, repr(exc)))
            continue
        except ButlerError as exc:  # WrongPassphrase and the like: the damage went unnoticed as damage
            wrong_kind.append((name, at, repr(exc)))
            continue
        undetected.append((name, at))
    assert not undetected, f"flips not detected: {undetected[:10]}"
    assert not wrong_kind, f"flips reported as something other than damage: {wrong_kind[:10]}"


@pytest.mark.parametrize("name", ["vault.log", "audit.log"])
def test_dropping_the_last_frame_is_detected(pristine: Path, tmp_path: Path, name: str) -> None:
    home = tmp_path / "victim"
    shutil.copytree(pristine, home)
    data = (home / name).read_bytes()
    (home / name).write_bytes(data[:-20])
    with pytest.raises(VaultCorrupt, match="truncated"):
        _read_everything(home)


def test_swapping_two_frames_is_detected(pristine: Path, tmp_path: Path) -> None:
    """Move whole frames of equal length around: the frame's offset is authenticated."""
    home = tmp_path / "victim"
    shutil.copytree(pristine, home)
    data = bytearray((home / "vault.log").read_bytes())
    frames, at = [], DATA_START
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        frames.append((at, 4 + length))
        at += 4 + length
    same = {}
    pair = None
    for start, size in frames:
        if size in same:
            pair = (same[size], start, size)
            break
        same[size] = start
    assert pair is not None
    a, b, size = pair
    data[a:a + size], data[b:b + size] = data[b:b + size], data[a:a + size]
    (home / "vault.log").write_bytes(bytes(data))
    with pytest.raises(VaultCorrupt):
        _read_everything(home)


def test_newer_commit_slots_over_older_frames_are_detected(pristine: Path, tmp_path: Path) -> None:
    home = tmp_path / "victim"
    shutil.copytree(pristine, home)
    data_key = Vault.key_from_passphrase(home, PASSPHRASE)
    with Vault(home, data_key) as vault:
        vault.put("items", "extra", {"x": 1})
    newer = (home / "vault.log").read_bytes()
    older = (pristine / "vault.log").read_bytes()
    (home / "vault.log").write_bytes(newer[:DATA_START] + older[DATA_START:])
    with pytest.raises(VaultCorrupt):
        _read_everything(home)
