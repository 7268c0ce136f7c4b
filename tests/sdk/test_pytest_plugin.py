"""The conformance kit's pytest plugin: a connector author's test run gets its fixtures with no conftest.

butler's own suite does not load the plugin (`-p no:butler` in pyproject: its fixtures are for authors and the
suite has its own), so this runs pytest the way an author would, in a project of its own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

AUTHOR_TESTS = '''
import os

import httpx
from fastapi import FastAPI


def test_plugin_is_registered(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("butler")


def test_butler_home_is_private(butler_home, tmp_path):
    assert os.environ["BUTLER_HOME"] == str(butler_home)
    assert str(butler_home).startswith(str(tmp_path))
    assert os.environ["BUTLER_KEYRING"] == "none"


def test_live_server_serves_an_app(butler_live_server):
    app = FastAPI()

    @app.get("/ping")
    def ping():
        return {"pong": "yes"}

    with butler_live_server(app) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/ping").json() == {"pong": "yes"}
'''


@pytest.mark.slow
def test_an_author_gets_the_fixtures_without_a_conftest(tmp_path: Path) -> None:
    project = tmp_path / "my-connector"
    project.mkdir()
    (project / "test_mine.py").write_text(textwrap.dedent(AUTHOR_TESTS))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
