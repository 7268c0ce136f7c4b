"""Crash safety: a writer killed with SIGKILL at random moments and at chosen points inside a write, a
compaction and a key rotation. After every kill the vault opens, every write that returned is there with its
value, and the audit log verifies.

The writer is a forked child of the test process (already warm, so a hundred kills stay cheap). It prints each
record's number on its stdout after `put` returned; the test trusts only what was printed.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file

from butler.errors import VaultLocked
from butler.vault import Vault, keyring_store, open_vault, rotate_data_key
from butler.vault.keyfile import KeyFile

RANDOM_KILLS = 70
PAD = "x" * 40


def _value(i: int) -> dict[str, object]:
    return {"i": i, "pad": PAD[: i % 41], "nested": {"even": i % 2 == 0}}


@dataclass(frozen=True)
class Hook:
    """Kill the writer when `function` of module os is called for the `nth` time (before or after it runs)."""

    function: str
    when: str  # "before" | "after"
    nth: int


def _install(hook: Hook) -> None:
    original = getattr(os, hook.function)
    calls = 0

    def wrapper(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == hook.nth and hook.when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls == hook.nth and hook.when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(os, hook.function, wrapper)


def _writer(home: Path, data_key: bytes, start: int, maintenance: str, hook: Hook | None, out: int) -> None:
    """The child's whole life: write records forever, reporting each after it returned."""
    vault = Vault(home, data_key)
    if hook is not None:
        _install(hook)
    i = start
    while True:
        vault.put("items", f"r{i}", _value(i))
        vault.put("state", "latest", {"i": i})
        os.write(out, f"{i}\n".encode())
        if i % 6 == 5:
            if maintenance == "compact":
                vault.compact()
            elif maintenance == "rotate":
                vault = rotate_data_key(vault, PASSPHRASE)
            elif maintenance == "delete":
                vault.delete("items", f"r{i - 1}")
                os.write(out, f"d{i - 1}\n".encode())
        i += 1


