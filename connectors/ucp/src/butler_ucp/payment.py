"""Paying for a UCP checkout: choosing the merchant's payment handler and building the instrument it takes.

The merchant's handlers are those its checkout lists (`payment.handlers`) or, when the checkout lists none, those
of its discovery profile (`payment.handlers` beside `ucp`). The setting `payment_handler` names one; without it
butler takes a card tokenizer the merchant offers. UCP 2026-01-11 knows one instrument, the card
(`card_payment_instrument`: id, handler_id, type "card", brand, last_digits, credential), and two kinds of
handler are paid here:

- a handler whose config names a `token_url`, which speaks UCP's shared Tokenization API (2026-01-11): the
  person's card (the connector's secrets `card_number`, `card_expiry` as MM/YYYY, `card_cvc`, `card_name`) is
  sent to that URL only, bound to this one checkout (`binding.checkout_id`), with the handler's `public_key`
  as the bearer token; the merchant receives the token, the card's brand and its last four digits, never the
  number. The URL must be https, or http on the loopback address the merchant itself uses, and on a host
  butler may reach (the SDK's transport refuses any other). Tokenizing carries an `Idempotency-Key` derived
  from the completion's, so a retried completion sends the same token and places no second order;
- the test handler `dev.ucp.mock_payment`, named explicitly only: a card instrument whose token credential is
  the setting `mock_token` (`success_token` by default); no money moves.

Wallet handlers (Google Pay, Shop Pay and the like) need the wallet's own client and are refused by name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from butler.sdk import ConnectorContext, FatalError, MissingSecret, register_secret
from butler_ucp.models import obj

__all__ = ["CARD_SECRETS", "MOCK_HANDLER", "Card", "choose_handler", "handlers_offered", "payment_data"]

CARD_SECRETS = ("card_number", "card_expiry", "card_cvc", "card_name")
MOCK_HANDLER = "dev.ucp.mock_payment"
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")
_BRANDS = (("amex", re.compile(r"^3[47]")), ("visa", re.compile(r"^4")),
           ("mastercard", re.compile(r"^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))")),
           ("discover", re.compile(r"^(6011|65|64[4-9])")))


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


class Card(BaseModel):
    """The person's card, read from the connector's secrets; its repr never shows the number or the code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    expiry_month: int
    expiry_year: int
    cvc: str
    name: str

    def __repr__(self) -> str:
        return f"Card({self.brand} ending {self.last_digits}, {self.expiry_month:02d}/{self.expiry_year})"

    __str__ = __repr__

    @property
    def last_digits(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        return next((name for name, prefix in _BRANDS if prefix.match(self.number)), "card")

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, str] | Any, *, today: dt.date | None = None) -> Card:
        """The card in the connector's secrets; FatalError naming what is missing or wrong (never a value)."""
        missing = [name for name in CARD_SECRETS if name not in secrets]
        if missing:
            raise MissingSecret(f"paying by card needs the secrets {', '.join(missing)}",
                                "Give them with `butler connectors enable ucp` (they are kept in the vault).",
                                secret=missing[0])
        values = {name: str(secrets.get(name)) for name in CARD_SECRETS}
        number = re.sub(r"[\s-]", "", values["card_number"])
        register_secret(number)  # the stored form is redacted already; the digits alone are what is sent
        if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn_ok(number):
            raise FatalError("the secret card_number is not a valid card number")
        expiry = _EXPIRY.match(values["card_expiry"])
        if expiry is None or not 1 <= int(expiry.group(1)) <= 12:
            raise FatalError("the secret card_expiry must read MM/YYYY")
        month, year = int(expiry.group(1)), int(expiry.group(2))
        year += 2000 if year < 100 else 0
        today = today or dt.date.today()
        if (year, month) < (today.year, today.month):
            raise FatalError(f"the card expired at the end of {month:02d}/{year}")
        cvc = values["card_cvc"].strip()
        if not cvc.isdigit() or not 3 <= len(cvc) <= 4:
            raise FatalError("the secret card_cvc must be 3 or 4 digits")
        return cls(number=number, expiry_month=month, expiry_year=year, cvc=cvc,
                   name=values["card_name"].strip())


