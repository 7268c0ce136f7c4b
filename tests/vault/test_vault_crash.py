"""Crash safety: a writer killed with SIGKILL at random points and at chosen points inside a write, a compaction,
a key rotation and the opening that finishes them. After every kill the vault opens, every write that returned is
there with its value, and the audit log verifies.

The writer is a forked child of the test process (already warm, so a hundred kills stay cheap). It prints each
record's number on its stdout after `put` returned; the test trusts only what was printed. Every kill is counted,
never timed: the writer acknowledges a planned number of writes, then kills itself at the nth call of a file
operation, so a slow machine changes how long the test takes, not what it checks.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file

from butler.errors import VaultLocked
from butler.vault import Vault, keyring_store, open_vault, rotate_data_key
from butler.vault.keyfile import KeyFile

RANDOM_KILLS = 70
PAD = "x" * 40
HANG_GUARD_SECONDS = 120  # a writer whose hook never fires is a failure, not a wait
# the file operations a write, a compaction, a rotation and an opening go through (write: also the report)
FILE_CALLS = ("pwrite", "write", "fdatasync", "fsync", "ftruncate", "replace", "unlink")


def _value(i: int) -> dict[str, object]:
    return {"i": i, "pad": PAD[: i % 41], "nested": {"even": i % 2 == 0}}


@dataclass(frozen=True)
class Hook:
    """Kill the writer when `function` of module os (any of FILE_CALLS for "any") is called for the `nth` time,
    counted from when the hook is armed (before or after that call runs)."""

    function: str
    when: str  # "before" | "after"
    nth: int


def _install(hook: Hook) -> None:
    calls = 0

    def wrap(original: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            nonlocal calls
            calls += 1
            if calls == hook.nth and hook.when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = original(*args, **kwargs)
            if calls == hook.nth and hook.when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return wrapper

    for name in FILE_CALLS if hook.function == "any" else (hook.function,):
        setattr(os, name, wrap(getattr(os, name)))


@dataclass(frozen=True)
class Run:
    """One writer's life: its maintenance, where it is killed, and how many writes it acknowledges before the
    hook is armed (None: armed before the vault is opened, so the kill may land inside the opening)."""

    maintenance: str  # "none" | "compact" | "rotate" | "delete"
    hook: Hook
    acks_first: int | None = 0


def _writer(home: Path, data_key: bytes, start: int, run: Run, out: int) -> None:
    """The child's whole life: write records until the hook kills it, reporting each after it returned."""
    if run.acks_first is None:
        _install(run.hook)
    vault = Vault(home, data_key)
    maintenance = run.maintenance
    i = start
    while True:
        if i - start == run.acks_first:
            _install(run.hook)
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


def _run_and_kill(home: Path, data_key: bytes, start: int, run: Run) -> list[str]:
    """Fork a writer and let its hook kill it; return the lines it printed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_end)
            _writer(home, data_key, start, run, write_end)
        except BaseException:
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    while select.select([read_end], [], [], HANG_GUARD_SECONDS)[0]:
        chunk = os.read(read_end, 65536)
        if not chunk:  # the child died (its hook fired, or it failed)
            break
        chunks.append(chunk)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        raise AssertionError(f"{run} did not end within {HANG_GUARD_SECONDS} s")
    _, status = os.waitpid(pid, 0)
    os.close(read_end)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
        f"the writer ended on its own (status {status}); {run} never fired or the writer failed")
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


@pytest.mark.slow
def test_sigkill_at_random_points_and_chosen_points(butler_env: Path) -> None:
    rng = random.Random(20240611)
    home = butler_env
    make_vault(home).close()
    ledger = Ledger()
    data_key, start = ledger.check(home)
    plan: list[Run] = []
    for n in range(RANDOM_KILLS):
        maintenance = ("none", "compact", "rotate", "delete")[n % 4]
        hook = Hook("any", rng.choice(["before", "after"]), rng.randint(1, 40))
        # the first runs die while opening or in their first writes; the others after a few acknowledged ones
        plan.append(Run(maintenance, hook, None if n < 10 else rng.randint(1, 7)))
    plan += [Run("none", hook) for hook in HOOKED_RUNS]
    plan += [Run("delete", hook) for hook in HOOKED_RUNS[:3]]
    plan += [Run("compact", hook) for hook in COMPACT_RUNS]
    plan += [Run("rotate", hook) for hook in ROTATE_RUNS]
    rng.shuffle(plan)
    assert len(plan) >= 100
    acknowledged_at_least = sum(run.acks_first or 0 for run in plan)
    for run in plan:
        lines = _run_and_kill(home, data_key, start, run)
        assert len(lines) >= (run.acks_first or 0), f"{run} acknowledged only {len(lines)} write(s)"
        ledger.record(lines)
        data_key, start = ledger.check(home)
    assert ledger.acked + 1 >= acknowledged_at_least >= 200  # the writers did real work between kills


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
    lines = _run_and_kill(home, old_key, 5, Run("rotate", Hook("replace", "after", 1)))
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
