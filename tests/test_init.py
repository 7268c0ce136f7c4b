"""`butler init`: guided on a real terminal (tmux) from an empty home to a first `butler status`, and from flags
alone with `--no-input`, as scripts and CI run it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from butler.policy.packs import pack_dir
from tests.helpers.terminal import Terminal, open_terminal
from tests.helpers.vaultkit import PASSPHRASE, passphrase_file, run_butler, run_main


def test_no_input_init_takes_every_answer_from_flags(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    out = run_main("init", "--no-input", "--passphrase-file", str(pw), "--no-keyring",
                   "--pack", "ethical-purchasing", "--pack", "household-budget")
    assert out.returncode == 0, out.stderr
    assert "vault created" in out.stdout and "not kept in a keyring" in out.stdout
    assert "butler unlock --for 8h" in out.stdout  # what no keyring means for unattended runs
    copied = sorted(p.name for p in (butler_env / "policies").iterdir())
    assert copied == ["ethical-purchasing.toml", "household-budget.toml"]
    for name in copied:
        path = butler_env / "policies" / name
        assert path.read_bytes() == (pack_dir() / name).read_bytes() and path.stat().st_mode & 0o777 == 0o600
    assert (butler_env / "policies").stat().st_mode & 0o777 == 0o700
    nexts = out.stdout.split("Your butler is ready. Next:")[1].split()
    assert [w for w in nexts if w == "butler"] == ["butler"] * 3  # the three commands to use next
    assert "butler doctor" in out.stdout and "butler status" in out.stdout
    assert run_main("policy", "check").returncode == 0

    doctor = run_main("doctor", "--json", "--offline", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    findings = json.loads(doctor.stdout)["findings"]
    assert [f for f in findings if f["severity"] == "error"] == []
    assert any(f["check"] == "policies" and f["severity"] == "ok" for f in findings)


def test_no_input_needs_the_passphrase_from_a_flag_or_the_environment(butler_env: Path) -> None:
    out = run_main("init", "--no-input")
    assert out.returncode == 2 and "BUTLER_PASSPHRASE_FILE" in out.stderr
    assert not (butler_env / "vault.key").exists()


def test_a_bad_flag_is_refused_before_anything_is_created(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    for args, said in ((("--pack", "nope"), "no policy pack named nope"),
                       (("--mail-host", "imap.example"), "--mail-password-file"),
                       (("--connector", "acme"), "no connector acme is installed")):
        out = run_main("init", "--no-input", "--passphrase-file", str(pw), *args)
        assert out.returncode == 2 and said in out.stderr, out.stderr
        assert not (butler_env / "vault.key").exists()


def test_packs_are_added_to_an_existing_home_and_edits_are_kept(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_main("init", "--passphrase-file", str(pw), "--pack", "privacy").returncode == 0
    mine = butler_env / "policies" / "privacy.toml"
    mine.write_text(mine.read_text() + "# my own edit\n")
    out = run_main("init", "--pack", "all")
    assert out.returncode == 0, out.stderr
    assert "privacy.toml is there already: left as it is" in out.stdout
    assert mine.read_text().endswith("# my own edit\n")
    assert sorted(p.name for p in (butler_env / "policies").iterdir()) == sorted(
        p.name for p in pack_dir().glob("*.toml"))
    again = run_main("init", "--passphrase-file", str(pw))  # without --pack an existing vault is still refused
    assert again.returncode == 4 and again.stderr.startswith("error: a vault already exists")


# -- on a real terminal ----------------------------------------------------------------------------------------
@pytest.fixture
def terminal() -> Iterator[Terminal]:
    yield from open_terminal("init", history=True)


@pytest.mark.slow
def test_guided_init_on_a_terminal_then_status_opens_the_vault_unattended(
        secret_service: str, butler_env: Path, terminal: Terminal) -> None:
    names = ("BUTLER_HOME", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
             "BUTLER_KEYRING", "DBUS_SESSION_BUS_ADDRESS")
    env = [f"{name}={os.environ[name]}" for name in names] + ["BUTLER_INSECURE_FAST_KDF=1"]
    butler = f"{sys.executable} -m butler"
    command = (f"{butler} init; echo INIT=$?; {butler} status </dev/null; echo STATUS=$?; sleep 60")
    terminal.tmux("new-session", "-d", "-s", terminal.session, "-x", "120", "-y", "50",
                  "-e", "TERM=xterm-256color", *(arg for e in env for arg in ("-e", e)), command)
    terminal.wait_for("[1/5] Passphrase")
    terminal.wait_for("New passphrase:")
    terminal.type("short")
    terminal.wait_for("shorter than 8 characters")
    terminal.type(PASSPHRASE)
    terminal.wait_for("Repeat it:")
    terminal.type(PASSPHRASE)
    shown = terminal.wait_for("Keep the vault key in the OS keyring? (Y/n)")
    assert "the daemon and other unattended runs open the vault by themselves" in shown
    assert "butler unlock --for 8h" in shown  # what saying no means
    terminal.type("y")
    shown = terminal.wait_for("Numbers or names")
    for pack in ("energy", "ethical-purchasing", "household-budget", "privacy"):
        assert pack in shown
    terminal.type("2 household-budget")
    terminal.wait_for("Set up a mailbox now? (y/N)")
    terminal.type("")
    shown = terminal.wait_for("STATUS=")
    assert "[5/5] Vendor connectors" in shown
    assert "INIT=0" in shown and "STATUS=0" in shown
    assert "vault key kept in the OS keyring (SecretService.Keyring)" in shown
    assert "Your butler is ready. Next:" in shown
    for command_name in ("butler doctor", "butler daemon install", "butler status"):
        assert command_name in shown.split("Your butler is ready. Next:")[1]
    assert "daemon: not running" in shown
    assert "approvals waiting: 0" in shown  # the first status found the key in the keyring, no passphrase asked
    assert sorted(p.name for p in (butler_env / "policies").iterdir()) == [
        "ethical-purchasing.toml", "household-budget.toml"]


def test_init_without_a_terminal_still_works_as_before(butler_env: Path, tmp_path: Path) -> None:
    """What scripts did before the guide existed: no flags, the passphrase in BUTLER_PASSPHRASE_FILE."""
    pw = passphrase_file(tmp_path / "secrets")
    done = run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert done.returncode == 0, done.stderr
    assert "vault created" in done.stdout and "Next:" in done.stdout
    assert not (butler_env / "policies").exists()
