"""Connectors in `butler init` and `butler doctor`: init validates and enables one from flags; doctor runs each
enabled connector's validate() within a short deadline and names one that fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.vaultkit import passphrase_file, run_main
from hostile import API_KEY, make_hostile_app
from vendorkit import connector_class

from butler import registry
from butler.testing import live_server

SECRET_ENV = {"BUTLER_CONNECTOR_SECRET_API_KEY": API_KEY}


@pytest.fixture
def provided() -> Iterator[None]:
    registry.provide(connector_class("hostile"))
    yield
    registry.withdraw("hostile")


@pytest.mark.usefixtures("provided")
def test_init_enables_a_connector_and_doctor_validates_it(butler_env: Path, tmp_path: Path) -> None:
    pw = {"BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pw"))}
    app = make_hostile_app("honest", stall_seconds=30)
    with live_server(app) as url:
        out = run_main("init", "--no-input", "--no-keyring", "--connector", "hostile",
                       "--connector-set", f"hostile:base_url={url}", env={**pw, **SECRET_ENV})
        assert out.returncode == 0, out.stderr
        assert "hostile validated and enabled" in out.stdout
        assert app.state.about_calls == 1

        report = json.loads(run_main("doctor", "--json", env=pw).stdout)
        found = next(f for f in report["findings"] if f["check"] == "connector:hostile")
        assert found["severity"] == "ok" and "hostile validates" in found["text"]
        assert API_KEY not in json.dumps(report)

        (butler_env / "config.toml").write_text("[vendors]\ndeadline_seconds = 0.5\n")
        (butler_env / "config.toml").chmod(0o600)
        app.state.stall_about = True  # the vendor stops answering
        try:
            done = run_main("doctor", "--json", env=pw)
        finally:
            app.state.stall_about = False
    report = json.loads(done.stdout)
    assert done.returncode == 2
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [f["check"] for f in errors] == ["connector:hostile"]
    assert "did not finish validating within 0.5 s" in errors[0]["text"] and errors[0]["fix"]


def test_a_setting_for_a_connector_not_enabled_is_refused_first(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "pw")
    out = run_main("init", "--no-input", "--passphrase-file", str(pw), "--connector-set", "acme:base_url=x")
    assert out.returncode == 2 and "which no --connector enables" in out.stderr
    assert not (butler_env / "vault.key").exists()
