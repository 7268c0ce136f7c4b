"""The desk's kind "purchase": a deal waiting for the person (or bought within the mandate), negotiated or at the
vendor's fixed price (`butler buy`).

The item carries the deal as agreed and, when the vendor could prepare its checkout, the full total with
shipping, tax and fees: the person approves that total, not an offer id. Approving buys it through the phased
checkout (`butler.negotiate.checkout`); rejecting buys nothing and reopens the intent. After a crash the
handler asks the vendor what became of the checkout the item names.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import Field

from butler.approvals import Item, Kind, Outcome, State, TryLater, annotate, item_id
from butler.config import load_config
from butler.errors import ButlerError, UsageError
from butler.models import Contract, IntentStatus, Money, Purchase
from butler.negotiate import intents
from butler.negotiate.checkout import Deal, OrderNeedsAttention, buy, record_order, take_quote
from butler.negotiate.reauth import ask_to_reauthenticate
from butler.negotiate.vendors import open_one
from butler.sdk import AuthError, CheckoutQuote, Connector, Terms
from butler.vault import Vault

__all__ = ["KIND", "PURCHASE", "PurchaseHandler", "PurchaseItem", "buy_through", "purchase_id", "reconcile_checkout"]

PURCHASE = "purchase"


def purchase_id(key: str) -> str:
    """The desk id of the purchase waiting for an intent (or, without one, a negotiation session or a `buy`)."""
    return item_id(PURCHASE, key)


class PurchaseItem(Item):
    """A deal: the agreed terms (a fixed-price one: the vendor's price, `fixed_price`), how many (`quantity`), the
    vendor's quoted total when it gave one, and the checkout's phase."""

    kind: Literal["purchase"] = "purchase"
    vendor: str
    offer: str
    agreed_terms: Terms
    connector: str | None = None
    session: str | None = None
    intent: str | None = None
    product: str = ""
    category: str = ""
    period: str = "once"
    listed: str = ""
    utility: float = 0.0
    quote: CheckoutQuote | None = None
    policy: list[str] = Field(default_factory=list)  # the policies' decision on the agreed deal, rule by rule
    approved_total: Money | None = None
    phase: str | None = None
    checkout_quote: CheckoutQuote | None = None
    purchase: str | None = None
    contract: str | None = None
    quantity: int = Field(default=1, ge=1, le=10_000)
    fixed_price: bool = False

    @property
    def total(self) -> Money:
        """What approving it lets butler pay now: the quoted total, or the agreed price when none was quoted."""
        if self.approved_total is not None:
            return self.approved_total
        return self.quote.total if self.quote is not None else self.agreed_terms.price

    def total_text(self) -> str:
        if self.quote is not None and self.approved_total is None:
            return self.quote.describe()
        return f"{self.total}" + ("" if self.quote is not None else " (the vendor's total is checked before paying)")

    def summary(self) -> str:
        months = self.agreed_terms.term_months
        term = f" a {self.period}, for {months} months" if months else (
            f" a {self.period}" if self.period != "once" else "")
        return f"buy {self.what()} from {self.vendor}: {self.total_text()}{term}"

    def what(self) -> str:
        """What is bought, as a person reads it: "2 × Spring Tulips"."""
        name = self.product or self.offer
        return f"{self.quantity} × {name}" if self.quantity != 1 else name

    def details(self) -> list[str]:
        terms = self.agreed_terms
        if self.fixed_price:
            lines = [f"at the vendor's fixed price: {self.quantity} × {self.offer} at {self.listed or 'unknown'} "
                     "(not negotiated)"]
        else:
            lines = [f"agreed: {terms.price} ({self.listed or 'listed price unknown'} listed), "
                     f"term {terms.term_months or 'none'}, data use {terms.data_use.value}, "
                     f"extras {', '.join(terms.extras) or 'none'}"]
        if self.quote is not None:
            lines.append(f"vendor's total: {self.quote.describe()} (checkout {self.quote.checkout_id})")
        if self.policy:
            lines.append(f"your policies on this deal: {self.policy[0]}")
            lines += [f"  {line.strip()}" for line in self.policy[1:]]
        if self.approved_total is not None:
            lines.append(f"approved to pay at most {self.approved_total}")
        if self.purchase:
            lines.append(f"order {self.purchase}" + (f", contract {self.contract}" if self.contract else ""))
        return lines

    def confirmation(self) -> str:
        return (f"Buy {self.what()} from {self.vendor} and pay at most {self.total_text()}? "
                "Butler checks the vendor's total before paying and pays nothing above it.")

    async def with_quote(self, connector: Connector, budget: Money | None, seconds: float) -> PurchaseItem:
        """The item with the vendor's full total (shipping, tax, fees), so the person approves a total; unchanged
        when the vendor cannot quote now (the total is then checked against the agreed price before paying)."""
        try:
            quote = await take_quote(connector, self.deal(), seconds=seconds)
        except ButlerError as exc:
            return self.model_copy(update={"reasons": [*self.reasons, f"no total from the vendor yet: {exc.message}"]})
        reasons = list(self.reasons)
        if quote.extra_charges:
            reasons.append(f"the vendor's total includes {', '.join(f'{n} {m}' for n, m in quote.extra_charges)}")
        if budget is not None and (quote.total.currency != budget.currency or quote.total > budget):
            reasons.append(f"the total {quote.total} is above your budget {budget}")
        return self.model_copy(update={"quote": quote, "reasons": reasons})

    def deal(self) -> Deal:
        return Deal(item_id=self.id, vendor=self.vendor, offer=self.offer, agreed=self.agreed_terms,
                    limit=self.total, product=self.product, category=self.category, period=self.period,
                    session=self.session, intent=self.intent, quantity=self.quantity)


async def buy_through(vault: Vault, deal: Deal, connector_id: str, *, by: str,
                      seconds: float | None = None) -> tuple[Purchase, Contract | None]:
    """Buy `deal` through the enabled connector `connector_id`, noting each phase with the item `deal.item_id`.

    Raises TryLater (nothing was done) when the connector cannot be opened or its vendor refuses the credentials
    (a re-authentication item is queued then); otherwise what `buy` raises. `seconds` defaults to
    `[vendors] deadline_seconds`.
    """
    try:
        connector = open_one(vault, connector_id)
    except ButlerError as exc:
        raise TryLater(f"connector {connector_id} cannot be opened: {exc.message}") from None
    note = functools.partial(annotate, vault, deal.item_id)
    async with connector:
        try:
            return await buy(vault, deal, connector, by=by, note=note,
                             seconds=seconds if seconds is not None else load_config().vendors.deadline_seconds)
        except AuthError as exc:
            raise TryLater(ask_to_reauthenticate(vault, connector_id, exc)) from None


async def reconcile_checkout(vault: Vault, item: PurchaseItem | Any, deal: Deal, connector_id: str | None,
                             *, by: str) -> Outcome | None:
    """What became of a checkout a crash interrupted: asks the vendor by the checkout id stored before paying."""
    if item.phase != "paying" and item.phase != "unconfirmed":
        return Outcome(State.PENDING, "interrupted before paying: nothing was paid; it waits for you again")
    quote = item.checkout_quote
    if quote is None or not connector_id:
        return Outcome(State.NEEDS_ATTENTION, "interrupted while paying, and butler does not know the checkout; "
                                              "check with the vendor")
    async with open_one(vault, connector_id) as connector:  # a vendor that cannot answer: still unconfirmed
        found = await connector.find_order(quote)
    if found is None:
        return Outcome(State.PENDING, f"interrupted while paying; {deal.vendor} holds no order for checkout "
                                      f"{quote.checkout_id}, so nothing was paid; it waits for you again")
    try:
        purchase, contract = record_order(vault, deal, quote, found, by=by)
    except OrderNeedsAttention as exc:
        return Outcome(State.NEEDS_ATTENTION, exc.message, exc.updates)
    return Outcome(State.DONE, f"bought {deal.product or deal.offer} from {purchase.vendor_id} for "
                               f"{purchase.total} (order {purchase.id}, confirmed after an interruption)",
                   {"phase": "paid", "purchase": purchase.id, "contract": contract.id if contract else None})


class PurchaseHandler:
    """Carries out the answer on a negotiated purchase (see `butler.approvals.Handler`)."""

    def __init__(self, *, seconds: float | None = None) -> None:
        self.seconds = seconds  # None: `[vendors] deadline_seconds` from config.toml

    async def execute(self, vault: Vault, item: PurchaseItem) -> Outcome:
        if not item.connector:
            raise UsageError(f"{item.id} does not say which connector to buy through",
                             "Negotiate again with `butler negotiate INTENT`.")
        deal = item.deal()
        annotate(vault, item.id, approved_total=deal.limit.model_dump(mode="json"))
        by = item.steps[-2].by if len(item.steps) >= 2 else "person"
        purchase, contract = await buy_through(vault, deal, item.connector, by=by, seconds=self.seconds)
        return Outcome(State.DONE, f"bought {item.what()} from {purchase.vendor_id} for "
                                   f"{purchase.total} (order {purchase.id}); receipt stored",
                       {"purchase": purchase.id, "contract": contract.id if contract else None})

    def reject(self, vault: Vault, item: PurchaseItem) -> str:
        if item.intent and intents.exists(vault, item.intent):
            intents.set_status(vault, item.intent, IntentStatus.OPEN)
        return f"rejected: nothing bought from {item.vendor}"

    async def reconcile(self, vault: Vault, item: PurchaseItem) -> Outcome | None:
        return await reconcile_checkout(vault, item, item.deal(), item.connector, by="butler")


KIND = Kind(PURCHASE, PurchaseItem, PurchaseHandler())
