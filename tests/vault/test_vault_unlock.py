"""A process unlocks once, and unlocking at once from two threads or two processes never hangs (the key file here
uses four Argon2id lanes, as the hang needed); `butler unlock` keeps the key in a per-user agent until
`butler lock`, and the daemon uses the key it found when it started.

Counted, never timed: each round joins its threads; the join's timeout only turns a hang into a failure.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_butler

from butler import agent as agent_module
from butler.agent import AgentClient, agent_socket_path, parse_duration
from butler.vault import KdfParams, KeyCache, crypto, open_vault
from butler.vault.keyfile import KeyFile

ROUNDS = 100
HANG_GUARD_SECONDS = 120
LANES_4 = KdfParams(crypto.KDF_ARGON2ID, 32, 1, 4, b"s" * 16)  # the reproduction: tiny memory, four lanes


def _race(work: list[object], target: object) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(2)]  # type: ignore[arg-type]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD_SECONDS)
        assert not thread.is_alive(), "a key derivation hung"
    work.append(len(threads))


def _vault_with_lanes_4(home: Path) -> None:
    make_vault(home).close()
    key_file = KeyFile.read(home / "vault.key")
    key = key_file.unwrap(PASSPHRASE)
    KeyFile.wrap(key_file.vault_id, key, PASSPHRASE, LANES_4).write(home / "vault.key")


def test_two_threads_unlocking_at_once_derive_once(butler_env: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's case: two jobs open the vault at the same moment with a passphrase file, 100 times."""
    _vault_with_lanes_4(butler_env)
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    derived = []
    original = crypto.derive_kek

    def counting(passphrase: str, params: KdfParams) -> bytes:
        derived.append(1)
        return original(passphrase, params)

    monkeypatch.setattr(crypto, "derive_kek", counting)
    cache = KeyCache()
    sources: list[str] = []
    rounds: list[object] = []

    def job() -> None:
        unlocked = open_vault(butler_env, interactive=False, cache=cache)
        sources.append(unlocked.source)
        unlocked.vault.close()

    for _ in range(ROUNDS):
        _race(rounds, job)
    assert len(rounds) == ROUNDS and len(sources) == 2 * ROUNDS
    assert len(derived) == 1  # the process unlocked once
    assert sources.count("passphrase file") == 1


def test_two_processes_unlocking_at_once_never_hang(butler_env: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _vault_with_lanes_4(butler_env)
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    for _ in range(ROUNDS):
        pids = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    threads = [threading.Thread(target=lambda: open_vault(butler_env, interactive=False).vault.close())
                               for _ in range(2)]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_parse_duration() -> None:
    assert parse_duration("15m") == 900
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90s") == 90
    assert parse_duration("20") == 1200
    for bad in ("", "0m", "8d", "m", "15 minutes", "-5m"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_the_agent_forgets_a_key_when_its_time_is_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The clock is the agent's own (time asleep counts); here it is moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(agent_module, "_now", lambda: now[0])
    held = agent_module._Agent(tmp_path / "agent.sock")
    vault = "ab" * 16
    key = "A" * 43 + "="
    assert held.answer({"op": "add", "vault": vault, "key": key, "seconds": 60}) == {"ok": True}
    assert held.answer({"op": "get", "vault": vault})["ok"]
    now[0] += 59
    assert held.answer({"op": "get", "vault": vault})["ok"]
    assert held.answer({"op": "status"})["vaults"] == {vault: 1}
    now[0] += 1
    assert held.answer({"op": "get", "vault": vault}) == {"ok": False, "error": "locked"}
    assert held.next_deadline() is None and held.had_keys
    assert held.answer({"op": "add", "vault": vault, "key": key, "seconds": 10**9})["ok"] is False
    assert held.answer({"op": "add", "vault": "x", "key": key, "seconds": 5})["ok"] is False
    assert held.answer({"op": "nonsense"})["ok"] is False


def test_unlock_keeps_the_key_in_the_agent_until_lock(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    locked = run_butler("vault", "status")
    assert locked.returncode == 4 and "locked" in locked.stderr
    unlocked = run_butler("unlock", "--for", "10m", env={"BUTLER_PASSPHRASE_FILE": str(pw)})
    assert unlocked.returncode == 0, unlocked.stderr
    assert "vault unlocked for 10 min" in unlocked.stdout
    try:
        socket_path = agent_socket_path()
        assert stat.S_ISSOCK(socket_path.stat().st_mode)
        assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        status = run_butler("vault", "status")
        assert status.returncode == 0, status.stderr
        assert "unlocked by agent" in status.stdout
        listed = run_butler("approvals", "list")
        assert listed.returncode == 0, listed.stderr
        vault_id = KeyFile.read(butler_env / "vault.key").vault_id
        answer = AgentClient().status()
        assert answer is not None and 590 <= answer["vaults"][vault_id.hex()] <= 600
    finally:
        done = run_butler("lock")
    assert done.returncode == 0 and "locked" in done.stdout
    assert not agent_socket_path().exists()
    again = run_butler("vault", "status")
    assert again.returncode == 4
    assert run_butler("lock").stdout.startswith("no unlock agent")


def test_a_wrong_passphrase_starts_no_agent(butler_env: Path, tmp_path: Path) -> None:
    pw = passphrase_file(tmp_path / "secrets")
    assert run_butler("init", env={"BUTLER_PASSPHRASE_FILE": str(pw)}).returncode == 0
    wrong = passphrase_file(tmp_path / "wrong", "not it at all")
    refused = run_butler("unlock", env={"BUTLER_PASSPHRASE_FILE": str(wrong)})
    assert refused.returncode == 4 and "wrong passphrase" in refused.stderr
    assert AgentClient().status() is None


def test_a_daemon_job_uses_the_key_found_at_start(butler_env: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from butler.daemon.runner import Runtime, install_runtime, run_job

    with make_vault(butler_env) as vault:
        vault.put("items", "a", {"n": 1})
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    derived = []
    original = crypto.derive_kek
    monkeypatch.setattr(crypto, "derive_kek", lambda p, k: derived.append(1) or original(p, k))
    runtime = Runtime(butler_env)
    install_runtime(runtime)
    try:
        for _ in range(3):
            result = run_job("audit-verify", "butler.daemon.jobs:audit_verify")
            assert result.startswith("ok: audit log OK"), result
    finally:
        install_runtime(None)
    assert len(derived) == 1

