"""The `butler` command line: help, version, file modes after `init`, config errors that name file:line."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, VAULT_FILES, passphrase_file, run_butler

from butler import __version__
from butler.cli import build_parser, main
from butler.config import load_config
from butler.errors import ConfigError


def _command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every subcommand path (`("vault", "status")`, …) the parser knows, depth first."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_command_paths(sub, (*prefix, name)))
    return found


def test_help_runs_as_a_program() -> None:
    result = run_butler("--help")
    assert result.returncode == 0, result.stderr
    assert "usage: butler" in result.stdout
    for command in ("init", "vault", "audit"):
        assert command in result.stdout
    assert result.stderr == ""


def test_version() -> None:
    result = run_butler("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"butler {__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: butler" in capsys.readouterr().out


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _command_paths(build_parser())
    names = {" ".join(c) for c in commands}
    assert {"init", "vault", "vault status", "vault list", "vault get", "vault put", "vault export",
            "vault import", "vault passwd", "vault rotate", "vault compact", "audit", "audit verify",
            "audit show"} <= names
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0, command
        out = capsys.readouterr().out
        assert out.startswith(f"usage: butler {' '.join(command)}"), command
        assert len(out.splitlines()) >= 3, command


def test_init_makes_private_files(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    result = run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert result.returncode == 0, result.stderr
    assert "vault created" in result.stdout
    assert stat.S_IMODE(butler_env.stat().st_mode) == 0o700
    for name in (*VAULT_FILES, "vault.lock"):
        assert stat.S_IMODE((butler_env / name).stat().st_mode) == 0o600, name
    assert not [p.name for p in butler_env.iterdir() if p.name.endswith(".tmp")]


def test_init_tightens_a_loose_home(butler_env: Path, tmp_path: Path) -> None:
    butler_env.mkdir()
    os.chmod(butler_env, 0o755)  # noqa: S103 -- the looseness under test
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    assert stat.S_IMODE(butler_env.stat().st_mode) == 0o700


def test_init_refuses_an_existing_vault(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    before = {name: (butler_env / name).read_bytes() for name in VAULT_FILES}
    result = run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert result.returncode != 0
    assert result.stderr.startswith("error: a vault already exists")
    assert "hint:" in result.stderr
    assert {name: (butler_env / name).read_bytes() for name in VAULT_FILES} == before


def test_init_refuses_a_short_passphrase(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets", "short")
    result = run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert result.returncode == 2
    assert "at least 8 characters" in result.stderr
    assert not (butler_env / "vault.key").exists()


def _config_error(home: Path, text: str) -> ConfigError:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config()
    return info.value


def test_config_error_names_file_line_and_field(butler_env: Path) -> None:
    error = _config_error(butler_env, '# butler\n\n[vault]\nlock_timeout_seconds = 5\nkeyring = "gnome"\n')
    assert error.location == f"{butler_env / 'config.toml'}:5"
    assert "vault.keyring" in error.message
    assert error.hint


def test_config_error_for_a_nested_number(butler_env: Path) -> None:
    error = _config_error(butler_env, "[daemon]\nmail_sweep_minutes = 15\nbackup_days = 0\n")
    assert error.location == f"{butler_env / 'config.toml'}:3"
    assert "daemon.backup_days" in error.message


def test_config_error_for_an_unknown_field(butler_env: Path) -> None:
    error = _config_error(butler_env, "[vault]\nkeyring = \"none\"\nkeyrnig_timeout = 3\n")
    assert error.location == f"{butler_env / 'config.toml'}:3"
    assert "vault.keyrnig_timeout" in error.message


def test_config_error_for_a_section_written_as_an_array_of_tables(butler_env: Path) -> None:
    error = _config_error(butler_env, '# butler\n[[vault]]\nkeyring = "none"\n')
    assert error.location == f"{butler_env / 'config.toml'}:2"
    assert "config.toml:2: vault: Input should be a valid dictionary" in error.message


def test_config_error_for_bad_toml(butler_env: Path) -> None:
    error = _config_error(butler_env, "[vault]\nkeyring = \n")
    # Python 3.11's TOMLDecodeError has no `lineno`: the line is only in the message
    assert str(error.location).startswith(str(butler_env / "config.toml"))
    assert "line 2" in error.message


def test_config_error_through_the_cli(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", "--no-keyring", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    (butler_env / "config.toml").write_text('[vault]\nkeyring = "gnome"\n', encoding="utf-8")
    result = run_butler("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(pw)}, unset=("BUTLER_KEYRING",))
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {butler_env / 'config.toml'}:2: vault.keyring:")
    assert lines[1].startswith("hint: ")
    assert len(lines) == 2
    assert PASSPHRASE not in result.stderr


def test_the_command_table_is_what_the_modules_add() -> None:
    import importlib

    from butler import cli

    found = []
    for module_name in cli.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).add_parser(sub)
        found += [(action.dest, module_name, action.help) for action in sub._choices_actions]
    assert found == cli.COMMANDS


def test_help_imports_no_command_module() -> None:
    import subprocess
    import sys

    script = ("import sys\nfrom butler import cli\nparser = cli.build_parser(cli._command_of(['--help']))\n"
              "print(sorted({m for _, m, _ in cli.COMMANDS} & set(sys.modules)))\n"
              "print(sorted(n for n, a in parser._subparsers._group_actions[0].choices.items()))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    imported, commands = out.splitlines()
    assert imported == "[]"
    assert "negotiate" in commands and "approvals" in commands and "mail" in commands
