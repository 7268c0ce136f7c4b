"""The UCP connector against the UCP reference merchant (the flower shop, 2026-01-11) as it is, quirks included:
the conformance kit's live tests, then what the merchant does that butler must cope with."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from butler_ucp import UcpConnector
from ucp_peer import PEER_GROUP, UcpPeer

from butler.sdk import (
    ConnectorContext,
    FatalError,
    MissingSecret,
    Money,
    OfferQuery,
    OfferUnavailable,
    Person,
    PostalAddress,
)
from butler.testing import RecordingTransport, connector_test_class

pytestmark = PEER_GROUP
T = TypeVar("T")

TestUcpReferenceConformance = PEER_GROUP(
    connector_test_class(UcpConnector, live="ucp_live_vendor", settings={"base_url": "https://shop.example"}))


def _connector(peer: UcpPeer, *, transport: httpx.AsyncBaseTransport | None = None, person: Person | None = None,
               **settings: Any) -> UcpConnector:
    ctx = ConnectorContext(UcpConnector.manifest, settings=peer.settings(**settings), transport=transport,
                           person=person)
    return UcpConnector(ctx)


def _run(connector: UcpConnector, coro: Coroutine[Any, Any, T]) -> T:
    async def go() -> T:
        try:
            return await coro
        finally:
            await connector.aclose()
    return asyncio.run(go())


def _key() -> str:
    return f"test-{uuid.uuid4()}"


def test_every_request_carries_the_headers_the_binding_requires(ucp_peer: UcpPeer) -> None:
    recorder = RecordingTransport()
    ucp = _connector(ucp_peer, transport=recorder)

    async def buy() -> Any:
        quote = await ucp.prepare_checkout("pot_ceramic", idempotency_key=_key())
        return await ucp.pay(quote, idempotency_key=_key())

    purchase = _run(ucp, buy())
    assert ucp_peer.get(f"/orders/{purchase.id}").status_code == 200
    checkout = [r for r in recorder.requests if not r.url.path.startswith("/.well-known")]
    assert {r.method for r in checkout} == {"POST", "PUT", "GET"}
    for request in checkout:
        assert request.headers["ucp-agent"].startswith('profile="')
        uuid.UUID(request.headers["request-id"])
        assert request.headers["request-signature"]
        assert request.headers["sec-gpc"] == "1"
        assert "authorization" not in request.headers  # no key given: none sent
        if request.method != "GET":
            uuid.UUID(request.headers["idempotency-key"])  # the binding's ids are UUIDs
    assert len({r.headers["request-id"] for r in checkout}) == len(checkout)


def test_a_purchase_is_priced_by_the_merchant_with_the_cheapest_delivery(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer)
    quote = _run(ucp, ucp.prepare_checkout("bouquet_tulips", idempotency_key=_key(), quantity=2))
    # the merchant's own title and price (the request named the id only), standard shipping (5.00, not 15.00)
    assert [(line.item, line.description, line.quantity, line.amount) for line in quote.lines] == [
        ("bouquet_tulips", "Spring Tulips", 2, Money.of("60.00", "USD"))]
    assert quote.shipping == Money.of("5.00", "USD") and quote.total == Money.of("65.00", "USD")


def test_a_configured_delivery_option_is_chosen_when_offered(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer, shipping_option="exp-ship-us")
    quote = _run(ucp, ucp.prepare_checkout("pot_ceramic", idempotency_key=_key()))
    assert quote.shipping == Money.of("15.00", "USD") and quote.total == Money.of("30.00", "USD")


def test_the_buyer_and_address_come_from_the_persons_profile(ucp_peer: UcpPeer) -> None:
    address = PostalAddress(street_address="12 Quiet Lane", address_locality="Metropolis", address_region="NY",
                            postal_code="10012", address_country="US")
    person = Person(name="Grace Hopper", email=f"grace-{uuid.uuid4().hex[:6]}@example.org", address=address,
                    currency="USD")
    ucp = UcpConnector(ConnectorContext(UcpConnector.manifest, person=person, settings={
        "base_url": ucp_peer.url, "agent_profile": "http://127.0.0.1:9/a.json",
        "payment_handler": "mock_payment_handler"}))

    async def buy() -> Any:
        quote = await ucp.prepare_checkout("pot_ceramic", idempotency_key=_key())
        return quote, await ucp.pay(quote, idempotency_key=_key())

    quote, purchase = _run(ucp, buy())
    assert quote.total.currency == "USD"
    order = ucp_peer.get(f"/orders/{purchase.id}").json()
    shipped_to = order["fulfillment"]["expectations"][0]["destination"]
    assert shipped_to["street_address"] == "12 Quiet Lane" and shipped_to["postal_code"] == "10012"
    checkout = ucp_peer.get(f"/checkout-sessions/{purchase.receipt['checkout_id']}").json()
    assert checkout["buyer"]["full_name"] == "Grace Hopper" and checkout["buyer"]["email"] == person.email
    assert checkout["buyer"]["consent"] == {"analytics": False, "preferences": True, "marketing": False,
                                            "sale_of_data": False}


def test_paying_twice_under_one_key_gives_the_same_record_and_one_order(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer)
    key = _key()

    async def twice() -> tuple[Any, Any, Any]:
        quote = await ucp.prepare_checkout("bouquet_sunflowers", idempotency_key=f"{key}-prepare")
        first = await ucp.pay(quote, idempotency_key=key)
        again = await ucp.pay(quote, idempotency_key=key)
        return first, again, await ucp.find_order(quote)

    first, again, found = _run(ucp, twice())
    assert first == again == found  # the merchant states no time: nothing of butler's clock differs
    assert first.at is None and first.total == Money.of("30.00", "USD")


def test_discount_codes_are_read_from_the_totals(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer)

    async def flow() -> Any:
        session = await ucp.start_checkout([("pot_ceramic", 2)], idempotency_key=_key())
        return await ucp.update_checkout(session.id, idempotency_key=_key(), discount_codes=["FIXED500", "NOPE"])

    session = _run(ucp, flow())
    assert session.discount == Money.of("5.00", "USD") and session.total == Money.of("30.00", "USD")
    assert session.applied_discounts.count("FIXED500") <= 1  # the merchant repeats applied codes; butler does not


def test_sold_out_and_unknown_products_are_unavailable_with_the_merchants_words(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer)

    async def both() -> list[OfferUnavailable]:
        errors = []
        for product in ("gardenias", "no_such_flower"):
            with pytest.raises(OfferUnavailable) as info:
                await ucp.prepare_checkout(product, idempotency_key=_key())
            errors.append(info.value)
        return errors

    sold_out, unknown = _run(ucp, both())
    assert "Insufficient stock for item gardenias" in sold_out.message and sold_out.code == "OUT_OF_STOCK"
    assert "Product no_such_flower not found" in unknown.message


def test_a_newer_version_refused_by_the_merchant_is_not_called_unavailable(ucp_peer: UcpPeer) -> None:
    class FromTheFuture(UcpConnector):
        def _headers(self) -> dict[str, str]:
            headers = super()._headers()
            return {**headers, "UCP-Agent": headers["UCP-Agent"] + '; version="2099-01-01"'}

    ucp = FromTheFuture(ConnectorContext(UcpConnector.manifest, settings=ucp_peer.settings()))
    with pytest.raises(FatalError) as info:
        _run(ucp, ucp.prepare_checkout("pot_ceramic", idempotency_key=_key()))
    assert not isinstance(info.value, OfferUnavailable)
    assert info.value.code == "VERSION_UNSUPPORTED" and "2099-01-01 is not supported" in info.value.message


def test_a_declined_payment_pays_nothing_and_says_why(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer, mock_token="fail_token")

    async def declined() -> tuple[FatalError, Any]:
        quote = await ucp.prepare_checkout("pot_ceramic", idempotency_key=_key())
        with pytest.raises(FatalError) as info:
            await ucp.pay(quote, idempotency_key=_key())
        return info.value, await ucp.find_order(quote)

    error, order = _run(ucp, declined())
    assert error.status == 402 and error.code == "INSUFFICIENT_FUNDS" and order is None


def test_wallet_handlers_are_refused_by_name(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer, payment_handler="google_pay")

    async def pay() -> None:
        quote = await ucp.prepare_checkout("pot_ceramic", idempotency_key=_key())
        await ucp.pay(quote, idempotency_key=_key())

    with pytest.raises(FatalError, match=r"cannot pay with google_pay \(com.google.pay\)"):
        _run(ucp, pay())


def test_validate_probes_the_checkout_endpoint_and_the_payment_handler(ucp_peer: UcpPeer) -> None:
    report = _run(ucp := _connector(ucp_peer), ucp.validate())
    assert any("HTTP 404" in line for line in report) and report[-1].startswith("pays with mock_payment_handler")
    # without a handler named, only a card tokenizer would do, and the merchant offers wallets and a mock
    auto = _connector(ucp_peer, payment_handler=None)
    with pytest.raises(FatalError, match="can pay with none of the merchant's payment handlers"):
        _run(auto, auto.validate())


def test_a_merchant_without_a_catalogue_lists_nothing(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer)
    assert _run(ucp, ucp.list_offers(OfferQuery())) == []


def test_orders_cancels_and_contracts(ucp_peer: UcpPeer) -> None:
    ucp = _connector(ucp_peer)

    async def flow() -> tuple[Any, ...]:
        quote = await ucp.prepare_checkout("bouquet_roses", idempotency_key=_key())
        purchase = await ucp.pay(quote, idempotency_key=_key())
        order = await ucp.order_status(purchase.id)
        with pytest.raises(FatalError) as info:
            await ucp.cancel(quote.checkout_id, idempotency_key=_key())
        other = await ucp.prepare_checkout("pot_ceramic", idempotency_key=_key())
        cancelled = await ucp.cancel(other.checkout_id, idempotency_key=_key())
        return quote, purchase, order, info.value, cancelled

    quote, purchase, order, refused, cancelled = _run(ucp, flow())
    assert quote.shipping == Money.of("0.00", "USD")  # roses ship free at this merchant
    assert order.id == purchase.id and order.status == "processing" and order.total == purchase.total
    assert refused.status == 409 and refused.code == "CHECKOUT_NOT_MODIFIABLE"
    assert cancelled.end is not None and cancelled.product == "Ceramic Pot"


def test_an_api_key_is_asked_for_only_when_a_merchant_refuses_without_one(ucp_peer: UcpPeer) -> None:
    # the reference merchant ignores keys; one that wants a key answers 401, which names the optional secret
    profile = httpx.get(f"{ucp_peer.url}/.well-known/ucp", timeout=30, trust_env=False).json()

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/ucp"):
            return httpx.Response(200, json=profile)
        return httpx.Response(401, json={"detail": "an API key is required", "code": "UNAUTHORIZED"})

    ucp = _connector(ucp_peer, transport=httpx.MockTransport(refuse))
    with pytest.raises(MissingSecret) as info:
        _run(ucp, ucp.validate())
    assert info.value.secret == "api_key" and "an API key is required" in info.value.message
