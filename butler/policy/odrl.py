"""Export the hard constraints as an ODRL 2.2 policy (JSON-LD), for tools that speak W3C ODRL.

Each rule becomes a permission (buy only under these constraints) or a prohibition (never buy when these
match). ODRL's vocabulary has `payAmount` and `elapsedTime`; the rest use `butler:` left operands. Conditions,
promotion and unsubscribe rules have no ODRL counterpart and are listed under `butler:notExported`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from butler.policy.policyset import PolicySet
from butler.policy.rules import (
    BanRule,
    BudgetRule,
    CertificationRule,
    ContractLengthRule,
    DataUseRule,
    EnergyRule,
    MyTermsRule,
    NoAutoRenewalRule,
    OnlyVendorsRule,
    OriginRule,
    RenewalIncreaseRule,
    Rule,
)

__all__ = ["to_odrl"]

_CONTEXT: list[Any] = [
    "http://www.w3.org/ns/odrl.jsonld",
    {"dct": "http://purl.org/dc/terms/", "butler": "urn:butler:odrl:", "xsd": "http://www.w3.org/2001/XMLSchema#"},
]
_P7012 = "https://w3id.org/dpv/standards/p7012#"


def _constraint(left: str, operator: str, right: Any, unit: str | None = None) -> dict[str, Any]:
    if isinstance(right, Decimal | int):
        right = {"@value": str(right), "@type": "xsd:decimal"}
    out: dict[str, Any] = {"leftOperand": left, "operator": operator, "rightOperand": right}
    if unit:
        out["unit"] = unit
    return out


def _constraints(rule: Rule) -> tuple[str, list[dict[str, Any]]] | None:
    """(permission | prohibition, constraints) for one rule, or None if ODRL cannot say it."""
    c: list[dict[str, Any]] = []
    kind = "permission"
    if isinstance(rule, BudgetRule):
        for limit, operand in ((rule.max_per_purchase, "payAmount"), (rule.max_per_month, "butler:payAmountPerMonth")):
            if limit is not None:
                c.append(_constraint(operand, "lteq", limit.amount, f"urn:iso:std:iso:4217:{limit.currency}"))
    elif isinstance(rule, BanRule):
        kind = "prohibition"
        for values, operand in ((rule.vendors, "butler:vendor"), (rule.brands, "butler:brand"),
                                (rule.owners, "butler:owner")):
            if values:
                c.append(_constraint(operand, "isAnyOf", list(values)))
    elif isinstance(rule, OnlyVendorsRule):
        c.append(_constraint("butler:vendor", "isAnyOf", list(rule.vendors)))
    elif isinstance(rule, CertificationRule):
        if rule.all_of:
            c.append(_constraint("butler:certification", "isAllOf", list(rule.all_of)))
        if rule.any_of:
            c.append(_constraint("butler:certification", "isAnyOf", list(rule.any_of)))
    elif isinstance(rule, EnergyRule):
        if rule.max_carbon_g_per_kwh is not None:
            c.append(_constraint("butler:carbonIntensity", "lteq", rule.max_carbon_g_per_kwh, "butler:gCO2PerKWh"))
        if rule.min_renewable_percent is not None:
            c.append(_constraint("butler:renewableShare", "gteq", rule.min_renewable_percent, "butler:percent"))
    elif isinstance(rule, ContractLengthRule):
        if rule.max_months is not None:
            c.append(_constraint("elapsedTime", "lteq", {"@value": f"P{rule.max_months}M", "@type": "xsd:duration"}))
        if rule.min_months is not None:
            c.append(_constraint("elapsedTime", "gteq", {"@value": f"P{rule.min_months}M", "@type": "xsd:duration"}))
    elif isinstance(rule, NoAutoRenewalRule):
        c.append(_constraint("butler:autoRenew", "eq", False))
    elif isinstance(rule, RenewalIncreaseRule):
        c.append(_constraint("butler:renewalIncrease", "lteq", rule.max_percent, "butler:percent"))
    elif isinstance(rule, MyTermsRule):
        c.append(_constraint("butler:myTermsAgreement", "isAnyOf", [_P7012 + a for a in rule.agreements]))
    elif isinstance(rule, DataUseRule):
        c.append(_constraint("butler:dataUse", "lteq", {"@value": rule.max.value, "butler:rank": rule.max.rank}))
    elif isinstance(rule, OriginRule):
        if rule.allow:
            c.append(_constraint("butler:countryOfOrigin", "isAnyOf", list(rule.allow)))
        if rule.deny:
            c.append(_constraint("butler:countryOfOrigin", "isNoneOf", list(rule.deny)))
    else:
        return None
    scope = rule.applies_to
    if scope.categories:
        c.append(_constraint("butler:category", "isAnyOf", list(scope.categories)))
    if scope.vendors and not isinstance(rule, BanRule | OnlyVendorsRule):
        c.append(_constraint("butler:vendor", "isAnyOf", list(scope.vendors)))
    return kind, c


def to_odrl(policies: PolicySet, uid: str = "urn:butler:policy") -> dict[str, Any]:
    """The hard constraints of a PolicySet as one ODRL `Set` policy (a JSON-serialisable dict)."""
    out: dict[str, Any] = {"@context": _CONTEXT, "@type": "Set", "uid": uid, "permission": [], "prohibition": []}
    skipped: list[str] = []
    for placed in policies.rules:
        rule = placed.rule
        found = _constraints(rule)
        if found is None or rule.when is not None:
            skipped.append(rule.id)
            continue
        kind, constraints = found
        entry: dict[str, Any] = {
            "uid": f"{uid}:{rule.id}",
            "action": "use",
            "constraint": constraints,
            "dct:description": rule.reason,
            "dct:source": placed.location,
        }
        if rule.action == "ask":
            entry["butler:onBreach"] = "ask"
        out[kind].append(entry)
    if skipped:
        out["butler:notExported"] = skipped
    return out
