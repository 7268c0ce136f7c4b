from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from policy_helpers import PACKS, make_offer
from pydantic import TypeAdapter

from butler.models import DataUse, Money
from butler.policy import PolicySet, Preference, Rule, load_policies, offer_utility, utility_for
from butler.policy.utility import budget_for, offer_outcome


def pref(attribute: str, weight: int = 1, **fields: Any) -> Preference:
    return Preference(id=f"p-{attribute}", reason="r", attribute=attribute, weight=Decimal(weight), **fields)


EUR100 = Money.of("100", "EUR")


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (Money.of("0", "EUR"), 1.0),
        (Money.of("25", "EUR"), 0.75),
        (Money.of("100", "EUR"), 0.0),
        (Money.of("150", "EUR"), 0.0),
        (Money.of("25", "USD"), 0.0),  # never compared across currencies
        (Decimal("50"), 0.5),
        (50, 0.5),
        (None, 0.0),
        ("cheap", 0.0),
    ],
)
def test_price(price: Any, expected: float) -> None:
    u = utility_for(PolicySet.of(preferences=[pref("price")]), "any", EUR100)
    assert u({"price": price}) == pytest.approx(expected)


def test_price_without_budget_is_left_out() -> None:
    u = utility_for(PolicySet.of(preferences=[pref("price", 5), pref("term_months")]), "any", None)
    assert u({"price": Money.of("1000", "EUR"), "term_months": 0}) == 1.0


@pytest.mark.parametrize(
    ("preference", "outcome", "expected"),
    [
        (pref("term_months"), {"term_months": 0}, 1.0),
        (pref("term_months"), {"term_months": 18}, 0.5),
        (pref("term_months"), {"term_months": 48}, 0.0),
        (pref("term_months", min=Decimal(0), max=Decimal(12)), {"term_months": 6}, 0.5),
        (pref("data_use"), {"data_use": DataUse.NONE}, 1.0),
        (pref("data_use"), {"data_use": "share-third-party"}, 0.0),
        (pref("data_use"), {"data_use": "service"}, 0.8),
        (pref("data_use"), {"data_use": "bogus"}, 0.0),
        (pref("extras", wanted=("free delivery", "warranty")), {"extras": ["Free-Delivery"]}, 0.5),
        (pref("extras", wanted=("warranty",)), {"extras": "warranty"}, 0.0),
        (pref("certifications", wanted=("B Corp",)), {"certifications": ("b-corp",)}, 1.0),
        (pref("carbon"), {"carbon": 250}, 0.5),
        (pref("carbon"), {"carbon_intensity_g_per_kwh": 0}, 1.0),
        (pref("renewable_share"), {"renewable_share": 0.25}, 0.25),
        (pref("rating"), {"rating": Decimal("5")}, 1.0),
        (pref("rating"), {}, 0.0),
        (pref("battery", min=Decimal(0), max=Decimal(20), prefer="higher"), {"attributes": {"battery": 15}}, 0.75),
        (pref("noise", min=Decimal(20), max=Decimal(60), prefer="lower"), {"noise": 30}, 0.75),
    ],
)
def test_attributes(preference: Preference, outcome: dict[str, Any], expected: float) -> None:
    assert utility_for(PolicySet.of(preferences=[preference]), "x", None)(outcome) == pytest.approx(expected)


def test_weighted_mean_and_scope() -> None:
    prefs = [
        pref("term_months", 3),
        pref("rating", 1),
        Preference(id="food-only", reason="r", attribute="data_use", weight=Decimal(10),
                   applies_to={"categories": ["food"]}),
    ]
    u = utility_for(PolicySet.of(preferences=prefs), "tools", None)
    assert u({"term_months": 0, "rating": 0}) == pytest.approx(0.75)
    assert utility_for(PolicySet.of(), "x", None)({}) == 1.0


def test_offer_utility_uses_tightest_budget() -> None:
    rule = TypeAdapter(Rule).validate_python
    rules = [
        rule({"kind": "budget", "id": "a", "reason": "r", "max_per_purchase": "200 EUR"}),
        rule({"kind": "budget", "id": "b", "reason": "r", "max_per_purchase": "100 EUR"}),
        rule({"kind": "budget", "id": "c", "reason": "r", "max_per_purchase": "10 USD"}),
        rule({"kind": "budget", "id": "d", "reason": "r", "max_per_purchase": "10 EUR",
              "applies_to": {"categories": ["food"]}}),
    ]
    policies = PolicySet.of(rules, [pref("price")])
    offer = make_offer(price=Money.of("25", "EUR"))
    assert budget_for(offer, policies) == EUR100
    assert offer_utility(offer, policies) == pytest.approx(0.75)
    assert offer_utility(offer, policies, budget=Money.of("50", "EUR")) == pytest.approx(0.5)


def test_example_packs_give_scores_in_range() -> None:
    policies = load_policies(PACKS)
    for category in ["electricity", "clothing", "coffee", "streaming"]:
        offer = make_offer(category=category, rating=Decimal("4"), extras=("free-delivery",))
        assert 0.0 <= offer_utility(offer, policies) <= 1.0
        assert set(offer_outcome(offer)) >= {"price", "term_months", "data_use", "extras", "certifications"}
