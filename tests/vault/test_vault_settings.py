"""The `[vault]` settings reach the vault as an object: the keyring it picks and how long opening waits for the
home lock, with no environment variable in between."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file

from butler import paths
from butler.config import VaultConfig
from butler.errors import VaultBusy
from butler.vault import open_vault
from butler.vault.lock import HomeLock


@pytest.fixture
def home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret")))
    monkeypatch.delenv("BUTLER_KEYRING")
    return butler_env


def test_config_toml_sets_the_lock_timeout_and_the_keyring(home: Path) -> None:
    (home / "config.toml").write_text('[vault]\nkeyring = "none"\nlock_timeout_seconds = 0.5\n', encoding="utf-8")
    unlocked = open_vault(home, interactive=False)
    with unlocked.vault as vault:
        assert vault.lock.timeout == 0.5
    assert unlocked.notes == ["no OS keyring here: using the passphrase instead"]
    assert "BUTLER_KEYRING" not in os.environ
    busy = HomeLock(paths.lock_path(home))
    try:
        with busy.exclusive(), pytest.raises(VaultBusy):
            open_vault(home, interactive=False)  # gives up after the configured half second
    finally:
        busy.close()


def test_settings_given_as_an_object_win_over_the_file(home: Path) -> None:
    (home / "config.toml").write_text("[vault]\nlock_timeout_seconds = 60\n", encoding="utf-8")
    settings = VaultConfig(keyring="none", lock_timeout_seconds=2)
    with open_vault(home, settings=settings, interactive=False).vault as vault:
        assert vault.lock.timeout == 2
