"""The UCP connector against the project's own UCP merchant (examples/vendors/ucp_merchant.py), for what the
reference merchant cannot play: other versions, other capabilities, a catalogue, UCP's own error envelope.
Everything a real merchant does is tested against the reference one (test_ucp_reference.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from butler_ucp import UcpConnector, UcpSettings, consent_for
from butler_ucp.models import present
from helpers.vaultkit import make_vault
from ucp_live import connector, merchant

from butler.approvals import raw_item
from butler.negotiate.approvals import PurchaseItem, purchase_id
from butler.negotiate.session import negotiate_all
from butler.policy import PolicySet
from butler.sdk import ConnectorContext, FatalError, HostNotAllowed, Money, OfferQuery, OfferUnavailable


def run(ucp: UcpConnector, coro: Any) -> Any:
    async def go() -> Any:
        try:
            return await coro
        finally:
            await ucp.aclose()
    return asyncio.run(go())


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
            assert await ucp.list_offers(OfferQuery()) == []
            return await ucp.start_checkout([("item_mug", 1)], idempotency_key="cap-1", discount_codes=["SAVE10"])

        session = run(ucp, flow())
        created = next(r for r in app.state.log if r["method"] == "POST")["body"]
        assert "discounts" not in created and "consent" not in created["buyer"] and "fulfillment" in created
        assert session.total == Money.of("17.40", "EUR")  # 12.50 and the cheapest shipping, no discount


def test_orphaned_extensions_are_pruned() -> None:
    with merchant(capabilities=["dev.ucp.shopping.discount", "com.example.catalog"]) as (_, url):
        ucp = connector(url)
        with pytest.raises(FatalError, match="does not offer UCP checkout"):
            run(ucp, ucp.validate())


def test_a_catalogue_is_listed_where_the_merchant_has_one() -> None:
    with merchant() as (_, url):
        ucp = connector(url)
        offers = run(ucp, ucp.list_offers(OfferQuery(keywords=("kettle",))))
        assert [(o.id, o.product, o.price) for o in offers] == [
            ("item_kettle", "Stainless kettle", Money.of("39.00", "EUR"))]


def test_ucp_error_messages_reach_the_person() -> None:
    with merchant() as (_, url):
        ucp = connector(url)
        with pytest.raises(OfferUnavailable) as info:
            run(ucp, ucp.prepare_checkout("item_unicorn", idempotency_key="no-such"))
        assert 'the vendor says "one or more cart items are invalid" (invalid_cart_items)' in info.value.message


def test_consent_is_mapped_from_sd_base() -> None:
    assert consent_for("SD-BASE") == {"analytics": False, "preferences": True, "marketing": False,
                                      "sale_of_data": False}
    assert consent_for("SD-BASE-A")["analytics"] is True
    assert consent_for("SD-BASE-ATP-S3P")["sale_of_data"] is False
    with pytest.raises(ValueError, match="SD-BASE"):
        UcpSettings(base_url="https://shop.example", myterms_agreement="PDC")


def test_the_merchant_url_decides_where_butler_may_go() -> None:
    ctx = ConnectorContext(UcpConnector.manifest, settings={"base_url": "https://flowers.example/shop"})
    assert ctx.allowed_hosts == ("flowers.example:443",)
    with pytest.raises(ValueError, match="https"):
        UcpSettings(base_url="http://flowers.example")  # plain http only on this machine's loopback
    assert UcpSettings(base_url="http://127.0.0.1:8000/").base_url == "http://127.0.0.1:8000"

    async def elsewhere() -> None:
        async with ctx:
            await ctx.request("GET", "https://tokenizer.example/tokenize")

    with pytest.raises(HostNotAllowed):
        asyncio.run(elsewhere())


def test_null_reads_as_absent_at_every_depth() -> None:
    wire = {"id": "c", "buyer": None, "discounts": {"codes": None, "applied": None},
            "line_items": [{"id": "l", "parent_id": None, "item": {"id": "i", "image_url": None}}, None]}
    assert present(wire) == {"id": "c", "discounts": {}, "line_items": [{"id": "l", "item": {"id": "i"}}]}


def test_a_vendor_that_does_not_negotiate_wins_at_its_listed_price(butler_env: Path) -> None:
    # the own merchant has a catalogue, which the reference one lacks: an intent finds its offers
    with merchant() as (_, url), make_vault(butler_env) as vault:
        ucp = connector(url)

        async def fan_out() -> Any:
            try:
                offers = await ucp.list_offers(OfferQuery(keywords=("teapot",)))
                return await negotiate_all([(ucp, offers[0])], PolicySet(), vault, connector_ids=["ucp"],
                                           intent_id="a-teapot")
            finally:
                await ucp.aclose()

        (result,) = asyncio.run(fan_out())
        assert result.fixed_price and result.agreed.price == Money.of("28.00", "EUR")
        assert result.reason == "the vendor's fixed price (it does not negotiate)"
        item = PurchaseItem.model_validate(raw_item(vault, purchase_id("a-teapot")))
    assert item.fixed_price and item.session is None and item.quote is not None
    assert item.quote.total == Money.of("32.90", "EUR")  # with the cheapest shipping: the person approves that
