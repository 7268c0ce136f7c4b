"""The UCP connector's data: settings, buyer, shipping, checkout sessions and orders as butler sees them, and the
buyer consent a MyTerms agreement allows. Amounts are integers in minor units on the wire and `Money` here."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from butler.sdk import Money

__all__ = ["Buyer", "CheckoutSession", "OrderStatus", "PostalAddress", "Shipping", "UcpSettings", "consent_for",
           "money"]

_AGREEMENT = re.compile(r"^SD-BASE(?:-(?P<mods>[A-Z0-9]+(?:-[A-Z0-9]+)*))?$")
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF"})
_THREE_DECIMAL = frozenset({"KWD", "BHD", "TND", "JOD", "OMR", "IQD", "LYD"})


def consent_for(agreement: str) -> dict[str, bool]:
    """The UCP buyer consent (`buyer.consent`) a MyTerms service-delivery agreement allows.

    SD-BASE allows the service only: no analytics, no marketing, no sale of data. The `A` modifier (SD-BASE-A…)
    allows first-party analytics. Marketing and sale of data are never consented to on the person's behalf;
    `preferences` (remembering the person's choices to deliver the service) is part of service delivery.
    Raises ValueError for an id that is not an SD-BASE agreement.
    """
    match = _AGREEMENT.match(agreement)
    if match is None:
        raise ValueError(f"{agreement!r} is not a MyTerms SD-BASE agreement id")
    mods = (match.group("mods") or "").split("-")
    analytics = any(mod.startswith("A") for mod in mods)
    return {"analytics": analytics, "preferences": True, "marketing": False, "sale_of_data": False}


def _digits(currency: str) -> int:
    return 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2


def money(minor: int, currency: str) -> Money:
    return Money(amount=Decimal(minor).scaleb(-_digits(currency)), currency=currency)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PostalAddress(_Frozen):
    """A UCP postal address (schema `types/postal_address.json`)."""

    street_address: str
    address_locality: str
    postal_code: str
    address_country: str = Field(min_length=2, max_length=2)
    address_region: str | None = None


class Buyer(_Frozen):
    email: str
    first_name: str | None = None
    last_name: str | None = None


class Shipping(_Frozen):
    """Ship to `address` with the merchant's option `option_id` (e.g. "standard")."""

    address: PostalAddress
    option_id: str | None = None


class UcpSettings(_Frozen):
    base_url: str = Field(default="http://127.0.0.1:8300", description="the merchant (profile at /.well-known/ucp)")
    agent_profile: str = Field(default="https://butler.invalid/profiles/ucp-2026-01-11.json",
                               description="platform profile URI sent in the UCP-Agent header")
    myterms_agreement: str = Field(default="SD-BASE",
                                   description="the person's MyTerms agreement; sets the buyer consent sent")
    buyer: Buyer | None = Field(default=None, description="who buys (email is required to complete)")
    shipping: Shipping | None = Field(default=None, description="where and how to ship, when the merchant ships")
    payment_handler: str = Field(default="invoice", description="the merchant's payment handler id to pay with "
                                 "(one that tokenizes cards needs the card secrets)")
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="the currency to buy in")

    @field_validator("myterms_agreement")
    @classmethod
    def _known_agreement(cls, value: str) -> str:
        consent_for(value)
        return value


class CheckoutSession(_Frozen):
    """A UCP checkout session, reduced to what butler decides on; `raw` keeps the merchant's answer."""

    id: str
    status: str
    currency: str
    items: tuple[tuple[str, int], ...]
    subtotal: Money
    discount: Money
    fulfillment: Money
    total: Money
    discount_codes: tuple[str, ...] = ()
    applied_discounts: tuple[str, ...] = ()
    messages: tuple[dict[str, Any], ...] = ()
    order_id: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


class OrderStatus(_Frozen):
    id: str
    checkout_id: str
    permalink_url: str
    status: str
    total: Money | None = None
    line_items: tuple[dict[str, Any], ...] = ()
