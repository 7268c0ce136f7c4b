"""The spending mandate: limits within which butler may buy a negotiated winner without asking.

One mandate at a time (vault `mandates/current`): a maximum amount, the vendors and categories allowed, and
an expiry. Outside it, or without one, every purchase waits for approval. The amount compared is what the
deal commits the person to: the price once, or the monthly price times the term (at least one period). The
maximum is more than 0 and at most `butler.models.MAX_AMOUNT`; a stored mandate outside that is ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from butler.errors import UsageError
from butler.models import Money, amount_problem
from butler.records import Collection
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "Mandate", "commitment", "current", "revoke", "set_mandate"]

COLLECTION = "mandates"
_ID = "current"
log = logging.getLogger("butler.negotiate")


class Mandate(BaseModel):
    """Limits the person set explicitly. Empty `vendors` or `categories` allow none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_amount: Money
    vendors: tuple[str, ...] = Field(min_length=1)
    categories: tuple[str, ...] = Field(min_length=1)
    expires: dt.datetime
    created: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @field_validator("max_amount")
    @classmethod
    def _sane_maximum(cls, value: Money) -> Money:
        problem = amount_problem(value, zero=False)
        if problem is not None:
            raise ValueError(f"the maximum {problem}")
        return value

    def refusal(self, vendor_id: str, category: str, amount: Money, now: dt.datetime | None = None) -> str | None:
        """Why this purchase is outside the mandate, or None when it is inside."""
        now = now or dt.datetime.now(dt.UTC)
        if now >= self.expires:
            return f"the mandate expired on {self.expires.isoformat(timespec='minutes')}"
        if vendor_id not in self.vendors:
            return f"{vendor_id} is not among the mandate's vendors ({', '.join(self.vendors)})"
        if category not in self.categories:
            return f"category {category!r} is not among the mandate's ({', '.join(self.categories)})"
        if amount.currency != self.max_amount.currency:
            return f"the mandate is in {self.max_amount.currency}, the deal in {amount.currency}"
        if amount > self.max_amount:
            return f"{amount} is more than the mandate's {self.max_amount}"
        return None


RECORDS = Collection(COLLECTION, __name__, "the spending mandate", model=Mandate, id_scheme="current")


def commitment(price: Money, period: str, term_months: int) -> Money:
    """What a deal commits the person to: the price once, or per period times the term."""
    if period == "once":
        return price
    periods = max(1, term_months) if period == "month" else max(1, -(-term_months // 12))
    return price * periods


def set_mandate(vault: Vault, mandate: Mandate) -> None:
    if mandate.max_amount.amount <= 0:
        raise UsageError("a mandate's maximum must be more than zero")
    vault.put(COLLECTION, _ID, mandate.model_dump(mode="json"))
    vault.audit.append("mandate.set", _ID, _public(mandate), actor="person")


def current(vault: Vault) -> Mandate | None:
    record = vault.get(COLLECTION, _ID)
    if record is None or record.data.get("revoked"):
        return None
    try:
        return Mandate.model_validate(record.data)
    except ValidationError as exc:  # written before the limits were checked: buy nothing unasked
        log.warning("the stored mandate is ignored: %s", exc.errors()[0]["msg"])
        return None


def revoke(vault: Vault) -> bool:
    """Withdraw the mandate; False when there was none."""
    if current(vault) is None:
        return False
    vault.put(COLLECTION, _ID, {"revoked": True, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    vault.audit.append("mandate.revoked", _ID, actor="person")
    return True


def _public(mandate: Mandate) -> dict[str, Any]:
    return {"max_amount": str(mandate.max_amount), "vendors": list(mandate.vendors),
            "categories": list(mandate.categories), "expires": mandate.expires.isoformat()}
