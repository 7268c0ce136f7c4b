"""The approval-queue handler for MyTerms counter-offers (see `butler.approvals`)."""

from __future__ import annotations

from butler.terms.handshake import approve, reject
from butler.vault import Vault

__all__ = ["HANDLER"]


class _CounterOffers:
    async def approve(self, vault: Vault, item_id: str) -> str:
        return (await approve(vault, item_id)).describe()

    def reject(self, vault: Vault, item_id: str) -> str:
        return reject(vault, item_id).describe()


HANDLER = _CounterOffers()
