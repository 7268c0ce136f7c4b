"""Buying what was agreed, and only that: checkout with an idempotency key, then re-check price and terms.

The key is derived from the approval item, so a retry after a crash can never place a second order. A vendor
whose order differs from the agreement (another total, currency, term, data use or extras) is refused: the
purchase is not recorded as bought, butler asks the vendor to cancel, and the refusal goes to the audit log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from butler.errors import ButlerError, UsageError
from butler.models import Contract, IntentStatus, Purchase
from butler.negotiate import intents
from butler.sdk import Connector, ConnectorError, Terms
from butler.vault import Vault

__all__ = ["CheckoutRefused", "cancel_key", "checkout_item", "idempotency_key"]


class CheckoutRefused(ButlerError):
    """The vendor's order does not match what was agreed; nothing was accepted."""

    exit_code = 6
    default_hint = "Butler asked the vendor to cancel the order; see `butler audit show` for the details."


def idempotency_key(item_id: str) -> str:
    return f"butler-{item_id}"


def cancel_key(item_id: str) -> str:
    """The idempotency key of a cancel butler asks for on behalf of `item_id`."""
    return f"{idempotency_key(item_id)}-cancel"


def _same_price(wire: dict[str, Any], agreed: Terms) -> bool:
    try:
        return Decimal(str(wire.get("amount"))) == agreed.price.amount and wire.get("currency") == agreed.price.currency
    except ArithmeticError:
        return False


def _differences(purchase: Purchase, agreed: Terms) -> list[str]:
    problems = []
    if purchase.total.currency != agreed.price.currency or purchase.total.amount != agreed.price.amount:
        problems.append(f"total {purchase.total} instead of the agreed {agreed.price}")
    terms: Any = purchase.receipt.get("terms")
    if isinstance(terms, dict):
        if "term_months" in terms and int(terms["term_months"]) != agreed.term_months:
            problems.append(f"{terms['term_months']} months instead of {agreed.term_months}")
        if "data_use" in terms and str(terms["data_use"]) != agreed.data_use.value:
            problems.append(f"data use {terms['data_use']} instead of {agreed.data_use.value}")
        if "extras" in terms and sorted(map(str, terms["extras"])) != sorted(agreed.extras):
            problems.append(f"extras {list(terms['extras'])} instead of {list(agreed.extras)}")
        price = terms.get("price")
        if isinstance(price, dict) and not _same_price(price, agreed):
            problems.append(f"terms priced {price.get('amount')} {price.get('currency')}")
    return problems


async def checkout_item(vault: Vault, item_id: str, connector: Connector, *, actor: str = "person") -> Purchase:
    """Check out the purchase waiting as approvals/`item_id` and store the receipt and the contract.

    Raises CheckoutRefused when the vendor's order differs from the agreement, ConnectorError when the
    vendor fails (the item stays pending: the same key makes a retry safe).
    """
    record = vault.get("approvals", item_id)
    if record is None or record.data.get("kind") != "purchase":
        raise UsageError(f"no purchase waits under {item_id!r}")
    item = record.data
    if item.get("state") not in ("pending", "buying"):
        raise UsageError(f"{item_id} was already {item.get('state')}")
    agreed = Terms.model_validate(item["agreed_terms"])
    key = idempotency_key(item_id)
    subject = f"{item['vendor']}/{item['offer']}"
    vault.update("approvals", item_id, lambda d: {**(d or {}), "state": "buying"})
    vault.audit.append("negotiate.checkout-started", subject,
                       {"item": item_id, "idempotency_key": key, "agreed": str(agreed.price)}, actor=actor)
    try:
        purchase = await connector.checkout(item["offer"], idempotency_key=key, session_id=item.get("session"))
    except ConnectorError as exc:
        vault.update("approvals", item_id, lambda d: {**(d or {}), "state": "pending"})
        vault.audit.append("negotiate.checkout-failed", subject, {"item": item_id, "error": exc.message},
                           actor=actor)
        raise
    problems = _differences(purchase, agreed)
    if problems:
        contract_id = purchase.receipt.get("contract_id")
        cancelled = False
        if contract_id:
            with contextlib.suppress(ConnectorError):
                await connector.cancel(str(contract_id), idempotency_key=cancel_key(item_id))
                cancelled = True
        why = "; ".join(problems)
        vault.update("approvals", item_id, lambda d: {**(d or {}), "state": "refused", "refused_because": why,
                                                      "vendor_order": purchase.id})
        vault.audit.append("negotiate.checkout-refused", subject,
                           {"item": item_id, "order": purchase.id, "problems": problems,
                            "cancel_requested": cancelled}, actor=actor)
        raise CheckoutRefused(f"{item['vendor']} changed the deal at checkout: {why}; the order was refused")
    vault.put("purchases", purchase.id, {**purchase.model_dump(mode="json"), "approval": item_id,
                                         "bought_by": actor, "terms": agreed.model_dump(mode="json")})
    contract = _contract(item, agreed, purchase)
    if contract is not None:
        vault.put("contracts", contract.id, contract.model_dump(mode="json"))
    vault.update("approvals", item_id, lambda d: {**(d or {}), "state": "approved", "purchase": purchase.id,
                                                  "contract": contract.id if contract else None})
    vault.audit.append("negotiate.purchased", subject,
                       {"item": item_id, "purchase": purchase.id, "total": str(purchase.total)}, actor=actor)
    if item.get("intent") and vault.get(intents.COLLECTION, str(item["intent"])) is not None:
        intents.set_status(vault, str(item["intent"]), IntentStatus.FULFILLED)
    return purchase


def _contract(item: dict[str, Any], agreed: Terms, purchase: Purchase) -> Contract | None:
    """The contract a recurring purchase starts, as agreed (the vendor's id when it gave one)."""
    period = str(item.get("period", "once"))
    if period == "once" and not purchase.receipt.get("contract_id"):
        return None
    start = purchase.at.date()
    end = start + dt.timedelta(days=30 * agreed.term_months) if agreed.term_months else None
    return Contract(id=str(purchase.receipt.get("contract_id") or f"c-{purchase.id}"), vendor_id=purchase.vendor_id,
                    product=str(item.get("product") or item["offer"]), category=str(item.get("category", "")),
                    price=agreed.price, period=period if period in ("month", "year") else "month",
                    term_months=agreed.term_months, start=start, end=end, renewal_date=end, auto_renew=False)
