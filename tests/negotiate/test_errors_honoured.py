"""Each documented connector error gets what its name promises: a busy vendor is asked again after the
Retry-After it gave, refused credentials become a re-authentication item, an unavailable offer is skipped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault
from vendorkit import enable_all, running

from butler.approvals import State
from butler.models import Money
from butler.negotiate import intents
from butler.negotiate.fanout import negotiate_intent
from butler.negotiate.retry import retrying
from butler.negotiate.vendors import entered, open_enabled
from butler.policy import PolicySet
from butler.sdk import RetriableError
from butler.vault import Vault
from butler.wiring import desk
from examples.vendors import VENDORS

SPECS = {"parla": VENDORS["parla"]}


def _offer_calls(app: object) -> int:
    return sum(1 for m, p, _ in app.state.seen if m == "GET" and p == "/v1/offers")  # type: ignore[attr-defined]


async def _negotiate(vault: Vault) -> object:
    intent = intents.add(vault, "a cheaper phone contract", "mobile", Money.of("20.00", "EUR"))
    async with entered(open_enabled(vault)) as opened:
        return await negotiate_intent(vault, intent, PolicySet(), opened, per_vendor_seconds=20)


async def test_a_busy_vendor_is_asked_again_after_its_retry_after(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with running(SPECS) as servers, make_vault(tmp_path / "home") as vault:
        await asyncio.to_thread(enable_all, vault, monkeypatch, servers, SPECS)
        app = servers["parla"][1]
        app.state.faults.append((503, {"Retry-After": "1"}))
        outcome = await _negotiate(vault)
        assert _offer_calls(app) == 2  # asked once, told to wait a second, asked again
        assert outcome.winner is not None  # type: ignore[attr-defined]
        assert not [d for d in outcome.dropped if d.offer_id is None]  # type: ignore[attr-defined]


async def test_a_vendor_that_stays_busy_is_left_for_the_next_run(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with running(SPECS) as servers, make_vault(tmp_path / "home") as vault:
        await asyncio.to_thread(enable_all, vault, monkeypatch, servers, SPECS)
        app = servers["parla"][1]
        app.state.faults.extend([(503, {"Retry-After": "1"})] * 3)
        outcome = await _negotiate(vault)
        assert _offer_calls(app) == 3  # three attempts, then it is left
        assert "HTTP 503" in outcome.dropped[0].reason  # type: ignore[attr-defined]


async def test_refused_credentials_become_a_reauthentication_item(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with running(SPECS) as servers, make_vault(tmp_path / "home") as vault:
        await asyncio.to_thread(enable_all, vault, monkeypatch, servers, SPECS)
        app = servers["parla"][1]
        app.state.faults.append((401, {}))
        outcome = await _negotiate(vault)
        assert "re-enter them" in outcome.dropped[0].reason  # type: ignore[attr-defined]
        the_desk = desk()
        [item] = [i for i in the_desk.pending(vault) if i.kind == "reauth"]
        assert item.id == "reauth:ev-parla" and "butler connectors enable ev-parla" in item.summary()
        app.state.faults.append((401, {}))  # still refused when the person says they fixed it
        with pytest.raises(Exception, match="still refuses"):
            await the_desk.adecide(vault, item.id, approve=True)
        assert the_desk.get(vault, item.id).state is State.PENDING
        said = await the_desk.adecide(vault, item.id, approve=True)  # accepted again
        assert "accepts its credentials again" in said and the_desk.get(vault, item.id).state is State.DONE


async def test_a_wait_longer_than_the_time_left_is_not_started() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def busy() -> None:
        raise RetriableError("busy", retry_after=120)

    with pytest.raises(RetriableError):
        await retrying(busy, seconds=30, sleep=sleep)
    assert slept == []
