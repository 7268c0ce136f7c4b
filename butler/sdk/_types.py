"""What connectors take and return, beyond butler.models (Offer, Contract, Purchase)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from butler.models import DataUse, Money, Offer, PostalAddress, Price

__all__ = ["CheckoutLine", "CheckoutQuote", "DataRequestReceipt", "NegotiationRound", "OfferQuery", "Person", "Terms"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Person(_Frozen):
    """The person butler buys for, as far as the connector's manifest asks (`person_fields`) and the person told
    butler (`butler profile set`): a field the manifest does not name, or the person did not give, is None."""

    name: str | None = None
    email: str | None = None
    address: PostalAddress | None = None
    currency: str | None = None


class OfferQuery(_Frozen):
    """What the person is looking for; every field is optional and a connector ignores what it cannot use."""

    category: str | None = None
    keywords: tuple[str, ...] = ()
    max_price: Money | None = None
    kwh_per_year: Decimal | None = None
    gb_per_month: Decimal | None = None

    def within_max_price(self, offers: Iterable[Offer]) -> list[Offer]:
        """The offers `max_price` admits: all when it is unset; one in another currency is kept, not compared."""
        limit = self.max_price
        if limit is None:
            return list(offers)
        return [o for o in offers if o.price.currency != limit.currency or o.price <= limit]


class Terms(_Frozen):
    """One position over the negotiable issues: price (per period), term, data use and extras."""

    price: Price
    term_months: int = Field(default=0, ge=0)
    data_use: DataUse = DataUse.SERVICE
    extras: tuple[str, ...] = ()


class NegotiationRound(_Frozen):
    """The state of a negotiation after one exchange (AP2-style alternating offers).

    `terms` is the latest offer on the table, made by `proposer` in `round`; `status` is "open" while the
    other side may answer, "accepted" when both agreed on `terms`, "rejected" or "expired" when it ended without.
    """

    session_id: str
    offer_id: str
    round: int = Field(ge=1)
    proposer: Literal["buyer", "vendor"]
    terms: Terms
    status: Literal["open", "accepted", "rejected", "expired"]
    max_rounds: int = Field(ge=1)
    deadline: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    message: str | None = None


class DataRequestReceipt(_Frozen):
    """A data-protection request the vendor acknowledged (GDPR access, deletion, portability, objection)."""

    id: str
    vendor_id: str
    kind: Literal["access", "delete", "portability", "object"]
    status: str
    received_at: dt.datetime
    due_by: dt.date | None = None


QUOTE_LIMIT = Decimal(1_000_000_000)
"""No amount in a quote is larger: a purchase of a billion is a vendor's error, not a person's wish."""


class CheckoutLine(_Frozen):
    """One line of a prepared checkout: what is bought and what it costs in all (unit price times quantity)."""

    item: str
    description: str = ""
    quantity: int = Field(default=1, ge=1, le=10_000)
    amount: Money


class CheckoutQuote(_Frozen):
    """What the vendor will charge if butler pays now, read back before anything is paid.

    `total` is everything the person would pay: the lines plus shipping, tax and fees, less any discount. Every
    amount is in `total`'s currency, and the parts must add up to the total; a quote that does not is refused
    when it is built. `terms` are the contract terms the vendor will record (price per period, term, data use,
    extras), when the purchase starts a contract. `checkout_id` names the vendor's checkout: butler stores it
    before paying, so that after a crash it can ask the vendor what became of it.
    """

    checkout_id: str = Field(min_length=1, max_length=500)
    offer_id: str
    lines: tuple[CheckoutLine, ...] = Field(min_length=1, max_length=1000)
    shipping: Money | None = None
    tax: Money | None = None
    fees: Money | None = None
    discount: Money | None = None
    total: Money
    terms: Terms | None = None
    expires_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _adds_up(self) -> CheckoutQuote:
        currency = self.total.currency
        parts = [line.amount for line in self.lines] + [m for m in (self.shipping, self.tax, self.fees) if m]
        for part in [*parts, *([self.discount] if self.discount else [])]:
            if part.currency != currency:
                raise ValueError(f"the quote mixes {part.currency} into a total in {currency}")
            if part.amount < 0:
                raise ValueError(f"the quote has a negative amount ({part.amount} {part.currency})")
            if part.amount > QUOTE_LIMIT:
                raise ValueError(f"the quote has an absurd amount ({part.amount} {part.currency})")
        if not 0 <= self.total.amount <= QUOTE_LIMIT:
            raise ValueError(f"the quote's total {self.total.amount} {currency} is out of range")
        expected = sum((p.amount for p in parts), start=Decimal(0)) - (self.discount.amount if self.discount else 0)
        if expected != self.total.amount:
            raise ValueError(f"the quote's parts add up to {expected} {currency}, not its total {self.total}")
        return self

    @property
    def extra_charges(self) -> list[tuple[str, Money]]:
        """Shipping, tax and fees that are more than zero, by name."""
        return [(name, m) for name, m in (("shipping", self.shipping), ("tax", self.tax), ("fees", self.fees))
                if m is not None and m.amount > 0]

    def describe(self) -> str:
        """The total as a person reads it: "35.00 EUR (30.00 EUR + shipping 5.00 EUR)"."""
        extras = self.extra_charges
        if not extras and not (self.discount and self.discount.amount):
            return str(self.total)
        goods = sum((line.amount.amount for line in self.lines), start=Decimal(0))
        parts = [f"{goods} {self.total.currency}"] + [f"{name} {m}" for name, m in extras]
        text = " + ".join(parts)
        if self.discount and self.discount.amount:
            text += f" - discount {self.discount}"
        return f"{self.total} ({text})"
