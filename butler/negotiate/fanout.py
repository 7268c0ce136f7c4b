"""One intent, every enabled vendor: cast, collect offers, drop the forbidden, negotiate, rank, queue or buy.

`negotiate_intent` asks each connector for offers at once (each under the per-vendor deadline), drops those
in another currency than the budget, out of reach of the budget, or denied by the person's policies (each
with its reason, in the audit log), negotiates with the best offer of the most promising vendors in
parallel, and puts the winner in the approval queue. Within a valid mandate, and only when the policies
allow the deal outright, the winner is bought without asking; the audit log records it as such.

A run interrupted by a crash is resumed by running it again: negotiations the vault records as done are
reused, the others are started afresh.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from butler.approvals import Desk, State
from butler.errors import ButlerError
from butler.models import Intent, IntentStatus, Offer, Purchase
from butler.negotiate import intents, mandate, purchases, speakers
from butler.negotiate.approvals import KIND, PurchaseItem
from butler.negotiate.checkout import answer_problem
from butler.negotiate.reauth import ask_to_reauthenticate
from butler.negotiate.retry import retrying
from butler.negotiate.session import (
    NegotiationResult,
    abandon,
    negotiate_all,
    negotiation_records,
    purchase_item_id,
    result_from_record,
)
from butler.policy import EvalContext, PolicySet, evaluate, offer_utility
from butler.policy.decision import Verdict
from butler.sdk import AuthError, Connector, OfferQuery
from butler.vault import Vault

__all__ = ["Dropped", "IntentOutcome", "negotiate_intent"]

CHEAPEST_STEP = Decimal("0.70")  # the lowest price butler asks for, as a share of the listed price


@dataclass(frozen=True)
class Dropped:
    vendor_id: str
    offer_id: str | None
    reason: str


@dataclass
class IntentOutcome:
    intent: Intent
    results: list[NegotiationResult] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    approval_id: str | None = None
    purchase: Purchase | None = None
    mandate_note: str | None = None

    @property
    def winner(self) -> NegotiationResult | None:
        return self.results[0] if self.results and self.results[0].agreed is not None else None


def _fits(intent: Intent, offer: Offer) -> str | None:
    """Why `offer` cannot serve `intent`, or None."""
    if offer.category != intent.category:
        return f"category {offer.category}, not {intent.category}"
    words = " ".join((offer.product, offer.id)).lower()
    if intent.keywords and not any(k.lower() in words for k in intent.keywords):
        return f"{offer.product!r} matches none of {', '.join(intent.keywords)}"
    if offer.price.currency != intent.budget.currency:
        return f"priced in {offer.price.currency}, the budget is in {intent.budget.currency}"
    if offer.price.amount * CHEAPEST_STEP > intent.budget.amount:
        return f"listed at {offer.price}, out of reach of the budget {intent.budget}"
    return None


async def negotiate_intent(vault: Vault, intent: Intent, policies: PolicySet,
                           connectors: Sequence[tuple[str, Connector]], *, reserve: float = 0.2,
                           per_vendor_seconds: float = 30.0, context: EvalContext | None = None,
                           max_vendors: int = 8, now: dt.datetime | None = None) -> IntentOutcome:
    """Negotiate `intent` with every connector in `connectors` ((id, connector) pairs, opened by the caller)."""
    outcome = IntentOutcome(intent)
    if intent.status in (IntentStatus.CANCELLED, IntentStatus.FULFILLED):
        raise ButlerError(f"intent {intent.id} is {intent.status.value}", "Add a new intent with `butler intent add`.")
    done: dict[str, NegotiationResult] = {}
    for record in negotiation_records(vault, intent.id):
        if record.data.get("state") == "done":
            done[record.data["vendor"]] = result_from_record(record.id, record.data)
        else:  # interrupted by a crash: negotiate again with that vendor
            abandon(vault, record)
    intents.set_status(vault, intent.id, IntentStatus.NEGOTIATING)
    vault.audit.append("negotiate.cast", intent.id, {"connectors": [cid for cid, _ in connectors],
                                                    "already_done": sorted(done)})
    query = OfferQuery(category=intent.category, keywords=intent.keywords, max_price=None)

    async def offers_of(cid: str, connector: Connector) -> tuple[str, Connector, list[Offer] | str]:
        try:
            return cid, connector, await asyncio.wait_for(
                retrying(lambda: connector.list_offers(query), seconds=per_vendor_seconds), per_vendor_seconds)
        except TimeoutError:
            return cid, connector, f"no offers within {per_vendor_seconds:g} s"
        except AuthError as exc:
            return cid, connector, ask_to_reauthenticate(vault, cid, exc)
        except ButlerError as exc:
            return cid, connector, exc.message
        except ValueError as exc:  # an offer the models refuse (a price out of range…): that vendor only
            return cid, connector, answer_problem(exc)
        except Exception as exc:  # a connector's own bug must not end the run
            return cid, connector, f"the connector failed: {type(exc).__name__}"

    best: dict[str, tuple[float, str, Connector, Offer]] = {}
    gathered = await asyncio.gather(*(offers_of(c, k) for c, k in connectors))
    refused = speakers.refusals(vault, ((cid, offer.vendor_id) for cid, _, offers in gathered
                                        if isinstance(offers, list) for offer in offers))
    for cid, connector, offers in gathered:
        if isinstance(offers, str):
            outcome.dropped.append(Dropped(cid, None, offers))
            vault.audit.append("negotiate.vendor-failed", cid, {"reason": offers, "intent": intent.id})
            continue
        for offer in offers:
            why = refused.get((cid, offer.vendor_id)) or _fits(intent, offer)
            if why is None:
                decision = evaluate(offer, policies, context)
                if decision.verdict == Verdict.DENY:
                    why = "; ".join(f"{r.rule_id}: {r.text}" for r in decision.fired) or "denied by a policy"
            if why is not None:
                outcome.dropped.append(Dropped(offer.vendor_id, offer.id, why))
                vault.audit.append("negotiate.offer-dropped", f"{offer.vendor_id}/{offer.id}",
                                   {"reason": why, "intent": intent.id})
                continue
            score = offer_utility(offer, policies, intent.budget)
            if offer.vendor_id not in done and (offer.vendor_id not in best or score > best[offer.vendor_id][0]):
                best[offer.vendor_id] = (score, cid, connector, offer)
    chosen = sorted(best.values(), key=lambda b: -b[0])[:max_vendors]
    outcome.results = await negotiate_all(
        [(c, o) for _, _, c, o in chosen], policies, vault, reserve=reserve, per_vendor_seconds=per_vendor_seconds,
        context=context, budget=intent.budget, connector_ids=[cid for _, cid, _, _ in chosen], intent_id=intent.id,
        done=list(done.values()))
    winner = outcome.winner
    if winner is None or winner.agreed is None:
        intents.set_status(vault, intent.id, IntentStatus.OPEN)
        return outcome
    outcome.approval_id = purchase_item_id(intent.id)
    intents.set_status(vault, intent.id, IntentStatus.AWAITING_APPROVAL)
    outcome.purchase, outcome.mandate_note = await _within_mandate(vault, outcome.approval_id, winner, policies,
                                                                   context, connectors, now)
    return outcome


async def _within_mandate(vault: Vault, item_id: str, winner: NegotiationResult, policies: PolicySet,
                          context: EvalContext | None, connectors: Sequence[tuple[str, Connector]],
                          now: dt.datetime | None) -> tuple[Purchase | None, str | None]:
    """Buy the winner without asking when the mandate and the policies allow its total; else say why not."""
    given = mandate.current(vault)
    if given is None or winner.agreed is None:
        return None, None
    desk = Desk([KIND])
    item = desk.get(vault, item_id)
    if not isinstance(item, PurchaseItem) or item.state is not State.PENDING:
        return None, None
    amount = mandate.commitment(item.total, winner.offer.period, winner.agreed.term_months)
    refusal = given.refusal(winner.vendor_id, winner.offer.category, amount, now)
    if refusal is None and item.quote is None:
        refusal = "the vendor gave no total to check against the mandate"
    if refusal is None:
        agreed_offer = winner.offer.model_copy(update={
            "price": winner.agreed.price, "term_months": winner.agreed.term_months,
            "data_use": winner.agreed.data_use, "extras": winner.agreed.extras})
        verdict = evaluate(agreed_offer, policies, context).verdict
        if verdict != Verdict.ALLOW:
            refusal = f"the policies say {verdict.value} for this deal"
    if refusal is None and not any(cid == winner.connector_id for cid, _ in connectors):
        refusal = "its connector is not open"
    if refusal is not None:
        vault.audit.append("negotiate.mandate-declined", item_id, {"reason": refusal})
        return None, f"waits for your approval: {refusal}"
    vault.audit.append("negotiate.mandate-purchase", item_id,
                       {"amount": str(amount), "max_amount": str(given.max_amount), "vendor": winner.vendor_id},
                       actor="mandate")
    try:
        await desk.adecide(vault, item_id, approve=True, by="mandate",
                           why=f"total {amount} within your mandate (at most {given.max_amount})")
    except ButlerError as exc:
        return None, f"the purchase within your mandate did not go through: {exc.message}"
    done = desk.get(vault, item_id)
    purchase = purchases.purchase(vault, str(getattr(done, "purchase", "")))
    return purchase, f"bought within your mandate (at most {given.max_amount})"
