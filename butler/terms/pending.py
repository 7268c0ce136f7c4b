"""Counter-offers waiting for the person, kept in the vault's shared `approvals` collection.

Each item is `{kind: "myterms-counter-offer", vendor, term_id, reasons, …}`; other features keep other kinds
in the same collection, so everything here filters on `kind`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict

from butler.approvals import COLLECTION as APPROVALS_COLLECTION
from butler.terms.errors import ApprovalNotFound
from butler.vault import Vault

__all__ = ["APPROVALS_COLLECTION", "PENDING_KIND", "CounterOfferItem", "add_item", "get_item", "pending_items",
           "resolve_item"]

PENDING_KIND = "myterms-counter-offer"


class CounterOfferItem(BaseModel):
    """A vendor's alternative that butler may not accept on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: Literal["myterms-counter-offer"] = "myterms-counter-offer"
    vendor: str
    place: str
    term_id: str
    proffered: str
    reasons: tuple[str, ...]
    created: dt.datetime
    state: Literal["pending", "approved", "rejected"] = "pending"
    resolved_at: dt.datetime | None = None

    def describe(self) -> str:
        return (f"{self.id}  {self.vendor}: you proffered {self.proffered}; the vendor offers {self.term_id}. "
                f"Waiting because: {' '.join(self.reasons)}")


def add_item(vault: Vault, *, vendor: str, place: str, term_id: str, proffered: str,
             reasons: tuple[str, ...]) -> CounterOfferItem:
    item = CounterOfferItem(id=f"myterms-{secrets.token_hex(4)}", vendor=vendor, place=place, term_id=term_id,
                            proffered=proffered, reasons=reasons, created=dt.datetime.now(dt.UTC))
    vault.put(APPROVALS_COLLECTION, item.id, item.model_dump(mode="json"), expected_version=0)
    return item


def _item(data: dict[str, object]) -> CounterOfferItem | None:
    return CounterOfferItem.model_validate(data) if data.get("kind") == PENDING_KIND else None


def pending_items(vault: Vault) -> list[CounterOfferItem]:
    """The counter-offers still waiting, oldest first."""
    items = [item for record in vault.records(APPROVALS_COLLECTION) if (item := _item(record.data))]
    return sorted((i for i in items if i.state == "pending"), key=lambda i: i.created)


def get_item(vault: Vault, item_id: str) -> CounterOfferItem:
    """A pending counter-offer by id; ApprovalNotFound if there is none or it was already decided."""
    record = vault.get(APPROVALS_COLLECTION, item_id)
    item = _item(record.data) if record else None
    if item is None:
        raise ApprovalNotFound(f"no MyTerms counter-offer {item_id!r} waits for you")
    if item.state != "pending":
        raise ApprovalNotFound(f"counter-offer {item_id} was already {item.state}")
    return item


def resolve_item(vault: Vault, item_id: str, state: Literal["approved", "rejected"]) -> CounterOfferItem:
    def change(data: dict[str, object] | None) -> dict[str, object]:
        item = _item(data or {})
        if item is None or item.state != "pending":
            raise ApprovalNotFound(f"counter-offer {item_id} no longer waits for you")
        return item.model_copy(update={"state": state, "resolved_at": dt.datetime.now(dt.UTC)}).model_dump(
            mode="json")

    return CounterOfferItem.model_validate(vault.update(APPROVALS_COLLECTION, item_id, change).data)
