"""The renewal sweep: contracts nearing renewal, a retention deal from the current vendor, quotes from the rest.

`sweep_renewals` (async, connectors given) and `sweep` (sync, the enabled connectors; what the daemon calls)
look at every contract in the vault's `contracts` collection whose `renewal_date` falls within `within_days`,
negotiate retention with the current vendor, ask the other vendors of the same category for quotes priced on
the contract's recorded usage, and put one approvals item of kind "renewal" per contract and renewal date:
renew, switch or cancel, with the saving per year. Nothing is renewed, switched or cancelled here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from butler.approvals import raw_item, submit
from butler.errors import ButlerError
from butler.models import Contract, Money, Offer
from butler.negotiate import contracts, speakers
from butler.negotiate.reauth import ask_to_reauthenticate
from butler.negotiate.renewal_approvals import RenewalItem, renewal_id
from butler.negotiate.retry import retrying
from butler.negotiate.session import NegotiationResult, negotiate_offer, purchase_item
from butler.policy import EvalContext, PolicySet, Renewal, evaluate
from butler.policy.decision import Verdict
from butler.sdk import AuthError, Connector, OfferQuery
from butler.vault import Vault

__all__ = ["Quote", "RenewalProposal", "annual", "due_contracts", "sweep", "sweep_renewals"]

Action = Literal["renew", "switch", "cancel"]


@dataclass(frozen=True)
class Quote:
    vendor_id: str
    offer_id: str
    product: str
    price: Money
    period: str
    per_year: Money
    negotiated: bool = False
    connector_id: str | None = None
    result: NegotiationResult | None = None  # the negotiation behind a negotiated price


@dataclass
class RenewalProposal:
    contract: Contract
    action: Action
    saving_per_year: Money
    summary: str
    reasons: list[str] = field(default_factory=list)
    retention: Quote | None = None
    alternatives: list[Quote] = field(default_factory=list)
    item_id: str = ""


def annual(price: Money, period: str) -> Money:
    """What a price costs per year: twelve monthly payments, one yearly, or a one-off once."""
    return (price * 12 if period == "month" else price).rounded()


def due_contracts(vault: Vault, today: dt.date, within_days: int) -> list[Contract]:
    """Contracts renewing between today and `within_days` from now, soonest first."""
    due = []
    for record in contracts.all_records(vault):
        try:
            contract = Contract.model_validate(record.data)
        except ValueError:
            continue
        if contract.renewal_date is not None and today <= contract.renewal_date <= today + dt.timedelta(within_days):
            due.append(contract)
    return sorted(due, key=lambda c: (c.renewal_date or today, c.id))


def _query(contract: Contract) -> OfferQuery:
    return OfferQuery(category=contract.category, kwh_per_year=contract.usage.kwh_per_year,
                      gb_per_month=contract.usage.gb_per_month)


def _quote(offer: Offer, cid: str, price: Money | None = None, result: NegotiationResult | None = None) -> Quote:
    chosen = price or offer.price
    return Quote(offer.vendor_id, offer.id, offer.product, chosen, offer.period, annual(chosen, offer.period),
                 negotiated=price is not None, connector_id=cid, result=result)


async def _propose(vault: Vault, contract: Contract, policies: PolicySet,
                   offers: Sequence[tuple[str, Connector, Offer]], *, reserve: float, per_vendor_seconds: float,
                   context: EvalContext | None) -> RenewalProposal:
    current_year = annual(contract.price, contract.period)
    reasons = [f"now: {contract.price} per {contract.period} ({current_year} a year)"]
    mine = [(cid, c, o) for cid, c, o in offers if o.vendor_id == contract.vendor_id
            and o.price.currency == contract.price.currency]
    mine.sort(key=lambda t: (t[2].product != contract.product, annual(t[2].price, t[2].period).amount))
    retention: Quote | None = None
    if mine:
        cid, connector, offer = mine[0]
        try:
            result = await asyncio.wait_for(
                negotiate_offer(connector, offer, policies, vault, reserve=reserve, context=context,
                                connector_id=cid, intent_id=f"renewal-{contract.id}"), per_vendor_seconds)
            retention = _quote(offer, cid, result.agreed.price if result.agreed else None, result)
            reasons.append(f"{contract.vendor_id} retention: {retention.price} ({result.reason})")
        except (TimeoutError, ButlerError) as exc:
            retention = _quote(offer, cid)
            reasons.append(f"{contract.vendor_id} did not negotiate ({str(exc) or 'timed out'}); listed {offer.price}")
    renewal_year = retention.per_year if retention else current_year
    renewal_price = retention.price if retention else contract.price
    others = [(cid, c, o) for cid, c, o in offers
              if o.vendor_id != contract.vendor_id and o.price.currency == contract.price.currency]

    async def quote(cid: str, connector: Connector, offer: Offer) -> Quote | str:
        """What the alternative would cost: negotiated down where it will talk, else as listed if allowed."""
        try:
            result = await asyncio.wait_for(
                negotiate_offer(connector, offer, policies, vault, reserve=reserve, context=context,
                                connector_id=cid, intent_id=f"renewal-{contract.id}"), per_vendor_seconds)
            if result.agreed is not None:
                return _quote(offer, cid, result.agreed.price, result)
        except (TimeoutError, ButlerError):
            pass
        decision = evaluate(offer, policies, context)
        if decision.verdict == Verdict.DENY:
            return f"{offer.vendor_id} {offer.product}: dropped ({decision.fired[0].text})"
        return _quote(offer, cid)

    alternatives = []
    for answer in await asyncio.gather(*(quote(*t) for t in others)):
        if isinstance(answer, str):
            reasons.append(answer)
        else:
            alternatives.append(answer)
    alternatives.sort(key=lambda q: q.per_year.amount)
    renewal_ok = evaluate(Renewal.of(contract, renewal_price), policies, context).verdict != Verdict.DENY
    best = alternatives[0] if alternatives else None
    action: Action
    if best is not None and best.per_year < renewal_year:
        action, saving = "switch", renewal_year - best.per_year
        summary = (f"switch {contract.product} from {contract.vendor_id} to {best.vendor_id} {best.product}: "
                   f"{best.per_year} a year instead of {renewal_year}, saving {saving} a year")
    elif not renewal_ok:
        action, saving = "cancel", renewal_year
        summary = (f"cancel {contract.product} with {contract.vendor_id} before {contract.renewal_date}: the "
                   f"renewal at {renewal_price} breaks your policies and no alternative is cheaper")
    else:
        action, saving = "renew", current_year - renewal_year
        summary = (f"renew {contract.product} with {contract.vendor_id} at {renewal_price} per {contract.period} "
                   f"({renewal_year} a year, saving {saving} a year)")
    reasons += [f"quote {q.vendor_id} {q.product}: {q.per_year} a year" for q in alternatives[:5]]
    return RenewalProposal(contract, action, saving, summary, reasons, retention, alternatives)


async def sweep_renewals(vault: Vault, policies: PolicySet, connectors: Sequence[tuple[str, Connector]], *,
                         today: dt.date | None = None, within_days: int = 45, reserve: float = 0.2,
                         per_vendor_seconds: float = 30.0, context: EvalContext | None = None
                         ) -> list[RenewalProposal]:
    """Propose renew, switch or cancel for every contract due; each proposal becomes one approvals item."""
    today = today or dt.date.today()
    proposals = []
    by_category: dict[str, list[tuple[str, Connector, Offer]]] = {}
    for contract in due_contracts(vault, today, within_days):
        item_id = renewal_id(contract.id, str(contract.renewal_date))
        if raw_item(vault, item_id) is not None:
            continue  # already proposed for this renewal date
        if contract.category not in by_category:
            by_category[contract.category] = await _collect(vault, connectors, _query(contract), per_vendor_seconds)
        offers = [t for t in by_category[contract.category] if t[2].category == contract.category]
        proposal = await _propose(vault, contract, policies, offers, reserve=reserve,
                                  per_vendor_seconds=per_vendor_seconds, context=context)
        proposal.item_id = item_id
        submit(vault, RenewalItem(
            id=item_id, contract=contract.id, vendor=contract.vendor_id, renewal_date=str(contract.renewal_date),
            action=proposal.action, saving_per_year=str(proposal.saving_per_year), summary_text=proposal.summary,
            reasons=proposal.reasons, retention=_quote_wire(proposal.retention) if proposal.retention else None,
            alternatives=[_quote_wire(q) for q in proposal.alternatives]))
        vault.audit.append("renewal.proposed", contract.id, {"action": proposal.action,
                                                             "saving_per_year": str(proposal.saving_per_year)})
        proposals.append(proposal)
    return proposals


def _quote_wire(quote: Quote) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "vendor": quote.vendor_id, "offer": quote.offer_id, "product": quote.product, "price": str(quote.price),
        "period": quote.period, "per_year": str(quote.per_year), "negotiated": quote.negotiated,
        "connector": quote.connector_id}
    if quote.result is not None and quote.result.agreed is not None:  # what approving it buys
        wire["purchase"] = purchase_item(quote.result, None, [f"quote for a renewal: {quote.per_year} a year"])
    return wire


async def _collect(vault: Vault, connectors: Sequence[tuple[str, Connector]], query: OfferQuery,
                   seconds: float) -> list[tuple[str, Connector, Offer]]:
    async def one(cid: str, connector: Connector) -> list[tuple[str, Connector, Offer]]:
        try:
            offers = await asyncio.wait_for(retrying(lambda: connector.list_offers(query), seconds=seconds), seconds)
        except AuthError as exc:
            vault.audit.append("renewal.vendor-failed", cid, {"reason": ask_to_reauthenticate(vault, cid, exc)})
            return []
        except (TimeoutError, ButlerError) as exc:
            vault.audit.append("renewal.vendor-failed", cid, {"reason": str(exc) or "timed out"})
            return []
        return [(cid, connector, o) for o in offers]

    found = [t for group in await asyncio.gather(*(one(cid, c) for cid, c in connectors)) for t in group]
    refused = speakers.refusals(vault, ((cid, offer.vendor_id) for cid, _, offer in found))
    for cid, _, offer in found:
        if (cid, offer.vendor_id) in refused:
            vault.audit.append("renewal.offer-dropped", f"{offer.vendor_id}/{offer.id}",
                               {"reason": refused[(cid, offer.vendor_id)]})
    return [t for t in found if (t[0], t[2].vendor_id) not in refused]


def sweep(vault: Vault, policies: PolicySet, *, today: dt.date | None = None, within_days: int = 45,
          reserve: float = 0.2, per_vendor_seconds: float = 30.0) -> list[RenewalProposal]:
    """The sweep over the enabled connectors, for the daemon and `butler renewals`."""
    from butler.negotiate.vendors import entered, open_enabled

    async def run() -> list[RenewalProposal]:
        async with entered(open_enabled(vault)) as opened:
            return await sweep_renewals(vault, policies, opened, today=today, within_days=within_days,
                                        reserve=reserve, per_vendor_seconds=per_vendor_seconds)

    return asyncio.run(run())


