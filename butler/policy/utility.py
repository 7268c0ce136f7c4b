"""Soft preferences → a utility function in [0, 1] over plain outcome dicts, for negotiation to maximise.

An outcome is a dict such as `{"price": Money or number, "term_months": 12, "data_use": "service",
"extras": ["free-delivery"], "certifications": ["B Corp"], "carbon": 120, "renewable_share": 0.8,
"rating": 4.5, "vendor": "acme"}`; your own attributes are looked up by name, then under `"attributes"`.
Each applicable preference scores its attribute between 0 (worst) and 1 (best); the utility is the
weighted mean. A missing or unreadable value scores 0; a price preference without a budget is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from butler.models import DataUse, Money, Offer
from butler.policy.consistency import BUILTIN_ATTRIBUTES
from butler.policy.engine import in_scope
from butler.policy.expr import normalise_name, normalise_names
from butler.policy.policyset import PolicySet
from butler.policy.rules import BudgetRule, Preference

__all__ = ["Utility", "budget_for", "offer_outcome", "offer_utility", "utility_for"]

Utility = Callable[[Mapping[str, Any]], float]

_ALIASES = {"carbon": ("carbon", "carbon_intensity_g_per_kwh")}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Money):
        return value.amount
    try:
        number = Decimal(str(value)) if isinstance(value, int | float | str) else value
    except InvalidOperation:
        return None
    return number if isinstance(number, Decimal) and number.is_finite() else None


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _lookup(outcome: Mapping[str, Any], attribute: str) -> Any:
    for key in _ALIASES.get(attribute, (attribute,)):
        if outcome.get(key) is not None:
            return outcome[key]
    extra = outcome.get("attributes")
    return extra.get(attribute) if isinstance(extra, Mapping) else None


def _price_score(value: Any, budget: Money) -> float:
    if isinstance(value, Money) and value.currency != budget.currency:
        return 0.0  # never compare across currencies
    price = _number(value)
    if price is None:
        return 0.0
    if budget.amount <= 0:
        return 1.0 if price <= 0 else 0.0
    return _clamp(1.0 - float(price / budget.amount))


def _data_use_score(value: Any) -> float:
    try:
        use = value if isinstance(value, DataUse) else DataUse(str(value))
    except ValueError:
        return 0.0
    return 1.0 - use.rank / (len(DataUse) - 1)


def _wanted_score(value: Any, wanted: tuple[str, ...]) -> float:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        return 0.0
    have = {normalise_name(str(v)) for v in value}
    want = normalise_names(wanted)
    return len(want & have) / len(want)


def _range_score(pref: Preference, value: Any) -> float:
    default = BUILTIN_ATTRIBUTES.get(pref.attribute)
    low = pref.min if pref.min is not None else (default[0] if default else None)
    high = pref.max if pref.max is not None else (default[1] if default else None)
    prefer = pref.prefer or (default[2] if default else "higher")
    number = _number(value)
    if number is None or low is None or high is None or high <= low:
        return 0.0
    score = _clamp(float((number - low) / (high - low)))
    return 1.0 - score if prefer == "lower" else score


def _score(pref: Preference, outcome: Mapping[str, Any], budget: Money | None) -> float | None:
    value = _lookup(outcome, pref.attribute)
    if pref.attribute == "price":
        return None if budget is None else _price_score(value, budget)
    if pref.attribute == "data_use":
        return _data_use_score(value)
    if pref.attribute in {"extras", "certifications"}:
        return _wanted_score(value, pref.wanted) if pref.wanted else None
    return _range_score(pref, value)


def utility_for(policies: PolicySet, category: str | None, budget: Money | None) -> Utility:
    """A function scoring outcome dicts in [0, 1] by the preferences that apply to `category`.

    The price is scored against `budget` (1 when free, 0 at or over budget, 0 in another currency).
    With no applicable preference every outcome scores 1.0.
    """
    prefs = [p.preference for p in policies.preferences]

    def utility(outcome: Mapping[str, Any]) -> float:
        vendor = outcome.get("vendor") or outcome.get("vendor_id")
        facts = {"kind": "offer", "category": category, "vendor": vendor}
        total = weights = 0.0
        for pref in prefs:
            if not in_scope(pref.applies_to, facts):
                continue
            score = _score(pref, outcome, budget)
            if score is None:
                continue
            total += float(pref.weight) * score
            weights += float(pref.weight)
        return _clamp(total / weights) if weights else 1.0

    return utility


def offer_outcome(offer: Offer) -> dict[str, Any]:
    """An offer as the outcome dict that utility functions read."""
    return {
        **{k: v for k, v in offer.attributes.items() if isinstance(k, str)},
        "vendor": offer.vendor_id,
        "category": offer.category,
        "price": offer.price,
        "term_months": offer.term_months,
        "data_use": offer.data_use,
        "extras": list(offer.extras),
        "certifications": list(offer.certifications),
        "carbon": offer.carbon_intensity_g_per_kwh,
        "renewable_share": offer.renewable_share,
        "rating": offer.rating,
        "auto_renew": offer.auto_renew,
        "attributes": dict(offer.attributes),
    }


def budget_for(offer: Offer, policies: PolicySet) -> Money | None:
    """The tightest per-purchase budget that applies to the offer, in the offer's currency."""
    facts = {"kind": "offer", "category": offer.category, "vendor": offer.vendor_id}
    limits = [
        p.rule.max_per_purchase
        for p in policies.rules
        if isinstance(p.rule, BudgetRule)
        and p.rule.max_per_purchase is not None
        and p.rule.max_per_purchase.currency == offer.price.currency
        and p.rule.when is None
        and in_scope(p.rule.applies_to, facts)
    ]
    return min(limits, key=lambda m: m.amount, default=None)


def offer_utility(offer: Offer, policies: PolicySet, budget: Money | None = None) -> float:
    """How well an offer fits the preferences, in [0, 1]. The budget defaults to `budget_for(offer, …)`."""
    chosen = budget if budget is not None else budget_for(offer, policies)
    return utility_for(policies, offer.category, chosen)(offer_outcome(offer))
