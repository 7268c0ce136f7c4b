"""The conformance kit's pytest plugin is loaded through its entry point and gives authors its fixtures."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI


def test_plugin_is_registered(pytestconfig: Any) -> None:
    assert pytestconfig.pluginmanager.has_plugin("butler")


def test_butler_home_is_private(butler_home: Path, tmp_path: Path) -> None:
    assert os.environ["BUTLER_HOME"] == str(butler_home)
    assert str(butler_home).startswith(str(tmp_path))
    assert os.environ["BUTLER_KEYRING"] == "none"


def test_live_server_serves_an_app(butler_live_server: Callable[[Any], AbstractContextManager[str]]) -> None:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    with butler_live_server(app) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/ping").json() == {"pong": "yes"}
