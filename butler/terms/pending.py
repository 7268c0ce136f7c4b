"""Counter-offers waiting for the person, kept in the vault's shared `approvals` collection.

Each item is a `CounterOfferItem` (kind "myterms-counter-offer") on the approval desk; the desk moves it
through its states, `butler.terms.approvals` carries out the answer.
"""

from __future__ import annotations

import secrets
from typing import Literal

from butler.approvals import COLLECTION as APPROVALS_COLLECTION
from butler.approvals import Item, State, item_id, raw_item, raw_items, submit
from butler.terms.errors import ApprovalNotFound
from butler.vault import Vault

__all__ = ["APPROVALS_COLLECTION", "PENDING_KIND", "CounterOfferItem", "add_item", "get_item", "pending_items"]

PENDING_KIND = "myterms-counter-offer"


class CounterOfferItem(Item):
    """A vendor's alternative that butler may not accept on its own."""

    kind: Literal["myterms-counter-offer"] = "myterms-counter-offer"
    vendor: str
    place: str
    term_id: str
    proffered: str

    def summary(self) -> str:
        return f"{self.vendor} offers MyTerms {self.term_id} instead of {self.proffered}"

    def confirmation(self) -> str:
        return f"Agree to MyTerms {self.term_id} with {self.vendor}? Butler signs it and tells the vendor."

    def describe(self) -> str:
        return (f"{self.id}  {self.vendor}: you proffered {self.proffered}; the vendor offers {self.term_id}. "
                f"Waiting because: {' '.join(self.reasons)}")


def add_item(vault: Vault, *, vendor: str, place: str, term_id: str, proffered: str,
             reasons: tuple[str, ...]) -> CounterOfferItem:
    item = CounterOfferItem(id=item_id(PENDING_KIND, secrets.token_hex(4)), vendor=vendor, place=place,
                            term_id=term_id, proffered=proffered, reasons=list(reasons))
    submit(vault, item)
    return item


def _item(data: dict[str, object]) -> CounterOfferItem | None:
    return CounterOfferItem.model_validate(data) if data.get("kind") == PENDING_KIND else None


def pending_items(vault: Vault) -> list[CounterOfferItem]:
    """The counter-offers still waiting, oldest first."""
    items = [item for data in raw_items(vault, PENDING_KIND) if (item := _item(data))]
    return sorted((i for i in items if i.state is State.PENDING), key=lambda i: i.created)


def get_item(vault: Vault, item_id_: str) -> CounterOfferItem:
    """A pending counter-offer by id; ApprovalNotFound if there is none or it was already decided."""
    data = raw_item(vault, item_id_)
    item = _item(data) if data else None
    if item is None:
        raise ApprovalNotFound(f"no MyTerms counter-offer {item_id_!r} waits for you")
    if item.state is not State.PENDING:
        raise ApprovalNotFound(f"counter-offer {item_id_} was already {item.state.value}")
    return item
