"""Backups, passphrase changes, key rotation and compaction, and the default key-derivation parameters."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from helpers.vaultkit import PASSPHRASE, VAULT_FILES, file_hashes, make_vault, passphrase_file, run_main

from butler.errors import VaultExists, WrongPassphrase
from butler.vault import (
    KdfParams,
    Vault,
    change_passphrase,
    crypto,
    export_backup,
    import_backup,
    rotate_data_key,
)
from butler.vault.keyfile import KeyFile

NEW_PASSPHRASE = "another passphrase entirely"
DATA = {f"r{i}": {"i": i, "text": "é" * i} for i in range(20)}


def _fill(vault: Vault) -> None:
    for record_id, data in DATA.items():
        vault.put("items", record_id, data)


def _contents(vault: Vault) -> dict[str, dict[str, object]]:
    return {record.id: record.data for record in vault.records("items")}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_kdf_is_argon2id_with_at_least_64_mib() -> None:
    params = KdfParams.default()
    assert crypto.HAVE_ARGON2
    assert params.algorithm == crypto.KDF_ARGON2ID
    assert params.memory_kib >= 64 * 1024
    assert params.iterations >= 2
    assert len(params.salt) == 16
    assert KdfParams.default().salt != params.salt
    params.check_bounds()
    assert params.describe().startswith("Argon2id m=")


def test_argon2id_known_answer() -> None:
    """The RFC 9106 §5.3 Argon2id vector, then derive_kek wired to the same primitive."""
    rfc = Argon2id(salt=b"\x02" * 16, length=32, iterations=3, lanes=4, memory_cost=32, ad=b"\x04" * 12,
                   secret=b"\x03" * 8).derive(b"\x01" * 32)
    assert rfc.hex() == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    params = KdfParams(crypto.KDF_ARGON2ID, 64, 2, 1, b"somesalt" * 2)
    direct = Argon2id(salt=params.salt, length=32, iterations=2, lanes=1, memory_cost=64).derive(b"password")
    assert crypto.derive_kek("password", params) == direct


@pytest.mark.parametrize("params", [
    KdfParams(crypto.KDF_ARGON2ID, 2 << 20, 3, 4, bytes(16)),   # 2 GiB
    KdfParams(crypto.KDF_ARGON2ID, 64 * 1024, 1000, 4, bytes(16)),
    KdfParams(crypto.KDF_ARGON2ID, 64 * 1024, 3, 64, bytes(16)),
    KdfParams(crypto.KDF_SCRYPT, 30, 1, 8, bytes(16)),
    KdfParams(99, 1024, 1, 1, bytes(16)),
])
def test_hostile_kdf_parameters_are_refused(params: KdfParams) -> None:
    with pytest.raises(ValueError, match="out of bounds"):
        crypto.derive_kek("x", params)


def test_backup_round_trip(butler_env: Path, tmp_path: Path) -> None:
    with make_vault(butler_env) as vault:
        _fill(vault)
        backup = tmp_path / "vault.bak"
        size = export_backup(vault, backup)
        assert size == backup.stat().st_size
        assert backup.stat().st_mode & 0o777 == 0o600
        assert PASSPHRASE.encode() not in backup.read_bytes()
        assert b'"text"' not in backup.read_bytes()  # the records stay encrypted
    other = tmp_path / "elsewhere"
    assert import_backup(backup, other, PASSPHRASE) is None
    key = Vault.key_from_passphrase(other, PASSPHRASE)
    with Vault(other, key) as restored:
        assert _contents(restored) == DATA
        actions = [entry.action for entry in restored.audit.entries()]
        assert actions[-1] == "vault.import"  # the restored chain goes on from the backup
        restored.audit.verify()


def test_import_refuses_to_overwrite_and_moves_aside_with_replace(butler_env: Path, tmp_path: Path) -> None:
    with make_vault(butler_env) as vault:
        _fill(vault)
        backup = tmp_path / "vault.bak"
        export_backup(vault, backup)
        vault.put("items", "later", {"after": "the backup"})
    before = file_hashes(butler_env)
    with pytest.raises(VaultExists):
        import_backup(backup, butler_env, PASSPHRASE)
    assert file_hashes(butler_env) == before
    with pytest.raises(WrongPassphrase):
        import_backup(backup, butler_env, "not the passphrase", replace=True)
    assert file_hashes(butler_env) == before

    moved = import_backup(backup, butler_env, PASSPHRASE, replace=True)
    assert moved is not None and moved.parent == butler_env and moved.name.startswith("replaced-")
    assert file_hashes(moved) == before  # the old vault, whole, moved aside
    key = Vault.key_from_passphrase(butler_env, PASSPHRASE)
    with Vault(butler_env, key) as restored:
        assert _contents(restored) == DATA  # the record written after the backup is not there
    old_key = Vault.key_from_passphrase(moved, PASSPHRASE)
    with Vault(moved, old_key) as old:
        assert old.get("items", "later").data == {"after": "the backup"}
    assert not [p for p in butler_env.iterdir() if p.name.startswith(".import-")]


def test_import_through_the_cli(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    env = {"BUTLER_PASSPHRASE_FILE": str(pw)}
    assert run_main("init", env=env).returncode == 0
    assert run_main("vault", "put", "notes", "n1", env=env, stdin='{"a": 1}').returncode == 0
    backup = tmp_path / "b.bak"
    assert run_main("vault", "export", str(backup), env=env).returncode == 0
    refused = run_main("vault", "import", str(backup), env=env)
    assert refused.returncode != 0
    assert refused.stderr.startswith("error: a vault already exists")
    assert "--replace" in refused.stderr
    replaced = run_main("vault", "import", "--replace", str(backup), env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert "the previous vault was moved to" in replaced.stdout
    got = run_main("vault", "get", "notes", "n1", env=env)
    assert got.returncode == 0 and '"a": 1' in got.stdout


def test_passphrase_change_rewraps_only(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        _fill(vault)
        log_before = _sha(butler_env / "vault.log")
        key_before = _sha(butler_env / "vault.key")
        with pytest.raises(WrongPassphrase):
            change_passphrase(vault, "not it", NEW_PASSPHRASE, KdfParams.fast_for_tests())
        assert _sha(butler_env / "vault.key") == key_before
        change_passphrase(vault, PASSPHRASE, NEW_PASSPHRASE, KdfParams.fast_for_tests())
        data_key = vault.data_key
    assert _sha(butler_env / "vault.log") == log_before
    assert _sha(butler_env / "vault.key") != key_before
    with pytest.raises(WrongPassphrase):
        Vault.key_from_passphrase(butler_env, PASSPHRASE)
    assert Vault.key_from_passphrase(butler_env, NEW_PASSPHRASE) == data_key
    with Vault(butler_env, data_key) as vault:
        assert _contents(vault) == DATA
        assert vault.audit.entries()[-1].action == "vault.passphrase-changed"


def test_passwd_through_the_cli_keeps_the_kdf_strength(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    new = passphrase_file(tmp_path / "secrets", NEW_PASSPHRASE, "new")
    env = {"BUTLER_PASSPHRASE_FILE": str(pw), "BUTLER_NEW_PASSPHRASE_FILE": str(new)}
    assert run_main("init", env=env).returncode == 0
    kdf_before = KeyFile.read(butler_env / "vault.key").kdf
    log_before = _sha(butler_env / "vault.log")
    result = run_main("vault", "passwd", env=env)
    assert result.returncode == 0, result.stderr
    kdf_after = KeyFile.read(butler_env / "vault.key").kdf
    assert (kdf_after.algorithm, kdf_after.memory_kib, kdf_after.iterations) == (
        kdf_before.algorithm, kdf_before.memory_kib, kdf_before.iterations)
    assert kdf_after.salt != kdf_before.salt
    assert _sha(butler_env / "vault.log") == log_before
    old = run_main("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert old.returncode != 0 and "wrong passphrase" in old.stderr
    assert run_main("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(new)}).returncode == 0


def test_rotate_reencrypts_everything(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        _fill(vault)
        vault.delete("items", "r0")
        old_key = vault.data_key
        before = {name: (butler_env / name).read_bytes() for name in VAULT_FILES}
        entries_before = len(vault.audit.entries())
    vault = Vault(butler_env, old_key)
    with pytest.raises(WrongPassphrase):
        rotate_data_key(vault, "not it")
    assert {name: (butler_env / name).read_bytes() for name in VAULT_FILES} == before
    rotated = rotate_data_key(vault, PASSPHRASE)
    with rotated:
        new_key = rotated.data_key
        assert new_key != old_key
        expected = {k: v for k, v in DATA.items() if k != "r0"}
        assert _contents(rotated) == expected
        entries = rotated.audit.entries()
        assert len(entries) == entries_before + 1 and entries[-1].action == "vault.rotate"
    for name in VAULT_FILES:
        assert (butler_env / name).read_bytes() != before[name], name
    assert Vault.key_from_passphrase(butler_env, PASSPHRASE) == new_key
    assert old_key.hex()[:16] not in (butler_env / "vault.log").read_bytes().hex()
    with pytest.raises(Exception, match="another key"):
        Vault(butler_env, old_key)
    assert not [p.name for p in butler_env.iterdir() if p.name.endswith(".new")]


def test_compact_drops_superseded_records(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        for round_ in range(10):
            for record_id in DATA:
                vault.put("items", record_id, {"round": round_, "id": record_id})
        vault.delete("items", "r1")
        before = (butler_env / "vault.log").stat().st_size
        other = Vault(butler_env, vault.data_key)  # a second handle follows the replaced file
        vault.compact()
        after = (butler_env / "vault.log").stat().st_size
        assert after < before / 5
        expected = {k: {"round": 9, "id": k} for k in DATA if k != "r1"}
        assert _contents(vault) == expected
        assert _contents(other) == expected
        other.put("items", "new", {"x": 1})
        assert vault.get("items", "new").data == {"x": 1}
        other.close()
        vault.audit.verify()
