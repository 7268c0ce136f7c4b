"""The UCP connector's data: settings, buyer, shipping, checkout sessions and orders as butler sees them, the buyer
consent a MyTerms agreement allows, and the reading of a merchant's JSON.

Merchants write every optional field, often as null (the reference merchant does): `present()` drops nulls before
anything is read, so an absent field and a null one mean the same, and `obj`/`objs` read a field as a mapping or a
list of mappings whatever the merchant put there. Amounts are integers in minor units on the wire and `Money` here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from butler.sdk import Money, PostalAddress

__all__ = ["Buyer", "CheckoutSession", "OrderStatus", "PostalAddress", "Shipping", "UcpSettings", "consent_for",
           "money", "obj", "objs", "present"]

_AGREEMENT = re.compile(r"^SD-BASE(?:-(?P<mods>[A-Z0-9]+(?:-[A-Z0-9]+)*))?$")
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "ISK", "CLP", "VND", "XAF", "XOF"})
_THREE_DECIMAL = frozenset({"KWD", "BHD", "TND", "JOD", "OMR", "IQD", "LYD"})
_LOOPBACK = ("127.0.0.1", "::1", "[::1]", "localhost")


def present(value: Any) -> Any:
    """`value` with every null left out, at every depth: a null field reads as an absent one."""
    if isinstance(value, dict):
        return {k: present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [present(v) for v in value if v is not None]
    return value


def obj(value: Any, *path: str) -> dict[str, Any]:
    """The mapping at `path` inside `value`; {} for anything else."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def objs(value: Any, *path: str) -> list[dict[str, Any]]:
    """The mappings in the list at `path` inside `value`; [] for anything else."""
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


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


class Buyer(_Frozen):
    """Who buys, as UCP's `buyer` (all optional; a merchant says what it needs)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Buyer:
        return cls.model_validate({k: v for k, v in wire.items() if k in cls.model_fields and isinstance(v, str)})


class Shipping(_Frozen):
    """Ship to `address` with the merchant's option `option_id` (when it offers it; else the cheapest)."""

    address: PostalAddress
    option_id: str | None = None


class UcpSettings(_Frozen):
    base_url: str = Field(description="the merchant's address (its profile is at /.well-known/ucp); butler may "
                                      "reach this host and port only")
    agent_profile: str = Field(default="https://butler.invalid/profiles/ucp-2026-01-11.json",
                               description="platform profile URI sent in the UCP-Agent header")
    myterms_agreement: str = Field(default="SD-BASE",
                                   description="the person's MyTerms agreement; sets the buyer consent sent")
    buyer: Buyer | None = Field(default=None, description="who buys, for this merchant only (default: the name "
                                                          "and e-mail of `butler profile`)")
    shipping: Shipping | None = Field(default=None, description="where to ship, for this merchant only (default: "
                                                                "the address of `butler profile`)")
    shipping_option: str | None = Field(default=None, description="the merchant's fulfilment option to choose when "
                                                                  "offered (default: the cheapest)")
    payment_handler: str | None = Field(default=None, description="the merchant's payment handler id to pay with "
                                        "(default: a card tokenizer it offers, with the card secrets)")
    mock_token: str = Field(default="success_token", description="the token sent to a dev.ucp.mock_payment "
                                                                 "handler (test merchants only)")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="the currency to buy in (default: that of `butler profile`)")

    @field_validator("base_url")
    @classmethod
    def _secure(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not sep or scheme not in ("https", "http") or not host:
            raise ValueError(f"not an http(s) URL: {value!r}")
        if scheme == "http" and host not in _LOOPBACK:
            raise ValueError("UCP is served over https; plain http is allowed on this machine's loopback only")
        return value.rstrip("/")

    @field_validator("myterms_agreement")
    @classmethod
    def _known_agreement(cls, value: str) -> str:
        consent_for(value)
        return value


class CheckoutSession(_Frozen):
    """A UCP checkout session, reduced to what butler decides on; `raw` keeps the merchant's answer (nulls left
    out)."""

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
