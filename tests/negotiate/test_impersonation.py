"""A connector offering in another vendor's name, against real example vendors on loopback.

Offers name their vendor, and the mandate, the policies and contracts go by that name: a connector enabled later
that answers in the name of a vendor another connector speaks for would borrow that vendor's mandate and
standing while the money went to its own server. Its offers are refused and nothing is negotiated with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from helpers.vaultkit import make_vault
from vendorkit import enable_all, running

from butler import registry
from butler.approvals import raw_item
from butler.models import Money
from butler.negotiate import intents
from butler.negotiate.fanout import IntentOutcome, negotiate_intent
from butler.negotiate.vendors import entered, open_enabled
from butler.policy import PolicySet
from butler.vault import Vault
from butler.wiring import desk
from examples.vendors import VENDORS

HONEST = VENDORS["parla"]
IMPOSTOR = dataclasses.replace(HONEST, seed=HONEST.seed + 1)  # its own server, answering as "parla"


async def _cast(vault: Vault, what: str) -> IntentOutcome:
    return await _cast_with(vault, what)


async def _cast_with(vault: Vault, what: str, only: str | None = None) -> IntentOutcome:
    intent = intents.add(vault, what, "mobile", Money.of("20", "EUR"))
    async with entered(open_enabled(vault)) as opened:
        chosen = [(cid, c) for cid, c in opened if only is None or cid == only]
        return await negotiate_intent(vault, intent, PolicySet(), chosen, per_vendor_seconds=120.0)


def _actions(vault: Vault) -> list[str]:
    return [e.action for e in vault.audit.entries()]


def test_a_connector_enabled_later_cannot_offer_in_a_bound_vendors_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running({"parla": HONEST, "impostor": IMPOSTOR}) as servers, make_vault(tmp_path / "home") as vault:
        enable_all(vault, monkeypatch, {"parla": servers["parla"]})
        first = asyncio.run(_cast(vault, "a phone plan"))
        assert {r.vendor_id for r in first.results} == {"parla"}  # parla is bound to ev-parla now

        enable_all(vault, monkeypatch, servers, {"parla": HONEST, "impostor": IMPOSTOR})
        second = asyncio.run(_cast(vault, "another phone plan"))
        impostor_app: Any = servers["impostor"][1]
        honest_app: Any = servers["parla"][1]
        actions = _actions(vault)
    refused = [d for d in second.dropped if "ev-impostor offers in the name of parla" in d.reason]
    assert refused and all("which ev-parla speaks for" in d.reason for d in refused)
    assert impostor_app.state.negotiations == {} and impostor_app.state.checkouts == {}
    assert len(honest_app.state.negotiations) == 2
    assert [r.vendor_id for r in second.results] == ["parla"]
    assert "negotiate.vendor-impersonated" in actions


def test_two_connectors_claiming_one_vendor_at_once_are_both_refused_until_one_is_disabled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running({"parla": HONEST, "impostor": IMPOSTOR}) as servers, make_vault(tmp_path / "home") as vault:
        enable_all(vault, monkeypatch, servers, {"parla": HONEST, "impostor": IMPOSTOR})
        both = asyncio.run(_cast(vault, "a phone plan"))
        assert both.results == [] and both.approval_id is None
        assert {d.reason.split(" ")[0] for d in both.dropped} == {"ev-impostor", "ev-parla"}
        assert all("as 1 other enabled connector(s) do" in d.reason for d in both.dropped)

        registry.disable(vault, "ev-impostor")
        alone = asyncio.run(_cast(vault, "another phone plan"))
        impostor_app: Any = servers["impostor"][1]
        speaker = vault.get("vendor_speakers", "parla")
        actions = _actions(vault)
    assert [r.vendor_id for r in alone.results] == ["parla"]
    assert impostor_app.state.negotiations == {}
    assert speaker is not None and speaker.data["connector"] == "ev-parla"
    assert actions.count("negotiate.vendor-speaker") == 1 and actions.count("negotiate.vendor-impersonated") == 1


def test_another_spelling_of_a_bound_name_is_the_same_vendor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shouting = dataclasses.replace(IMPOSTOR, id="PARLA")  # policies compare names without case or punctuation
    with running({"parla": HONEST, "shouting": shouting}) as servers, make_vault(tmp_path / "home") as vault:
        enable_all(vault, monkeypatch, {"parla": servers["parla"]})
        asyncio.run(_cast(vault, "a phone plan"))
        enable_all(vault, monkeypatch, servers, {"parla": HONEST, "shouting": shouting})
        second = asyncio.run(_cast(vault, "another phone plan"))
        shouting_app: Any = servers["shouting"][1]
    assert [r.vendor_id for r in second.results] == ["parla"]
    assert any("ev-shouting offers in the name of parla, which ev-parla speaks for" in d.reason
               for d in second.dropped)
    assert shouting_app.state.negotiations == {}


def test_the_connector_a_purchase_went_through_speaks_for_its_vendor(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vault from before speakers were kept: the connector the person bought through speaks for the vendor, so
    an impostor alone in a cast (the honest connector timing out, say) is refused, not bound."""
    with running({"parla": HONEST, "impostor": IMPOSTOR}) as servers, make_vault(tmp_path / "home") as vault:
        enable_all(vault, monkeypatch, {"parla": servers["parla"]})
        first = asyncio.run(_cast(vault, "a phone plan"))
        assert first.approval_id is not None
        desk().decide(vault, first.approval_id, approve=True)
        assert raw_item(vault, first.approval_id)["state"] == "done"  # type: ignore[index]
        vault.delete("vendor_speakers", "parla")
        enable_all(vault, monkeypatch, {"impostor": servers["impostor"]}, {"impostor": IMPOSTOR})
        alone = asyncio.run(_cast_with(vault, "another phone plan", only="ev-impostor"))
        impostor_app: Any = servers["impostor"][1]
    assert alone.results == [] and impostor_app.state.negotiations == {}
    assert any("which ev-parla speaks for" in d.reason for d in alone.dropped)
