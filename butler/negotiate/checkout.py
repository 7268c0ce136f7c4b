"""Buying what was approved, and only that: checkout in phases against the deal, passed as a value.

1. prepare: the vendor prepares its checkout and butler reads back the full total (lines, shipping, tax, fees);
2. verify: the total is at most what the person (or the mandate) approved, in the same currency, for the
   same item and terms; otherwise butler tells the vendor it will not pay, pays nothing and says what differed;
3. pay: the checkout id and the idempotency key are stored with the item before the call, so that a retry
   never places a second order and a crash can be reconciled (`find_order`);
4. record: the order is stored whatever it says; an order that differs from what was approved is kept,
   flagged, a cancel is asked for, and the item needs the person's attention.

Prepare, verify and pay run under one deadline for the whole checkout (`[vendors] deadline_seconds`); looking up
an order whose answer was lost, and asking for a cancel, have a short one of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from butler.approvals import NeedsAttention, TryLater
from butler.errors import ButlerError
from butler.models import Contract, IntentStatus, Money, Purchase
from butler.negotiate import contracts, intents, purchases
from butler.negotiate.limits import DeadlineExceeded, within_deadline
from butler.negotiate.retry import retrying
from butler.sdk import AuthError, CheckoutQuote, Connector, ConnectorError, OfferUnavailable, RetriableError, Terms
from butler.vault import Vault

__all__ = [
    "DEFAULT_DEADLINE_SECONDS",
    "CheckoutError",
    "CheckoutFailed",
    "CheckoutRefused",
    "Deal",
    "OrderNeedsAttention",
    "PurchaseDenied",
    "answer_problem",
    "buy",
    "cancel_key",
    "idempotency_key",
    "order_differences",
    "prepare",
    "quote_differences",
    "record_order",
    "take_quote",
]

DEFAULT_DEADLINE_SECONDS = 60.0
LOOKUP_SECONDS = 30.0
T = TypeVar("T")
# what a connector's parsing of a broken answer raises, besides its own FatalError
_MALFORMED = (ValidationError, ValueError, TypeError, KeyError, AttributeError, ArithmeticError)


class CheckoutError(ButlerError):
    """A checkout ended before anything was paid."""

    exit_code = 8
    default_hint = "Nothing was paid; see `butler explain ID`."


class CheckoutRefused(CheckoutError):
    """The vendor's checkout differs from what was approved; nothing was paid."""

    default_hint = "Nothing was paid. Negotiate again, or approve the new total if the vendor offers it again."


class CheckoutFailed(CheckoutError):
    """The vendor failed or refused before anything was paid."""


class PurchaseDenied(CheckoutError):
    """The person's policies deny the purchase at the vendor's total: nothing was paid and nothing is queued."""

    default_hint = "Nothing was paid. `butler policy explain` shows why; change the policy or buy something else."


class OrderNeedsAttention(NeedsAttention):
    """An order was (or may have been) placed and does not match, or cannot be confirmed: the person decides."""

    def __init__(self, message: str, hint: str | None = None, *, updates: dict[str, Any] | None = None) -> None:
        super().__init__(message, hint)
        self.updates = updates or {}


def idempotency_key(item_id: str) -> str:
    return f"butler-{item_id}"


def cancel_key(item_id: str) -> str:
    """The idempotency key of a cancel butler asks for on behalf of `item_id`."""
    return f"{idempotency_key(item_id)}-cancel"


@dataclass(frozen=True)
class Deal:
    """What was approved, as a value: the vendor's offer at the agreed terms, and the most that may be paid now
    (`limit`: the total with shipping, tax and fees the person saw, or the agreed price when no total was shown).
    """

    item_id: str
    vendor: str
    offer: str
    agreed: Terms
    limit: Money
    product: str = ""
    category: str = ""
    period: str = "once"
    session: str | None = None
    intent: str | None = None
    quantity: int = 1


Note = Callable[..., None]
"""Stores fields with the item being carried out (`note(phase="paying", …)`), before the next call."""


