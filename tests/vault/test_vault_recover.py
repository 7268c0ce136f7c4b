"""`butler vault recover`: a torn last write or a file cut short goes back to the last sound write, with a copy kept;
real damage before that stays an error and nothing is written. A change goes with its audit entry: a torn vault
commit record whose change the audit log committed is written again, and a change whose audit entry tore goes."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, file_hashes, make_vault, passphrase_file, run_main

from butler.errors import VaultCorrupt
from butler.vault import Vault
from butler.vault.framelog import DATA_START, SLOT_OFFSETS


def _vault(home: Path, writes: int = 5) -> None:
    with make_vault(home) as vault:
        for i in range(writes):
            vault.put("items", f"r{i}", {"i": i})


def _newest_slot(path: Path) -> int:
    data = path.read_bytes()
    seqs = [struct.unpack(">Q", data[at:at + 8])[0] for at in SLOT_OFFSETS]
    return SLOT_OFFSETS[seqs.index(max(seqs))]


def _tear(path: Path) -> None:
    """What a power loss in the middle of writing the newest commit record could leave: part old, part garbage."""
    at = _newest_slot(path)
    with open(path, "r+b") as fh:
        fh.seek(at + 8)
        fh.write(b"\x00\x13\x37" * 5)


def _ids(home: Path) -> list[str]:
    with Vault(home, Vault.key_from_passphrase(home, PASSPHRASE)) as vault:
        vault.audit.verify()
        return sorted(vault.ids("items"))


def _recover(home: Path, tmp_path: Path) -> tuple[int, str, str]:
    env = {"BUTLER_HOME": str(home), "BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pp"))}
    out = run_main("vault", "recover", env=env)
    return out.returncode, out.stdout, out.stderr


def test_a_torn_commit_record_goes_back_to_the_last_sound_write_and_keeps_a_copy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _vault(home)
    log = home / "vault.log"
    _tear(log)
    torn = log.read_bytes()
    with pytest.raises(VaultCorrupt) as caught:
        _ids(home)
    assert "butler vault recover" in caught.value.hint

    code, out, err = _recover(home, tmp_path)
    assert code == 0, err
    assert "vault.log: commit record" in out and "did not authenticate" in out
    assert "audit.log: sound" in out and "the vault opens and its audit chain verifies" in out
    assert "committed again from its audit entry" in out
    assert _ids(home) == ["r0", "r1", "r2", "r3", "r4"]  # its audit entry had committed r4: nothing is lost
    kept = list(home.glob("vault.log.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == torn and (kept[0].stat().st_mode & 0o777) == 0o600
    assert str(kept[0]) in out

    with Vault(home, Vault.key_from_passphrase(home, PASSPHRASE)) as vault:  # writable again, and it lasts
        vault.put("items", "r9", {"i": 9})
        assert any(e.action == "vault.recover" for e in vault.audit.entries())
    assert _ids(home) == ["r0", "r1", "r2", "r3", "r4", "r9"]

    before = file_hashes(home)
    code, out, _ = _recover(home, tmp_path)
    assert code == 0 and "vault.log: sound" in out and "audit.log: sound" in out
    assert file_hashes(home) == before and len(list(home.glob("*.damaged-*"))) == 1  # sound: untouched


def test_a_file_cut_short_goes_back_to_the_commit_it_still_holds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _vault(home, writes=3)
    log = home / "vault.log"
    size = log.stat().st_size
    os.truncate(log, size - 7)  # the last frame is cut: the newest commit names bytes that are gone
    code, out, err = _recover(home, tmp_path)
    assert code == 0, err
    assert "vault.log: the file ends before its last commit" in out
    assert _ids(home) == ["r0", "r1"]


def test_a_torn_audit_commit_is_recovered_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _vault(home, writes=2)
    _tear(home / "audit.log")
    code, out, err = _recover(home, tmp_path)
    assert code == 0, err
    assert "audit.log: commit record" in out and "vault.log: sound" in out
    assert "its last change went too, as the audit entry that committed it was lost" in out
    assert _ids(home) == ["r0"]  # r1 and its audit entry go together


def test_damage_before_the_last_write_is_not_recovered_and_nothing_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _vault(home)
    log = home / "vault.log"
    data = bytearray(log.read_bytes())
    data[DATA_START + 40] ^= 0x01  # inside the first frame: every commit covers it
    log.write_bytes(bytes(data))
    before = file_hashes(home)
    code, _, err = _recover(home, tmp_path)
    assert code != 0 and "cannot be recovered" in err and "Traceback" not in err
    assert file_hashes(home) == before and not list(home.glob("*.damaged-*"))


def test_a_wrong_passphrase_changes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _vault(home)
    _tear(home / "vault.log")
    before = file_hashes(home)
    env = {"BUTLER_HOME": str(home),
           "BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pp", "not the passphrase"))}
    out = run_main("vault", "recover", env=env)
    assert out.returncode != 0 and "passphrase" in out.stderr.lower()
    assert file_hashes(home) == before and not list(home.glob("*.damaged-*"))
    assert hashlib.sha256((home / "vault.log").read_bytes()).hexdigest() == before["vault.log"]
