"""The vault collection `contracts`: the contracts the person holds, and the only code that reads or writes it.

Records are `butler.models.Contract` as stored (`model_dump(mode="json")`), with what butler learnt since:
`usage` (kWh a year, GB a month, for quotes), `superseded_by` (the purchase that replaced it), `cancelled`.
Ids are the vendor's contract ids (or `c-<order>` where the vendor gave none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from butler.models import Contract
from butler.records import Collection
from butler.vault import Record, Vault

__all__ = ["COLLECTION", "RECORDS", "all_records", "get", "mark", "save", "save_raw"]

COLLECTION = "contracts"
RECORDS = Collection(COLLECTION, __name__, "contracts the person holds (bought, or entered by hand)", model=Contract,
                     id_scheme="<vendor's contract id>")


def all_records(vault: Vault) -> list[Record]:
    return list(vault.records(COLLECTION))


def get(vault: Vault, contract_id: str) -> Record | None:
    return vault.get(COLLECTION, contract_id)


def save(vault: Vault, contract: Contract) -> None:
    vault.put(COLLECTION, contract.id, contract.model_dump(mode="json"))


def save_raw(vault: Vault, contract_id: str, data: dict[str, Any]) -> None:
    """Store a contract as the person or an import gave it (validated when read)."""
    vault.put(COLLECTION, contract_id, data)


def mark(vault: Vault, contract_id: str, **fields: Any) -> bool:
    """Set `fields` on a stored contract; False when there is none under that id."""
    if vault.get(COLLECTION, contract_id) is None:
        return False
    change: Callable[[dict[str, Any] | None], dict[str, Any]] = lambda d: {**(d or {}), **fields}  # noqa: E731
    vault.update(COLLECTION, contract_id, change)
    return True