class _Clock:
    """One deadline for a whole checkout: each vendor call gets what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.until = asyncio.get_running_loop().time() + seconds

    def left(self) -> float:
        return max(0.001, self.until - asyncio.get_running_loop().time())


async def _call(what: str, vendor: str, clock: _Clock | float, call: Awaitable[T]) -> T:
    left = clock.left() if isinstance(clock, _Clock) else clock
    try:
        return await within_deadline(call, left, what, vendor=vendor)
    except DeadlineExceeded:
        total = clock.seconds if isinstance(clock, _Clock) else clock
        raise DeadlineExceeded(f"{vendor} did not finish the checkout within {total:g} s ({what})") from None


def answer_problem(exc: Exception) -> str:
    """What is wrong with a vendor's answer that the models refused, in one line a person can read."""
    if not isinstance(exc, ValidationError):
        return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    problems = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}" if problems else str(exc)




async def prepare(connector: Connector, *, vendor: str, offer: str, item_id: str, session: str | None = None,
                  quantity: int = 1, seconds: float = DEFAULT_DEADLINE_SECONDS,
                  clock: _Clock | None = None) -> CheckoutQuote:
    """Prepare the vendor's checkout for `quantity` of `offer` (in `session`, if any) and read back its total;
    nothing is paid. The idempotency key derives from `item_id`, so asking again never prepares a second checkout.

    A busy vendor is asked again as it says (Retry-After) while the deadline lasts. Raises TryLater when it stays
    busy or unreachable, AuthError when it refuses the credentials, OfferUnavailable when the vendor no longer
    sells it, CheckoutFailed when it refuses otherwise or answers nonsense.
    """
    time = clock or seconds
    left = time.left() if isinstance(time, _Clock) else time
    # a connector written before quantities takes none: it is asked for one only when more is wanted
    more = {"quantity": quantity} if quantity != 1 else {}

    def ask() -> Awaitable[CheckoutQuote]:
        return connector.prepare_checkout(offer, idempotency_key=f"{idempotency_key(item_id)}-prepare",
                                          session_id=session, **more)

    try:
        quote = await _call("preparing the checkout", vendor, time, retrying(ask, seconds=left))
    except (AuthError, OfferUnavailable):
        raise  # the caller asks the person to re-enter the credentials, or says the offer is gone
    except RetriableError as exc:
        raise TryLater(f"{vendor}: {exc.message}") from None
    except ConnectorError as exc:
        raise CheckoutFailed(f"{vendor} did not prepare the checkout: {exc.message}; nothing was paid") from None
    except _MALFORMED as exc:
        raise CheckoutFailed(f"{vendor}'s checkout is malformed ({answer_problem(exc)}); nothing was paid") from None
    if not isinstance(quote, CheckoutQuote):
        raise CheckoutFailed(f"{vendor}'s connector returned no checkout; nothing was paid")
    return quote


async def take_quote(connector: Connector, deal: Deal, *, seconds: float = DEFAULT_DEADLINE_SECONDS,
                     clock: _Clock | None = None) -> CheckoutQuote:
    """Prepare the vendor's checkout for `deal` and read back its total (nothing is paid); see `prepare`. An offer
    the vendor no longer sells fails the checkout (CheckoutFailed)."""
    try:
        return await prepare(connector, vendor=deal.vendor, offer=deal.offer, item_id=deal.item_id,
                             session=deal.session, quantity=deal.quantity, seconds=seconds, clock=clock)
    except OfferUnavailable as exc:
        raise CheckoutFailed(f"{deal.vendor} did not prepare the checkout: {exc.message}; nothing was paid") \
            from None


def quote_differences(quote: CheckoutQuote, deal: Deal) -> list[str]:
    """How the vendor's prepared checkout differs from what was approved (empty: it may be paid)."""
    problems = []
    if quote.total.currency != deal.limit.currency:
        problems.append(f"the total is in {quote.total.currency}, not {deal.limit.currency}")
    elif quote.total > deal.limit:
        added = ", ".join(f"{name} {m}" for name, m in quote.extra_charges)
        problems.append(f"the total is {quote.describe()}, more than the approved {deal.limit}"
                        + (f" ({added} added)" if added and quote.total.amount - deal.limit.amount > 0 else ""))
    items = sorted({line.item for line in quote.lines})
    if quote.offer_id != deal.offer or items != [deal.offer] or \
            sum(line.quantity for line in quote.lines) != deal.quantity:
        listed = ", ".join(f"{line.quantity} × {line.item}" for line in quote.lines)
        problems.append(f"the checkout holds {listed} instead of {deal.quantity} × {deal.offer}")
    if quote.terms is not None:
        problems += _terms_differences(quote.terms, deal.agreed)
    return problems


