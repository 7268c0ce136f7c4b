"""Negotiating with vendors through their connectors: the shell around the pure strategy.

For one offer, `negotiate_offer` lays out the issues (price steps, term, data use, extras), scores every
outcome with the person's preferences and hard-constraint check, and plays the customer strategy against the
vendor's negotiation endpoint, recording every offer and counter-offer in the vault and the audit log. A vendor
that does not negotiate (most shops) sells at its listed terms: that offer is judged like any agreement (the
walk-away point, the listed price, the budget) and, if it wins, waits for approval as a fixed-price purchase.
`negotiate_all` does that with several vendors at once, each under its own time limit, ranks the results and
puts the best one in the approval queue: nothing is bought here.

Guard rails, whatever the vendor says: an outcome priced above the listed price, above the budget or in
another currency scores 0 (never accepted), and an agreement so priced is refused; the reserve must lie in
[0, 1); a vendor that switches currency or keeps countering past `ROUND_LIMIT` rounds is walked away from; an
answer the models refuse (a price below 0 or above `MAX_AMOUNT`) and any other failure of one vendor end that
vendor's negotiation only, with a reason a person can read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from butler.approvals import submit
from butler.models import DataUse, Money, Offer, amount_problem
from butler.negotiate.approvals import PurchaseItem, purchase_id
from butler.negotiate.checkout import answer_problem
from butler.negotiate.strategy import check_reserve, for_customer
from butler.policy import EvalContext, PolicySet, evaluate, utility_for
from butler.policy.decision import Verdict
from butler.records import Collection
from butler.sdk import Capability, Connector, ConnectorError, Terms
from butler.vault import Record, Vault

__all__ = [
    "RECORDS",
    "ROUND_LIMIT",
    "Exchange",
    "NegotiationResult",
    "abandon",
    "issue_space",
    "negotiate_all",
    "negotiate_offer",
    "negotiation_record_id",
    "negotiation_records",
    "outcome_utility",
    "purchase_item",
    "purchase_item_id",
    "result_from_record",
    "wire_terms",
]

PRICE_STEPS = (Decimal("0.70"), Decimal("0.75"), Decimal("0.80"), Decimal("0.85"), Decimal("0.90"),
               Decimal("0.95"), Decimal("1.00"))
ROUND_LIMIT = 100
"""The most rounds butler plays, whatever `max_rounds` a vendor announces: an endless loop is walked away from."""

COLLECTION = "negotiations"
RECORDS = Collection(COLLECTION, __name__, "every negotiation, offer by offer", id_scheme="<intent>--<vendor>")


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
    connector_id: str | None = None
    record_id: str | None = None
    fixed_price: bool = False  # the vendor does not negotiate: `agreed` is its listed offer

    @property
    def saving(self) -> Money | None:
        return self.offer.price - self.agreed.price if self.agreed else None


def issue_space(offer: Offer) -> dict[str, list[Any]]:
    """The outcomes butler may propose for `offer`: price steps down to 70 %, terms, data use, extras.

    ValueError when the offer's price is out of range (see `butler.models.amount_problem`).
    """
    problem = amount_problem(offer.price)
    if problem is not None:
        raise ValueError(f"offer {offer.id}: price {problem}")
    cents = Decimal("0.01")
    prices = [Money(amount=(offer.price.amount * s).quantize(cents), currency=offer.price.currency)
              for s in PRICE_STEPS]
    terms = sorted({0, 12, offer.term_months})
    uses = [u for u in (DataUse.NONE, DataUse.SERVICE, offer.data_use) if u.rank <= offer.data_use.rank]
    extras: list[tuple[str, ...]] = [(), tuple(offer.extras)] if offer.extras else [()]
    return {"price": prices, "term_months": terms, "data_use": sorted(set(uses), key=lambda u: u.rank),
            "extras": extras}


def outcome_utility(offer: Offer, policies: PolicySet, context: EvalContext | None = None, *,
                    budget: Money | None = None) -> Callable[[dict[str, Any]], float]:
    """Preferences as a utility over outcomes; an outcome that a hard rule denies scores 0.

    So does one priced in another currency than the offer, above the listed price, or above `budget`.
    """
    prefs = utility_for(policies, offer.category, offer.price)
    cache: dict[tuple[Any, ...], float] = {}

    def breaks_limits(price: Any) -> bool:
        if not isinstance(price, Money) or price.currency != offer.price.currency or price > offer.price:
            return True
        return budget is not None and (budget.currency != price.currency or price > budget)

    def utility(outcome: dict[str, Any]) -> float:
        key = (outcome["price"], outcome["term_months"], outcome["data_use"], tuple(outcome["extras"]))
        if key not in cache:
            if breaks_limits(outcome["price"]):
                cache[key] = 0.0
                return 0.0
            candidate = offer.model_copy(update={
                "price": outcome["price"], "term_months": outcome["term_months"],
                "data_use": DataUse(outcome["data_use"]), "extras": tuple(outcome["extras"])})
            denied = evaluate(candidate, policies, context).verdict == Verdict.DENY
            # a cheaper price than listed always helps: half the score from price saved, half from preferences
            listed = offer.price.amount
            saved = float((listed - outcome["price"].amount) / listed) / 0.3 if listed else 1.0
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


def wire_terms(terms: Terms) -> dict[str, Any]:
    """Terms as a person reads them in the vault and the audit log (price as "7.86 EUR")."""
    return {"price": str(terms.price), "term_months": terms.term_months, "data_use": terms.data_use.value,
            "extras": list(terms.extras)}


_wire = wire_terms


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def negotiation_records(vault: Vault, intent_id: str | None = None) -> list[Record]:
    """The stored negotiations (of one intent, when given), as stored."""
    return [r for r in vault.records(COLLECTION) if intent_id is None or r.data.get("intent") == intent_id]


def abandon(vault: Vault, record: Record) -> None:
    """Mark a negotiation a crash interrupted as abandoned; it is negotiated again from the start."""
    vault.put(COLLECTION, record.id, {**record.data, "state": "abandoned"})
    vault.audit.append("negotiate.resumed", record.id, {"intent": record.data.get("intent")})


def negotiation_record_id(intent_id: str, vendor_id: str) -> str:
    """The id of an intent's negotiation with one vendor in `negotiations`."""
    return f"{intent_id}--{vendor_id}"


