"""The desk's kinds "renewal" (renew, switch or cancel, negotiated) and "renewal-reminder" (a contract is due).

Approving a switch buys the best alternative at the price negotiated in the sweep; approving a renewal buys the
retention offer the current vendor agreed to. Either way the purchase goes through the phased checkout like
any other (prepared, checked against the agreed price, paid once, recorded), under the renewal's own id.
Approving a cancel asks the current vendor's connector to cancel. Where the sweep found no negotiated deal, or
no connector speaks for the vendor, the answer is recorded and butler says what the person has to do.
A reminder only tells the person a contract renews soon; approving or rejecting it notes that they saw it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from butler.approvals import Item, Kind, Outcome, State, item_id, now_iso
from butler.errors import UsageError
from butler.negotiate import contracts
from butler.negotiate.approvals import buy_through, reconcile_checkout
from butler.negotiate.checkout import Deal, cancel_key
from butler.negotiate.vendors import open_one
from butler.sdk import CheckoutQuote, ConnectorError, Terms
from butler.vault import Vault

__all__ = [
    "REMINDER",
    "REMINDER_KIND",
    "RENEWAL",
    "RENEWAL_KIND",
    "ReminderItem",
    "RenewalHandler",
    "RenewalItem",
    "reminder_id",
    "renewal_id",
]

RENEWAL = "renewal"
REMINDER = "renewal-reminder"


def renewal_id(contract_id: str, renewal_date: str) -> str:
    return item_id(RENEWAL, f"{contract_id}@{renewal_date}")


def reminder_id(contract_id: str, renewal_date: str) -> str:
    return item_id(REMINDER, f"{contract_id}@{renewal_date}")


class RenewalItem(Item):
    """A proposal for a contract that renews soon: renew, switch or cancel, with the quotes behind it."""

    kind: Literal["renewal"] = "renewal"
    contract: str
    vendor: str = ""
    renewal_date: str = ""
    action: Literal["renew", "switch", "cancel"]
    saving_per_year: str = ""
    summary_text: str = ""
    retention: dict[str, Any] | None = None
    alternatives: list[dict[str, Any]] = Field(default_factory=list)
    phase: str | None = None
    checkout_quote: CheckoutQuote | None = None
    purchase: str | None = None

    def summary(self) -> str:
        return self.summary_text or f"contract {self.contract} renews on {self.renewal_date}"

    def chosen(self) -> dict[str, Any] | None:
        """The negotiated purchase approving would buy (a switch's best alternative, a renewal's retention)."""
        quote = (self.alternatives[0] if self.alternatives else None) if self.action == "switch" else self.retention
        purchase = quote.get("purchase") if isinstance(quote, dict) else None
        return purchase if isinstance(purchase, dict) and purchase.get("connector") else None

    def deal(self) -> Deal | None:
        chosen = self.chosen()
        if chosen is None:
            return None
        agreed = Terms.model_validate(chosen["agreed_terms"])
        return Deal(item_id=self.id, vendor=str(chosen["vendor"]), offer=str(chosen["offer"]), agreed=agreed,
                    limit=agreed.price, product=str(chosen.get("product") or ""),
                    category=str(chosen.get("category") or ""), period=str(chosen.get("period") or "month"),
                    session=chosen.get("session"))

    def confirmation(self) -> str | None:
        if self.action == "cancel":
            return f"Ask {self.vendor} to cancel contract {self.contract}?"
        deal = self.deal()
        if deal is None:
            return None
        return (f"Buy {deal.product or deal.offer} from {deal.vendor} and pay at most {deal.limit}? Butler checks "
                "the vendor's total before paying and pays nothing above it.")

    def details(self) -> list[str]:
        lines = [f"action: {self.action}; saving {self.saving_per_year} a year"]
        deal = self.deal()
        if deal is not None:
            lines.append(f"approving buys {deal.product or deal.offer} from {deal.vendor} at {deal.agreed.price} "
                         f"(butler checks the vendor's total before paying: at most {deal.limit})")
        return lines


class ReminderItem(Item):
    kind: Literal["renewal-reminder"] = "renewal-reminder"
    contract_id: str
    renewal_date: str
    vendor_id: str | None = None
    product: str | None = None
    auto_renew: bool = False

    def summary(self) -> str:
        renews = "renews automatically" if self.auto_renew else "ends or renews"
        return f"contract {self.contract_id} ({self.product or '?'} with {self.vendor_id or '?'}) {renews} on " \
               f"{self.renewal_date}"


class RenewalHandler:
    def __init__(self, *, seconds: float | None = None) -> None:
        self.seconds = seconds  # None: `[vendors] deadline_seconds` from config.toml

    async def execute(self, vault: Vault, item: RenewalItem) -> Outcome:
        if item.action == "cancel":
            return await self._cancel(vault, item)
        deal, chosen = item.deal(), item.chosen()
        if deal is None or chosen is None:
            return Outcome(State.DONE, f"{item.summary()}: approved, but the sweep found no negotiated deal to "
                                       "buy; cast an intent (`butler intent add`) to negotiate one",
                           {"outcome": "no negotiated deal to buy"})
        bought, _ = await buy_through(vault, deal, str(chosen["connector"]), by="person", seconds=self.seconds)
        self._switched(vault, item, bought.id)
        moved = (f"; cancel the old contract with {item.vendor} before {item.renewal_date}"
                 if item.action == "switch" else "")
        return Outcome(State.DONE, f"bought {deal.product or deal.offer} from {bought.vendor_id} for {bought.total} "
                                   f"(order {bought.id}){moved}", {"purchase": bought.id})

    @staticmethod
    def _switched(vault: Vault, item: RenewalItem, purchase_id: str) -> None:
        if item.action == "switch":
            contracts.mark(vault, item.contract, auto_renew=False, superseded_by=purchase_id)

    async def _cancel(self, vault: Vault, item: RenewalItem) -> Outcome:
        retention = item.retention or {}
        connector_id = retention.get("connector")
        if not connector_id:
            return Outcome(State.DONE, f"approved: no connector speaks for {item.vendor}; cancel contract "
                                       f"{item.contract} yourself before {item.renewal_date}",
                           {"outcome": "cancel by hand"})
        try:
            async with open_one(vault, str(connector_id)) as connector:
                await connector.cancel(item.contract, idempotency_key=cancel_key(item.id))
        except ConnectorError as exc:
            raise UsageError(f"{item.vendor} did not cancel: {exc.message}",
                             "Negotiate the renewal again later, or cancel by hand.") from None
        contracts.mark(vault, item.contract, auto_renew=False, cancelled=now_iso())
        vault.audit.append("renewal.cancelled", item.contract, {"item": item.id}, actor="person")
        return Outcome(State.DONE, f"cancelled contract {item.contract} with {item.vendor}")

    def reject(self, vault: Vault, item: RenewalItem) -> str:
        return f"rejected: {item.summary()}; nothing changes"

    async def reconcile(self, vault: Vault, item: RenewalItem) -> Outcome | None:
        deal, chosen = item.deal(), item.chosen()
        if item.action == "cancel" or deal is None or chosen is None:
            return Outcome(State.NEEDS_ATTENTION, "interrupted while being carried out; check with "
                                                  f"{item.vendor} whether contract {item.contract} was cancelled")
        outcome = await reconcile_checkout(vault, item, deal, str(chosen["connector"]), by="butler")
        if outcome is not None and outcome.state is State.DONE and outcome.updates.get("purchase"):
            self._switched(vault, item, str(outcome.updates["purchase"]))
        return outcome


class ReminderHandler:
    def execute(self, vault: Vault, item: ReminderItem) -> Outcome:
        return Outcome(State.DONE, f"noted: {item.summary()}")

    def reject(self, vault: Vault, item: ReminderItem) -> str:
        return f"dismissed: {item.summary()}"

    def reconcile(self, vault: Vault, item: ReminderItem) -> Outcome:
        return Outcome(State.DONE, f"noted: {item.summary()}")


RENEWAL_KIND = Kind(RENEWAL, RenewalItem, RenewalHandler())
REMINDER_KIND = Kind(REMINDER, ReminderItem, ReminderHandler())
