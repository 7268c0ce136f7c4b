"""`connectors enable` and `connectors check` go through the bounded client stack and end at the configured
deadline: a stalling vendor is a clear error and nothing is saved."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_main
from hostile import API_KEY, make_hostile_app
from vendorkit import connector_class, install

from butler import registry
from butler.config import load_config
from butler.errors import ConfigError
from butler.negotiate.limits import DeadlineExceeded
from butler.testing import live_server
from butler.vault import Vault

SECRET_ENV = {"BUTLER_CONNECTOR_SECRET_API_KEY": API_KEY}


@pytest.fixture
def home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    (butler_env / "config.toml").write_text("[vendors]\ndeadline_seconds = 0.5\n", encoding="utf-8")
    install(monkeypatch, {"hostile": connector_class("hostile")})
    return butler_env


def _vault(home: Path) -> Vault:
    return Vault(home, Vault.key_from_passphrase(home, PASSPHRASE))


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app on loopback; a stall still running at the end is released, so the server stops at once."""
    with live_server(app) as url:
        try:
            yield url
        finally:
            app.state.stall_about = False


def test_enable_ends_at_the_deadline_and_saves_nothing(home: Path) -> None:
    app = make_hostile_app("stall-about", stall_seconds=60)
    with serving(app) as url:
        out = run_main("connectors", "enable", "hostile", "--set", f"base_url={url}", env=SECRET_ENV)
    assert out.returncode == DeadlineExceeded.exit_code, out.stderr
    assert "hostile did not finish validating within 0.5 s" in out.stderr
    assert "deadline_seconds" in out.stderr  # the hint says where to allow more time
    assert app.state.about_calls == 1
    with _vault(home) as vault:
        assert vault.get(registry.COLLECTION, "hostile") is None
        assert registry.stored_secret_names(vault, "hostile") == set()


def test_check_ends_at_the_deadline(home: Path) -> None:
    app = make_hostile_app("honest")
    with serving(app) as url:
        enabled = run_main("connectors", "enable", "hostile", "--set", f"base_url={url}", env=SECRET_ENV)
        assert enabled.returncode == 0, enabled.stderr
        with _vault(home) as vault:
            stored = vault.get(registry.COLLECTION, "hostile")
        app.state.stall_about = True
        out = run_main("connectors", "check", "hostile")
    assert out.returncode == DeadlineExceeded.exit_code, out.stderr
    assert "hostile did not finish validating within 0.5 s" in out.stderr
    assert app.state.about_calls == 2
    with _vault(home) as vault:
        after = vault.get(registry.COLLECTION, "hostile")
    assert stored is not None and after is not None and after.data == stored.data  # still enabled, unchanged


def _room_for_work(home: Path) -> None:
    """A deadline that a loaded machine decoding two megabytes never reaches: these tests are about the cap."""
    (home / "config.toml").write_text("[vendors]\ndeadline_seconds = 60\n", encoding="utf-8")


def test_enable_refuses_a_compression_bomb_and_saves_nothing(home: Path) -> None:
    _room_for_work(home)
    app = make_hostile_app("bomb-about")
    with serving(app) as url:
        out = run_main("connectors", "enable", "hostile", "--set", f"base_url={url}", env=SECRET_ENV)
    assert out.returncode != 0
    assert "decoded answer is larger than" in out.stderr
    with _vault(home) as vault:
        assert vault.get(registry.COLLECTION, "hostile") is None


def test_check_refuses_a_compression_bomb(home: Path) -> None:
    _room_for_work(home)
    app = make_hostile_app("honest")
    with serving(app) as url:
        assert run_main("connectors", "enable", "hostile", "--set", f"base_url={url}", env=SECRET_ENV).returncode == 0
    bomb = make_hostile_app("bomb-about")
    with serving(bomb) as url:
        with _vault(home) as vault:
            vault.update(registry.COLLECTION, "hostile",
                         lambda data: {**(data or {}), "settings": {**(data or {})["settings"], "base_url": url}})
        out = run_main("connectors", "check", "hostile")
    assert out.returncode != 0 and "decoded answer is larger than" in out.stderr
    assert bomb.state.about_calls == 1


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "100000"])
def test_a_nonsense_deadline_in_the_config_is_refused(butler_env: Path, value: str) -> None:
    butler_env.mkdir(parents=True, exist_ok=True)
    (butler_env / "config.toml").write_text(f"[vendors]\ndeadline_seconds = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"vendors\.deadline_seconds") as info:
        load_config()
    assert info.value.location == f"{butler_env / 'config.toml'}:2"
