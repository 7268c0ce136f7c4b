"""Daemon test fixtures: a vault the jobs can open unattended (passphrase file), and no runtime left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file

from butler import cli
from butler.daemon.runner import install_runtime
from butler.vault import Vault


@pytest.fixture(autouse=True)
def _no_runtime() -> Iterator[None]:
    yield
    install_runtime(None)


@pytest.fixture
def vault_home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """BUTLER_HOME with a vault, and BUTLER_PASSPHRASE_FILE set so jobs open it without a prompt."""
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret")))
    yield butler_env


@pytest.fixture
def open_vault_at(vault_home: Path) -> Iterator[Vault]:
    from butler.vault.keys import open_vault

    vault = open_vault(vault_home, interactive=False).vault
    try:
        yield vault
    finally:
        vault.close()


@pytest.fixture
def daemon_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cli.main` with only the daemon's commands (other features may be mid-build in this checkout)."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["butler.daemon.commands"])

