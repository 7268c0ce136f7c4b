"""Two processes writing one vault at once: nothing lost, the audit chain intact, no update lost."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from helpers.vaultkit import make_vault

from butler.vault import Vault

WRITES = 1000
INCREMENTS = 200


def _write_many(home: str, data_key: bytes, name: str) -> None:
    with Vault(Path(home), data_key) as vault:
        for i in range(WRITES):
            vault.put("items", f"{name}-{i}", {"writer": name, "i": i})


def _increment(home: str, data_key: bytes) -> None:
    def bump(data: dict[str, Any] | None) -> dict[str, Any]:
        return {"n": (data or {"n": 0})["n"] + 1}

    with Vault(Path(home), data_key) as vault:
        for _ in range(INCREMENTS):
            vault.update("counters", "shared", bump)


@pytest.mark.slow
def test_two_writers_lose_nothing(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        data_key = vault.data_key
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(butler_env), data_key, name)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with Vault(butler_env, data_key) as vault:
        ids = vault.ids("items")
        assert len(ids) == 2 * WRITES
        for name in ("a", "b"):
            for i in (0, 1, WRITES // 2, WRITES - 1):
                assert vault.get("items", f"{name}-{i}").data == {"writer": name, "i": i}
        report = vault.audit.verify()
        puts = [e for e in vault.audit.entries() if e.action == "vault.put"]
        assert len(puts) == 2 * WRITES
        assert report.entries >= 2 * WRITES + 1


def test_concurrent_updates_are_never_lost(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        data_key = vault.data_key
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_increment, args=(str(butler_env), data_key)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with Vault(butler_env, data_key) as vault:
        record = vault.get("counters", "shared")
        assert record.data == {"n": 2 * INCREMENTS}
        assert record.version == 2 * INCREMENTS
        vault.audit.verify()
