"""Many vendors at once within the deadline, and a run interrupted by a crash resumed from the vault."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from butler_example_vendors import ExampleVendorConnector
from helpers.vaultkit import make_vault
from vendorkit import running, vendor_connector

from butler.models import Money
from butler.negotiate import intents, session
from butler.negotiate.fanout import negotiate_intent
from butler.negotiate.session import negotiate_all
from butler.policy import PolicySet
from butler.sdk import ConnectorContext, OfferQuery, Terms
from examples.vendors import VENDORS
from examples.vendors.strategies import STRATEGIES

DEADLINE = 120.0  # per vendor: a hang guard, never reached on a sound run however loaded the machine


def _specs(n: int) -> dict[str, Any]:
    base = VENDORS["parla"]
    names = list(STRATEGIES)
    return {f"v{i:02d}": dataclasses.replace(base, id=f"v{i:02d}", strategy=names[i % len(names)])
            for i in range(n)}


@pytest.mark.slow
async def test_twenty_vendors_are_negotiated_at_once_and_none_runs_out_of_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = _specs(20)
    in_flight, most_in_flight = 0, 0
    one_vendor = session.negotiate_offer

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        try:
            return await one_vendor(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(session, "negotiate_offer", counted)
    with running(specs) as servers, make_vault(tmp_path / "home") as vault:
        async with AsyncExitStack() as stack:
            pairs = []
            for name, (url, _) in servers.items():
                connector = await stack.enter_async_context(vendor_connector(url, specs[name].api_key))
                pairs.append((connector, (await connector.list_offers(OfferQuery()))[0]))
            results = await negotiate_all(pairs, PolicySet(), vault, per_vendor_seconds=DEADLINE)
    assert len(results) == 20
    assert most_in_flight == 20  # all twenty under way together: at once, not in turn
    assert not [r for r in results if r.reason.startswith("timed out")]
    assert sum(r.agreed is not None for r in results) >= 10


class Crash(BaseException):
    """Stands for the process dying in the middle of a run."""


class CrashingConnector(ExampleVendorConnector):
    wait_for: Any = None  # a callable: True once the other negotiation has finished

    async def negotiate(self, offer_id: str, proposal: Terms | None = None, *,
                        session_id: str | None = None) -> Any:
        while not self.wait_for():
            await asyncio.sleep(0.02)
        raise Crash


@pytest.mark.slow
async def test_a_crashed_run_resumes_without_negotiating_finished_vendors_again(tmp_path: Path) -> None:
    specs = {"a": dataclasses.replace(VENDORS["parla"], id="a"), "b": dataclasses.replace(VENDORS["parla"], id="b")}
    with running(specs) as servers, make_vault(tmp_path / "home") as vault:
        intent = intents.add(vault, "phone", "mobile", Money.of("20", "EUR"))
        a_url, a_app = servers["a"]
        b_url, b_app = servers["b"]
        ctx = ConnectorContext(ExampleVendorConnector.manifest, settings={"base_url": b_url},
                               secrets={"api_key": "parla-demo-key"})
        crashing = CrashingConnector(ctx)

        def a_done() -> bool:
            record = vault.get("negotiations", f"{intent.id}--a")
            return record is not None and record.data["state"] == "done"

        crashing.wait_for = a_done
        async with vendor_connector(a_url, "parla-demo-key") as a, crashing:
            try:
                await negotiate_intent(vault, intent, PolicySet(), [("ev-a", a), ("ev-b", crashing)])
            except Crash:
                pass
            else:  # pragma: no cover
                raise AssertionError("the run should have crashed")
        states = {r.id: r.data["state"] for r in vault.records("negotiations")}
        assert states == {f"{intent.id}--a": "done", f"{intent.id}--b": "open"}
        assert vault.get("approvals", f"purchase:{intent.id}") is None

        async with vendor_connector(a_url, "parla-demo-key") as a, vendor_connector(b_url, "parla-demo-key") as b:
            outcome = await negotiate_intent(vault, intent, PolicySet(), [("ev-a", a), ("ev-b", b)])
        assert len(a_app.state.negotiations) == 1  # a was not negotiated again
        assert len(b_app.state.negotiations) == 1
        assert {r.vendor_id for r in outcome.results} == {"a", "b"}
        assert outcome.approval_id == f"purchase:{intent.id}"
        assert "negotiate.resumed" in {e.action for e in vault.audit.entries()}
