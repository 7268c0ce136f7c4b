"""butler's pytest plugin, loaded by pytest through the `pytest11` entry point once butler is installed.

A connector author gets, without any conftest of their own:

    butler_home        -- a private BUTLER_HOME (and HOME/XDG dirs) for the test, so nothing touches the real one
    butler_live_server -- `with butler_live_server(app) as url:` serves an ASGI app on 127.0.0.1 (free port)

and writes the conformance tests in one line: `TestMine = connector_test_class(MyConnector, live=…)`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from butler.loopback import live_server

__all__ = ["butler_home", "butler_live_server"]


@pytest.fixture
def butler_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway BUTLER_HOME with its own HOME and XDG directories, and no OS keyring."""
    home = tmp_path / "butler-home"
    for name, path in (("HOME", tmp_path / "home"), ("XDG_DATA_HOME", tmp_path / "home" / ".local" / "share"),
                       ("XDG_CONFIG_HOME", tmp_path / "home" / ".config")):
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("BUTLER_HOME", str(home))
    monkeypatch.setenv("BUTLER_KEYRING", "none")
    return home


@pytest.fixture
def butler_live_server() -> Callable[[Any], AbstractContextManager[str]]:
    """A factory: `with butler_live_server(app) as url` runs `app` with uvicorn on loopback for the block."""
    return live_server
