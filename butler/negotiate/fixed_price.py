"""Buying at the vendor's fixed price: most shops sell without haggling, so nothing here negotiates.

`propose_purchase` turns a product the person names (an id or URL the vendor knows) into a purchase waiting on the
desk, the way a negotiated deal waits:

1. the vendor prepares its checkout for the quantity wanted and reads back its authoritative total: its own
   title and price, shipping, tax and fees (nothing is paid);
2. the person's policies judge the purchase at that total, with this month's spending: a denial (an over-budget
   buy, a banned vendor) stops here, the vendor is told butler will not pay, and nothing is queued;
3. the purchase waits for approval with that total; approving it runs the phased checkout
   (`butler.negotiate.checkout`), which prepares again under the same idempotency key (so the vendor answers with
   the same checkout), reads the total back and pays nothing above it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import secrets
from dataclasses import dataclass
from decimal import Decimal

from butler.approvals import submit
from butler.errors import ButlerError, UsageError
from butler.models import Offer
from butler.negotiate import purchases
from butler.negotiate.approvals import PurchaseItem, purchase_id
from butler.negotiate.checkout import DEFAULT_DEADLINE_SECONDS, LOOKUP_SECONDS, PurchaseDenied, cancel_key, prepare
from butler.negotiate.limits import within_deadline
from butler.policy import Decision, EvalContext, PolicySet, evaluate
from butler.policy.decision import Verdict
from butler.sdk import Capability, CheckoutQuote, Connector, Money, Terms
from butler.vault import Vault

__all__ = ["Proposed", "buy_key", "month_start", "propose_purchase"]


@dataclass(frozen=True)
class Proposed:
    """A fixed-price purchase waiting on the desk: the item, the vendor's quote and the policies' decision."""

    item: PurchaseItem
    quote: CheckoutQuote
    decision: Decision


def buy_key() -> str:
    """A fresh desk key for one `butler buy`: each buy is its own purchase."""
    return f"buy-{secrets.token_hex(4)}"


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _takes_quantity(connector: Connector) -> bool:
    return "quantity" in inspect.signature(connector.prepare_checkout).parameters


def _offer(connector: Connector, product: str, quote: CheckoutQuote, quantity: int) -> Offer:
    """The offer as the vendor's checkout states it: its title, and the whole total as the price judged."""
    line = quote.lines[0]
    category = connector.manifest.categories[0] if connector.manifest.categories else "shop"
    return Offer(id=product, vendor_id=connector.vendor_id, product=line.description or product, category=category,
                 price=quote.total, period="once", attributes={"quantity": quantity})


async def propose_purchase(vault: Vault, connector_id: str, connector: Connector, product: str, *,
                           quantity: int = 1, policies: PolicySet, context: EvalContext | None = None,
                           seconds: float = DEFAULT_DEADLINE_SECONDS, key: str | None = None) -> Proposed:
    """Quote `quantity` of `product` at `connector`'s vendor, judge it by the policies and queue it for approval.

    Raises UsageError when the connector cannot check out (or not that many at once), OfferUnavailable when the
    vendor does not sell it, PurchaseDenied when a policy denies it (the vendor is told, nothing is queued),
    TryLater when the vendor is busy or unreachable, CheckoutFailed when it refuses otherwise.
    """
    if Capability.CHECKOUT not in connector.manifest.capabilities:
        raise UsageError(f"connector {connector_id!r} cannot check out, so butler cannot buy through it",
                         f"See `butler connectors about {connector_id}`.")
    if not 1 <= quantity <= 10_000:
        raise UsageError(f"--qty {quantity} is out of range: buy 1 to 10000 at a time")
    if quantity != 1 and not _takes_quantity(connector):
        raise UsageError(f"connector {connector_id!r} buys one at a time", "Buy without --qty.")
    item_id = purchase_id(key or buy_key())
    vendor = connector.vendor_id
    quote = await prepare(connector, vendor=vendor, offer=product, item_id=item_id, quantity=quantity,
                          seconds=seconds)
    subject = f"{vendor}/{product}"
    offer = _offer(connector, product, quote, quantity)
    if context is None:
        context = EvalContext(spent_this_month=purchases.spent_since(vault, month_start(), quote.total.currency))
    decision = evaluate(offer, policies, context)
    if decision.verdict is Verdict.DENY:
        told = False
        with contextlib.suppress(ButlerError, TimeoutError):
            await within_deadline(connector.abandon_checkout(quote, idempotency_key=cancel_key(item_id)),
                                  min(seconds, LOOKUP_SECONDS), "cancelling the checkout", vendor=vendor)
            told = True
        why = "; ".join(f"{r.rule_id} ({r.location}): {r.text.rstrip('.')}" for r in decision.fired
                        if r.verdict is Verdict.DENY)
        vault.audit.append("negotiate.buy-denied", subject,
                           {"item": item_id, "checkout": quote.checkout_id, "total": str(quote.total),
                            "reasons": [r.text for r in decision.fired], "vendor_told": told}, actor="butler")
        raise PurchaseDenied(f"your policies deny buying {quantity} × {offer.product} from {vendor} for "
                             f"{quote.describe()}: {why}. Nothing was paid"
                             + ("; the vendor was told butler will not pay." if told else "."))
    line = quote.lines[0]
    unit = Money(amount=line.amount.amount / line.quantity, currency=line.amount.currency).rounded()
    goods = Money(amount=sum((ln.amount.amount for ln in quote.lines), start=Decimal(0)),
                  currency=quote.total.currency)
    reasons = [f"{vendor}'s own price, not negotiated: {quantity} × {offer.product} at {unit}"]
    if quote.extra_charges:
        reasons.append(f"the vendor's total includes {', '.join(f'{n} {m}' for n, m in quote.extra_charges)}")
    if decision.verdict is Verdict.ASK:
        reasons += [f"your policies ask you: {r.text}" for r in decision.fired]
    item = PurchaseItem(id=item_id, vendor=vendor, offer=product, agreed_terms=Terms(price=goods),
                        connector=connector_id, product=offer.product,
                        category=offer.category, period="once", listed=str(unit), quote=quote,
                        policy=decision.explain().splitlines(), quantity=quantity, fixed_price=True, reasons=reasons)
    submit(vault, item, by="person")
    return Proposed(item=item, quote=quote, decision=decision)
