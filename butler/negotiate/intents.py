"""What the person seeks (`butler.models.Intent`), kept in the vault collection `intents`."""

from __future__ import annotations

import datetime as dt
import secrets

from butler.errors import UsageError
from butler.models import Intent, IntentStatus, Money, amount_problem
from butler.records import Collection
from butler.vault import Record, Vault

__all__ = ["COLLECTION", "RECORDS", "add", "all_intents", "cancel", "exists", "get", "records", "set_status"]

COLLECTION = "intents"
RECORDS = Collection(COLLECTION, __name__, "what the person is looking for, with a budget", model=Intent,
                     id_scheme="i-<hex>")


def add(vault: Vault, description: str, category: str, budget: Money, *, keywords: tuple[str, ...] = (),
        deadline: dt.datetime | None = None) -> Intent:
    """Store a new open intent. UsageError when the budget is not more than 0 or above MAX_AMOUNT."""
    problem = amount_problem(budget, zero=False)
    if problem is not None:
        raise UsageError(f"the budget {problem}", 'Give what you would pay at most, like "900 EUR".')
    intent = Intent(id=f"i-{secrets.token_hex(3)}", description=description, category=category, budget=budget,
                    keywords=keywords, deadline=deadline, created=dt.datetime.now(dt.UTC))
    vault.put(COLLECTION, intent.id, intent.model_dump(mode="json"))
    return intent


def get(vault: Vault, intent_id: str) -> Intent:
    record = vault.get(COLLECTION, intent_id)
    if record is None:
        raise UsageError(f"no intent {intent_id!r}", "See `butler intent list`.")
    return Intent.model_validate(record.data)


def records(vault: Vault) -> list[Record]:
    """The stored intents as stored, malformed ones too (for views that must not fail on them)."""
    return list(vault.records(COLLECTION))


def exists(vault: Vault, intent_id: str) -> bool:
    return vault.get(COLLECTION, intent_id) is not None


def all_intents(vault: Vault) -> list[Intent]:
    found = [Intent.model_validate(r.data) for r in vault.records(COLLECTION)]
    return sorted(found, key=lambda i: i.created)


def set_status(vault: Vault, intent_id: str, status: IntentStatus) -> None:
    vault.update(COLLECTION, intent_id, lambda data: {**(data or {}), "status": status.value})


def cancel(vault: Vault, intent_id: str) -> Intent:
    intent = get(vault, intent_id)
    if intent.status in (IntentStatus.FULFILLED, IntentStatus.CANCELLED):
        raise UsageError(f"intent {intent_id} is already {intent.status.value}")
    set_status(vault, intent_id, IntentStatus.CANCELLED)
    return get(vault, intent_id)
