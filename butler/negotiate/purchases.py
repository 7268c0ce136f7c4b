"""The vault collection `purchases`: every order a vendor placed for the person, and the only code that touches it.

A record is the vendor's `butler.models.Purchase` plus what butler knows of it: the approval it came from
(`approval`), who bought (`bought_by`: person or mandate), the agreed `terms`, the `approved_total`, the vendor's
`checkout_id`, `disputed` (how the order differs from what was approved; empty when it does not) and
`recorded_at` (when butler first stored it: recording the same order again keeps it, so a replay changes nothing).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from butler.models import Money, Purchase
from butler.records import Collection
from butler.vault import Record, Vault

__all__ = ["COLLECTION", "RECORDS", "get", "purchase", "record", "relink", "spent_since"]

COLLECTION = "purchases"
RECORDS = Collection(COLLECTION, __name__, "orders the vendors placed, with the approved total; disputed ones "
                     "flagged", model=Purchase, id_scheme="<vendor's order id>")


def record(vault: Vault, purchase: Purchase, **known: Any) -> None:
    before = vault.get(COLLECTION, purchase.id)
    first = before.data.get("recorded_at") if before is not None else None
    vault.put(COLLECTION, purchase.id, {**purchase.model_dump(mode="json"), **known,
                                        "recorded_at": first or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})


def spent_since(vault: Vault, since: dt.datetime, currency: str) -> Money | None:
    """What the orders placed since `since` (by the vendor's time, else when butler recorded them) cost in all, in
    `currency`; None when one of them is in another currency (butler never converts)."""
    total = Decimal(0)
    for found in vault.records(COLLECTION):
        data = found.data
        when_text = data.get("at") or data.get("recorded_at")
        try:
            when = dt.datetime.fromisoformat(str(when_text)) if when_text else None
            amount = Money.model_validate(data.get("total"))
        except ValueError:
            continue
        if when is None or (when if when.tzinfo else when.replace(tzinfo=dt.UTC)) < since:
            continue
        if amount.currency != currency:
            return None
        total += amount.amount
    return Money(amount=total, currency=currency)


def get(vault: Vault, purchase_id: str) -> Record | None:
    return vault.get(COLLECTION, purchase_id)


def purchase(vault: Vault, purchase_id: str) -> Purchase | None:
    """The stored order as a Purchase (what butler added to it left out), or None."""
    found = vault.get(COLLECTION, purchase_id)
    if found is None:
        return None
    return Purchase.model_validate({k: v for k, v in found.data.items() if k in Purchase.model_fields})


def relink(vault: Vault, old_approval: str, new_approval: str) -> None:
    """Point the purchases of approval `old_approval` at its new id (a migration re-keyed it)."""
    for found in list(vault.records(COLLECTION)):
        if found.data.get("approval") == old_approval:
            vault.put(COLLECTION, found.id, {**found.data, "approval": new_approval}, expected_version=found.version)
