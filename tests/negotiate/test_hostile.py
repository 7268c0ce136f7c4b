"""Hostile vendors on loopback: each refused with a clear error, nothing spent, the event in the audit log."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault
from hostile import API_KEY, make_hostile_app
from vendorkit import connector_class, install

from butler import registry
from butler.models import Money
from butler.negotiate import intents
from butler.negotiate.fanout import IntentOutcome, negotiate_intent
from butler.negotiate.vendors import open_enabled
from butler.policy import PolicySet
from butler.testing import live_server
from butler.vault import Vault
from butler.wiring import desk


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return make_vault(tmp_path / "home")


async def _run(vault: Vault, monkeypatch: pytest.MonkeyPatch, mode: str, *, seconds: float = 10.0,
               budget: str = "20.00") -> tuple[IntentOutcome, object]:
    app = make_hostile_app(mode, stall_seconds=1.0)
    cls = connector_class("hostile")
    install(monkeypatch, {"hostile": cls})
    with live_server(app) as url:
        await asyncio.to_thread(registry.enable, vault, cls, settings={"base_url": url}, secrets={"api_key": API_KEY})
        intent = intents.add(vault, "a gadget", "shop", Money.of(budget, "EUR"))
        opened = open_enabled(vault)
        async with contextlib.AsyncExitStack() as stack:
            for _, connector in opened:
                await stack.enter_async_context(connector)
            outcome = await negotiate_intent(vault, intent, PolicySet(), opened, per_vendor_seconds=seconds)
    return outcome, app


def _actions(vault: Vault) -> list[str]:
    return [e.action for e in vault.audit.entries()]


def _nothing_spent(vault: Vault) -> None:
    assert vault.ids("purchases") == []
    assert all(a.kind != "purchase" for a in desk().pending(vault))


async def test_redirect_off_the_allowlist_is_refused(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, _ = await _run(vault, monkeypatch, "redirect")
    assert outcome.results == [] and "evil.example" in outcome.dropped[0].reason
    assert "may not reach" in outcome.dropped[0].reason
    assert "negotiate.vendor-failed" in _actions(vault)
    _nothing_spent(vault)


@pytest.mark.parametrize(("mode", "expected"), [
    ("malformed", "not JSON"),
    ("huge", "larger than"),
    ("currency-switch", "switched currency from EUR to USD"),
])
async def test_vendor_misbehaving_in_negotiation_is_walked_away_from(vault: Vault, monkeypatch: pytest.MonkeyPatch,
                                                                     mode: str, expected: str) -> None:
    outcome, _ = await _run(vault, monkeypatch, mode)
    assert len(outcome.results) == 1
    result = outcome.results[0]
    assert result.agreed is None and expected in result.reason
    assert outcome.approval_id is None
    assert {"negotiate.vendor-failed", "negotiate.walked-away"} & set(_actions(vault))
    _nothing_spent(vault)


@pytest.mark.slow
async def test_endless_counter_offers_stop_at_the_round_limit(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, _ = await _run(vault, monkeypatch, "endless")
    result = outcome.results[0]
    assert result.agreed is None and "kept countering past" in result.reason
    assert 0 < len(result.exchanges) <= 101
    assert "negotiate.walked-away" in _actions(vault)
    _nothing_spent(vault)
    stored = vault.get("negotiations", f"{outcome.intent.id}--hostile")
    assert stored is not None and stored.data["state"] == "done"


async def test_stalling_vendor_times_out(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, _ = await _run(vault, monkeypatch, "stall", seconds=0.3)
    assert outcome.results[0].reason == "timed out after 0.3 s"
    assert "negotiate.vendor-failed" in _actions(vault)
    _nothing_spent(vault)


async def test_offer_in_another_currency_is_dropped(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, app = await _run(vault, monkeypatch, "currency-offer")
    assert outcome.results == []
    assert "priced in USD, the budget is in EUR" in outcome.dropped[0].reason
    assert app.state.calls == 0  # never even negotiated  # type: ignore[attr-defined]
    assert "negotiate.offer-dropped" in _actions(vault)
    _nothing_spent(vault)
