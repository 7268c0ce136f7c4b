"""Negotiating with vendors through their connectors: the shell around the pure strategy.

For one offer, `negotiate_offer` lays out the issues (price steps, term, data use, extras), scores every
outcome with the person's preferences and hard-constraint check, and plays the customer strategy against the
vendor's negotiation endpoint, recording every offer and counter-offer in the vault and the audit log.
`negotiate_all` does that with several vendors at once, each under its own time limit, ranks the results and
puts the best one in the approval queue: nothing is bought here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from butler.models import DataUse, Money, Offer
from butler.negotiate.strategy import for_customer
from butler.policy import EvalContext, PolicySet, evaluate, utility_for
from butler.policy.decision import Verdict
from butler.sdk import Connector, ConnectorError, Terms
from butler.vault import Vault

__all__ = ["Exchange", "NegotiationResult", "issue_space", "negotiate_all", "negotiate_offer", "outcome_utility"]

PRICE_STEPS = (Decimal("0.70"), Decimal("0.75"), Decimal("0.80"), Decimal("0.85"), Decimal("0.90"),
               Decimal("0.95"), Decimal("1.00"))


@dataclass(frozen=True)
class Exchange:
    round: int
    proposer: str
    terms: dict[str, Any]
    utility: float


@dataclass
class NegotiationResult:
    vendor_id: str
    offer: Offer
    reserve: float
    agreed: Terms | None = None
    utility: float = 0.0
    session_id: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    reason: str = ""

    @property
    def saving(self) -> Money | None:
        return self.offer.price - self.agreed.price if self.agreed else None


def issue_space(offer: Offer) -> dict[str, list[Any]]:
    """The outcomes butler may propose for `offer`: price steps down to 70 %, terms, data use, extras."""
    cents = Decimal("0.01")
    prices = [Money(amount=(offer.price.amount * s).quantize(cents), currency=offer.price.currency)
              for s in PRICE_STEPS]
    terms = sorted({0, 12, offer.term_months})
    uses = [u for u in (DataUse.NONE, DataUse.SERVICE, offer.data_use) if u.rank <= offer.data_use.rank]
    extras: list[tuple[str, ...]] = [(), tuple(offer.extras)] if offer.extras else [()]
    return {"price": prices, "term_months": terms, "data_use": sorted(set(uses), key=lambda u: u.rank),
            "extras": extras}


def outcome_utility(offer: Offer, policies: PolicySet, context: EvalContext | None = None
                    ) -> Callable[[dict[str, Any]], float]:
    """Preferences as a utility over outcomes; an outcome that a hard rule denies scores 0."""
    prefs = utility_for(policies, offer.category, offer.price)
    cache: dict[tuple[Any, ...], float] = {}

    def utility(outcome: dict[str, Any]) -> float:
        key = (outcome["price"], outcome["term_months"], outcome["data_use"], tuple(outcome["extras"]))
        if key not in cache:
            candidate = offer.model_copy(update={
                "price": outcome["price"], "term_months": outcome["term_months"],
                "data_use": DataUse(outcome["data_use"]), "extras": tuple(outcome["extras"])})
            denied = evaluate(candidate, policies, context).verdict == Verdict.DENY
            # a cheaper price than listed always helps: half the score from price saved, half from preferences
            saved = float((offer.price.amount - outcome["price"].amount) / offer.price.amount) / 0.3
            score = 0.5 * max(0.0, min(1.0, saved)) + 0.5 * prefs({**outcome, "vendor": offer.vendor_id})
            cache[key] = 0.0 if denied else score
        return cache[key]

    return utility


def _outcome(terms: Terms) -> dict[str, Any]:
    return {"price": terms.price, "term_months": terms.term_months, "data_use": terms.data_use,
            "extras": tuple(terms.extras)}


def _terms(outcome: dict[str, Any]) -> Terms:
    return Terms(price=outcome["price"], term_months=outcome["term_months"], data_use=outcome["data_use"],
                 extras=tuple(outcome["extras"]))


def _wire(terms: Terms) -> dict[str, Any]:
    return {"price": str(terms.price), "term_months": terms.term_months, "data_use": terms.data_use.value,
            "extras": list(terms.extras)}


async def negotiate_offer(connector: Connector, offer: Offer, policies: PolicySet, vault: Vault | None = None,
                          *, reserve: float = 0.2, context: EvalContext | None = None) -> NegotiationResult:
    """Negotiate `offer` with its vendor until agreement, walk-away or the vendor's last round."""
    result = NegotiationResult(offer.vendor_id, offer, reserve)
    utility = outcome_utility(offer, policies, context)
    issues = issue_space(offer)

    def record(round_: int, proposer: str, terms: Terms) -> None:
        u = utility(_outcome(terms))
        result.exchanges.append(Exchange(round_, proposer, _wire(terms), u))
        if vault is not None:
            vault.audit.append(f"negotiate.{proposer}-offer", f"{offer.vendor_id}/{offer.id}",
                               {"round": round_, "terms": _wire(terms), "utility": round(u, 4)})

    rnd = await connector.negotiate(offer.id)
    result.session_id = rnd.session_id
    record(rnd.round, rnd.proposer, rnd.terms)
    # rounds alternate vendor, buyer, vendor…: the customer answers every other one
    strategy = for_customer(issues, utility, reserve, (rnd.max_rounds + 1) // 2)
    for step in itertools.count():
        if rnd.status != "open":
            break
        if strategy.respond(_outcome(rnd.terms), step):
            answer = await connector.negotiate(offer.id, None, session_id=rnd.session_id)
            if answer.status == "accepted" and answer.terms == rnd.terms:
                result.agreed, result.utility, result.reason = rnd.terms, utility(_outcome(rnd.terms)), "accepted"
            else:
                result.reason = f"the vendor changed its terms on acceptance ({answer.status})"
            break
        proposal = strategy.propose(step)
        if proposal is None:
            result.reason = "no outcome beats walking away"
            break
        mine = _terms(proposal)
        record(rnd.round + 1, "buyer", mine)
        rnd = await connector.negotiate(offer.id, mine, session_id=rnd.session_id)
        if rnd.status == "accepted":
            if rnd.terms == mine:
                result.agreed, result.utility, result.reason = mine, utility(proposal), "vendor accepted"
            else:
                result.reason = "the vendor accepted terms other than those proposed"
            break
        if rnd.status == "open":
            record(rnd.round, rnd.proposer, rnd.terms)
    if not result.reason:
        result.reason = f"no agreement ({rnd.status})"
    if vault is not None:
        vault.put("negotiations", result.session_id or offer.id, {
            "vendor": offer.vendor_id, "offer": offer.id, "reason": result.reason,
            "agreed": _wire(result.agreed) if result.agreed else None, "utility": result.utility,
            "exchanges": [e.__dict__ for e in result.exchanges],
            "at": dt.datetime.now(dt.UTC).isoformat()})
    return result


async def negotiate_all(pairs: Sequence[tuple[Connector, Offer]], policies: PolicySet, vault: Vault | None = None,
                        *, reserve: float = 0.2, per_vendor_seconds: float = 30.0,
                        context: EvalContext | None = None) -> list[NegotiationResult]:
    """Negotiate every (connector, offer) at once; results best first. The winner waits for approval."""

    async def one(connector: Connector, offer: Offer) -> NegotiationResult:
        try:
            return await asyncio.wait_for(
                negotiate_offer(connector, offer, policies, vault, reserve=reserve, context=context),
                per_vendor_seconds)
        except TimeoutError:
            return NegotiationResult(offer.vendor_id, offer, reserve, reason="timed out")
        except ConnectorError as exc:
            return NegotiationResult(offer.vendor_id, offer, reserve, reason=exc.message)

    results = await asyncio.gather(*(one(c, o) for c, o in pairs))
    ranked = sorted(results, key=lambda r: (r.agreed is not None, r.utility), reverse=True)
    winner = ranked[0] if ranked and ranked[0].agreed else None
    if vault is not None and winner is not None and winner.agreed is not None:
        vault.put("approvals", f"purchase-{winner.session_id}", {
            "kind": "purchase", "state": "pending", "vendor": winner.vendor_id, "offer": winner.offer.id,
            "session": winner.session_id, "terms": _wire(winner.agreed), "utility": round(winner.utility, 4),
            "reasons": [f"{r.vendor_id}: {r.reason} (utility {r.utility:.2f})" for r in ranked]})
    return ranked
