"""Paying a UCP checkout by card through the merchant's tokenizer (UCP Tokenization API), against the example
merchant on loopback: the card reaches the tokenizer only, the merchant gets a token bound to one checkout."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from butler_ucp import UcpConnector
from butler_ucp.payment import Card
from ucp_live import API_KEY, connector, merchant, settings

from butler.log import redact
from butler.sdk import ConnectorContext, ConnectorError, FatalError, Money

GOOD_CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": f"12/{dt.date.today().year + 2}",
             "card_cvc": "123", "card_name": "Ada Lovelace"}


def _connector(url: str, card: dict[str, str] | None, handler: str = "card_tokenizer") -> UcpConnector:
    return connector(url, payment_handler=handler, secrets=card)


async def _buy(ucp: UcpConnector, key: str) -> Any:
    try:
        return await ucp.checkout("item_kettle", idempotency_key=key)
    finally:
        await ucp.aclose()


def test_a_card_is_tokenized_and_only_the_token_reaches_the_merchant() -> None:
    with merchant() as (app, url):
        purchase = asyncio.run(_buy(_connector(url, GOOD_CARD), "card-1"))
        assert purchase.total == Money.of("43.90", "EUR")  # 39.00 + standard shipping 4.90
        tokenizer = app.state.tokenizer
        assert tokenizer.numbers_seen == ["4242424242424242"]
        (token, issued), = tokenizer.tokens.items()
        assert issued["used"] and issued["checkout_id"] == purchase.receipt["checkout_id"]
        complete = next(r for r in app.state.log if r["path"].endswith("/complete"))
        assert complete["body"]["payment_data"] == {
            "id": "instr_1", "handler_id": "card_tokenizer", "type": "card", "brand": "visa", "last_digits": "4242",
            "expiry_month": 12, "expiry_year": dt.date.today().year + 2,
            "credential": {"type": "token", "token": token}}
        assert all("4242424242424242" not in json.dumps(r) for r in app.state.log)  # the merchant never saw it
        session = app.state.merchant.sessions[purchase.receipt["checkout_id"]]
        assert session["payment"]["instruments"][0]["last_digits"] == "4242"


def test_a_retried_completion_sends_the_same_token_and_places_one_order() -> None:
    async def twice(ucp: UcpConnector) -> tuple[Any, Any]:
        try:
            return (await ucp.checkout("item_mug", idempotency_key="card-again"),
                    await ucp.checkout("item_mug", idempotency_key="card-again"))
        finally:
            await ucp.aclose()

    with merchant() as (app, url):
        first, again = asyncio.run(twice(_connector(url, GOOD_CARD)))
        assert first == again and len(app.state.merchant.orders) == 1 and len(app.state.tokenizer.tokens) == 1


def test_a_declined_card_places_no_order() -> None:
    declined = {**GOOD_CARD, "card_number": "4000000000000002"}
    with merchant() as (app, url):
        with pytest.raises(FatalError, match="HTTP 400"):
            asyncio.run(_buy(_connector(url, declined), "card-declined"))
        assert app.state.merchant.orders == {}


def test_a_bank_check_is_left_to_the_person_and_nothing_is_bought() -> None:
    challenged = {**GOOD_CARD, "card_number": "4000000000003220"}
    with merchant() as (app, url):
        with pytest.raises(FatalError, match=r"continue at https://bank\.example/challenge/chk_") as caught:
            asyncio.run(_buy(_connector(url, challenged), "card-3ds"))
        assert "nothing was bought" in caught.value.hint and app.state.merchant.orders == {}


@pytest.mark.parametrize(("card", "problem"), [
    (None, "needs the secrets card_number, card_expiry, card_cvc, card_name"),
    ({**GOOD_CARD, "card_number": "4242 4242 4242 4241"}, "not a valid card number"),
    ({**GOOD_CARD, "card_expiry": "01/2020"}, "expired at the end of 01/2020"),
    ({**GOOD_CARD, "card_expiry": "2030-01"}, "MM/YYYY"),
    ({**GOOD_CARD, "card_cvc": "12a"}, "3 or 4 digits"),
])
def test_a_missing_or_wrong_card_is_a_clear_error_before_anything_is_sent(card: dict[str, str] | None,
                                                                          problem: str) -> None:
    with merchant() as (app, url):
        with pytest.raises(ConnectorError, match=problem) as caught:  # a missing secret is asked for
            asyncio.run(_buy(_connector(url, card), "card-bad"))
        assert app.state.tokenizer.numbers_seen == [] and app.state.merchant.orders == {}
        assert "4242" not in str(caught.value) and "123" not in str(caught.value)


def test_an_unknown_handler_names_the_ones_offered() -> None:
    with merchant() as (_, url), pytest.raises(
            FatalError, match=r"'wallet' \(it offers: invoice \(com.example.invoice\), card_tokenizer \("):
        asyncio.run(_buy(_connector(url, GOOD_CARD, handler="wallet"), "card-x"))


def test_the_card_never_shows_in_reprs_or_logs() -> None:
    card = Card.from_secrets(GOOD_CARD)
    assert repr(card) == f"Card(visa ending 4242, 12/{dt.date.today().year + 2})" and str(card) == repr(card)
    ConnectorContext(UcpConnector.manifest, settings=settings("http://127.0.0.1:1"),
                     secrets={"api_key": API_KEY, **GOOD_CARD})
    assert "4242 4242 4242 4242" not in redact("card 4242 4242 4242 4242 on file")
    assert "4242424242424242" not in redact("sent 4242424242424242 to the tokenizer")
