"""Paying for a UCP checkout with the merchant's payment handler the settings name (`payment_handler`).

A checkout lists the merchant's handlers (`payment.handlers`). Two kinds are paid here:

- a handler without a `token_url` in its config (an invoice, paying on delivery): `payment_data` names it and
  nothing else is sent;
- a handler whose config names a `token_url`, which speaks UCP's shared Tokenization API (2026-01-11): the
  person's card (the connector's secrets `card_number`, `card_expiry` as MM/YYYY, `card_cvc`, `card_name`) is
  sent to that URL only, bound to this one checkout (`binding.checkout_id`), with the handler's `public_key`
  as the bearer token; the merchant receives the token, the card's brand and its last four digits, never the
  number. The URL must be https, or http on the loopback address the merchant itself uses, and on a host the
  manifest allows (the SDK's transport refuses any other). Tokenizing carries an `Idempotency-Key` derived
  from the completion's, so a retried completion sends the same token and places no second order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from butler.log import register_secret
from butler.sdk import ConnectorContext, FatalError

__all__ = ["CARD_SECRETS", "Card", "handler_for", "payment_data"]

CARD_SECRETS = ("card_number", "card_expiry", "card_cvc", "card_name")
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
            raise FatalError(f"paying by card needs the secrets {', '.join(missing)}",
                             "Give them with `butler connectors enable ucp` (they are kept in the vault).")
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


def handler_for(checkout: Mapping[str, Any], handler_id: str) -> dict[str, Any]:
    """The handler `handler_id` among the checkout's `payment.handlers`; FatalError naming those offered."""
    handlers = [h for h in (checkout.get("payment") or {}).get("handlers") or [] if isinstance(h, dict)]
    for handler in handlers:
        if handler.get("id") == handler_id:
            return handler
    offered = ", ".join(str(h.get("id")) for h in handlers) or "none"
    raise FatalError(f"the merchant does not offer the payment handler {handler_id!r} (it offers: {offered})",
                     "Set `payment_handler` in the connector's settings to one of those.")


def _token_url(handler: Mapping[str, Any], base_url: str) -> str | None:
    url = (handler.get("config") or {}).get("token_url")
    if url is None:
        return None
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
                       idempotency_key: str) -> dict[str, Any]:
    """The `payment_data` to complete `checkout_id` with `handler`, tokenizing the card first when it asks."""
    handler_id = str(handler["id"])
    url = _token_url(handler, base_url)
    if url is None:
        return {"id": "instr_1", "handler_id": handler_id, "type": handler_id}
    card = Card.from_secrets(ctx.secrets)
    public_key = (handler.get("config") or {}).get("public_key")
    headers = {"Authorization": f"Bearer {public_key}"} if isinstance(public_key, str) else {}
    credential = {"type": "card", "card_number_type": "fpan", "number": card.number,
                  "expiry_month": card.expiry_month, "expiry_year": card.expiry_year, "cvc": card.cvc,
                  "name": card.name}
    answer = await ctx.json("POST", url, headers=headers, idempotency_key=f"{idempotency_key}:tokenize",
                            json={"credential": credential, "binding": {"checkout_id": checkout_id}})
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not 0 < len(token) <= 4096:
        raise FatalError(f"the tokenizer of payment handler {handler_id!r} answered without a token")
    return {"id": "instr_1", "handler_id": handler_id, "type": "card", "brand": card.brand,
            "last_digits": card.last_digits, "expiry_month": card.expiry_month, "expiry_year": card.expiry_year,
            "credential": {"type": "token", "token": token}}
