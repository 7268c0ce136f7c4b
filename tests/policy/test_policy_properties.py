"""Properties: adding rules never weakens a refusal; every reason cites a rule of the set, where it lives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import PACKS
from pydantic import TypeAdapter

from butler.models import DataUse, Money, Offer
from butler.policy import EvalContext, PolicySet, Rule, Verdict, evaluate, load_policies

VENDORS = ["acme", "beta", "gamma"]
CATEGORIES = ["clothing", "electricity", "coffee", "tools"]
CERTS = ["Fairtrade", "B Corp", "FSC", "fair-wear"]
CURRENCIES = ["EUR", "USD"]
COUNTRIES = ["PT", "FR", "XX"]
CONDITIONS = [
    '"fair-wear" in certifications or rating >= 4',
    "term_months <= 12 and not auto_renew",
    'country_of_origin in ["PT", "FR"]',
    "price < 100",
    "renewable_percent >= 50",
]
_RULE = TypeAdapter(Rule)


def _money() -> st.SearchStrategy[str]:
    return st.builds(lambda a, c: f"{a} {c}", st.integers(0, 300), st.sampled_from(CURRENCIES))


def _subset(items: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True)


_RULE_FIELDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "budget": st.fixed_dictionaries({"max_per_purchase": _money()}, optional={"max_per_month": _money()}),
    "ban": st.fixed_dictionaries({"vendors": _subset(VENDORS)}),
    "certifications": st.fixed_dictionaries({}, optional={"any_of": _subset(CERTS), "all_of": _subset(CERTS)})
    .filter(bool),
    "energy": st.fixed_dictionaries({"max_carbon_g_per_kwh": st.integers(0, 500)},
                                    optional={"min_renewable_percent": st.integers(0, 100)}),
    "contract-length": st.fixed_dictionaries({"max_months": st.integers(0, 36)}),
    "no-auto-renewal": st.just({}),
    "data-use": st.fixed_dictionaries({"max": st.sampled_from([d.value for d in DataUse])}),
    "origin": st.fixed_dictionaries({"deny": _subset(COUNTRIES)}),
    "myterms": st.fixed_dictionaries({"agreements": _subset(["SD-BASE", "SD-BASE-A", "SD-BASE-DP"])}),
    "condition": st.fixed_dictionaries({"require": st.sampled_from(CONDITIONS)}),
}


@st.composite
def rules(draw: st.DrawFn, prefix: str) -> list[Rule]:
    out: list[Rule] = []
    for n in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(sorted(_RULE_FIELDS)))
        fields = draw(_RULE_FIELDS[kind])
        fields.update(id=f"{prefix}{n}", kind=kind, reason=f"reason {prefix}{n}",
                      action=draw(st.sampled_from(["deny", "ask"])))
        if draw(st.booleans()):
            fields["applies_to"] = {"categories": draw(_subset(CATEGORIES))}
        out.append(_RULE.validate_python(fields))
    return out


def _dec(low: int, high: int) -> st.SearchStrategy[Decimal | None]:
    return st.none() | st.integers(low, high).map(Decimal)


offers = st.builds(
    Offer,
    id=st.just("o"),
    vendor_id=st.sampled_from(VENDORS),
    product=st.just("p"),
    category=st.sampled_from(CATEGORIES),
    price=st.builds(lambda a, c: Money.of(a, c), st.integers(0, 300), st.sampled_from(CURRENCIES)),
    term_months=st.integers(0, 36),
    auto_renew=st.booleans(),
    data_use=st.sampled_from(list(DataUse)),
    myterms=st.none() | st.sampled_from(["SD-BASE", "SD-BASE-ATP"]),
    certifications=st.lists(st.sampled_from(CERTS), unique=True).map(tuple),
    country_of_origin=st.none() | st.sampled_from(COUNTRIES),
    carbon_intensity_g_per_kwh=_dec(0, 600),
    renewable_share=st.none() | st.integers(0, 100).map(lambda n: Decimal(n) / 100),
    rating=_dec(0, 5),
)
contexts = st.builds(
    EvalContext,
    spent_this_month=st.none() | st.builds(lambda a, c: Money.of(a, c), st.integers(0, 500),
                                           st.sampled_from(CURRENCIES)),
)


@settings(max_examples=300, deadline=None)
@given(offer=offers, base=rules("base-"), extra=rules("extra-"), context=contexts)
def test_adding_rules_never_weakens_the_verdict(
    offer: Offer, base: list[Rule], extra: list[Rule], context: EvalContext
) -> None:
    before = evaluate(offer, PolicySet.of(base), context).verdict
    after = evaluate(offer, PolicySet.of(base + extra), context).verdict
    assert after.rank >= before.rank
    if before is Verdict.DENY:
        assert after is Verdict.DENY


@settings(max_examples=300, deadline=None)
@given(offer=offers, chosen=rules("r-"), context=contexts)
def test_every_reason_cites_a_rule_in_the_set(offer: Offer, chosen: list[Rule], context: EvalContext) -> None:
    policies = PolicySet.of(chosen)
    decision = evaluate(offer, policies, context)
    placed = {(p.rule.id, p.location) for p in policies.rules}
    for reason in decision.reasons:
        assert (reason.rule_id, reason.location) in placed
        assert reason.text
    assert decision.verdict is Verdict.strongest(r.verdict for r in decision.reasons)


PACK_SET = load_policies(PACKS)


@settings(max_examples=300, deadline=None)
@given(offer=offers, context=contexts)
def test_example_pack_reasons_cite_their_files(offer: Offer, context: EvalContext) -> None:
    placed = {(p.rule.id, p.location) for p in PACK_SET.rules}
    decision = evaluate(offer, PACK_SET, context)
    for reason in decision.reasons:
        assert (reason.rule_id, reason.location) in placed
        assert reason.location.split(":")[0].endswith(".toml")
        assert reason.text.endswith(PACK_SET.rule(reason.rule_id).rule.reason)  # type: ignore[union-attr]
