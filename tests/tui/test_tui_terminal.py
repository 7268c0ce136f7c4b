"""The TUI in a real terminal (tmux, private socket): open, go to Approvals, approve (a purchase through its
confirmation, from an example vendor served on loopback), quit."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from butler.vault import open_vault
from tests.helpers.terminal import Terminal, open_terminal
from tests.tui.conftest import Seeded


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    yield from open_terminal("butler")


@pytest.mark.slow
def test_approve_in_a_real_terminal(seeded: Seeded, terminal: Terminal) -> None:
    env = [f"{name}={os.environ[name]}" for name in ("BUTLER_HOME", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                     "XDG_RUNTIME_DIR", "BUTLER_KEYRING", "BUTLER_PASSPHRASE_FILE")]
    command = f"{sys.executable} -m butler tui; echo EXIT=$?; sleep 60"
    terminal.tmux("new-session", "-d", "-s", terminal.session, "-x", "80", "-y", "24",
                  "-e", "TERM=xterm-256color", *(arg for e in env for arg in ("-e", e)), command)
    shown = terminal.wait_for("2 items wait for your decision")
    assert "Since you last looked" in shown and "Approvals (2)" in shown
    terminal.keys("2")
    terminal.wait_for("buy parla-5 from parla: 7.86 EUR")
    terminal.keys("Down", "a")  # the renewal reminder (a purchase would need the vendor's connector)
    shown = terminal.wait_for("Approvals (1)")
    assert "noted" in shown and "purchase" in shown
    terminal.keys("a")  # the purchase: a dialog says what will be paid, and No has the focus
    shown = terminal.wait_for("pay at most 7.86 EUR")
    assert "Buy parla-5 from parla" in shown and "No (n)" in shown and "Yes (y)" in shown
    terminal.keys("Enter")  # the focused answer is No
    terminal.wait_for("Nothing done")
    terminal.keys("q")
    terminal.wait_for("EXIT=0")
    with open_vault(seeded.home, interactive=False).vault as vault:
        assert vault.get("approvals", "renew-energy").data["state"] == "done"  # type: ignore[union-attr]
        assert vault.get("approvals", "purchase-s1").data["state"] == "pending"  # type: ignore[union-attr]
        assert [e.action for e in vault.audit.entries() if e.action.startswith("approval.")] == [
            "approval.approved", "approval.executing", "approval.done"]


# `butler tui` with the example vendor's connector found as if its package were installed
TUI_WITH_PARLA = ("from butler import registry; from tests.negotiate.vendorkit import connector_class; "
                  "cls = connector_class('ev-parla'); load = registry.load; "
                  "registry.load = lambda cid: cls if cid == 'ev-parla' else load(cid); "
                  "from butler.commands.tui import run; raise SystemExit(run())")


@pytest.mark.slow
def test_a_purchase_is_bought_through_its_confirmation_in_a_real_terminal(
        butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: Terminal) -> None:
    import asyncio

    from butler.models import Money
    from butler.negotiate import intents
    from butler.negotiate.fanout import negotiate_intent
    from butler.negotiate.vendors import entered, open_enabled
    from butler.policy import PolicySet
    from examples.vendors import VENDORS
    from tests.helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file
    from tests.negotiate.vendorkit import enable_all, running

    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret", PASSPHRASE)))
    root = Path(__file__).parent.parent.parent
    monkeypatch.setenv("PYTHONPATH", f"{root}:{root / 'connectors' / 'example-vendors' / 'src'}")
    with running({"parla": VENDORS["parla"]}) as urls:
        with make_vault(butler_env) as vault:
            enable_all(vault, monkeypatch, urls, {"parla": VENDORS["parla"]})
            intent = intents.add(vault, "a cheaper mobile plan", "mobile", Money.of("30.00", "EUR"))

            async def queue() -> str | None:
                async with entered(open_enabled(vault)) as opened:
                    return (await negotiate_intent(vault, intent, PolicySet(), opened)).approval_id

            item_id = asyncio.run(queue())
            assert item_id is not None
        env = [f"{name}={os.environ[name]}" for name in ("BUTLER_HOME", "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                         "XDG_RUNTIME_DIR", "BUTLER_KEYRING",
                                                         "BUTLER_PASSPHRASE_FILE", "PYTHONPATH")]
        command = f'{sys.executable} -c "{TUI_WITH_PARLA}"; echo EXIT=$?; sleep 60'
        terminal.tmux("new-session", "-d", "-s", terminal.session, "-x", "80", "-y", "24",
                      "-e", "TERM=xterm-256color", *(arg for e in env for arg in ("-e", e)), command)
        terminal.wait_for("1 item wait")
        terminal.keys("2")
        terminal.wait_for("from parla")
        terminal.keys("a")  # the dialog says what will be paid; No has the focus
        shown = terminal.wait_for("pay at most")
        assert "Yes (y)" in shown and "No (n)" in shown
        terminal.keys("y")
        shown = terminal.wait_for("bought Parla 5 GB from parla for")
        assert "receipt stored" in shown and "Nothing waits for you" in shown
        terminal.keys("q")
        terminal.wait_for("EXIT=0")
    with open_vault(butler_env, interactive=False).vault as vault:
        assert vault.get("approvals", item_id).data["state"] == "done"  # type: ignore[union-attr]
        assert [e.action for e in vault.audit.entries() if e.action == "negotiate.purchased"] == [
            "negotiate.purchased"]
