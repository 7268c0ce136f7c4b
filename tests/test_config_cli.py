"""`butler config show|get|set`: validated by the config models, errors name the key or file:line, writes are
atomic and private, and the file keeps what the person wrote in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import Field

from butler import config
from butler.errors import ConfigError
from tests.helpers.vaultkit import run_main


def test_show_lists_every_setting_with_its_default(butler_env: Path) -> None:
    out = run_main("config", "show")
    assert out.returncode == 0, out.stderr
    assert "not written yet" in out.stdout
    for key in ("vault.keyring", "daemon.mail_sweep_minutes", "daemon.backup_days", "vendors.deadline_seconds"):
        assert key in out.stdout
    shown = json.loads(run_main("config", "show", "--json").stdout)
    assert shown["daemon.backup_days"] == 7 and shown["vault.keyring"] == "auto"


def test_set_then_get_keeps_comments_and_writes_0600(butler_env: Path) -> None:
    butler_env.mkdir(parents=True)
    path = butler_env / "config.toml"
    path.write_text("# my settings\n[daemon]\nbackup_days = 3  # weekly is too rare\n\n[vault]\nkeyring = \"none\"\n")
    path.chmod(0o644)
    out = run_main("config", "set", "daemon.mail_sweep_minutes", "5")
    assert out.returncode == 0, out.stderr
    text = path.read_text()
    assert "# my settings" in text and "backup_days = 3  # weekly is too rare" in text
    assert "mail_sweep_minutes = 5" in text.split("[vault]")[0]  # in its own section
    assert path.stat().st_mode & 0o777 == 0o600
    assert run_main("config", "get", "daemon.mail_sweep_minutes").stdout.strip() == "5"
    assert run_main("config", "set", "vault.keyring", "auto").returncode == 0
    assert run_main("config", "get", "vault.keyring").stdout.strip() == "auto"
    assert config.load_config(path).vault.keyring == "auto"
    assert run_main("config", "set", "terms.allow_loopback", "true").returncode == 0
    assert config.load_config(path).terms.allow_loopback is True
    assert "[terms]\nallow_loopback = true" in path.read_text()
    show = run_main("config", "show").stdout
    assert "(default 15)" in next(line for line in show.splitlines() if "mail_sweep_minutes" in line)


@pytest.mark.parametrize(("key", "value", "said"), [
    ("daemon.backup_days", "0", "daemon.backup_days: Input should be greater than or equal to 1"),
    ("vault.keyring", "nonsense", "vault.keyring: Input should be 'auto'"),
    ("daemon.mail_sweep_minutes", "soon", "daemon.mail_sweep_minutes: Input should be a valid integer"),
    ("vault.nope", "1", "vault.nope: no such setting"),
    ("backup_days", "1", "backup_days: no such setting"),
])
def test_a_bad_value_names_the_key_and_writes_nothing(butler_env: Path, key: str, value: str, said: str) -> None:
    out = run_main("config", "set", key, value)
    assert out.returncode == ConfigError.exit_code
    assert said in out.stderr and "Traceback" not in out.stderr
    assert not (butler_env / "config.toml").exists()


def test_a_bad_file_is_named_with_its_line_and_left_alone(butler_env: Path) -> None:
    butler_env.mkdir(parents=True)
    path = butler_env / "config.toml"
    bad = "[daemon]\nmail_sweep_minutes = 5\nbackup_days = \"weekly\"\n"
    path.write_text(bad)
    for args in (("set", "daemon.mail_sweep_minutes", "6"), ("show",), ("get", "daemon.backup_days")):
        out = run_main("config", *args)
        assert out.returncode == ConfigError.exit_code
        assert f"{path}:3: daemon.backup_days" in out.stderr
    path.write_text("[daemon\n")
    out = run_main("config", "set", "daemon.backup_days", "2")
    assert out.returncode == ConfigError.exit_code and f"{path}:1" in out.stderr
    assert path.read_text() == "[daemon\n"


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    class Mail(config._Section):
        password: str = ""
        host: str = "imap.example"
        token: str = Field(default="", json_schema_extra={"secret": True})

    class WithSecrets(config.Config):
        mail: Mail = Mail()

    monkeypatch.setattr(config, "Config", WithSecrets)
    shown = {s.key: s.shown for s in config.settings(WithSecrets(mail=Mail(password="hunter2", token="t0k")))}
    assert shown["mail.password"] == "********" and shown["mail.token"] == "********"
    assert shown["mail.host"] == '"imap.example"'
    assert "hunter2" not in repr(shown)


def test_a_list_setting_is_written_as_a_toml_array(butler_env: Path) -> None:
    """The registry's hint for a connector without the sandbox (`config set connectors.trusted '["ID"]'`)."""
    out = run_main("config", "set", "connectors.trusted", '["acme-energy", "zeta"]')
    assert out.returncode == 0, out.stderr
    assert 'trusted = ["acme-energy", "zeta"]' in (butler_env / "config.toml").read_text()
    assert config.load_config().connectors.trusted == ("acme-energy", "zeta")
    assert run_main("config", "get", "connectors.trusted").stdout.strip() == '["acme-energy", "zeta"]'