def purchase_item_id(key: str) -> str:
    """The id of the purchase waiting for approval, keyed by its intent (or, without one, its session)."""
    return purchase_id(key)


class _WalkAway(Exception):
    """The vendor broke a guard rail; the negotiation ends without agreement."""


async def negotiate_offer(connector: Connector, offer: Offer, policies: PolicySet, vault: Vault | None = None,
                          *, reserve: float = 0.2, context: EvalContext | None = None, budget: Money | None = None,
                          connector_id: str | None = None, intent_id: str | None = None) -> NegotiationResult:
    """Negotiate `offer` with its vendor until agreement, walk-away or the vendor's last round.

    With an `intent_id` the negotiation is stored as `negotiations/<intent>--<vendor>`: "open" while it runs,
    "done" once it ended, so that a run interrupted by a crash can tell which vendors to negotiate again.
    ValueError when `reserve` is outside [0, 1) or the offer's price out of range.
    """
    reserve = check_reserve(reserve)
    result = NegotiationResult(offer.vendor_id, offer, reserve, connector_id=connector_id)
    utility = outcome_utility(offer, policies, context, budget=budget)
    issues = issue_space(offer)
    subject = f"{offer.vendor_id}/{offer.id}"
    if intent_id is not None:
        result.record_id = negotiation_record_id(intent_id, offer.vendor_id)
        if vault is not None:
            vault.put(COLLECTION, result.record_id, {
                "state": "open", "intent": intent_id, "connector": connector_id, "vendor": offer.vendor_id,
                "offer": offer.id, "offer_data": offer.model_dump(mode="json"), "at": _now()}, audit=False)

    def record(round_: int, proposer: str, terms: Terms) -> None:
        u = utility(_outcome(terms))
        result.exchanges.append(Exchange(round_, proposer, _wire(terms), u))
        if vault is not None:
            vault.audit.append(f"negotiate.{proposer}-offer", subject,
                               {"round": round_, "terms": _wire(terms), "utility": round(u, 4),
                                "session": result.session_id, "intent": intent_id})

    def check(terms: Terms) -> None:
        if terms.price.currency != offer.price.currency:
            raise _WalkAway(f"the vendor switched currency from {offer.price.currency} to {terms.price.currency}")

    try:
        if Capability.NEGOTIATE not in connector.manifest.capabilities:
            # a vendor that sells at a fixed price: its listed terms are the only ones, judged like any agreement
            listed = Terms(price=offer.price, term_months=offer.term_months, data_use=offer.data_use,
                           extras=offer.extras)
            record(1, "vendor", listed)
            result.agreed, result.utility, result.fixed_price = listed, utility(_outcome(listed)), True
            result.reason = "the vendor's fixed price (it does not negotiate)"
        else:
            rnd = await connector.negotiate(offer.id)
            result.session_id = rnd.session_id
            check(rnd.terms)
            record(rnd.round, rnd.proposer, rnd.terms)
            # rounds alternate vendor, buyer, vendor…: the customer answers every other one
            strategy = for_customer(issues, utility, reserve, (min(rnd.max_rounds, ROUND_LIMIT) + 1) // 2)
            for step in itertools.count():
                if rnd.status != "open":
                    break
                if step >= strategy.n_steps or rnd.round >= ROUND_LIMIT:
                    raise _WalkAway(f"the vendor kept countering past {rnd.round} rounds")
                if strategy.respond(_outcome(rnd.terms), step):
                    answer = await connector.negotiate(offer.id, None, session_id=rnd.session_id)
                    if answer.status == "accepted" and answer.terms == rnd.terms:
                        result.agreed, result.utility = rnd.terms, utility(_outcome(rnd.terms))
                        result.reason = "accepted"
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
                check(rnd.terms)
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
    except _WalkAway as exc:
        result.reason = str(exc)
        if vault is not None:
            vault.audit.append("negotiate.walked-away", subject, {"reason": result.reason, "intent": intent_id})
    if result.agreed is not None and result.utility <= reserve:  # belt and braces: never below the walk-away point
        result.agreed, result.utility, result.reason = None, 0.0, "refused: below the walk-away point"
    over = _over_limits(result.agreed.price, offer.price, budget) if result.agreed is not None else None
    if over is not None:  # and never above the listed price or the budget, whatever the utility said
        result.agreed, result.utility, result.reason = None, 0.0, f"refused: {over}"
    if vault is not None:
        vault.put(COLLECTION, result.record_id or result.session_id or offer.id, _record(result, intent_id))
    return result


def _over_limits(price: Money, listed: Money, budget: Money | None) -> str | None:
    """Why an agreed `price` may not be bought: in another currency, or above the listed price or the budget."""
    if price.currency != listed.currency or price > listed:
        return f"the agreed price {price} is not within the listed {listed}"
    if budget is not None and (price.currency != budget.currency or price > budget):
        return f"the agreed price {price} is above your budget {budget}"
    return None


def _record(result: NegotiationResult, intent_id: str | None) -> dict[str, Any]:
    return {
        "state": "done", "intent": intent_id, "connector": result.connector_id, "vendor": result.vendor_id,
        "offer": result.offer.id, "offer_data": result.offer.model_dump(mode="json"), "session": result.session_id,
        "reason": result.reason, "agreed": _wire(result.agreed) if result.agreed else None,
        "agreed_terms": result.agreed.model_dump(mode="json") if result.agreed else None,
        "utility": result.utility, "reserve": result.reserve,
        "exchanges": [e.__dict__ for e in result.exchanges], "fixed_price": result.fixed_price, "at": _now()}


def result_from_record(record_id: str, data: dict[str, Any]) -> NegotiationResult:
    """A finished negotiation as stored by `negotiate_offer` (used to resume an interrupted run)."""
    agreed = Terms.model_validate(data["agreed_terms"]) if data.get("agreed_terms") else None
    return NegotiationResult(
        vendor_id=data["vendor"], offer=Offer.model_validate(data["offer_data"]),
        reserve=float(data.get("reserve", 0.2)), agreed=agreed, utility=float(data.get("utility", 0.0)),
        session_id=data.get("session"), exchanges=[Exchange(**e) for e in data.get("exchanges", [])],
        reason=str(data.get("reason", "")), connector_id=data.get("connector"), record_id=record_id,
        fixed_price=bool(data.get("fixed_price", False)))


def purchase_item(result: NegotiationResult, intent_id: str | None, reasons: list[str]) -> dict[str, Any]:
    """The approval-queue item for buying what `result` agreed (see butler.negotiate.approvals)."""
    assert result.agreed is not None
    return {
        "kind": "purchase", "state": "pending", "vendor": result.vendor_id, "offer": result.offer.id,
        "session": result.session_id, "connector": result.connector_id, "intent": intent_id,
        "category": result.offer.category, "period": result.offer.period, "product": result.offer.product,
        "listed": str(result.offer.price),
        "terms": _wire(result.agreed), "agreed_terms": result.agreed.model_dump(mode="json"),
        "utility": round(result.utility, 4), "created": _now(), "reasons": reasons,
        "fixed_price": result.fixed_price}


async def negotiate_all(pairs: Sequence[tuple[Connector, Offer]], policies: PolicySet, vault: Vault | None = None,
                        *, reserve: float = 0.2, per_vendor_seconds: float = 30.0,
                        context: EvalContext | None = None, budget: Money | None = None,
                        connector_ids: Sequence[str | None] | None = None, intent_id: str | None = None,
                        done: Sequence[NegotiationResult] = ()) -> list[NegotiationResult]:
    """Negotiate every (connector, offer) at once; results best first (with `done` ones from an earlier run).

    Each vendor has `per_vendor_seconds`; a vendor that fails or stalls ends with a reason, never the run.
    The winner waits for approval in the vault's `approvals` collection. ValueError when `reserve` is outside
    [0, 1).
    """
    reserve = check_reserve(reserve)
    ids = list(connector_ids) if connector_ids is not None else [None] * len(pairs)

    async def one(connector: Connector, offer: Offer, cid: str | None) -> NegotiationResult:
        try:
            return await asyncio.wait_for(
                negotiate_offer(connector, offer, policies, vault, reserve=reserve, context=context, budget=budget,
                                connector_id=cid, intent_id=intent_id),
                per_vendor_seconds)
        except TimeoutError:
            reason = f"timed out after {per_vendor_seconds:g} s"
        except ConnectorError as exc:
            reason = exc.message
        except ValueError as exc:  # the vendor's answer broke the models (a price out of range…)
            reason = f"the vendor's answer is refused: {answer_problem(exc)}"
        except Exception as exc:  # a connector's own bug must not end the other negotiations
            reason = f"the connector failed: {type(exc).__name__}"
        failed = NegotiationResult(offer.vendor_id, offer, reserve, reason=reason, connector_id=cid,
                                   record_id=negotiation_record_id(intent_id, offer.vendor_id) if intent_id else None)
        if vault is not None:
            vault.audit.append("negotiate.vendor-failed", f"{offer.vendor_id}/{offer.id}",
                               {"reason": reason, "intent": intent_id})
            if failed.record_id is not None:
                vault.put(COLLECTION, failed.record_id, _record(failed, intent_id))
        return failed

    results = [*done, *await asyncio.gather(*(one(c, o, cid) for (c, o), cid in zip(pairs, ids, strict=True)))]
    ranked = sorted(results, key=lambda r: (r.agreed is not None, r.utility), reverse=True)
    winner = ranked[0] if ranked and ranked[0].agreed else None
    if vault is not None and winner is not None and winner.agreed is not None:
        item = PurchaseItem.model_validate({
            **purchase_item(winner, intent_id, [f"{r.vendor_id}: {r.reason} (utility {r.utility:.2f})"
                                                for r in ranked]),
            "id": purchase_item_id(intent_id or str(winner.session_id))})
        agreed = winner.agreed
        agreed_offer = winner.offer.model_copy(update={
            "price": agreed.price, "term_months": agreed.term_months, "data_use": agreed.data_use,
            "extras": agreed.extras})
        decision = evaluate(agreed_offer, policies, context)
        fired = [f"your rule {r.rule_id} ({r.location}): {r.text}" for r in decision.fired]
        item = item.model_copy(update={"policy": decision.explain().splitlines(),
                                       "reasons": [*fired, *item.reasons]})  # the rules that made it wait first
        connector = next((c for (c, o), cid in zip(pairs, ids, strict=True)
                          if cid == winner.connector_id and o.id == winner.offer.id), None)
        if connector is not None:
            item = await item.with_quote(connector, budget, per_vendor_seconds)
        submit(vault, item, replace_pending=True)
    return ranked
