"""`butler bench negotiate`: the customer strategy against the example vendors' strategies, in process.

Three consumer domains (energy renewal, phone contract, a laptop under budget with the ethics pack), each in
three price variants, against Boulware, Conceder, tit-for-tat and the hardliner, with either side opening,
100 rounds. The person's utility is `outcome_utility` over the example policy packs (hard rules score 0) plus
the budget; the vendor's is `examples.vendors.strategies.vendor_utility`. Printed per domain and strategy:
mean customer utility (a failed negotiation counts as the reserve), advantage (u − reserve)/(max − reserve),
agreement rate, deals at or below the reserve (must be 0), agreed deals a policy denies or above the budget
(must be 0), and the mean distance of agreements to the Nash bargaining point.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from butler.models import DataUse, Money, Offer
from butler.negotiate.session import issue_space, outcome_utility
from butler.negotiate.strategy import CustomerStrategy, for_customer
from butler.policy import EvalContext, PolicySet, evaluate, load_policies
from butler.policy.decision import Verdict
from butler.policy.packs import pack_dir

__all__ = ["Domain", "play", "run"]

RESERVE = 0.2


@dataclass(frozen=True)
class Domain:
    name: str
    offer: Offer
    issues: Any  # examples.vendors.strategies.Issues
    budget: Money | None


def _examples() -> Any:
    root = Path(__file__).resolve().parents[2]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from examples.vendors import catalog, strategies

    return catalog, strategies


def domains() -> list[Domain]:
    catalog, _ = _examples()
    products = {p.id: p for spec in catalog.VENDORS.values() for p in spec.products}
    out = []
    for scale in (Decimal("0.9"), Decimal("1.0"), Decimal("1.1")):
        def issues_of(pid: str, list_price: Decimal | None = None, scale: Decimal = scale) -> Any:
            base = products[pid].issues
            price = ((list_price or base.list_price) * scale).quantize(Decimal("0.01"))
            return replace(base, list_price=price,
                           floor_price=(price * base.floor_price / base.list_price).quantize(Decimal("0.01")))

        energy = issues_of("voltwise-green-12", Decimal("84.75"))  # monthly bill at 2900 kWh
        out.append(Domain(f"energy renewal x{scale}", Offer(
            id="e", vendor_id="voltwise", product="Green Fixed 12", category="electricity",
            price=Money(amount=energy.list_price, currency="EUR"), period="month", term_months=energy.terms[-1],
            data_use=DataUse(energy.data_uses[-1]), extras=tuple(energy.extras), carbon_intensity_g_per_kwh=Decimal(38),
            renewable_share=Decimal(1), certifications=("EKOenergy",)), energy, None))
        phone = issues_of("parla-20")
        out.append(Domain(f"phone contract x{scale}", Offer(
            id="p", vendor_id="parla", product="Parla 20 GB", category="mobile",
            price=Money(amount=phone.list_price, currency="EUR"), period="month", term_months=phone.terms[-1],
            data_use=DataUse(phone.data_uses[-1]), extras=tuple(phone.extras)), phone, None))
        laptop = issues_of("hearth-laptop", Decimal("899.00"))
        out.append(Domain(f"laptop under 900 EUR x{scale}", Offer(
            id="l", vendor_id="fairbyte", product="Laptop 14 inch", category="electronics",
            price=Money(amount=laptop.list_price, currency="EUR"), period="once",
            data_use=DataUse(laptop.data_uses[-1]), extras=tuple(laptop.extras), certifications=("B Corp",),
            country_of_origin="NL", rating=Decimal(4)), laptop, Money.of("900.00", "EUR")))
    return out


@dataclass(frozen=True)
class Play:
    agreed: dict[str, Any] | None
    utility: float
    vendor_utility: float
    rounds: int


def linear_customer(issues: dict[str, list[Any]], utility: Callable[[dict[str, Any]], float], reserve: float,
                    n_steps: int) -> CustomerStrategy:
    """The baseline: the same machinery conceding linearly in time, like a textbook time-based agent."""
    return CustomerStrategy(issues, utility, reserve, n_steps, concession=1.0)


def play(domain: Domain, vendor: Any, utility: Callable[[dict[str, Any]], float], *, customer_first: bool,
         max_rounds: int = 100, reserve: float = RESERVE,
         make_customer: Callable[..., CustomerStrategy] = for_customer) -> Play:
    """One alternating-offers negotiation, both sides in process, as `negotiate_offer` plays it over HTTP."""
    _, st = _examples()
    issues = domain.issues
    cur = domain.offer.price.currency
    customer = make_customer(issue_space(domain.offer), utility, reserve, (max_rounds + 1) // 2)

    def position(o: dict[str, Any]) -> Any:
        return st.Position(o["price"].amount, o["term_months"], DataUse(o["data_use"]).value, tuple(o["extras"]))

    def outcome(p: Any) -> dict[str, Any]:
        return {"price": Money(amount=p.price, currency=cur), "term_months": p.term_months,
                "data_use": DataUse(p.data_use), "extras": tuple(p.extras)}

    def deal(o: dict[str, Any], rounds: int) -> Play:
        return Play(o, utility(o), float(st.vendor_utility(issues, position(o))), rounds)

    buyer: list[Any] = []
    target = 1.0
    round_ = 0
    vendor_offer: dict[str, Any] | None = None
    if not customer_first:
        round_, vendor_offer = 1, outcome(st.opening(issues))
    for step in range(max_rounds):
        if vendor_offer is not None and customer.respond(vendor_offer, step):
            return deal(vendor_offer, round_)
        proposal = customer.propose(step)
        round_ += 1
        if proposal is None or round_ > max_rounds:
            break
        buyer.append(position(proposal))
        decision = st.decide(vendor, issues, buyer, round_, max_rounds, target)
        target = decision.target
        if decision.accept:
            return deal(proposal, round_)
        if decision.counter is None or round_ + 1 > max_rounds:
            break
        round_ += 1
        vendor_offer = outcome(decision.counter)
    return Play(None, reserve, 0.0, min(round_, max_rounds))


def _nash(domain: Domain, utility: Callable[[dict[str, Any]], float], reserve: float) -> tuple[float, float]:
    _, st = _examples()
    space = issue_space(domain.offer)
    best, point = -1.0, (reserve, 0.0)
    for price in space["price"]:
        for term in space["term_months"]:
            for use in space["data_use"]:
                for extras in space["extras"]:
                    o = {"price": price, "term_months": term, "data_use": use, "extras": extras}
                    uc = utility(o)
                    uv = float(st.vendor_utility(domain.issues, st.Position(price.amount, term, use.value, extras)))
                    if uc > reserve and uv > 0 and (uc - reserve) * uv > best:
                        best, point = (uc - reserve) * uv, (uc, uv)
    return point


def _violates(domain: Domain, agreed: dict[str, Any], policies: PolicySet, context: EvalContext) -> bool:
    price: Money = agreed["price"]
    if price > domain.offer.price or (domain.budget is not None and price > domain.budget):
        return True
    candidate = domain.offer.model_copy(update={"price": price, "term_months": agreed["term_months"],
                                                "data_use": DataUse(agreed["data_use"]),
                                                "extras": tuple(agreed["extras"])})
    return evaluate(candidate, policies, context).verdict == Verdict.DENY


def run(rounds: int = 100, say: Callable[[str], None] = print) -> int:
    """Print the table; returns 1 if any deal fell below the reserve or broke a policy, else 0."""
    _, st = _examples()
    policies = load_policies(pack_dir())
    context = EvalContext()
    say(f"customer strategy vs example vendor strategies: {rounds} rounds, reserve {RESERVE}, "
        f"{len(policies.rules)} policy rules")
    say(f"{'domain':<16} {'vendor':<12} {'utility':>7} {'advant.':>7} {'agreed':>7} {'<=res':>5} {'viol.':>5} "
        f"{'nash d':>7} {'rounds':>6}")
    bad = 0
    totals: dict[str, list[float]] = {"u": [], "a": [], "agreed": [], "nash": []}
    baseline: dict[str, list[float]] = {"u": [], "a": [], "agreed": []}
    for family in ("energy renewal", "phone contract", "laptop under 900 EUR"):
        chosen = [d for d in domains() if d.name.startswith(family)]
        for name, vendor in st.STRATEGIES.items():
            us, adv, agreed, below, violations, dist, lengths = [], [], 0, 0, 0, [], []
            for domain in chosen:
                utility = outcome_utility(domain.offer, policies, context, budget=domain.budget)
                best = for_customer(issue_space(domain.offer), utility, RESERVE, 1).best_u
                nash = _nash(domain, utility, RESERVE)
                for customer_first in (False, True):
                    linear = play(domain, vendor, utility, customer_first=customer_first, max_rounds=rounds,
                                  make_customer=linear_customer)
                    baseline["u"].append(linear.utility)
                    baseline["a"].append((linear.utility - RESERVE) / (best - RESERVE) if best > RESERVE else 0.0)
                    baseline["agreed"].append(float(linear.agreed is not None))
                    bad += linear.agreed is not None and linear.utility <= RESERVE
                    result = play(domain, vendor, utility, customer_first=customer_first, max_rounds=rounds)
                    us.append(result.utility)
                    adv.append((result.utility - RESERVE) / (best - RESERVE) if best > RESERVE else 0.0)
                    lengths.append(result.rounds)
                    if result.agreed is not None:
                        agreed += 1
                        below += result.utility <= RESERVE
                        violations += _violates(domain, result.agreed, policies, context)
                        dist.append(math.dist((result.utility, result.vendor_utility), nash))
            n = len(us)
            bad += below + violations
            totals["u"] += us
            totals["a"] += adv
            totals["agreed"].append(agreed / n)
            totals["nash"] += dist
            say(f"{family[:16]:<16} {name:<12} {sum(us) / n:>7.3f} {sum(adv) / n:>7.3f} {agreed / n:>7.0%} "
                f"{below:>5} {violations:>5} {(sum(dist) / len(dist) if dist else float('nan')):>7.3f} "
                f"{sum(lengths) / n:>6.1f}")
    say(f"{'overall':<29} {sum(totals['u']) / len(totals['u']):>7.3f} {sum(totals['a']) / len(totals['a']):>7.3f} "
        f"{sum(totals['agreed']) / len(totals['agreed']):>7.0%} "
        f"{'':>11} {sum(totals['nash']) / max(1, len(totals['nash'])):>7.3f}")
    base_u = sum(baseline["u"]) / len(baseline["u"])
    base_a = sum(baseline["a"]) / len(baseline["a"])
    ours_a = sum(totals["a"]) / len(totals["a"])
    ours_u = sum(totals["u"]) / len(totals["u"])
    say(f"{'baseline: linear concession':<29} {base_u:>7.3f} {base_a:>7.3f} "
        f"{sum(baseline['agreed']) / len(baseline['agreed']):>7.0%}   (same vendors, same run)")
    say(f"advantage vs the baseline: {ours_a - base_a:+.3f}; utility ×{ours_u / base_u:.2f}")
    say("deals at or below the reserve and policy violations must both be 0" + (": FAILED" if bad else ": ok"))
    return 1 if bad else 0
