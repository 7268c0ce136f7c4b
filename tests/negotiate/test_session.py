"""Negotiation sessions against the example vendors running for real on loopback."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from vendorkit import running, vendor_connector

from butler.negotiate.session import issue_space, negotiate_all, outcome_utility
from butler.policy import EvalContext, load_policies
from butler.policy.packs import pack_dir
from butler.sdk import OfferQuery
from butler.vault import KdfParams, Vault
from examples.vendors import VENDORS

POLICIES = pack_dir()


@pytest.mark.slow
async def test_negotiates_with_all_vendors_at_once_and_queues_the_best(tmp_path: Path) -> None:
    policies = load_policies(POLICIES)
    context = EvalContext(spent_this_month=None)
    with running() as servers, Vault.create(tmp_path / "home", "pw", KdfParams.fast_for_tests()) as vault:
        apps = {name: app for name, (_, app) in servers.items()}
        async with AsyncExitStack() as stack:
            pairs = []
            for name, (url, _) in servers.items():
                connector = await stack.enter_async_context(vendor_connector(url, VENDORS[name].api_key))
                offer = (await connector.list_offers(OfferQuery()))[0]
                pairs.append((connector, offer))
            results = await negotiate_all(pairs, policies, vault, reserve=0.2, context=context)
        assert len(results) == len(VENDORS)
        for result in results:
            assert result.exchanges, result.reason  # every negotiation exchanged offers
            assert result.exchanges[0].proposer == "vendor"
            if result.agreed is not None:
                utility = outcome_utility(result.offer, policies, context)
                agreed = {"price": result.agreed.price, "term_months": result.agreed.term_months,
                          "data_use": result.agreed.data_use, "extras": result.agreed.extras}
                assert utility(agreed) > result.reserve  # never below the walk-away point
                assert result.agreed.price <= result.offer.price
        agreed = [r for r in results if r.agreed is not None]
        assert agreed, [r.reason for r in results]
        assert results[0] is max(agreed, key=lambda r: r.utility)
        stored = vault.ids("negotiations")
        assert len(stored) == len(VENDORS)
        approvals = list(vault.records("approvals"))
        assert len(approvals) == 1 and approvals[0].data["kind"] == "purchase"
        assert approvals[0].data["vendor"] == results[0].vendor_id
        actions = {e.action for e in vault.audit.entries()}
        assert {"negotiate.vendor-offer", "negotiate.buyer-offer"} <= actions
    for app in apps.values():
        assert all(headers.get("sec-gpc") == "1" for _, _, headers in app.state.seen)


def test_issue_space_never_goes_above_the_listed_price_or_data_use() -> None:
    spec = next(iter(VENDORS.values()))
    from butler.models import DataUse, Money, Offer

    offer = Offer(id="o", vendor_id=spec.id, product="p", category="energy", price=Money.of("20.00", "EUR"),
                  term_months=24, data_use=DataUse.ANALYTICS_FIRST_PARTY, extras=("smart-meter",))
    space = issue_space(offer)
    assert max(p.amount for p in space["price"]) == offer.price.amount
    assert min(p.amount for p in space["price"]) == offer.price.amount * 70 / 100
    assert all(u.rank <= offer.data_use.rank for u in space["data_use"])
    assert 24 in space["term_months"] and () in space["extras"]