def _run_and_kill(home: Path, data_key: bytes, start: int, maintenance: str, hook: Hook | None,
                  delay: float | None) -> list[str]:
    """Fork a writer, let it be killed (by us after `delay`, or by its hook); return the lines it printed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            _writer(home, data_key, start, maintenance, hook, write_end)
        except BaseException:
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + (delay if delay is not None else 10.0)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([read_end], [], [], left)
        if ready:
            chunk = os.read(read_end, 65536)
            if not chunk:  # the child died (its hook fired, or it failed)
                break
            chunks.append(chunk)
    if delay is not None or time.monotonic() >= deadline:  # a hook that never fired still ends the child
        os.kill(pid, signal.SIGKILL)
        timed_out = delay is None
    else:
        timed_out = False
    _, status = os.waitpid(pid, 0)
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    assert not timed_out, f"hook {hook} did not fire within 10 s"
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
        f"the writer ended on its own (status {status}); hook {hook} never fired or the writer failed")
    text = b"".join(chunks).decode()
    return text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]


class Ledger:
    """What the writers reported as done, checked against the vault after each crash."""

    def __init__(self) -> None:
        self.acked = -1
        self.deleted: set[int] = set()

    def record(self, lines: list[str]) -> None:
        for line in lines:
            if line.startswith("d"):
                self.deleted.add(int(line[1:]))
            else:
                assert int(line) == self.acked + 1, "the writer skipped a number"
                self.acked = int(line)

    def check(self, home: Path) -> tuple[bytes, int]:
        """Open the vault as a person would (passphrase), check it; returns the key and the next number.

        A write that committed but was killed before it was reported may or may not be there; once seen, it is
        adopted, so later checks demand it.
        """
        data_key = Vault.key_from_passphrase(home, PASSPHRASE)
        with Vault(home, data_key) as vault:
            latest = vault.get("state", "latest")
            last = latest.data["i"] if latest else -1
            assert last in (self.acked, self.acked + 1), f"latest {last}, acknowledged {self.acked}"
            if last == self.acked + 1:
                self.acked = last
            ids = set(vault.ids("items"))
            for i in range(self.acked + 1):
                record = vault.get("items", f"r{i}")
                if record is None and i not in self.deleted and i + 1 == self.acked and self.acked % 6 == 5:
                    self.deleted.add(i)  # a delete that committed before it was reported
                if i in self.deleted:
                    assert record is None, f"r{i} came back after its delete"
                    continue
                assert record is not None, f"r{i} was acknowledged but is missing"
                assert record.data == _value(i)
            expected = {f"r{i}" for i in range(self.acked + 1)} - {f"r{i}" for i in self.deleted}
            in_flight = ids - expected  # the next record's put committed, the `latest` put did not
            assert in_flight <= {f"r{self.acked + 1}"}
            if in_flight:
                assert vault.get("items", f"r{self.acked + 1}").data == _value(self.acked + 1)
            assert expected <= ids
            report = vault.audit.verify()
            assert report.entries > 0
        return data_key, self.acked + 1


HOOKED_RUNS = [
    # between the frame write and its fsync; between the frame fsync and the commit-slot write; after the slot
    Hook("pwrite", "after", 1), Hook("pwrite", "before", 2), Hook("pwrite", "after", 2),
    Hook("pwrite", "after", 3), Hook("pwrite", "before", 4), Hook("fdatasync", "before", 2),
    Hook("fdatasync", "after", 3), Hook("pwrite", "before", 14), Hook("pwrite", "after", 25),
    Hook("fdatasync", "before", 31),
]
# compaction: the temp log's creation and fsync, its appends, the replace, the directory fsync
COMPACT_RUNS = [
    Hook("fsync", "after", 1), Hook("pwrite", "before", 26), Hook("replace", "before", 1),
    Hook("replace", "after", 1), Hook("fsync", "before", 2), Hook("replace", "before", 2),
    Hook("replace", "after", 2),
]
# rotation: the copies, the new key file (atomic_write: fsync, replace), the two log replaces
ROTATE_RUNS = [
    Hook("fsync", "after", 1), Hook("fsync", "after", 2), Hook("fsync", "after", 3),
    Hook("replace", "before", 1), Hook("replace", "after", 1), Hook("replace", "after", 2),
    Hook("replace", "after", 3), Hook("replace", "after", 4), Hook("fsync", "before", 5),
    Hook("replace", "after", 5),
]


def test_sigkill_at_random_moments_and_chosen_points(butler_env: Path) -> None:
    rng = random.Random(20240611)
    home = butler_env
    make_vault(home).close()
    ledger = Ledger()
    data_key, start = ledger.check(home)
    plan: list[tuple[str, Hook | None, float | None]] = []
    for n in range(RANDOM_KILLS):
        maintenance = ("none", "compact", "rotate", "delete")[n % 4]
        plan.append((maintenance, None, rng.choice([0.0, 0.001, 0.005]) if n < 10 else rng.uniform(0.01, 0.12)))
    plan += [("none", hook, None) for hook in HOOKED_RUNS]
    plan += [("delete", hook, None) for hook in HOOKED_RUNS[:3]]
    plan += [("compact", hook, None) for hook in COMPACT_RUNS]
    plan += [("rotate", hook, None) for hook in ROTATE_RUNS]
    rng.shuffle(plan)
    assert len(plan) >= 100
    for maintenance, hook, delay in plan:
        lines = _run_and_kill(home, data_key, start, maintenance, hook, delay)
        ledger.record(lines)
        data_key, start = ledger.check(home)
    assert ledger.acked > 300  # the writers did real work between kills


def test_a_stale_keyring_key_cannot_undo_a_committed_rotation(
        secret_service: str, butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after the new key file landed but before the logs were swapped, while the keyring still holds
    the old key: unlocking must not use that key (which would throw the re-encrypted copies away)."""
    home = butler_env
    with make_vault(home) as vault:
        old_key = vault.data_key
        for i in range(5):
            vault.put("items", f"r{i}", _value(i))
    store = keyring_store(home)
    assert store is not None
    vault_id = KeyFile.read(home / "vault.key").vault_id
    store.put(vault_id, old_key)
    lines = _run_and_kill(home, old_key, 5, "rotate", Hook("replace", "after", 1), None)
    assert lines == ["5"]
    assert (home / "vault.log.new").exists()
    new_key = Vault.key_from_passphrase(home, PASSPHRASE)
    assert new_key != old_key

    with pytest.raises(VaultLocked):  # no passphrase at hand: locked, and nothing thrown away
        open_vault(home, interactive=False)
    assert (home / "vault.log.new").exists()

    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secrets")))
    unlocked = open_vault(home, interactive=False)
    with unlocked.vault as vault:
        assert unlocked.source == "passphrase file"
        assert any("rotation was interrupted" in note for note in unlocked.notes)
        assert vault.data_key == new_key
        assert [vault.get("items", f"r{i}").data for i in range(6)] == [_value(i) for i in range(6)]
        vault.audit.verify()
    assert not (home / "vault.log.new").exists()
    assert store.get(vault_id) == new_key
