"""The vault collection `transactions`: purchases, invoices, deliveries, reservations and subscriptions found in
the mailbox, one record per counterparty. The only code that reads or writes it."""

from __future__ import annotations

import hashlib
from typing import Any

from butler.records import Collection
from butler.rights.markup import Transaction
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "add", "of"]

COLLECTION = "transactions"
RECORDS = Collection(COLLECTION, __name__, "purchases, invoices, deliveries, reservations and subscriptions "
                     "found in the mailbox", id_scheme="<counterparty key>")
_CAP = 2000  # per counterparty; the oldest go first


def _id(t: Transaction, message_id: str) -> str:
    basis = f"{t.type}|{t.number}" if t.number else f"{t.type}|{message_id}|{t.total}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def add(vault: Vault, key: str, found: list[tuple[Transaction, str, str]]) -> int:
    """Add (transaction, message id, date) entries to `key`'s record; the same order number or message is
    stored once. Returns how many are new."""
    if not found:
        return 0
    added = 0

    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        nonlocal added
        added = 0
        items: dict[str, Any] = dict((data or {}).get("items", {}))
        for t, message_id, at in found:
            ident = _id(t, message_id)
            if ident not in items:
                added += 1
                items[ident] = {"type": t.type, "number": t.number, "total": t.total, "currency": t.currency,
                                "seller": t.seller, "what": t.what, "source": t.source, "date": at}
        kept = dict(sorted(items.items(), key=lambda kv: str(kv[1].get("date", "")))[-_CAP:])
        return {"items": kept}

    stored = vault.get(COLLECTION, key)
    if stored is not None:
        change(dict(stored.data))
        if not added:
            return 0  # nothing new: no write
    vault.update(COLLECTION, key, change)
    return added


def of(vault: Vault, key: str) -> list[dict[str, Any]]:
    """`key`'s transactions, oldest first."""
    record = vault.get(COLLECTION, key)
    items = (record.data.get("items", {}) if record else {}).values()
    return sorted((dict(i) for i in items), key=lambda i: str(i.get("date", "")))
