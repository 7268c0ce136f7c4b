"""Fixtures for the MyTerms tests: a vault in a temp BUTLER_HOME and the example vendor on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from terms_kit import TERMS_PASSPHRASE, VendorHandle, vendor_module

from butler.vault import KdfParams, Vault


@pytest.fixture
def terms_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private BUTLER_HOME with no keyring; a 0600 passphrase file named by BUTLER_PASSPHRASE_FILE."""
    home = tmp_path / "terms-home"
    monkeypatch.setenv("BUTLER_HOME", str(home))
    monkeypatch.setenv("BUTLER_KEYRING", "none")
    secret = tmp_path / "terms-passphrase"
    secret.write_text(TERMS_PASSPHRASE + "\n", encoding="utf-8")
    secret.chmod(0o600)
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(secret))
    return home


@pytest.fixture
def terms_vault(terms_home: Path) -> Iterator[Vault]:
    vault = Vault.create(terms_home, TERMS_PASSPHRASE, KdfParams.fast_for_tests())
    try:
        yield vault
    finally:
        vault.close()


@pytest.fixture(scope="session")
def _vendor_server() -> Iterator[VendorHandle]:
    app = vendor_module.make_app()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the example vendor did not start")
        time.sleep(0.01)
    try:
        yield VendorHandle(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture
def terms_vendor(_vendor_server: VendorHandle) -> VendorHandle:
    """The example vendor, reset to its default behaviour (accepts SD-BASE) with nothing seen."""
    _vendor_server.behave()
    _vendor_server.app.state.seen = vendor_module.Seen()
    return _vendor_server
