"""How each kind of hard constraint judges a subject. Pure functions: rule + subject + context → finding.

A check returns None when its rule says nothing about that kind of subject, otherwise a `Finding`: the verdict
(allow, or the rule's `action` when broken, or ask when a needed fact is unknown) and one plain sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from butler.models import DataUse, Offer, Vendor
from butler.policy.agreements import AGREEMENT_DATA_USE
from butler.policy.context import EvalContext
from butler.policy.decision import Verdict
from butler.policy.expr import UNKNOWN, normalise_name, normalise_names
from butler.policy.facts import foreign_names, increase_percent, sender_domain
from butler.policy.rules import (
    BanRule,
    BudgetRule,
    CertificationRule,
    ConditionRule,
    ContractLengthRule,
    DataUseRule,
    EnergyRule,
    MyTermsRule,
    NoAutoRenewalRule,
    OnlyVendorsRule,
    OriginRule,
    PromotionsRule,
    RenewalIncreaseRule,
    Rule,
    UnsubscribeRule,
)
from butler.policy.subjects import AgreementProposal, PromoEmail, Renewal, Subject, UnsubscribeAction

__all__ = ["Finding", "check", "normalise_name"]


class Finding(NamedTuple):
    verdict: Verdict
    text: str


ALLOW, ASK = Verdict.ALLOW, Verdict.ASK


def _broken(rule: Rule, text: str) -> Finding:
    return Finding(Verdict(rule.action), text)


def _join(findings: list[Finding]) -> Finding | None:
    if not findings:
        return None
    verdict = Verdict.strongest(f.verdict for f in findings)
    shown = [f.text for f in findings if f.verdict is verdict]
    return Finding(verdict, "; ".join(shown))


def _vendor_of(subject: Subject, context: EvalContext) -> tuple[str | None, Vendor | None]:
    if isinstance(subject, Vendor):
        return subject.id, subject
    vendor_id = getattr(subject, "vendor_id", None)
    return vendor_id, context.vendor(vendor_id)


# ---------------------------------------------------------------------------------------------- checks


def _budget(rule: BudgetRule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Offer):
        return None
    price = subject.price
    out: list[Finding] = []
    if (limit := rule.max_per_purchase) is not None:
        if price.currency != limit.currency:
            out.append(Finding(ASK, f"the price is in {price.currency} but the limit per purchase is in "
                                    f"{limit.currency}; butler does not convert currencies on its own"))
        elif price.amount > limit.amount:
            out.append(_broken(rule, f"{price} is over the limit of {limit} per purchase"))
        else:
            out.append(Finding(ALLOW, f"{price} is within the limit of {limit} per purchase"))
    if (month := rule.max_per_month) is not None:
        spent = context.spent_this_month
        if spent is None:
            out.append(Finding(ASK, f"this month's spending is not known, so the monthly limit of {month} "
                                    "cannot be checked"))
        elif price.currency != month.currency or spent.currency != month.currency:
            out.append(Finding(ASK, f"the monthly limit is in {month.currency} but the price is in "
                                    f"{price.currency} and this month's spending in {spent.currency}; "
                                    "butler does not convert currencies on its own"))
        else:
            total = spent + price
            if total.amount > month.amount:
                out.append(_broken(rule, f"{price} would bring this month's spending to {total}, over the "
                                         f"monthly limit of {month}"))
            else:
                out.append(Finding(ALLOW, f"this month's spending would be {total}, within {month}"))
    return _join(out)


def _banned_brand(banned: Sequence[str], subject: Subject, vendor_id: str, vendor: Vendor | None) -> str | None:
    """The first banned brand the subject shows: in the vendor's facts, in what the offer states (its `brand` or
    `brands`, a vendor that is the brand itself), or named as a whole word in the product's name."""
    wanted = normalise_names(banned)
    stated = list(vendor.brands) if vendor else []
    stated += [vendor_id] + ([vendor.name] if vendor else [])
    if isinstance(subject, Offer):
        for key in ("brand", "brands"):
            value = subject.attributes.get(key)
            stated += [value] if isinstance(value, str) else [v for v in value or () if isinstance(v, str)] \
                if isinstance(value, list | tuple) else []
    for brand in stated:
        if normalise_name(brand) in wanted:
            return brand
    if isinstance(subject, Offer):
        for brand in banned:
            if re.search(rf"(?<!\w){re.escape(brand.strip())}(?!\w)", subject.product, re.IGNORECASE):
                return brand
    return None


