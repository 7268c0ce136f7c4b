"""The approval queue's handler for kind "purchase": approve → checkout; reject → nothing is bought."""

from __future__ import annotations

from butler import approvals
from butler.errors import UsageError
from butler.models import IntentStatus
from butler.negotiate import intents
from butler.negotiate.checkout import checkout_item
from butler.negotiate.vendors import open_one
from butler.vault import Vault

__all__ = ["HANDLER", "PurchaseHandler"]


class PurchaseHandler:
    """Carries out the person's answer on a negotiated purchase (see `butler.approvals.KindHandler`)."""

    async def approve(self, vault: Vault, item_id: str) -> str:
        record = vault.get(approvals.COLLECTION, item_id)
        if record is None:
            raise UsageError(f"nothing waits under {item_id!r}")
        item = record.data
        if not item.get("connector"):
            raise UsageError(f"{item_id} does not say which connector to buy through",
                             "Negotiate again with `butler negotiate INTENT`.")
        async with open_one(vault, str(item["connector"])) as connector:
            purchase = await checkout_item(vault, item_id, connector, actor="person")
        return (f"bought {item.get('product') or item['offer']} from {purchase.vendor_id} for {purchase.total} "
                f"(order {purchase.id}); receipt stored")

    def reject(self, vault: Vault, item_id: str) -> str:
        item = approvals.mark(vault, item_id, "rejected")
        intent_id = item.get("intent")
        if isinstance(intent_id, str) and vault.get(intents.COLLECTION, intent_id) is not None:
            intents.set_status(vault, intent_id, IntentStatus.OPEN)
        return f"rejected: nothing bought from {item.get('vendor')}"


HANDLER = PurchaseHandler()
