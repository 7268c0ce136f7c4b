"""The UCP connector against the example UCP merchant (examples/vendors/ucp_merchant.py) on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from butler_ucp import Buyer, PostalAddress, Shipping, UcpConnector, UcpSettings, consent_for
from ucp_live import ADDRESS, connector, live_vendor, merchant

from butler.sdk import FatalError, Money, OfferQuery
from butler.testing import connector_test_class

TestUcpConformance = connector_test_class(UcpConnector, live=live_vendor)


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[Any, str]]:
    with merchant() as running:
        yield running


def run(ucp: UcpConnector, coro: Any) -> Any:
    async def go() -> Any:
        try:
            return await coro
        finally:
            await ucp.aclose()
    return asyncio.run(go())


def test_full_checkout_with_discount_and_fulfillment(shop: tuple[Any, str]) -> None:
    app, url = shop
    ucp = connector(url, shipping=None)

    async def flow() -> tuple[Any, Any, Any]:
        offers = await ucp.list_offers(OfferQuery(keywords=("kettle",)))
        assert [o.id for o in offers] == ["item_kettle"]
        assert offers[0].price == Money.of("39.00", "EUR")
        session = await ucp.start_checkout({"item_kettle": 2}, idempotency_key="k-create")
        assert session.status == "incomplete"  # no shipping chosen yet
        session = await ucp.update_checkout(session.id, idempotency_key="k-codes",
                                            discount_codes=["save10", "NOPE"])
        assert session.applied_discounts == ("SAVE10",)
        assert any(m["code"] == "discount_code_invalid" for m in session.messages)
        session = await ucp.update_checkout(
            session.id, idempotency_key="k-ship",
            shipping=Shipping(address=PostalAddress.model_validate(ADDRESS), option_id="express"),
            buyer=Buyer(email="ada@example.org", first_name="Ada"))
        purchase = await ucp.complete_checkout(session.id, idempotency_key="k-complete")
        return offers, session, purchase

    _, session, purchase = run(ucp, flow())
    # 2 x 39.00 = 78.00, SAVE10 takes 7.80, express shipping 9.90
    assert session.status == "ready_for_complete"
    assert session.discount_codes == ("save10", "NOPE")  # codes kept across the shipping update
    assert (session.subtotal, session.discount, session.fulfillment, session.total) == (
        Money.of("78.00", "EUR"), Money.of("7.80", "EUR"), Money.of("9.90", "EUR"), Money.of("80.10", "EUR"))
    assert purchase.total == Money.of("80.10", "EUR") and purchase.items == ("item_kettle",)
    assert purchase.receipt["checkout_id"] == session.id and purchase.receipt["discounts"] == ["SAVE10"]
    sent = [r for r in app.state.log if r["method"] in ("POST", "PUT")]
    assert all(r["headers"].get("idempotency-key") for r in sent)
    assert all(r["headers"].get("sec-gpc") == "1" and 'profile="' in r["headers"]["ucp-agent"]
               for r in app.state.log)


def test_complete_is_idempotent(shop: tuple[Any, str]) -> None:
    app, url = shop
    ucp = connector(url)

    async def twice() -> tuple[Any, Any, int]:
        before = len(app.state.merchant.orders)
        first = await ucp.checkout("item_mug", idempotency_key="same-key")
        again = await ucp.checkout("item_mug", idempotency_key="same-key")
        return first, again, len(app.state.merchant.orders) - before

    first, again, new_orders = run(ucp, twice())
    assert first == again
    assert new_orders == 1
    assert first.total == Money.of("17.40", "EUR")  # 12.50 + standard shipping 4.90


def test_completing_twice_with_a_new_key_places_no_second_order(shop: tuple[Any, str]) -> None:
    app, url = shop
    ucp = connector(url)

    async def flow() -> int:
        session = await ucp.start_checkout([("item_teapot", 1)], idempotency_key="t-create")
        await ucp.complete_checkout(session.id, idempotency_key="t-1")
        before = len(app.state.merchant.orders)
        with pytest.raises(FatalError):
            await ucp.complete_checkout(session.id, idempotency_key="t-2")
        return len(app.state.merchant.orders) - before

    assert run(ucp, flow()) == 0


def test_consent_is_mapped_from_sd_base(shop: tuple[Any, str]) -> None:
    app, url = shop
    ucp = connector(url, myterms_agreement="SD-BASE")
    session = run(ucp, ucp.start_checkout([("item_mug", 1)], idempotency_key="consent-1"))
    created = [r for r in app.state.log if r["headers"].get("idempotency-key") == "consent-1"]
    assert created[0]["body"]["buyer"]["consent"] == {
        "analytics": False, "preferences": True, "marketing": False, "sale_of_data": False}
    assert session.raw["buyer"]["consent"]["analytics"] is False
    assert consent_for("SD-BASE-A")["analytics"] is True
    assert consent_for("SD-BASE-ATP-S3P")["sale_of_data"] is False
    with pytest.raises(ValueError, match="SD-BASE"):
        UcpSettings(myterms_agreement="PDC")


def test_cancel_and_status(shop: tuple[Any, str]) -> None:
    _, url = shop
    ucp = connector(url)

    async def flow() -> tuple[Any, Any, Any]:
        session = await ucp.start_checkout([("item_teapot", 1)], idempotency_key="c-create")
        open_contract = await ucp.contract_status(session.id)
        cancelled = await ucp.cancel(session.id, idempotency_key="c-cancel")
        again = await ucp.cancel(session.id, idempotency_key="c-cancel")
        with pytest.raises(FatalError):
            await ucp.cancel(session.id, idempotency_key="c-cancel-2")
        return open_contract, cancelled, again

    open_contract, cancelled, again = run(ucp, flow())
    assert open_contract.end is None and open_contract.product == "Glass teapot"
    assert open_contract.price == Money.of("32.90", "EUR") and open_contract.myterms == "SD-BASE"
    assert cancelled.end is not None and cancelled == again


def test_order_status(shop: tuple[Any, str]) -> None:
    _, url = shop
    ucp = connector(url)

    async def flow() -> tuple[Any, Any, Any]:
        purchase = await ucp.checkout("item_kettle", idempotency_key="o-1")
        order = await ucp.order_status(purchase.id)
        contract = await ucp.contract_status(purchase.receipt["checkout_id"])
        return purchase, order, contract

    purchase, order, contract = run(ucp, flow())
    assert order.id == purchase.id and order.checkout_id == purchase.receipt["checkout_id"]
    assert order.status == "processing" and order.total == Money.of("43.90", "EUR")
    assert contract.price == purchase.total


@pytest.mark.parametrize("version", ["2025-10-01", "2026-06-01"])
def test_other_versions_are_refused(version: str) -> None:
    with merchant(version=version) as (app, url):
        ucp = connector(url)
        with pytest.raises(FatalError, match=f"speaks UCP {version}, not 2026-01-11"):
            run(ucp, ucp.validate())
        assert not [r for r in app.state.log if r["method"] != "GET"]


def test_only_shared_capabilities_are_used() -> None:
    # no discount, no consent extension, no catalogue: the connector leaves those fields out
    with merchant(capabilities=["dev.ucp.shopping.checkout", "dev.ucp.shopping.fulfillment",
                                "com.unknown.loyalty"]) as (app, url):
        ucp = connector(url)

        async def flow() -> Any:
            negotiated = await ucp.discover()
            assert negotiated.capabilities == {"dev.ucp.shopping.checkout", "dev.ucp.shopping.fulfillment"}
            with pytest.raises(FatalError, match="catalogue"):
                await ucp.list_offers(OfferQuery())
            return await ucp.start_checkout([("item_mug", 1)], idempotency_key="cap-1",
                                            discount_codes=["SAVE10"])

        session = run(ucp, flow())
        body = app.state.log[-1]["body"]
        assert "discounts" not in body and "consent" not in body["buyer"] and "fulfillment" in body
        assert session.total == Money.of("17.40", "EUR") and session.discount.amount == Decimal(0)


def test_orphaned_extensions_are_pruned() -> None:
    with merchant(capabilities=["dev.ucp.shopping.discount", "com.example.catalog"]) as (_, url):
        ucp = connector(url)
        with pytest.raises(FatalError, match="does not offer UCP checkout"):
            run(ucp, ucp.validate())

