"""A change and its audit entry commit together or not at all.

- A full disk (RLIMIT_FSIZE in a forked writer, SIGXFSZ ignored so a write past it fails with EFBIG), once while
  the change's frame is written and once while its audit entry is: the update raises, nothing is committed, and a
  retry applies it once.
- A writer killed with SIGKILL 200 times, at the nth file operation of its writes (counted, never timed): after
  each kill, every committed version of the record has its audit entry and every entry its version.
- A writer killed between the audit entry and the vault's commit record: the next opening commits the change.
"""

from __future__ import annotations

import logging
import os
import random
import resource
import select
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault

from butler.vault import Vault

KILLS = 200
HANG_GUARD_SECONDS = 120  # a child that neither reports nor dies is a failure, not a wait
FILE_CALLS = ("pwrite", "write", "fdatasync", "fsync", "ftruncate", "rename", "replace")


def _bump(data: dict[str, object] | None) -> dict[str, object]:
    return {"n": int(str((data or {}).get("n", 0))) + 1}


def _in_child(body: Callable[[int], None]) -> tuple[int, str]:
    """Run `body(out_fd)` in a forked child; returns its wait status and what it wrote to `out_fd`."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            body(write_end)
            code = 0
        except BaseException:
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    while select.select([read_end], [], [], HANG_GUARD_SECONDS)[0]:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_end)
    return status, b"".join(chunks).decode()


def _versions_and_entries(home: Path, key: bytes) -> tuple[int, list[int]]:
    """The counter's version now, and the versions its audit entries record, in order."""
    with Vault(home, key) as vault:
        record = vault.get("items", "counter")
        entries = vault.audit.entries()
    recorded = [e.details["version"] for e in entries if e.action == "vault.put" and e.subject == "items/counter"]
    return (record.version if record else 0), recorded


def _full_disk_update(home: Path, key: bytes, limit: int) -> str:
    def body(out: int) -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        vault = Vault(home, key)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        try:
            vault.update("items", "counter", _bump)
            os.write(out, b"committed\n")
        except OSError as exc:
            os.write(out, f"failed {exc.errno}\n".encode())
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        vault.update("items", "counter", _bump)  # the retry, with room again
        os.write(out, b"retried\n")
        vault.close()

    status, text = _in_child(body)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text
    return text


def test_a_full_disk_commits_nothing_and_a_retry_applies_once(butler_env: Path) -> None:
    home = butler_env
    with make_vault(home) as vault:
        key = vault.data_key
        vault.update("items", "counter", _bump)
        for i in range(40):  # an audit log well longer than vault.log, so the two steps fail apart
            vault.audit.append("test.note", str(i), {"pad": "x" * 200})
    vault_size, audit_size = (home / "vault.log").stat().st_size, (home / "audit.log").stat().st_size
    assert audit_size > vault_size + 4096
    cases = {
        "the change's frame": vault_size + 8,  # vault.log cannot grow by a frame
        "its audit entry": audit_size + 8,  # vault.log can; audit.log cannot grow by an entry
    }
    version = 1
    for where, limit in cases.items():
        before = {name: (home / name).stat().st_size for name in ("vault.log", "audit.log")}
        text = _full_disk_update(home, key, limit)
        assert text.splitlines()[0].startswith("failed"), (where, text)
        assert text.splitlines()[1] == "retried", (where, text)
        now, recorded = _versions_and_entries(home, key)
        version += 1  # the failed update counts for nothing, the retry for one
        assert now == version, (where, now)
        assert recorded == list(range(1, version + 1)), (where, recorded)
        assert (home / "audit.log").stat().st_size > before["audit.log"]


def _install_kill(nth: int, when: str) -> None:
    calls = 0

    def wrap(original: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            nonlocal calls
            calls += 1
            if calls == nth and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            result = original(*args, **kwargs)
            if calls == nth and when == "after":
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return wrapper

    for name in FILE_CALLS:
        setattr(os, name, wrap(getattr(os, name)))


def test_sigkill_200_times_leaves_no_change_without_its_audit_entry(butler_env: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="butler.vault.store")
    home = butler_env
    with make_vault(home) as vault:
        key = vault.data_key
    rng = random.Random(1313)
    unaudited = orphaned = acked_total = 0
    for run in range(KILLS):
        nth, when = rng.randint(1, 60), rng.choice(["before", "after"])

        def body(out: int, nth: int = nth, when: str = when) -> None:
            vault = Vault(home, key)
            _install_kill(nth, when)
            while True:
                record = vault.update("items", "counter", _bump)
                os.write(out, f"{record.version}\n".encode())

        status, text = _in_child(body)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (run, text)
        acked = [int(line) for line in text.splitlines() if line.strip().isdigit()]
        acked_total += len(acked)
        version, recorded = _versions_and_entries(home, key)
        assert not acked or version >= acked[-1], (run, version, acked)  # an acknowledged write is there
        unaudited += len(set(range(1, version + 1)) - set(recorded))
        orphaned += len(set(recorded) - set(range(1, version + 1)))
        assert recorded == sorted(set(recorded)), f"run {run}: a version recorded twice"
    assert (unaudited, orphaned) == (0, 0)
    assert acked_total >= KILLS  # the writers did real work between kills
    settled = sum("committed a change whose writer stopped" in r.getMessage() for r in caplog.records)
    assert settled >= 5  # kills landed between a change's audit entry and its vault commit, and were committed


def test_a_change_whose_vault_commit_was_cut_short_is_committed_by_the_next_opening(butler_env: Path) -> None:
    home = butler_env
    with make_vault(home) as vault:
        key = vault.data_key
        vault.update("items", "counter", _bump)

    def body(out: int) -> None:
        vault = Vault(home, key)
        original = vault._log.commit

        def die(*args: object) -> None:  # the audit entry is committed; the vault's commit record never comes
            os.kill(os.getpid(), signal.SIGKILL)

        vault._log.commit = die  # type: ignore[method-assign]
        assert original is not None
        vault.update("items", "counter", _bump)

    status, _ = _in_child(body)
    assert os.WIFSIGNALED(status)
    version, recorded = _versions_and_entries(home, key)
    assert version == 2 and recorded == [1, 2]
