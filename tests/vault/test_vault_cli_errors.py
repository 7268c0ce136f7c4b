"""Bad input through the `butler` command: one `error:` line and one `hint:` line, no traceback, a non-zero
exit, and every vault file byte for byte as it was."""

from __future__ import annotations

import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, Outcome, file_hashes, passphrase_file, run_butler, run_main

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c"
                    "63f8cfc0f01f0005000201e2f1c2d30000000049454e44ae426082")


@pytest.fixture
def vault_home(butler_env: Path, tmp_path: Path) -> tuple[Path, Path]:
    """An initialised vault with two records; returns (BUTLER_HOME, passphrase file)."""
    pw = passphrase_file(tmp_path / "secrets")
    env = {"BUTLER_PASSPHRASE_FILE": str(pw)}
    assert run_main("init", env=env).returncode == 0
    for i in range(2):
        assert run_main("vault", "put", "notes", f"n{i}", env=env, stdin=f'{{"n": {i}}}').returncode == 0
    return butler_env, pw


def _sqlite_bytes(tmp_path: Path) -> bytes:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (x)")
        conn.execute("insert into t values (1)")
    conn.close()
    return db.read_bytes()


def _assert_clean_failure(result: Outcome | subprocess.CompletedProcess[str], expect: str,
                          *, hint: bool = True) -> None:
    assert result.returncode not in (0, None), result.stdout
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == (2 if hint else 1), result.stderr
    assert lines[0].startswith("error: "), result.stderr
    if hint:
        assert lines[1].startswith("hint: ") and len(lines[1]) > len("hint: ") + 10, result.stderr
    assert expect in lines[0], result.stderr


def _bump_version(data: bytes) -> bytes:
    return data[:8] + struct.pack(">H", 2) + data[10:]


DAMAGE = {
    "truncated vault.log": ("vault.log", lambda data, _: data[:-30], "truncated"),
    "truncated vault.log header": ("vault.log", lambda data, _: data[:100], "truncated"),
    "truncated vault.key": ("vault.key", lambda data, _: data[:-1], "truncated"),
    "truncated audit.log": ("audit.log", lambda data, _: data[:-30], "truncated"),
    "empty vault.log": ("vault.log", lambda data, _: b"", "is empty"),
    "empty vault.key": ("vault.key", lambda data, _: b"", "is empty"),
    "PNG as vault.log": ("vault.log", lambda data, _: PNG, "not a butler vault file"),
    "PNG as vault.key": ("vault.key", lambda data, _: PNG, "not a butler key file"),
    "SQLite as vault.log": ("vault.log", lambda data, tmp: _sqlite_bytes(tmp), "not a butler vault file"),
    "SQLite as vault.key": ("vault.key", lambda data, tmp: _sqlite_bytes(tmp), "not a butler key file"),
    "SQLite as audit.log": ("audit.log", lambda data, tmp: _sqlite_bytes(tmp), "not a butler audit log"),
    "newer vault.log": ("vault.log", lambda data, _: _bump_version(data), "format version 2"),
    "newer vault.key": ("vault.key", lambda data, _: _bump_version(data), "format version 2"),
    "newer audit.log": ("audit.log", lambda data, _: _bump_version(data), "format version 2"),
}


