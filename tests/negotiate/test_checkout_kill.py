"""kill -9 at every step of a checkout (after each durable write, and inside the vendor before and after it places
the order): on reopen every item is visible and reconciled, nothing is paid twice or above the approved total."""

from __future__ import annotations

import asyncio
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file
from hostile_checkout import API_KEY, Cheat, make_cheat_app
from vendorkit import connector_class, install

from butler import registry
from butler.approvals import Desk, State
from butler.models import Money
from butler.negotiate import intents
from butler.negotiate.approvals import KIND, PurchaseItem
from butler.negotiate.fanout import negotiate_intent
from butler.negotiate.vendors import entered, open_enabled
from butler.policy import PolicySet
from butler.testing import live_server
from butler.vault import Vault
from butler.vault.keys import open_vault

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DESK = Desk([KIND])
RUNS = 50
CHUNKS = 5  # the runs are split so that parallel workers share them; together they walk every kill point


def _child_env(home: Path, secret: Path, sandboxed: bool) -> dict[str, str]:
    path = os.pathsep.join(str(p) for p in (HERE, HERE.parent, ROOT, ROOT / "connectors/example-vendors/src"))
    return {**os.environ, "BUTLER_HOME": str(home), "BUTLER_PASSPHRASE_FILE": str(secret),
            "BUTLER_KEYRING": "none", "PYTHONPATH": path, "CHECKOUT_SANDBOXED": "1" if sandboxed else ""}


def _approve_in_child(home: Path, secret: Path, item_id: str, kill_after: int, cheat: Cheat,
                      vendor_point: str = "", sandboxed: bool = False) -> subprocess.CompletedProcess[str]:
    child = subprocess.Popen([sys.executable, str(HERE / "checkout_child.py"), item_id, str(kill_after)],
                             env=_child_env(home, secret, sandboxed), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    if vendor_point:
        cheat.kill_pid, cheat.kill_at = child.pid, vendor_point
    out, err = child.communicate(timeout=300)
    cheat.kill_pid = None
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def _open(home: Path) -> Vault:
    return open_vault(home, interactive=False).vault


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_kill_9_at_every_step_of_checkout(chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _kill_walk(tmp_path, monkeypatch, lambda schedule: schedule[chunk::CHUNKS], sandboxed=False)


@pytest.mark.slow
def test_kill_9_with_the_connector_in_its_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same walk with the connector in butler's sandbox (killing butler kills it too): the vendor's three
    kill points and every fourth durable write."""
    _kill_walk(tmp_path, monkeypatch, lambda schedule: list(dict.fromkeys(
        p for p in schedule if p[1] or p[0] % 4 == 1)), sandboxed=True)


def _kill_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               share: Callable[[list[tuple[int, str]]], list[tuple[int, str]]], *, sandboxed: bool) -> None:
    cheat = Cheat(period="month", shipping="2.00")
    secret = passphrase_file(tmp_path / "secret")
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(secret))
    monkeypatch.setenv("BUTLER_KEYRING", "none")
    template = tmp_path / "template"
    cls = connector_class("cheat")
    install(monkeypatch, {"cheat": cls})
    outcomes: collections.Counter[str] = collections.Counter()
    with live_server(make_cheat_app(cheat)) as url:
        with make_vault(template) as vault:
            registry.enable(vault, cls, settings={"base_url": url}, secrets={"api_key": API_KEY})
            intent = intents.add(vault, "a kettle", "shop", Money.of("50.00", "EUR"))

            async def queue() -> str | None:
                async with entered(open_enabled(vault)) as opened:
                    return (await negotiate_intent(vault, intent, PolicySet(), opened)).approval_id

            item_id = asyncio.run(queue())
            assert item_id is not None
            queued = DESK.get(vault, item_id)
            assert isinstance(queued, PurchaseItem)
            approved = queued.total

        # a whole approval, unkilled, counts the durable writes that the kill points walk through
        cheat.reset()
        shutil.copytree(template, tmp_path / "whole")
        whole = _approve_in_child(tmp_path / "whole", secret, item_id, 0, cheat, sandboxed=sandboxed)
        assert whole.returncode == 0 and "bought" in whole.stdout, whole.stderr
        writes = int(whole.stdout.split()[0].removeprefix("writes="))
        assert writes >= 10
        points = [(n, "") for n in range(1, writes + 1)] + [(0, p) for p in ("prepare", "pay-before", "pay-after")]
        rng = random.Random(2026)
        schedule = points + [rng.choice(points) for _ in range(max(0, RUNS - len(points)))]
        assert len(schedule) >= RUNS
        schedule = share(schedule)  # this test's share: every kill point is in one of the chunks

        for run, (kill_after, vendor_point) in enumerate(schedule):
            home = tmp_path / f"run{run}"
            shutil.copytree(template, home)
            cheat.reset()
            child = _approve_in_child(home, secret, item_id, kill_after, cheat, vendor_point, sandboxed)
            assert child.returncode == -signal.SIGKILL, (kill_after, vendor_point, child.stdout, child.stderr)
            with _open(home) as vault:
                DESK.reconcile(vault)
                item = DESK.get(vault, item_id)
                point = f"after write {kill_after}" if kill_after else f"vendor {vendor_point}"
                outcomes[f"{item.state.value}"] += 1
                # visible and settled: the vendor can be reached, so nothing stays executing
                assert item.state in (State.PENDING, State.DONE), (point, item.state, item.note)
                assert item in DESK.items(vault, list(State))
                recorded = {r.id for r in vault.records("purchases")}
                assert set(cheat.orders) <= recorded, (point, item.note)  # every order the vendor placed
                assert sum((c for _, c in cheat.charges), Decimal(0)) <= approved.amount
                if item.state is State.PENDING:  # nothing was paid: approving again buys it, once
                    assert cheat.charges == [] and cheat.orders == {}
                    assert "bought" in DESK.decide(vault, item_id, approve=True)
                assert [c for _, c in cheat.charges] == [approved.amount]  # bought exactly once
                assert DESK.get(vault, item_id).state is State.DONE
            shutil.rmtree(home)
    where = " (sandboxed)" if sandboxed else ""
    print(f"\nkill -9{where} at {len(schedule)} of {RUNS} points ({writes} writes + 3 vendor points in all): "
          f"reopened as {dict(outcomes)}")