def _ban(rule: BanRule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    if isinstance(subject, UnsubscribeAction):
        return None
    vendor_id, vendor = _vendor_of(subject, context)
    if vendor_id is None:
        return None
    out: list[Finding] = []
    vendor_names = {normalise_name(vendor_id)} | ({normalise_name(vendor.name)} if vendor else set())
    if vendor_names & normalise_names(rule.vendors):
        out.append(_broken(rule, f"vendor {vendor_id!r} is on your banned list"))
    if rule.brands:
        hit = _banned_brand(rule.brands, subject, vendor_id, vendor)
        if hit:
            out.append(_broken(rule, f"brand {hit!r} is on your banned list"))
    if rule.owners:
        owner = vendor.owner if vendor else None
        if owner is None and isinstance(subject, Offer) and isinstance(subject.attributes.get("owner"), str):
            owner = subject.attributes["owner"]  # what the offer itself states
        if owner is None:
            out.append(Finding(ASK, f"who owns {vendor_id!r} is not known, so your list of banned owners "
                                    "cannot be checked"))
        elif normalise_name(owner) in normalise_names(rule.owners):
            out.append(_broken(rule, f"{vendor_id!r} is owned by {owner!r}, which is on your banned list"))
    return _join(out) or Finding(ALLOW, f"{vendor_id!r} is not on your banned list")


def _only_vendors(rule: OnlyVendorsRule, subject: Subject, context: EvalContext,
                  facts: dict[str, Any]) -> Finding | None:
    if isinstance(subject, UnsubscribeAction | PromoEmail):
        return None
    vendor_id, vendor = _vendor_of(subject, context)
    if vendor_id is None:
        return None
    names = {normalise_name(vendor_id)} | ({normalise_name(vendor.name)} if vendor else set())
    if names & normalise_names(rule.vendors):
        return Finding(ALLOW, f"{vendor_id!r} is one of the vendors you buy from")
    return _broken(rule, f"{vendor_id!r} is not one of the vendors you chose ({', '.join(rule.vendors)})")


def _certifications(rule: CertificationRule, subject: Subject, context: EvalContext,
                    facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Offer | Vendor):
        return None
    have = normalise_names(facts.get("certifications") or ())
    out: list[Finding] = []
    missing = [c for c in rule.all_of if normalise_name(c) not in have]
    if missing:
        out.append(_broken(rule, f"missing required certification {', '.join(missing)}"))
    if rule.any_of and not (normalise_names(rule.any_of) & have):
        out.append(_broken(rule, f"has none of the certifications {' / '.join(rule.any_of)}"))
    return _join(out) or Finding(ALLOW, "has the required certifications")


def _energy(rule: EnergyRule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Offer | Vendor):
        return None
    out: list[Finding] = []
    if (limit := rule.max_carbon_g_per_kwh) is not None:
        carbon = subject.carbon_intensity_g_per_kwh
        if carbon is None:
            out.append(Finding(ASK, "the carbon intensity is not stated"))
        elif carbon > limit:
            out.append(_broken(rule, f"carbon intensity {carbon} g/kWh is above your limit of {limit} g/kWh"))
        else:
            out.append(Finding(ALLOW, f"carbon intensity {carbon} g/kWh is within {limit} g/kWh"))
    if (minimum := rule.min_renewable_percent) is not None:
        share = subject.renewable_share
        if share is None:
            out.append(Finding(ASK, "the renewable share is not stated"))
        elif share * 100 < minimum:
            out.append(_broken(rule, f"{_pct(share * 100)} renewable is below your minimum of {_pct(minimum)}"))
        else:
            out.append(Finding(ALLOW, f"{_pct(share * 100)} renewable meets your minimum of {_pct(minimum)}"))
    return _join(out)


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _contract_length(rule: ContractLengthRule, subject: Subject, context: EvalContext,
                     facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Offer):
        return None
    months = subject.term_months
    if rule.max_months is not None and months > rule.max_months:
        return _broken(rule, f"the contract runs {months} months, longer than your maximum of {rule.max_months}")
    if rule.min_months is not None and months < rule.min_months:
        return _broken(rule, f"the contract runs {months} months, shorter than your minimum of {rule.min_months}")
    return Finding(ALLOW, f"the contract length ({months} months) is acceptable")


def _no_auto_renewal(rule: NoAutoRenewalRule, subject: Subject, context: EvalContext,
                     facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Offer | Renewal):
        return None
    if subject.auto_renew:
        return _broken(rule, "it renews automatically")
    return Finding(ALLOW, "it does not renew automatically")


def _renewal_increase(rule: RenewalIncreaseRule, subject: Subject, context: EvalContext,
                      facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Renewal):
        return None
    old, new = subject.old_price, subject.new_price
    if old.currency != new.currency:
        return Finding(ASK, f"the price changes currency from {old.currency} to {new.currency}; butler does "
                            "not convert currencies on its own")
    change = increase_percent(subject)
    if change is None:  # the old price was zero
        if new.amount > 0:
            return _broken(rule, f"a free contract would start costing {new}")
        return Finding(ALLOW, "the price stays at zero")
    if change > rule.max_percent:
        return _broken(rule, f"the price rises from {old} to {new} (+{_pct(change.quantize(Decimal('0.1')))}), "
                             f"more than your limit of {_pct(rule.max_percent)}")
    return Finding(ALLOW, f"the price goes from {old} to {new}, within your limit of {_pct(rule.max_percent)}")


def _myterms(rule: MyTermsRule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    wanted = " or ".join(rule.agreements)
    if isinstance(subject, AgreementProposal):
        offered: list[str] = [subject.term_id]
    elif isinstance(subject, Offer):
        offered = [subject.myterms] if subject.myterms else []
    elif isinstance(subject, Vendor):
        offered = list(subject.myterms_accepted)
    else:
        return None
    ok = sorted(set(offered) & set(rule.agreements))
    if ok:
        return Finding(ALLOW, f"MyTerms agreement {ok[0]} is one you accept")
    if not offered:
        return _broken(rule, f"no MyTerms agreement is offered; you require {wanted}")
    return _broken(rule, f"MyTerms agreement {', '.join(offered)} is not one you accept ({wanted})")


def _data_use(rule: DataUseRule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    use: DataUse | None
    if isinstance(subject, Offer):
        use = subject.data_use
    elif isinstance(subject, AgreementProposal):
        use = AGREEMENT_DATA_USE.get(subject.term_id)
        if use is None:
            return Finding(ASK, f"MyTerms agreement {subject.term_id} gives data beyond delivering a service; "
                                "that is the person's own choice")
    else:
        return None
    if use.rank > rule.max.rank:
        return _broken(rule, f"it would allow data use '{use}', beyond your limit of '{rule.max}'")
    return Finding(ALLOW, f"data use '{use}' is within your limit of '{rule.max}'")


def _origin(rule: OriginRule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, Offer):
        return None
    country = subject.country_of_origin
    if country is None:
        return Finding(ASK, "the country of origin is not stated")
    code = country.strip().upper()
    if code in {c.strip().upper() for c in rule.deny}:
        return _broken(rule, f"it comes from {code}, a country you avoid")
    if rule.allow and code not in {c.strip().upper() for c in rule.allow}:
        return _broken(rule, f"it comes from {code}, not one of {', '.join(rule.allow)}")
    return Finding(ALLOW, f"its country of origin ({code}) is acceptable")


def _sender_matches(sender: str, patterns: Iterable[str]) -> str | None:
    domain = sender_domain(sender)
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip().casefold()
    for pattern in patterns:
        p = pattern.strip().casefold()
        if p.startswith("@"):
            if domain == p[1:] or domain.endswith("." + p[1:]):
                return pattern
        elif "@" in p:
            if address == p:
                return pattern
        elif domain == p or domain.endswith("." + p):
            return pattern
    return None


def _promotions(rule: PromotionsRule, subject: Subject, context: EvalContext,
                facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, PromoEmail):
        return None
    kept = _sender_matches(subject.sender, rule.keep_senders)
    if kept:
        return Finding(ALLOW, f"you keep mail from {kept}")
    if subject.category and normalise_name(subject.category) in normalise_names(rule.block_categories):
        return _broken(rule, f"you do not want promotions about {subject.category}")
    if rule.require_matched_intent and not subject.matched_intent:
        return _broken(rule, "it matches nothing you are looking for")
    return Finding(ALLOW, "you accept this promotion")


def _unsubscribe(rule: UnsubscribeRule, subject: Subject, context: EvalContext,
                 facts: dict[str, Any]) -> Finding | None:
    if not isinstance(subject, UnsubscribeAction):
        return None
    kept = _sender_matches(subject.sender, rule.never_from)
    if kept:
        return _broken(rule, f"you never unsubscribe from {kept}")
    if rule.methods and subject.method not in rule.methods:
        return _broken(rule, f"unsubscribing by {subject.method} is not a method you allow "
                             f"({', '.join(rule.methods)})")
    return Finding(ALLOW, f"unsubscribing by {subject.method} is fine")


def _condition(rule: ConditionRule, subject: Subject, context: EvalContext,
               facts: dict[str, Any]) -> Finding | None:
    result, missing = rule.require.evaluate(facts)
    if result is UNKNOWN and foreign_names(missing, facts):
        return None  # the condition is about another kind of subject
    if result is UNKNOWN:
        what = ", ".join(missing) if missing else "a value of the wrong type"
        return Finding(ASK, f"cannot tell whether {rule.require} holds (unknown: {what})")
    if result:
        return Finding(ALLOW, f"{rule.require} holds")
    return _broken(rule, f"{rule.require} does not hold")


_Check = Callable[[Any, Subject, EvalContext, dict[str, Any]], Finding | None]

_CHECKS: dict[type, _Check] = {
    BudgetRule: _budget,
    BanRule: _ban,
    OnlyVendorsRule: _only_vendors,
    CertificationRule: _certifications,
    EnergyRule: _energy,
    ContractLengthRule: _contract_length,
    NoAutoRenewalRule: _no_auto_renewal,
    RenewalIncreaseRule: _renewal_increase,
    MyTermsRule: _myterms,
    DataUseRule: _data_use,
    OriginRule: _origin,
    PromotionsRule: _promotions,
    UnsubscribeRule: _unsubscribe,
    ConditionRule: _condition,
}


def check(rule: Rule, subject: Subject, context: EvalContext, facts: dict[str, Any]) -> Finding | None:
    """Judge one subject by one rule (scope and `when` are the engine's business, not this function's)."""
    return _CHECKS[type(rule)](rule, subject, context, facts)