SUBPROCESS_CASES = {"truncated vault.log", "SQLite as vault.key", "newer vault.log"}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_or_foreign_files_fail_cleanly(vault_home: tuple[Path, Path], tmp_path: Path, case: str) -> None:
    home, pw = vault_home
    name, damage, expect = DAMAGE[case]
    path = home / name
    path.write_bytes(damage(path.read_bytes(), tmp_path))
    before = file_hashes(home)
    command = ("audit", "verify") if name == "audit.log" and "truncated" in case else ("vault", "status")
    # a real process for a few cases (no traceback at the top level); main() in-process for the rest
    run = run_butler if case in SUBPROCESS_CASES else run_main
    result = run(*command, env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    _assert_clean_failure(result, expect)
    if "newer" in case:
        assert "upgrade butler" in result.stderr
    assert file_hashes(home) == before


@pytest.mark.parametrize("command", [("vault", "status"), ("vault", "list"), ("vault", "get", "notes", "n0"),
                                     ("audit", "verify"), ("vault", "rotate"), ("vault", "export", "out.bak")])
def test_wrong_passphrase_fails_cleanly(vault_home: tuple[Path, Path], tmp_path: Path,
                                        command: tuple[str, ...]) -> None:
    home, _ = vault_home
    wrong = passphrase_file(tmp_path / "wrong", "not the passphrase at all")
    before = file_hashes(home)
    run = run_butler if command == ("vault", "status") else run_main
    result = run(*command, env={"BUTLER_PASSPHRASE_FILE": str(wrong)})
    _assert_clean_failure(result, "wrong passphrase")
    assert "not the passphrase at all" not in result.stdout + result.stderr
    assert file_hashes(home) == before
    assert not (tmp_path / "out.bak").exists()


def test_no_passphrase_and_no_terminal_fails_cleanly(vault_home: tuple[Path, Path]) -> None:
    home, _ = vault_home
    before = file_hashes(home)
    result = run_main("vault", "status")
    _assert_clean_failure(result, "the vault is locked")
    assert file_hashes(home) == before


def test_no_vault_says_run_init(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    result = run_main("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    _assert_clean_failure(result, "no vault key file")
    assert "butler init" in result.stderr


@pytest.mark.parametrize("content", ["PNG", "SQLite", "truncated", "empty", "newer"])
def test_importing_a_bad_backup_fails_cleanly(vault_home: tuple[Path, Path], tmp_path: Path,
                                              content: str) -> None:
    home, pw = vault_home
    env = {"BUTLER_PASSPHRASE_FILE": str(pw)}
    backup = tmp_path / "backup.bak"
    assert run_main("vault", "export", str(backup), env=env).returncode == 0
    data = backup.read_bytes()
    bad = {"PNG": PNG, "SQLite": _sqlite_bytes(tmp_path), "truncated": data[: len(data) // 2], "empty": b"",
           "newer": data[:8] + struct.pack(">H", 9) + data[10:]}[content]
    backup.write_bytes(bad)
    before = file_hashes(home)
    result = run_main("vault", "import", "--replace", str(backup), env=env)
    expect = {"PNG": "not a butler backup", "SQLite": "not a butler backup", "truncated": "damaged",
              "empty": "not a butler backup", "newer": "backup format 9"}[content]
    _assert_clean_failure(result, expect)
    assert file_hashes(home) == before
    assert backup.read_bytes() == bad
    assert not [p for p in home.iterdir() if p.name.startswith(("replaced-", ".import-"))]


def test_importing_with_a_wrong_passphrase_fails_cleanly(vault_home: tuple[Path, Path], tmp_path: Path) -> None:
    home, pw = vault_home
    backup = tmp_path / "backup.bak"
    assert run_main("vault", "export", str(backup), env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    wrong = passphrase_file(tmp_path / "wrong", "a different passphrase")
    before = file_hashes(home)
    result = run_main("vault", "import", "--replace", str(backup), env={"BUTLER_PASSPHRASE_FILE": str(wrong)})
    _assert_clean_failure(result, "wrong passphrase")
    assert file_hashes(home) == before


def test_bad_record_input_fails_cleanly(vault_home: tuple[Path, Path]) -> None:
    home, pw = vault_home
    before = file_hashes(home)
    env = {"BUTLER_PASSPHRASE_FILE": str(pw)}
    # usage errors carry no hint: the message says what to change
    put = run_main("vault", "put", "notes", "x", env=env, stdin="{not json")
    _assert_clean_failure(put, "not JSON", hint=False)
    _assert_clean_failure(run_main("vault", "put", "notes", "x", env=env, stdin="[1, 2]"), "a JSON object", hint=False)
    _assert_clean_failure(run_main("vault", "get", "notes", "missing", env=env), "no record notes/missing",
                          hint=False)
    assert file_hashes(home) == before
    assert PASSPHRASE not in str(before)
