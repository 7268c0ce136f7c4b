"""The vault key in a real OS keyring (gnome-keyring over a private D-Bus), and never in a plaintext one."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import keyring
import pytest
from helpers import plaintext_keyring
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_butler

from butler.errors import KeyringError
from butler.vault import Vault, keyring_store, open_vault
from butler.vault.keyfile import KeyFile

TESTS_DIR = str(Path(__file__).resolve().parents[1])


def _vault_id(home: Path) -> str:
    return KeyFile.read(home / "vault.key").vault_id.hex()


@pytest.mark.slow
def test_init_keeps_the_key_and_status_opens_without_a_passphrase(
        secret_service: str, butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    result = run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert result.returncode == 0, result.stderr
    assert "vault key kept in the OS keyring (SecretService.Keyring)" in result.stdout

    status = run_butler("vault", "status")  # no BUTLER_PASSPHRASE_FILE, no terminal
    assert status.returncode == 0, status.stderr
    assert "unlocked by keyring (SecretService.Keyring)" in status.stdout
    assert "keyring     SecretService.Keyring" in status.stdout

    search = subprocess.run(["secret-tool", "search", "--all", "service", "butler"], capture_output=True, text=True,
                            timeout=10, check=False)
    assert search.returncode == 0, search.stderr
    listing = search.stdout + search.stderr
    assert "attribute.service = butler" in listing
    assert f"attribute.username = {_vault_id(butler_env)}" in listing
    data_key = Vault.key_from_passphrase(butler_env, PASSPHRASE)
    assert f"secret = {base64.b64encode(data_key).decode()}" in listing


def test_keyring_store_round_trip_in_process(secret_service: str, butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        vault_id = bytes.fromhex(_vault_id(butler_env))
        store = keyring_store(butler_env)
        assert store is not None
        assert store.name == "SecretService.Keyring"
        assert store.get(vault_id) is None
        store.put(vault_id, vault.data_key)
        assert store.get(vault_id) == vault.data_key
    unlocked = open_vault(butler_env, interactive=False)
    with unlocked.vault:
        assert unlocked.source == "keyring (SecretService.Keyring)"
    store.delete(vault_id)
    assert store.get(vault_id) is None


def test_a_passphrase_unlock_fills_the_keyring(secret_service: str, butler_env: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secrets")))
    first = open_vault(butler_env, interactive=False)
    first.vault.close()
    assert first.source == "passphrase file"
    assert "vault key stored in the keyring (SecretService.Keyring)" in first.notes
    monkeypatch.delenv("BUTLER_PASSPHRASE_FILE")
    second = open_vault(butler_env, interactive=False)
    second.vault.close()
    assert second.source == "keyring (SecretService.Keyring)"


def test_no_dbus_means_no_keyring_and_no_plaintext_fallback(butler_env: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The default keyring chain would pick this plaintext backend, as it picks keyrings.alt's.
    monkeypatch.setenv("BUTLER_KEYRING", "auto")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "helpers.plaintext_keyring.PlaintextFileKeyring")
    monkeypatch.setenv("PYTHONPATH", TESTS_DIR)
    butler_env.mkdir(mode=0o700)
    try:
        store = keyring_store(butler_env)
    except KeyringError:
        store = None
    assert store is None

    pw = passphrase_file(tmp_path / "secrets")
    result = run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert result.returncode == 0, result.stderr
    assert "no OS keyring here" in result.stdout
    status = run_butler("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert status.returncode == 0, status.stderr
    assert "unlocked by passphrase file" in status.stdout
    assert "keyring     none (passphrase only)" in status.stdout
    assert not plaintext_keyring.store_path().exists()
    assert not (Path(keyring.util.platform_.data_root())).joinpath("keyring_pass.cfg").exists()


def test_an_explicit_secretservice_without_dbus_is_an_error(butler_env: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUTLER_KEYRING", "secretservice")
    butler_env.mkdir(mode=0o700)
    with pytest.raises(KeyringError) as info:
        keyring_store(butler_env)
    assert "not available" in info.value.message


@pytest.mark.slow
def test_a_stale_keyring_key_after_rotate_falls_back_to_the_passphrase(
        secret_service: str, butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    put = run_butler("vault", "put", "notes", "n1", stdin='{"text": "kept"}')
    assert put.returncode == 0, put.stderr
    old_key = Vault.key_from_passphrase(butler_env, PASSPHRASE)

    # rotate without touching the keyring: it keeps the old key
    rotate = run_butler("vault", "rotate", env={"BUTLER_PASSPHRASE_FILE": str(pw), "BUTLER_KEYRING": "none"})
    assert rotate.returncode == 0, rotate.stderr
    new_key = Vault.key_from_passphrase(butler_env, PASSPHRASE)
    assert new_key != old_key
    store = keyring_store(butler_env)
    assert store is not None
    assert store.get(bytes.fromhex(_vault_id(butler_env))) == old_key

    locked = run_butler("vault", "status")
    assert locked.returncode != 0
    assert locked.stderr.startswith("error: the vault is locked")
    assert "Traceback" not in locked.stderr

    status = run_butler("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert status.returncode == 0, status.stderr
    assert "unlocked by passphrase file" in status.stdout
    assert "the key in the keyring is out of date" in status.stderr
    assert store.get(bytes.fromhex(_vault_id(butler_env))) == new_key  # refreshed

    again = run_butler("vault", "get", "notes", "n1")
    assert again.returncode == 0, again.stderr
    assert '"kept"' in again.stdout


@pytest.mark.slow
def test_cli_rotate_refreshes_the_keyring(secret_service: str, butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    rotate = run_butler("vault", "rotate", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert rotate.returncode == 0, rotate.stderr
    status = run_butler("vault", "status")
    assert status.returncode == 0, status.stderr
    assert "unlocked by keyring (SecretService.Keyring)" in status.stdout
