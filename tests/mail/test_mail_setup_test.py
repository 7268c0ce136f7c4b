"""The mail account's connection test against a real Dovecot: `mail setup` and `init` log in before they store
anything and say what the server offers; `doctor` reports the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from butler.mail.account import load_settings
from butler.vault.keys import open_vault
from tests.helpers.vaultkit import make_vault, passphrase_file, run_main
from tests.mail.conftest import IMAP_PASS, Dovecot


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pp"))}


def _password(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "imap-password"
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def _stored(home: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str | None:
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", env["BUTLER_PASSPHRASE_FILE"])
    with open_vault(home, interactive=False).vault as vault:
        return load_settings(vault).host


def test_setup_logs_in_first_and_reports_the_capabilities(dovecot: Dovecot, butler_env: Path, tmp_path: Path,
                                                          env: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    make_vault(butler_env).close()
    wrong = run_main("mail", "setup", "--host", "127.0.0.1", "--port", str(dovecot.port), "--user", dovecot.user,
                     "--no-tls", "--password-file", str(_password(tmp_path, "not-it")), env=env)
    assert wrong.returncode == 9 and "refused the login" in wrong.stderr
    assert "not-it" not in wrong.stdout + wrong.stderr
    assert _stored(butler_env, env, monkeypatch) is None  # nothing stored

    out = run_main("mail", "setup", "--host", "127.0.0.1", "--port", str(dovecot.port), "--user", dovecot.user,
                   "--no-tls", "--password-file", str(_password(tmp_path, IMAP_PASS)), env=env)
    assert out.returncode == 0, out.stderr
    assert f"connected: 127.0.0.1:{dovecot.port} (plain)" in out.stdout
    assert "MOVE" in out.stdout and "moves mail in one step (MOVE)" in out.stdout
    assert _stored(butler_env, env, monkeypatch) == "127.0.0.1"


def test_init_with_a_mail_account_then_doctor_reaches_it(dovecot: Dovecot, butler_env: Path, tmp_path: Path,
                                                        env: dict[str, str]) -> None:
    out = run_main("init", "--no-input", "--no-keyring", "--mail-host", "127.0.0.1", "--mail-port",
                   str(dovecot.port), "--mail-no-tls", "--mail-user", dovecot.user, "--mail-password-file",
                   str(_password(tmp_path, IMAP_PASS)), env=env)
    assert out.returncode == 0, out.stderr
    assert "connected:" in out.stdout and f"mail account {dovecot.user}@127.0.0.1" in out.stdout, out.stdout
    report = json.loads(run_main("doctor", "--json", env=env).stdout)
    mail = next(f for f in report["findings"] if f["check"] == "mail")
    assert mail["severity"] == "ok" and "MOVE" in mail["text"] and IMAP_PASS not in json.dumps(report)
