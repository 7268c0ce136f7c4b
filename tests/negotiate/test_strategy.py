"""The customer strategy: never below the walk-away point, concedes over time, deterministic."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from butler.negotiate.strategy import CustomerStrategy, for_customer

ISSUES: dict[str, list[Any]] = {"price": [60, 70, 80, 90, 100], "months": [1, 12, 24], "data": ["none", "full"]}


def customer_utility(o: dict[str, Any]) -> float:
    price = (100 - o["price"]) / 40
    months = {1: 1.0, 12: 0.6, 24: 0.0}[o["months"]]
    data = 1.0 if o["data"] == "none" else 0.0
    return 0.6 * price + 0.2 * months + 0.2 * data


def vendor_utility(o: dict[str, Any]) -> float:
    return 1.0 - customer_utility(o)


def all_outcomes() -> list[dict[str, Any]]:
    return [{"price": p, "months": m, "data": d} for p in ISSUES["price"] for m in ISSUES["months"]
            for d in ISSUES["data"]]


def test_never_proposes_or_accepts_at_or_below_reserve() -> None:
    reserve = 0.5
    s = for_customer(ISSUES, customer_utility, reserve, 20)
    for step in range(20):
        offer = s.propose(step)
        assert offer is not None and customer_utility(offer) > reserve
        for outcome in all_outcomes():
            if customer_utility(outcome) <= reserve:
                assert s.respond(outcome, step) is False


def test_no_rational_outcome_means_no_proposal() -> None:
    s = for_customer(ISSUES, lambda o: customer_utility(o) / 2, 0.6, 10)  # no outcome scores above 0.5
    assert s.propose(0) is None
    assert s.respond({"price": 60, "months": 1, "data": "none"}, 9) is False


def test_opens_with_its_best_and_concedes_late() -> None:
    s = for_customer(ISSUES, customer_utility, 0.2, 100)
    first = customer_utility(s.propose(0) or {})
    assert first == max(customer_utility(o) for o in all_outcomes())
    assert s.aspiration(50) > s.aspiration(95) >= 0.2
    assert s.aspiration(50) > 0.9 * first  # Boulware: little given away by half time


def test_accepts_a_good_offer_and_anything_rational_at_the_deadline() -> None:
    s = for_customer(ISSUES, customer_utility, 0.2, 10)
    best = max(all_outcomes(), key=customer_utility)
    assert s.respond(best, 0) is True
    late = for_customer(ISSUES, customer_utility, 0.2, 10)
    modest = {"price": 90, "months": 12, "data": "none"}  # utility 0.47
    assert late.respond(modest, 1) is False
    assert late.respond(modest, 9) is True


def test_self_play_against_a_conceding_vendor_reaches_a_rational_deal() -> None:
    s = for_customer(ISSUES, customer_utility, 0.3, 50)
    outcomes = sorted(all_outcomes(), key=vendor_utility, reverse=True)
    deal = None
    for step in range(50):
        vendor_offer = outcomes[min(len(outcomes) - 1, step // 3)]
        if s.respond(vendor_offer, step):
            deal = vendor_offer
            break
        mine = s.propose(step)
        if mine is not None and vendor_utility(mine) >= 0.75 - step / 100:
            deal = mine
            break
    assert deal is not None and customer_utility(deal) > 0.3


@settings(max_examples=60, deadline=None)
@given(reserve=st.floats(0, 1, exclude_max=True),
       offers=st.lists(st.sampled_from(all_outcomes()), min_size=1, max_size=30),
       n_steps=st.integers(1, 40))
def test_property_never_irrational(reserve: float, offers: list[dict[str, Any]], n_steps: int) -> None:
    s = CustomerStrategy(ISSUES, customer_utility, reserve, n_steps)
    for step, offer in enumerate(offers):
        step = min(step, n_steps - 1)
        if s.respond(offer, step):
            assert customer_utility(offer) > reserve
        mine = s.propose(step)
        assert mine is None or customer_utility(mine) > reserve


def test_deterministic() -> None:
    a = for_customer(ISSUES, customer_utility, 0.3, 30)
    b = for_customer(ISSUES, customer_utility, 0.3, 30)
    seq = [{"price": 100, "months": 24, "data": "full"}, {"price": 90, "months": 24, "data": "full"}]
    for step, offer in enumerate(seq):
        assert a.respond(offer, step) == b.respond(offer, step)
        assert a.propose(step) == b.propose(step)
