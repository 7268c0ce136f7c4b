"""Table-driven: each kind of hard constraint, with boundary values and mismatched currencies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from policy_helpers import make_offer
from pydantic import TypeAdapter

from butler.models import DataUse, Money, Vendor
from butler.policy import (
    AgreementProposal,
    EvalContext,
    PolicySet,
    PromoEmail,
    Renewal,
    Rule,
    Subject,
    UnsubscribeAction,
    Verdict,
    evaluate,
)

ALLOW, ASK, DENY = Verdict.ALLOW, Verdict.ASK, Verdict.DENY
_RULE = TypeAdapter(Rule)


def rule(kind: str, **fields: Any) -> Rule:
    fields.setdefault("id", f"r-{kind}")
    fields.setdefault("reason", "because")
    return _RULE.validate_python({"kind": kind, **fields})


def verdict(r: Rule, subject: Subject, context: EvalContext | None = None) -> Verdict:
    decision = evaluate(subject, PolicySet.of([r]), context)
    assert all(reason.rule_id == r.id for reason in decision.reasons)
    return decision.verdict


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


BUDGET = [
    ("49.99", "EUR", ALLOW),
    ("50", "EUR", ALLOW),
    ("50.00", "EUR", ALLOW),
    ("50.01", "EUR", DENY),
    ("0", "EUR", ALLOW),
    ("10", "USD", ASK),
    ("1000", "GBP", ASK),
]


@pytest.mark.parametrize(("amount", "currency", "expected"), BUDGET)
def test_budget_per_purchase(amount: str, currency: str, expected: Verdict) -> None:
    r = rule("budget", max_per_purchase="50 EUR")
    assert verdict(r, make_offer(price=Money.of(amount, currency))) is expected


def test_budget_currency_mismatch_explains() -> None:
    r = rule("budget", max_per_purchase="50 EUR")
    decision = evaluate(make_offer(price=Money.of("1", "USD")), PolicySet.of([r]))
    assert "USD" in decision.reasons[0].text and "EUR" in decision.reasons[0].text
    assert "convert" in decision.reasons[0].text


@pytest.mark.parametrize(
    ("spent", "price", "expected"),
    [
        (eur("0"), eur("100"), ALLOW),
        (eur("500"), eur("100"), ALLOW),  # exactly at the limit
        (eur("500"), eur("100.01"), DENY),
        (eur("600"), eur("0"), ALLOW),
        (None, eur("1"), ASK),  # unknown spending is never a silent allow
        (Money.of("10", "USD"), eur("1"), ASK),
        (eur("10"), Money.of("1", "USD"), ASK),
    ],
)
def test_budget_per_month(spent: Money | None, price: Money, expected: Verdict) -> None:
    r = rule("budget", max_per_month="600 EUR")
    assert verdict(r, make_offer(price=price), EvalContext(spent_this_month=spent)) is expected


def test_budget_action_ask() -> None:
    r = rule("budget", max_per_purchase="50 EUR", action="ask")
    assert verdict(r, make_offer(price=eur("51"))) is ASK


def test_budget_money_forms() -> None:
    for value in ["50 EUR", "EUR 50", " 50.00 eur ", {"amount": "50", "currency": "EUR"}]:
        r = rule("budget", max_per_purchase=value)
        assert verdict(r, make_offer(price=eur("50.01"))) is DENY


@pytest.mark.parametrize("value", ["50", "fifty EUR", 50, "-5 EUR", "50 EURO"])
def test_budget_bad_money(value: Any) -> None:
    with pytest.raises(ValueError):
        rule("budget", max_per_purchase=value)


ACME = Vendor(id="acme", name="Acme Ltd", owner="Mega Corp", brands=("RoadRunner",), certifications=("B Corp",))


@pytest.mark.parametrize(
    ("fields", "subject", "context", "expected"),
    [
        ({"vendors": ["acme"]}, make_offer(), None, DENY),
        ({"vendors": ["ACME"]}, make_offer(), None, DENY),
        ({"vendors": ["other"]}, make_offer(), None, ALLOW),
        ({"vendors": ["Acme Ltd"]}, make_offer(), EvalContext(vendors={"acme": ACME}), DENY),
        ({"owners": ["mega corp"]}, make_offer(), EvalContext(vendors={"acme": ACME}), DENY),
        ({"owners": ["Other Corp"]}, make_offer(), EvalContext(vendors={"acme": ACME}), ALLOW),
        ({"owners": ["Mega Corp"]}, make_offer(), None, ASK),  # owner unknown
        ({"brands": ["road-runner"]}, make_offer(), EvalContext(vendors={"acme": ACME}), DENY),
        ({"brands": ["Coyote"]}, make_offer(attributes={"brand": "Coyote"}), None, DENY),
        ({"brands": ["Coyote"]}, make_offer(), None, ALLOW),
        ({"vendors": ["acme"]}, ACME, None, DENY),
        ({"owners": ["Mega Corp"]}, ACME, None, DENY),
        ({"vendors": ["acme"]}, AgreementProposal(term_id="SD-BASE", vendor_id="acme"), None, DENY),
        ({"vendors": ["acme"]}, PromoEmail(sender="a@acme.example", vendor_id="acme"), None, DENY),
        ({"vendors": ["acme"]}, PromoEmail(sender="a@acme.example"), None, ALLOW),
        ({"vendors": ["acme"]}, UnsubscribeAction(sender="a@acme.example", method="mailto"), None, ALLOW),
    ],
)
def test_ban(fields: dict[str, Any], subject: Subject, context: EvalContext | None, expected: Verdict) -> None:
    assert verdict(rule("ban", **fields), subject, context) is expected


@pytest.mark.parametrize(
    ("vendors", "vendor_id", "expected"),
    [(["acme", "beta"], "acme", ALLOW), (["beta"], "acme", DENY), (["Acme"], "acme", ALLOW)],
)
def test_only_vendors(vendors: list[str], vendor_id: str, expected: Verdict) -> None:
    assert verdict(rule("only-vendors", vendors=vendors), make_offer(vendor_id=vendor_id)) is expected


@pytest.mark.parametrize(
    ("fields", "certs", "expected"),
    [
        ({"any_of": ["Fairtrade", "B Corp"]}, ("B-Corp",), ALLOW),
        ({"any_of": ["Fairtrade", "B Corp"]}, ("FSC",), DENY),
        ({"any_of": ["Fairtrade"]}, (), DENY),
        ({"all_of": ["Fairtrade", "FSC"]}, ("fairtrade", "fsc", "x"), ALLOW),
        ({"all_of": ["Fairtrade", "FSC"]}, ("fairtrade",), DENY),
        ({"all_of": ["FSC"], "any_of": ["B Corp", "Fairtrade"]}, ("FSC", "Fairtrade"), ALLOW),
        ({"all_of": ["FSC"], "any_of": ["B Corp"]}, ("FSC",), DENY),
    ],
)
def test_certifications(fields: dict[str, Any], certs: tuple[str, ...], expected: Verdict) -> None:
    assert verdict(rule("certifications", **fields), make_offer(certifications=certs)) is expected


def test_certifications_from_vendor() -> None:
    r = rule("certifications", any_of=["B Corp"])
    assert verdict(r, make_offer(), EvalContext(vendors={"acme": ACME})) is ALLOW
    assert verdict(r, ACME) is ALLOW


@pytest.mark.parametrize(
    ("carbon", "share", "expected"),
    [
        ("100", "0.8", ALLOW),
        ("100.01", "0.9", DENY),
        ("0", "0.79", DENY),
        ("50", "1", ALLOW),
        (None, "0.9", ASK),
        ("50", None, ASK),
    ],
)
def test_energy(carbon: str | None, share: str | None, expected: Verdict) -> None:
    r = rule("energy", max_carbon_g_per_kwh=100, min_renewable_percent=80)
    offer = make_offer(
        category="electricity",
        carbon_intensity_g_per_kwh=None if carbon is None else Decimal(carbon),
        renewable_share=None if share is None else Decimal(share),
    )
    assert verdict(r, offer) is expected


@pytest.mark.parametrize(
    ("fields", "months", "expected"),
    [
        ({"max_months": 12}, 12, ALLOW),
        ({"max_months": 12}, 13, DENY),
        ({"max_months": 0}, 0, ALLOW),
        ({"min_months": 1, "max_months": 24}, 0, DENY),
        ({"min_months": 1, "max_months": 24}, 1, ALLOW),
        ({"min_months": 1, "max_months": 24}, 24, ALLOW),
        ({"min_months": 1, "max_months": 24}, 25, DENY),
    ],
)
def test_contract_length(fields: dict[str, Any], months: int, expected: Verdict) -> None:
    assert verdict(rule("contract-length", **fields), make_offer(term_months=months)) is expected


def renewal(old: Money, new: Money, auto_renew: bool = True) -> Renewal:
    return Renewal(vendor_id="acme", category="electricity", old_price=old, new_price=new, auto_renew=auto_renew)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (make_offer(auto_renew=True), DENY),
        (make_offer(auto_renew=False), ALLOW),
        (renewal(eur("1"), eur("1"), auto_renew=True), DENY),
        (renewal(eur("1"), eur("1"), auto_renew=False), ALLOW),
    ],
)
def test_no_auto_renewal(subject: Subject, expected: Verdict) -> None:
    assert verdict(rule("no-auto-renewal"), subject) is expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (eur("100"), eur("105"), ALLOW),  # exactly 5%
        (eur("100"), eur("105.01"), DENY),
        (eur("100"), eur("90"), ALLOW),
        (eur("0"), eur("0"), ALLOW),
        (eur("0"), eur("1"), DENY),
        (eur("100"), Money.of("100", "USD"), ASK),
    ],
)
def test_renewal_increase(old: Money, new: Money, expected: Verdict) -> None:
    assert verdict(rule("renewal-increase", max_percent=5), renewal(old, new)) is expected


def test_renewal_increase_ignores_offers() -> None:
    assert evaluate(make_offer(), PolicySet.of([rule("renewal-increase", max_percent=5)])).reasons == []


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (AgreementProposal(term_id="SD-BASE", vendor_id="acme"), ALLOW),
        (AgreementProposal(term_id="SD-BASE-ATP", vendor_id="acme"), DENY),
        (make_offer(myterms="SD-BASE-DP"), ALLOW),
        (make_offer(myterms=None), DENY),
        (make_offer(myterms="PDC-AI"), DENY),
        (Vendor(id="v", name="V", myterms_accepted=("SD-BASE-A", "SD-BASE")), ALLOW),
        (Vendor(id="v", name="V", myterms_accepted=()), DENY),
        (PromoEmail(sender="x@y.example"), ALLOW),  # not about agreements: no reason at all
    ],
)
def test_myterms(subject: Subject, expected: Verdict) -> None:
    assert verdict(rule("myterms", agreements=["SD-BASE", "SD-BASE-DP"]), subject) is expected


def test_myterms_rejects_unknown_ids() -> None:
    with pytest.raises(ValueError, match="not a MyTerms agreement"):
        rule("myterms", agreements=["SD-BASE-X"])


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (make_offer(data_use=DataUse.NONE), ALLOW),
        (make_offer(data_use=DataUse.SERVICE), ALLOW),
        (make_offer(data_use=DataUse.ANALYTICS_FIRST_PARTY), ALLOW),
        (make_offer(data_use=DataUse.PROFILING_FIRST_PARTY), DENY),
        (make_offer(data_use=DataUse.SHARE_THIRD_PARTY), DENY),
        (AgreementProposal(term_id="SD-BASE-A", vendor_id="v"), ALLOW),
        (AgreementProposal(term_id="SD-BASE-ATP-S3P", vendor_id="v"), DENY),
        (AgreementProposal(term_id="PDC-AI", vendor_id="v"), ASK),
    ],
)
def test_data_use(subject: Subject, expected: Verdict) -> None:
    assert verdict(rule("data-use", max="analytics-first-party"), subject) is expected


@pytest.mark.parametrize(
    ("fields", "country", "expected"),
    [
        ({"allow": ["PT", "ES"]}, "PT", ALLOW),
        ({"allow": ["PT", "ES"]}, "es", ALLOW),
        ({"allow": ["PT", "ES"]}, "FR", DENY),
        ({"deny": ["XX"]}, "XX", DENY),
        ({"deny": ["XX"]}, "FR", ALLOW),
        ({"deny": ["XX"]}, None, ASK),
        ({"allow": ["PT"]}, None, ASK),
    ],
)
def test_origin(fields: dict[str, Any], country: str | None, expected: Verdict) -> None:
    assert verdict(rule("origin", **fields), make_offer(country_of_origin=country)) is expected


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (PromoEmail(sender="Deals <deals@shop.example>", matched_intent="i1"), ALLOW),
        (PromoEmail(sender="deals@shop.example"), DENY),
        (PromoEmail(sender="news@localcoop.example"), ALLOW),
        (PromoEmail(sender="news@mail.localcoop.example"), ALLOW),
        (PromoEmail(sender="x@casino.example", category="gambling", matched_intent="i1"), DENY),
    ],
)
def test_promotions(email: PromoEmail, expected: Verdict) -> None:
    r = rule("promotions", require_matched_intent=True, keep_senders=["@localcoop.example"],
             block_categories=["gambling"])
    assert verdict(r, email) is expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (UnsubscribeAction(sender="news@shop.example", method="one-click"), ALLOW),
        (UnsubscribeAction(sender="news@shop.example", method="link"), DENY),
        (UnsubscribeAction(sender="Bank <info@mybank.example>", method="one-click"), DENY),
        (UnsubscribeAction(sender="boss@work.example", method="mailto"), DENY),
        (UnsubscribeAction(sender="other@work.example", method="mailto"), ALLOW),
    ],
)
def test_unsubscribe(action: UnsubscribeAction, expected: Verdict) -> None:
    r = rule("unsubscribe", methods=["one-click", "mailto"], never_from=["@mybank.example", "boss@work.example"])
    assert verdict(r, action) is expected


@pytest.mark.parametrize(
    ("offer_changes", "expected"),
    [
        ({"certifications": ("Fair Wear",)}, ALLOW),
        ({"rating": Decimal("4")}, ALLOW),
        ({"rating": Decimal("3.9")}, DENY),
        ({}, ASK),  # rating unknown and no certification: cannot tell
        ({"category": "food"}, ALLOW),  # `when` does not hold: the rule says nothing
    ],
)
def test_condition(offer_changes: dict[str, Any], expected: Verdict) -> None:
    r = rule("condition", when='category == "clothing"', require='"fair-wear" in certifications or rating >= 4')
    assert verdict(r, make_offer(**offer_changes)) is expected


def test_condition_unknown_when_asks() -> None:
    r = rule("condition", when="rating > 3", require="true")
    decision = evaluate(make_offer(), PolicySet.of([r]))
    assert decision.verdict is ASK
    assert "rating" in decision.reasons[0].text


@pytest.mark.parametrize(
    ("applies_to", "offer_changes", "fires"),
    [
        ({"categories": ["clothing"]}, {}, True),
        ({"categories": ["Clothing"]}, {}, True),
        ({"categories": ["food"]}, {}, False),
        ({"vendors": ["acme"]}, {}, True),
        ({"vendors": ["other"]}, {}, False),
        ({"subjects": ["vendor"]}, {}, False),
        ({"subjects": ["offer"]}, {}, True),
    ],
)
def test_applies_to(applies_to: dict[str, Any], offer_changes: dict[str, Any], fires: bool) -> None:
    r = rule("no-auto-renewal", applies_to=applies_to)
    decision = evaluate(make_offer(auto_renew=True, **offer_changes), PolicySet.of([r]))
    assert (decision.verdict is DENY) is fires


def test_deny_beats_ask_beats_allow() -> None:
    rules = [
        rule("budget", id="b", max_per_purchase="100 EUR"),
        rule("origin", id="o", deny=["XX"]),  # origin unknown: ask
        rule("no-auto-renewal", id="n"),
    ]
    offer = make_offer(auto_renew=True)
    assert evaluate(offer, PolicySet.of(rules[:1])).verdict is ALLOW
    assert evaluate(offer, PolicySet.of(rules[:2])).verdict is ASK
    decision = evaluate(offer, PolicySet.of(rules))
    assert decision.verdict is DENY
    assert [r.rule_id for r in decision.fired] == ["o", "n"]
    assert all(r.location.startswith("<memory>:#") for r in decision.reasons)
    assert "Why: because" in decision.explain()


def test_fact_names_cover_every_subject() -> None:
    from butler.policy.facts import FACT_NAMES, subject_facts

    subjects: list[Subject] = [
        make_offer(attributes={"brand": "x"}), ACME, AgreementProposal(term_id="SD-BASE", vendor_id="a"),
        PromoEmail(sender="a@b.example"), UnsubscribeAction(sender="a@b.example", method="mailto"),
        renewal(eur("1"), eur("2")),
    ]
    names = set().union(*(subject_facts(s) for s in subjects)) - {"brand"}
    assert names == FACT_NAMES


def test_conditions_about_other_subjects_are_skipped() -> None:
    r = rule("condition", when='category == "clothing"', require="rating >= 4")
    assert evaluate(UnsubscribeAction(sender="a@b.example", method="mailto"), PolicySet.of([r])).reasons == []
    plain = rule("condition", require="rating >= 4")
    assert evaluate(PromoEmail(sender="a@b.example"), PolicySet.of([plain])).reasons == []
    custom = rule("condition", require="warranty_years >= 2")  # not a known fact: unknown, so ask
    assert verdict(custom, make_offer()) is ASK
    assert verdict(custom, make_offer(attributes={"warranty_years": 3})) is ALLOW
    owner = rule("condition", require='owner != "Mega Corp"')  # vendor not known: ask, not skip
    assert verdict(owner, make_offer()) is ASK
    assert verdict(owner, make_offer(), EvalContext(vendors={"acme": ACME})) is DENY
