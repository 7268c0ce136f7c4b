"""What connectors take and return, beyond butler.models (Offer, Contract, Purchase)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from butler.models import DataUse, Money, Offer, Price

__all__ = ["DataRequestReceipt", "NegotiationRound", "OfferQuery", "Terms"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