def _terms_differences(terms: Terms, agreed: Terms) -> list[str]:
    problems = []
    if terms.price.currency != agreed.price.currency or terms.price > agreed.price:
        problems.append(f"priced {terms.price} a period instead of the agreed {agreed.price}")
    if terms.term_months != agreed.term_months:
        problems.append(f"{terms.term_months} months instead of {agreed.term_months}")
    if terms.data_use != agreed.data_use:
        problems.append(f"data use {terms.data_use.value} instead of {agreed.data_use.value}")
    if sorted(terms.extras) != sorted(agreed.extras):
        problems.append(f"extras {list(terms.extras)} instead of {list(agreed.extras)}")
    return problems


def order_differences(purchase: Purchase, deal: Deal, quote: CheckoutQuote) -> list[str]:
    """How the order the vendor placed differs from what was approved and quoted."""
    problems = []
    if purchase.total.currency != deal.limit.currency:
        problems.append(f"charged in {purchase.total.currency}, not {deal.limit.currency}")
    elif purchase.total > deal.limit:
        problems.append(f"charged {purchase.total}, more than the approved {deal.limit}")
    elif purchase.total > quote.total:
        problems.append(f"charged {purchase.total}, more than the quoted {quote.total}")
    if purchase.items and set(purchase.items) != {deal.offer}:
        problems.append(f"the order holds {', '.join(purchase.items)} instead of {deal.offer}")
    terms: Any = purchase.receipt.get("terms")
    if isinstance(terms, dict):
        try:
            problems += _terms_differences(Terms.model_validate(terms), deal.agreed)
        except ValidationError:
            problems.append("the order's terms are unreadable")
    return problems


async def buy(vault: Vault, deal: Deal, connector: Connector, *, by: str, note: Note,
              seconds: float = DEFAULT_DEADLINE_SECONDS) -> tuple[Purchase, Contract | None]:
    """Prepare, verify, pay and record `deal`; the purchase and the contract it starts, if any.

    Raises TryLater (nothing was done), CheckoutRefused or CheckoutFailed (nothing was paid), or
    OrderNeedsAttention (an order exists, or may, that the person must look at; what is known is stored).
    """
    key = idempotency_key(deal.item_id)
    subject = f"{deal.vendor}/{deal.offer}"
    clock = _Clock(seconds)
    note(phase="preparing", idempotency_key=key)
    vault.audit.append("negotiate.checkout-started", subject,
                       {"item": deal.item_id, "idempotency_key": key, "limit": str(deal.limit)}, actor=by)
    quote = await take_quote(connector, deal, clock=clock)
    problems = quote_differences(quote, deal)
    if problems:
        told = False
        with contextlib.suppress(ButlerError, TimeoutError):
            await _call("cancelling the checkout", deal.vendor, clock,
                        connector.abandon_checkout(quote, idempotency_key=cancel_key(deal.item_id)))
            told = True
        why = "; ".join(problems)
        vault.audit.append("negotiate.checkout-refused", subject,
                           {"item": deal.item_id, "checkout": quote.checkout_id, "problems": problems,
                            "vendor_told": told}, actor=by)
        raise CheckoutRefused(f"{deal.vendor} changed the deal before payment: {why}. Nothing was paid"
                              + ("; the vendor was told butler will not pay." if told else "."))
    # stored before paying: after a crash, the checkout id is how butler asks the vendor what happened
    note(phase="paying", checkout_quote=quote.model_dump(mode="json"))
    try:
        purchase = await _call("the payment", deal.vendor, clock, connector.pay(quote, idempotency_key=key))
        if not isinstance(purchase, Purchase):
            raise TypeError("the connector returned no purchase")
        if purchase.total.amount < 0:
            raise ValueError(f"the order's total {purchase.total} is negative")
    except ConnectorError as exc:
        if not isinstance(exc, RetriableError) and exc.status is not None and 400 <= exc.status < 500 \
                and exc.status not in (408, 429):
            note(phase="refused")
            raise CheckoutFailed(f"{deal.vendor} refused the payment: {exc.message}. Nothing was paid.") from None
        found = await _ask_for_order(connector, deal, quote, seconds, f"the payment failed ({exc.message})")
        purchase = found
    except _MALFORMED as exc:
        found = await _ask_for_order(connector, deal, quote, seconds,
                                     f"the vendor's answer to the payment was malformed ({answer_problem(exc)})")
        purchase = found
    try:
        return record_order(vault, deal, quote, purchase, by=by)
    except OrderNeedsAttention as exc:
        contract_id = exc.updates.get("contract")
        if contract_id and purchase.receipt.get("contract_id"):
            with contextlib.suppress(ButlerError, TimeoutError):
                await _call("cancelling the contract", deal.vendor, min(seconds, LOOKUP_SECONDS),
                            connector.cancel(str(contract_id), idempotency_key=cancel_key(deal.item_id)))
                exc.message += f"; butler asked {deal.vendor} to cancel contract {contract_id}"
                vault.audit.append("negotiate.cancel-requested", str(contract_id), {"item": deal.item_id}, actor=by)
        raise