def handlers_offered(checkout: Mapping[str, Any], discovered: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The merchant's payment handlers: the checkout's, or its discovery profile's when the checkout lists none."""
    listed = [dict(h) for h in obj(checkout, "payment").get("handlers") or [] if isinstance(h, dict) and h.get("id")]
    return listed or [dict(h) for h in discovered if h.get("id")]


def _named(handler: Mapping[str, Any]) -> str:
    return f"{handler.get('id')} ({handler.get('name')})" if handler.get("name") else str(handler.get("id"))


def _kind(handler: Mapping[str, Any]) -> str | None:
    if handler.get("name") == MOCK_HANDLER:
        return "mock"
    if obj(handler, "config").get("token_url") is not None:
        return "tokenizer"
    return None


def choose_handler(handlers: Sequence[Mapping[str, Any]], wanted: str | None) -> dict[str, Any]:
    """The handler to pay with: the one `wanted` names (by id), else the first card tokenizer offered.

    FatalError naming the handlers offered when `wanted` is not among them, when butler cannot pay with it (a
    wallet), or when nothing offered is a card tokenizer.
    """
    offered = ", ".join(_named(h) for h in handlers) or "none"
    if wanted is not None:
        found = next((h for h in handlers if h.get("id") == wanted), None)
        if found is None:
            raise FatalError(f"the merchant does not offer the payment handler {wanted!r} (it offers: {offered})",
                             "Set `payment_handler` in the connector's settings to one of those.")
        if _kind(found) is None:
            raise FatalError(f"butler cannot pay with {_named(found)}: it needs its wallet's own client; butler "
                             "pays by card through a tokenizer", f"The merchant offers: {offered}.")
        return dict(found)
    for handler in handlers:
        if _kind(handler) == "tokenizer":
            return dict(handler)
    raise FatalError(f"butler can pay with none of the merchant's payment handlers ({offered}): it pays by card "
                     "through a tokenizer, or with a test handler named in `payment_handler`",
                     "Set `payment_handler` to one of those, or buy from this merchant yourself.")


def _token_url(handler: Mapping[str, Any], base_url: str) -> str:
    url = obj(handler, "config").get("token_url")
    if not isinstance(url, str):
        raise FatalError(f"the payment handler {handler.get('id')!r} names no usable token_url")
    parts, base = urlsplit(url), urlsplit(base_url)
    loopback_like_merchant = parts.scheme == "http" and parts.hostname == base.hostname and \
        base.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")
    if parts.scheme != "https" and not loopback_like_merchant:
        raise FatalError(f"the payment handler {handler.get('id')!r} tokenizes over {parts.scheme or 'no scheme'}; "
                         "a card is sent over https only")
    return url


async def payment_data(ctx: ConnectorContext, checkout_id: str, handler: Mapping[str, Any], *, base_url: str,
                       idempotency_key: str, mock_token: str, wire_key: Callable[[str], str]) -> dict[str, Any]:
    """The `payment_data` (a 2026-01-11 card instrument) to complete `checkout_id` with `handler`, tokenizing the
    card first for a tokenizer. `wire_key` turns butler's idempotency key into the one sent."""
    handler_id = str(handler["id"])
    if _kind(handler) == "mock":
        card = Card.from_secrets(ctx.secrets) if all(name in ctx.secrets for name in CARD_SECRETS) else None
        return {"id": "instr_1", "handler_id": handler_id, "type": "card",
                "brand": card.brand if card else "mock", "last_digits": card.last_digits if card else "0000",
                "credential": {"type": "token", "token": mock_token}}
    url = _token_url(handler, base_url)
    card = Card.from_secrets(ctx.secrets)
    public_key = obj(handler, "config").get("public_key")
    headers = {"Authorization": f"Bearer {public_key}"} if isinstance(public_key, str) else {}
    credential = {"type": "card", "card_number_type": "fpan", "number": card.number,
                  "expiry_month": card.expiry_month, "expiry_year": card.expiry_year, "cvc": card.cvc,
                  "name": card.name}
    answer = await ctx.json("POST", url, headers=headers, idempotency_key=wire_key(f"{idempotency_key}:tokenize"),
                            json={"credential": credential, "binding": {"checkout_id": checkout_id}})
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not 0 < len(token) <= 4096:
        raise FatalError(f"the tokenizer of payment handler {handler_id!r} answered without a token")
    return {"id": "instr_1", "handler_id": handler_id, "type": "card", "brand": card.brand,
            "last_digits": card.last_digits, "expiry_month": card.expiry_month, "expiry_year": card.expiry_year,
            "credential": {"type": "token", "token": token}}
