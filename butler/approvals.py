"""What waits for the person: one queue (vault collection `approvals`) for every kind of decision.

Features put items there (`{kind, state: "pending", …}`): a MyTerms counter-offer, a purchase or switch the
negotiation found, an unsubscribe request, a renewal reminder. This module lists them in one shape and
carries out the person's answer by handing it to the feature that owns the kind; a kind without a handler
is simply marked approved or rejected. Nothing here spends, sends or signs by itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from butler.errors import UsageError
from butler.vault import Vault

__all__ = ["COLLECTION", "Approval", "KindHandler", "decide", "get", "mark", "pending", "summarize"]

COLLECTION = "approvals"


class KindHandler(Protocol):
    """How a feature carries out the person's answer for its kind of item; returns a sentence for the person."""

    def approve(self, vault: Vault, item_id: str) -> str | Awaitable[str]: ...

    def reject(self, vault: Vault, item_id: str) -> str | Awaitable[str]: ...


# kind → "module:attribute" of its handler, imported only when needed
HANDLERS: dict[str, str] = {
    "myterms-counter-offer": "butler.terms.approvals:HANDLER",
    "unsubscribe": "butler.mail.approvals:HANDLER",
    "purchase": "butler.negotiate.approvals:HANDLER",
    "renewal": "butler.negotiate.renewal_approvals:HANDLER",
}


@dataclass(frozen=True)
class Approval:
    id: str
    kind: str
    state: str
    created: str
    summary: str
    reasons: tuple[str, ...]
    data: dict[str, Any]


def summarize(item_id: str, data: dict[str, Any]) -> Approval:
    """One item in the common shape, with a one-line summary a person can read."""
    kind = str(data.get("kind", "unknown"))
    vendor = data.get("vendor") or data.get("sender") or ""
    if kind == "myterms-counter-offer":
        summary = f"{vendor} offers MyTerms {data.get('term_id')} instead of {data.get('proffered')}"
    elif kind == "purchase":
        terms = data.get("terms", {})
        months = terms.get("term_months")
        summary = (f"buy {data.get('offer')} from {vendor} at {terms.get('price')}"
                   + (f" for {months} months" if months else " with no fixed term"))
    elif kind == "unsubscribe":
        summary = f"unsubscribe from {vendor}"
    elif kind == "renewal":
        summary = str(data.get("summary") or f"contract {data.get('contract')} renews on {data.get('renewal_date')}")
    elif kind == "renewal-reminder":
        summary = f"contract {data.get('contract')} renews on {data.get('renewal_date')}"
    else:
        summary = str(data.get("summary") or kind)
    reasons = data.get("reasons") or ()
    created = str(data.get("created") or data.get("at") or "")
    return Approval(item_id, kind, str(data.get("state", "pending")), created, summary,
                    tuple(str(r) for r in reasons), data)


def pending(vault: Vault) -> list[Approval]:
    """Every item still waiting, oldest first."""
    items = [summarize(r.id, r.data) for r in vault.records(COLLECTION)]
    return sorted((i for i in items if i.state == "pending"), key=lambda i: (i.created, i.id))


def get(vault: Vault, item_id: str) -> Approval:
    record = vault.get(COLLECTION, item_id)
    if record is None:
        raise UsageError(f"nothing waits for approval under {item_id!r}", "See `butler approvals list`.")
    return summarize(item_id, record.data)


def _handler(kind: str) -> KindHandler | None:
    target = HANDLERS.get(kind)
    if target is None:
        return None
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    handler: KindHandler = getattr(module, attribute)
    return handler


def mark(vault: Vault, item_id: str, state: str, **extra: Any) -> dict[str, Any]:
    """Mark a waiting item decided (`state`, `resolved_at` and any `extra` fields); returns the item as stored.

    Raises UsageError when the item is gone or no longer pending.
    """
    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        if not data or data.get("state", "pending") != "pending":
            raise UsageError(f"{item_id} no longer waits for approval")
        return {**data, "state": state, "resolved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **extra}

    data: dict[str, Any] = vault.update(COLLECTION, item_id, change).data
    return data


def decide(vault: Vault, item_id: str, *, approve: bool) -> str:
    """Carry out the person's answer; returns what happened, in a sentence."""
    item = get(vault, item_id)
    if item.state != "pending":
        raise UsageError(f"{item_id} was already {item.state}")
    handler = _handler(item.kind)
    vault.audit.append("approval.approved" if approve else "approval.rejected", item_id, {"kind": item.kind},
                       actor="person")
    if handler is None:
        mark(vault, item_id, "approved" if approve else "rejected")
        return f"{item.summary}: {'approved' if approve else 'rejected'}"
    action: Callable[[Vault, str], str | Awaitable[str]] = handler.approve if approve else handler.reject
    outcome = action(vault, item_id)
    if isinstance(outcome, str):
        return outcome
    return asyncio.run(_await(outcome))


async def _await(outcome: Awaitable[str]) -> str:
    return await outcome
