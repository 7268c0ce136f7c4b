"""Named, append-only schema migrations of the records in the vault.

Each migration has a name that never changes and a function that rewrites records. The vault remembers which
names it has applied (record `_meta/schema`); opening a vault applies the missing ones in order, and a vault
that has applied a name this butler does not know was written by a newer butler and is refused.
Never edit or reorder an entry here; append a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import butler
from butler.errors import VaultVersionError
from butler.models import SCHEMA_VERSION
from butler.records import Collection

if TYPE_CHECKING:
    from butler.vault.store import Vault

__all__ = ["MIGRATIONS", "RECORDS", "apply_migrations", "up_to_date"]

META = "_meta"
RECORDS = Collection(META, __name__, "which schema migrations were applied, the audit signing key, the head mark",
                     id_scheme="created | schema | audit-key | head", secret_ids=frozenset({"audit-key"}))
SCHEMA = "schema"


def _initial(vault: Vault) -> None:
    """Record who created the schema; nothing to convert yet."""
    vault.put(META, "created", {"butler": butler.__version__}, audit=False)


def _money_amounts_as_strings(vault: Vault) -> None:
    """Older drafts stored money amounts as numbers; amounts are exact decimal strings."""
    for collection in vault.collections():
        if collection.startswith("_"):
            continue
        for record in vault.records(collection):
            fixed = _stringify_amounts(record.data)
            if fixed != record.data:
                vault.put(collection, record.id, fixed, expected_version=record.version, audit=False)


def _stringify_amounts(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _stringify_amounts(v) for k, v in value.items()}
        if set(out) == {"amount", "currency"} and isinstance(out["amount"], int | float):
            out["amount"] = str(out["amount"])
        return out
    if isinstance(value, list):
        return [_stringify_amounts(v) for v in value]
    return value


_STATES = {"buying": "executing", "refused": "failed"}


def _approval_desk_ids_and_states(vault: Vault) -> None:
    """The approval desk: ids are "kind:key", so a renewal reminder and a renewal proposal for the same contract
    and date no longer share one id; "buying" is "executing" (reconciled on the next open) and "refused" is
    "failed"; a purchase that was bought is "done". Re-keyed items keep their old id under `formerly`."""
    for record in list(vault.records("approvals")):
        data = dict(record.data)
        kind = str(data.get("kind", ""))
        state = str(data.get("state", "pending"))
        data["state"] = _STATES.get(state, state)
        if data["state"] == "executing":
            data["owner"] = 0  # no live process: reconcile it
        if kind in ("purchase", "renewal") and state == "approved" and data.get("purchase"):
            data["state"] = "done"
        new_id = record.id
        if kind == "purchase" and record.id.startswith("purchase-"):
            new_id = f"purchase:{record.id.removeprefix('purchase-')}"
        elif kind == "renewal" and data.get("contract") and data.get("renewal_date"):
            new_id = f"renewal:{data['contract']}@{data['renewal_date']}"
        elif kind == "renewal-reminder" and data.get("contract_id") and data.get("renewal_date"):
            new_id = f"renewal-reminder:{data['contract_id']}@{data['renewal_date']}"
        if new_id == record.id:
            if data != record.data:
                vault.put("approvals", record.id, data, expected_version=record.version, audit=False)
            continue
        data["id"] = new_id
        data["formerly"] = record.id
        vault.put("approvals", new_id, data, audit=False)
        vault.delete("approvals", record.id)
        for purchase in list(vault.records("purchases")):
            if purchase.data.get("approval") == record.id:
                vault.put("purchases", purchase.id, {**purchase.data, "approval": new_id},
                          expected_version=purchase.version, audit=False)


def _audit_signing_key(vault: Vault) -> None:
    """Audit entries are signed with a key kept in the vault (a record, so a key rotation carries it over)."""
    vault.make_audit_key()


MIGRATIONS: list[tuple[str, Callable[[Vault], None]]] = [
    ("0001_initial", _initial),
    ("0002_money_amounts_as_strings", _money_amounts_as_strings),
    ("0003_approval_desk_ids_and_states", _approval_desk_ids_and_states),
    ("0004_audit_signing_key", _audit_signing_key),
]


def up_to_date(vault: Vault) -> bool:
    """True when the vault has applied exactly the migrations this butler knows: opening needs no writer."""
    record = vault.get(META, SCHEMA)
    applied = list(record.data["applied"]) if record else []
    return applied == [name for name, _ in MIGRATIONS]


def apply_migrations(vault: Vault) -> list[str]:
    """Apply what is missing, in order, under the exclusive lock; returns the names applied now."""
    known = [name for name, _ in MIGRATIONS]
    with vault.lock.exclusive():
        record = vault.get(META, SCHEMA)
        applied: list[str] = list(record.data["applied"]) if record else []
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise VaultVersionError(
                f"this vault has schema migrations this butler does not know: {', '.join(unknown)}"
            )
        done = []
        for name, migrate in MIGRATIONS:
            if name in applied:
                continue
            migrate(vault)
            applied.append(name)
            done.append(name)
        if done:
            vault.put(META, SCHEMA, {"applied": applied, "schema_version": SCHEMA_VERSION}, audit=False)
            vault.audit.append("vault.migrate", "", {"applied": done})
        return done
