"""Fixtures for the MyTerms tests: a vault in a temp BUTLER_HOME and the example vendor on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from terms_kit import TERMS_PASSPHRASE, VendorHandle, vendor_module

from butler.testing import live_server
from butler.vault import Vault
from tests.helpers.vaultkit import make_vault, passphrase_file


@pytest.fixture
def terms_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private BUTLER_HOME with no keyring; a 0600 passphrase file named by BUTLER_PASSPHRASE_FILE; a
    config.toml that lets MyTerms reach the example vendor on loopback."""
    home = tmp_path / "terms-home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text("[terms]\nallow_loopback = true\n", encoding="utf-8")
    monkeypatch.setenv("BUTLER_HOME", str(home))
    monkeypatch.setenv("BUTLER_KEYRING", "none")
    secret = passphrase_file(tmp_path, TERMS_PASSPHRASE, name="terms-passphrase")
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(secret))
    return home


@pytest.fixture
def terms_vault(terms_home: Path) -> Iterator[Vault]:
    vault = make_vault(terms_home, TERMS_PASSPHRASE)
    try:
        yield vault
    finally:
        vault.close()


@pytest.fixture(scope="session")
def _vendor_server() -> Iterator[VendorHandle]:
    app = vendor_module.make_app()
    with live_server(app) as url:
        yield VendorHandle(url, app)


@pytest.fixture
def terms_vendor(_vendor_server: VendorHandle) -> VendorHandle:
    """The example vendor, reset to its default behaviour (accepts SD-BASE) with nothing seen."""
    _vendor_server.behave()
    _vendor_server.app.state.seen = vendor_module.Seen()
    return _vendor_server
