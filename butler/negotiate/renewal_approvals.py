"""The approval-queue handler for kind "renewal": the person's answer to renew, switch or cancel.

Approving a switch buys the best alternative at the price negotiated in the sweep; approving a renewal buys
the retention offer the current vendor agreed to. Either way the purchase goes through the same checkout as any
other (re-checked against the agreement, receipt and contract to the vault). Approving a cancel asks the
current vendor's connector to cancel. Where the sweep found no negotiated deal, or no connector speaks for the
vendor, the answer is recorded and butler says what the person has to do themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from butler.approvals import COLLECTION as APPROVALS
from butler.approvals import mark
from butler.errors import UsageError
from butler.negotiate.checkout import cancel_key, checkout_item
from butler.negotiate.vendors import open_one
from butler.sdk import ConnectorError
from butler.vault import Vault

__all__ = ["HANDLER", "RenewalHandler"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class RenewalHandler:
    async def approve(self, vault: Vault, item_id: str) -> str:
        item = self._pending(vault, item_id)
        action = str(item.get("action"))
        if action == "cancel":
            return await self._cancel(vault, item_id, item)
        quote = (item.get("alternatives") or [None])[0] if action == "switch" else item.get("retention")
        purchase: dict[str, Any] | None = quote.get("purchase") if isinstance(quote, dict) else None
        if not purchase or not purchase.get("connector"):
            mark(vault, item_id, "approved", note="no negotiated deal to buy")
            return (f"{item.get('summary')}: approved, but the sweep found no negotiated deal to buy; "
                    "cast an intent (`butler intent add`) to negotiate one")
        buy_id = f"{item_id}-buy"
        if vault.get(APPROVALS, buy_id) is None:
            vault.put(APPROVALS, buy_id, {**purchase, "renewal": item_id, "created": _now()})
        async with open_one(vault, str(purchase["connector"])) as connector:
            bought = await checkout_item(vault, buy_id, connector, actor="person")
        mark(vault, item_id, "approved", purchase=bought.id)
        contract_id = str(item.get("contract"))
        if action == "switch" and vault.get("contracts", contract_id) is not None:
            vault.update("contracts", contract_id,
                         lambda d: {**(d or {}), "auto_renew": False, "superseded_by": bought.id})
        moved = (f"; cancel the old contract with {item.get('vendor')} before {item.get('renewal_date')}"
                 if action == "switch" else "")
        return f"bought {purchase.get('product')} from {bought.vendor_id} for {bought.total} (order {bought.id}){moved}"

    async def _cancel(self, vault: Vault, item_id: str, item: dict[str, Any]) -> str:
        retention = item.get("retention") or {}
        connector_id = retention.get("connector") if isinstance(retention, dict) else None
        contract_id = str(item.get("contract"))
        if not connector_id:
            mark(vault, item_id, "approved", note="cancel by hand")
            return (f"approved: no connector speaks for {item.get('vendor')}; cancel contract {contract_id} "
                    f"yourself before {item.get('renewal_date')}")
        try:
            async with open_one(vault, str(connector_id)) as connector:
                await connector.cancel(contract_id, idempotency_key=cancel_key(item_id))
        except ConnectorError as exc:
            raise UsageError(f"{item.get('vendor')} did not cancel: {exc.message}",
                             "The item still waits; approve it again later or cancel by hand.") from None
        mark(vault, item_id, "approved", note="cancelled")
        if vault.get("contracts", contract_id) is not None:
            vault.update("contracts", contract_id, lambda d: {**(d or {}), "auto_renew": False,
                                                              "cancelled": _now()})
        vault.audit.append("renewal.cancelled", contract_id, {"item": item_id}, actor="person")
        return f"cancelled contract {contract_id} with {item.get('vendor')}"

    def reject(self, vault: Vault, item_id: str) -> str:
        item = self._pending(vault, item_id)
        mark(vault, item_id, "rejected")
        return f"rejected: {item.get('summary')}; nothing changes"

    @staticmethod
    def _pending(vault: Vault, item_id: str) -> dict[str, Any]:
        record = vault.get(APPROVALS, item_id)
        if record is None or record.data.get("kind") != "renewal" or record.data.get("state") != "pending":
            raise UsageError(f"no renewal waits under {item_id!r}")
        return record.data


HANDLER = RenewalHandler()
