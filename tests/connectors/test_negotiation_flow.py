"""The reference connector drives a whole deal with each example vendor on loopback: negotiate, buy, renew, cancel."""

from __future__ import annotations

from decimal import Decimal

import pytest
from butler_example_vendors import ExampleVendorConnector

from butler.sdk import ConnectorContext, OfferQuery, OfferUnavailable, Terms
from butler.testing import live_server
from examples.vendors import VENDORS, make_app


@pytest.mark.parametrize("name", sorted(VENDORS))
async def test_deal_end_to_end(name: str) -> None:
    spec = VENDORS[name]
    app = make_app(spec)
    with live_server(app) as url:
        ctx = ConnectorContext(ExampleVendorConnector.manifest, settings={"base_url": url},
                               secrets={"api_key": spec.api_key})
        async with ExampleVendorConnector(ctx) as connector:
            offer = (await connector.list_offers(OfferQuery()))[0]
            opening = await connector.negotiate(offer.id)
            assert opening.proposer == "vendor" and opening.round == 1 and opening.terms.price == offer.price
            ask = Terms(price=offer.price * Decimal("0.5"), term_months=opening.terms.term_months,
                        data_use=opening.terms.data_use)
            answer = await connector.negotiate(offer.id, ask, session_id=opening.session_id)
            assert answer.status in ("open", "rejected")
            if answer.status == "open":
                assert answer.proposer == "vendor" and answer.round == 3
                assert answer.terms.price <= offer.price
                agreed = await connector.negotiate(offer.id, None, session_id=opening.session_id)
                assert agreed.status == "accepted" and agreed.terms == answer.terms
                quote = await connector.prepare_checkout(offer.id, idempotency_key="deal-1-prepare",
                                                         session_id=agreed.session_id)
                assert quote.total == agreed.terms.price and quote.terms == agreed.terms
                purchase = await connector.pay(quote, idempotency_key="deal-1")
                assert purchase.total == agreed.terms.price
                assert await connector.find_order(quote) == purchase
            contract_id = purchase.receipt["contract_id"] if answer.status == "open" else None
            if contract_id:
                contract = await connector.contract_status(contract_id)
                renewed = await connector.renew(contract_id, idempotency_key="renew-1", term_months=12)
                assert renewed.end is not None and (contract.end is None or renewed.end > contract.end)
                cancelled = await connector.cancel(contract_id, idempotency_key="cancel-1")
                assert cancelled.end is not None and not cancelled.auto_renew
            receipt = await connector.data_request("access", idempotency_key="dr-1")
            assert receipt.kind == "access" and receipt.vendor_id == spec.id
            with pytest.raises(OfferUnavailable):
                await connector.prepare_checkout("no-such-offer", idempotency_key="x-1")
    assert all(headers.get("sec-gpc") == "1" for _, _, headers in app.state.seen)


def test_strategies_are_deterministic_and_distinct() -> None:
    from examples.vendors.strategies import STRATEGIES, Position, decide, opening
    issues = VENDORS["parla"].products[0].issues
    buyer = [Position(issues.floor_price * Decimal("0.9"), 12, "service")]
    targets = {name: decide(s, issues, buyer, 4, 8).target for name, s in STRATEGIES.items()}
    assert targets == {name: decide(s, issues, buyer, 4, 8).target for name, s in STRATEGIES.items()}
    assert targets["conceder"] < targets["hardliner"] < targets["boulware"] <= 1  # Boulware holds until late…
    late = {name: decide(s, issues, buyer, 8, 8).target for name, s in STRATEGIES.items()}
    assert late["boulware"] < late["hardliner"]  # …then gives way; the hardliner never does
    assert opening(issues).price == issues.list_price