async def _ask_for_order(connector: Connector, deal: Deal, quote: CheckoutQuote, seconds: float,
                         what: str) -> Purchase:
    """After an answer to the payment was lost or unreadable: the order the vendor holds, if any. The lookup
    has a deadline of its own (the checkout's may be spent), at most `LOOKUP_SECONDS`."""
    try:
        found = await _call("looking up the order", deal.vendor, min(seconds, LOOKUP_SECONDS),
                            connector.find_order(quote))
    except (ButlerError, *_MALFORMED) as exc:
        told = exc.message if isinstance(exc, ButlerError) else answer_problem(exc)
        raise OrderNeedsAttention(
            f"{what}, and {deal.vendor} could not say whether it placed the order for checkout "
            f"{quote.checkout_id} ({told}); at most {quote.total} may have been charged",
            "Butler asks the vendor again when you approve the item again; or check with the vendor.",
            updates={"phase": "unconfirmed"}) from None
    if found is None:
        raise TryLater(f"{what}; {deal.vendor} holds no order for checkout {quote.checkout_id}, so nothing was paid")
    return found


def record_order(vault: Vault, deal: Deal, quote: CheckoutQuote, purchase: Purchase, *,
                 by: str) -> tuple[Purchase, Contract | None]:
    """Store the order the vendor placed, whatever it says; raise OrderNeedsAttention (with what was stored)
    when it is not what was approved."""
    problems = order_differences(purchase, deal, quote)
    subject = f"{deal.vendor}/{deal.offer}"
    purchases.record(vault, purchase, approval=deal.item_id, bought_by=by, terms=deal.agreed.model_dump(mode="json"),
                     approved_total=str(deal.limit), checkout_id=quote.checkout_id, disputed=problems)
    contract = _contract(deal, purchase)
    if contract is not None:
        contracts.save(vault, contract)
    updates = {"phase": "paid", "purchase": purchase.id, "contract": contract.id if contract else None}
    if problems:
        why = "; ".join(problems)
        vault.audit.append("negotiate.order-disputed", subject,
                           {"item": deal.item_id, "order": purchase.id, "problems": problems}, actor=by)
        raise OrderNeedsAttention(
            f"{deal.vendor} placed order {purchase.id} but {why}; the order is recorded and flagged",
            f"Ask {deal.vendor} to refund the difference or cancel order {purchase.id}.", updates=updates)
    vault.audit.append("negotiate.purchased", subject,
                       {"item": deal.item_id, "purchase": purchase.id, "total": str(purchase.total),
                        "approved_total": str(deal.limit)}, actor=by)
    if deal.intent and intents.exists(vault, deal.intent):
        intents.set_status(vault, deal.intent, IntentStatus.FULFILLED)
    return purchase, contract


def _contract(deal: Deal, purchase: Purchase) -> Contract | None:
    """The contract a recurring purchase starts, as agreed (the vendor's id when it gave one)."""
    contract_id = purchase.receipt.get("contract_id")
    if deal.period == "once" and not contract_id:
        return None
    start = (purchase.at or dt.datetime.now(dt.UTC)).date()
    months = deal.agreed.term_months
    end = start + dt.timedelta(days=30 * months) if months else None
    return Contract(id=str(contract_id or f"c-{purchase.id}"), vendor_id=purchase.vendor_id,
                    product=deal.product or deal.offer, category=deal.category, price=deal.agreed.price,
                    period=deal.period if deal.period in ("month", "year") else "month",
                    term_months=months, start=start, end=end, renewal_date=end, auto_renew=False)
