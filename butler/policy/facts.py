"""The facts a subject offers to rules and conditions, as a flat mapping of plain values.

Names here are what `when` and `require` conditions can use (documented in `policies/README.md`).
A fact the subject does not carry is absent or None, which conditions treat as unknown.
"""

from __future__ import annotations

from typing import Any

from butler.models import Offer, Vendor
from butler.policy.agreements import AGREEMENT_DATA_USE
from butler.policy.context import EvalContext
from butler.policy.subjects import (
    AgreementProposal,
    PromoEmail,
    Renewal,
    Subject,
    UnsubscribeAction,
    subject_kind,
)

__all__ = ["FACT_NAMES", "foreign_names", "increase_percent", "sender_domain", "subject_facts"]


# Every fact name any kind of subject has. A condition naming one the subject's kind lacks (a category for an
# unsubscribe action) is about other subjects, not unknown; the engine then skips the rule instead of asking.
FACT_NAMES: frozenset[str] = frozenset(
    {
        "kind", "vendor", "vendor_id", "category", "offer_id", "product", "price", "currency", "period",
        "term_months", "auto_renew", "data_use", "myterms", "certifications", "country_of_origin", "carbon",
        "carbon_intensity_g_per_kwh", "renewable_share", "renewable_percent", "rating", "extras", "attributes",
        "vendor_name", "vendor_country", "owner", "brands", "vendor_certifications", "myterms_accepted", "name",
        "country", "term_id", "sender", "sender_domain", "matched_intent", "method", "contract_id", "old_price",
        "new_price", "increase_percent",
    }
)


def foreign_names(names: tuple[str, ...], facts: dict[str, Any]) -> tuple[str, ...]:
    """Those of `names` that are facts of other kinds of subject but not of this one (not merely unknown)."""
    return tuple(n for n in names if n.split(".")[0] not in facts and n.split(".")[0] in FACT_NAMES)


def sender_domain(sender: str) -> str:
    """`"Deals <deals@shop.example>"` → `"shop.example"`."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1].casefold() if "@" in address else address.casefold()


def increase_percent(renewal: Renewal) -> Any:
    """The price change in percent, or None when currencies differ or the old price was zero."""
    if renewal.old_price.currency != renewal.new_price.currency or renewal.old_price.amount == 0:
        return None
    return (renewal.new_price.amount - renewal.old_price.amount) * 100 / renewal.old_price.amount


def _vendor_facts(vendor: Vendor | None) -> dict[str, Any]:
    """Facts about the vendor behind a subject; all None when the context does not know the vendor."""
    return {
        "vendor_name": vendor.name if vendor else None,
        "vendor_country": vendor.country if vendor else None,
        "owner": vendor.owner if vendor else None,
        "brands": list(vendor.brands) if vendor else None,
        "vendor_certifications": list(vendor.certifications) if vendor else None,
        "myterms_accepted": list(vendor.myterms_accepted) if vendor else None,
    }


def _offer(offer: Offer, context: EvalContext) -> dict[str, Any]:
    facts: dict[str, Any] = {k: v for k, v in offer.attributes.items() if isinstance(k, str)}
    vendor = context.vendor(offer.vendor_id)
    certifications = list(offer.certifications) + (list(vendor.certifications) if vendor else [])
    facts.update(
        {
            "offer_id": offer.id,
            "vendor": offer.vendor_id,
            "vendor_id": offer.vendor_id,
            "product": offer.product,
            "category": offer.category,
            "price": offer.price.amount,
            "currency": offer.price.currency,
            "period": offer.period,
            "term_months": offer.term_months,
            "auto_renew": offer.auto_renew,
            "data_use": offer.data_use.value,
            "myterms": offer.myterms,
            "certifications": certifications,
            "country_of_origin": offer.country_of_origin,
            "carbon": offer.carbon_intensity_g_per_kwh,
            "carbon_intensity_g_per_kwh": offer.carbon_intensity_g_per_kwh,
            "renewable_share": offer.renewable_share,
            "renewable_percent": None if offer.renewable_share is None else offer.renewable_share * 100,
            "rating": offer.rating,
            "extras": list(offer.extras),
            "attributes": dict(offer.attributes),
        }
    )
    facts.update(_vendor_facts(vendor))
    return facts


def _vendor(vendor: Vendor) -> dict[str, Any]:
    facts = _vendor_facts(vendor)
    facts.update(
        {
            "vendor": vendor.id,
            "vendor_id": vendor.id,
            "name": vendor.name,
            "country": vendor.country,
            "certifications": list(vendor.certifications),
            "carbon": vendor.carbon_intensity_g_per_kwh,
            "carbon_intensity_g_per_kwh": vendor.carbon_intensity_g_per_kwh,
            "renewable_share": vendor.renewable_share,
            "renewable_percent": None if vendor.renewable_share is None else vendor.renewable_share * 100,
        }
    )
    return facts


def subject_facts(subject: Subject, context: EvalContext | None = None) -> dict[str, Any]:
    """Every fact about the subject that rules and conditions can use, plus `kind` (e.g. "offer")."""
    context = context or EvalContext()
    facts: dict[str, Any]
    if isinstance(subject, Offer):
        facts = _offer(subject, context)
    elif isinstance(subject, Vendor):
        facts = _vendor(subject)
    elif isinstance(subject, AgreementProposal):
        use = AGREEMENT_DATA_USE.get(subject.term_id)
        facts = {
            "term_id": subject.term_id,
            "vendor": subject.vendor_id,
            "vendor_id": subject.vendor_id,
            "data_use": use.value if use else None,
        }
        facts.update(_vendor_facts(context.vendor(subject.vendor_id)))
    elif isinstance(subject, PromoEmail):
        facts = {
            "sender": subject.sender,
            "sender_domain": sender_domain(subject.sender),
            "category": subject.category,
            "matched_intent": subject.matched_intent,
            "vendor": subject.vendor_id,
            "vendor_id": subject.vendor_id,
        }
    elif isinstance(subject, UnsubscribeAction):
        facts = {"sender": subject.sender, "sender_domain": sender_domain(subject.sender), "method": subject.method}
    else:
        facts = {
            "vendor": subject.vendor_id,
            "vendor_id": subject.vendor_id,
            "category": subject.category,
            "contract_id": subject.contract_id,
            "old_price": subject.old_price.amount,
            "new_price": subject.new_price.amount,
            "currency": subject.new_price.currency,
            "increase_percent": increase_percent(subject),
            "auto_renew": subject.auto_renew,
        }
    facts["kind"] = subject_kind(subject)
    return facts
