"""The shape of a policy file: one pydantic model per rule kind, plus soft preferences.

A file holds an optional `[pack]` table, any number of `[[rule]]` tables (hard constraints, told apart by
`kind`) and `[[preference]]` tables (weights for the utility function). Models here check shape and types
only; checks that need several fields or several rules (max below min, a vendor both banned and required)
live in `butler.policy.consistency`, so that every error can name the field's line.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from butler.models import DataUse, Money
from butler.policy.agreements import MYTERMS_AGREEMENTS
from butler.policy.expr import Expression
from butler.policy.subjects import SubjectKind

__all__ = [
    "RULE_KINDS",
    "RULE_MODELS",
    "AppliesTo",
    "BanRule",
    "BudgetRule",
    "CertificationRule",
    "ConditionRule",
    "ContractLengthRule",
    "DataUseRule",
    "EnergyRule",
    "MyTermsRule",
    "NoAutoRenewalRule",
    "OnlyVendorsRule",
    "OriginRule",
    "PackInfo",
    "PolicyFile",
    "Preference",
    "PromotionsRule",
    "RenewalIncreaseRule",
    "Rule",
    "RuleBase",
    "UnsubscribeRule",
    "parse_money",
]

_MONEY_TEXT = re.compile(
    r"^\s*(?:(?P<a1>-?\d+(?:\.\d+)?)\s*(?P<c1>[A-Za-z]{3})|(?P<c2>[A-Za-z]{3})\s*(?P<a2>-?\d+(?:\.\d+)?))\s*$"
)


def parse_money(value: Any) -> Any:
    """Accept `"120 EUR"`, `"EUR 120.50"` or a table `{ amount = "120", currency = "EUR" }`."""
    if isinstance(value, str):
        match = _MONEY_TEXT.match(value)
        if match is None:
            raise ValueError(f'write an amount and a currency, like "120 EUR"; got {value!r}')
        amount = match.group("a1") or match.group("a2")
        currency = match.group("c1") or match.group("c2")
        return {"amount": amount, "currency": currency}
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        raise ValueError(f'an amount needs a currency, like "{value} EUR"')
    return value


def _non_negative(value: Money) -> Money:
    if value.amount < 0:
        raise ValueError("an amount limit cannot be negative")
    return value


MoneyValue = Annotated[Money, BeforeValidator(parse_money), AfterValidator(_non_negative)]


def _agreement_id(value: str) -> str:
    if value not in MYTERMS_AGREEMENTS:
        known = ", ".join(sorted(MYTERMS_AGREEMENTS))
        raise ValueError(f"{value!r} is not a MyTerms agreement id; known ids: {known}")
    return value


AgreementId = Annotated[str, AfterValidator(_agreement_id)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Names = tuple[Name, ...]
RuleId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PackInfo(_Strict):
    """`[pack]`: what the file is about, for people reading it."""

    name: str
    description: str = ""


class AppliesTo(_Strict):
    """Limit a rule to some categories, vendors or kinds of subject; empty means "everything"."""

    categories: Names = ()
    vendors: Names = ()
    subjects: tuple[SubjectKind, ...] = ()


class RuleBase(_Strict):
    """Fields every rule has."""

    id: RuleId
    reason: str = Field(min_length=1, max_length=1000)
    applies_to: AppliesTo = AppliesTo()
    when: Expression | None = None
    action: Literal["deny", "ask"] = "deny"  # what to do when the rule is broken


class BudgetRule(RuleBase):
    kind: Literal["budget"]
    max_per_purchase: MoneyValue | None = None
    max_per_month: MoneyValue | None = None


class BanRule(RuleBase):
    kind: Literal["ban"]
    vendors: Names = ()
    brands: Names = ()
    owners: Names = ()


class OnlyVendorsRule(RuleBase):
    kind: Literal["only-vendors"]
    vendors: Names


class CertificationRule(RuleBase):
    kind: Literal["certifications"]
    any_of: Names = ()
    all_of: Names = ()


class EnergyRule(RuleBase):
    kind: Literal["energy"]
    max_carbon_g_per_kwh: Decimal | None = Field(default=None, ge=0)
    min_renewable_percent: Decimal | None = Field(default=None, ge=0, le=100)


class ContractLengthRule(RuleBase):
    kind: Literal["contract-length"]
    max_months: int | None = Field(default=None, ge=0)
    min_months: int | None = Field(default=None, ge=0)


class NoAutoRenewalRule(RuleBase):
    kind: Literal["no-auto-renewal"]


class RenewalIncreaseRule(RuleBase):
    kind: Literal["renewal-increase"]
    max_percent: Decimal = Field(ge=0)


class MyTermsRule(RuleBase):
    kind: Literal["myterms"]
    agreements: tuple[AgreementId, ...] = Field(min_length=1)


class DataUseRule(RuleBase):
    kind: Literal["data-use"]
    max: DataUse


class OriginRule(RuleBase):
    kind: Literal["origin"]
    allow: Names = ()
    deny: Names = ()


class PromotionsRule(RuleBase):
    kind: Literal["promotions"]
    block_categories: Names = ()
    require_matched_intent: bool = False
    keep_senders: Names = ()


class UnsubscribeRule(RuleBase):
    kind: Literal["unsubscribe"]
    methods: tuple[Literal["one-click", "mailto", "link"], ...] = ()
    never_from: Names = ()


class ConditionRule(RuleBase):
    kind: Literal["condition"]
    require: Expression


Rule = Annotated[
    BudgetRule
    | BanRule
    | OnlyVendorsRule
    | CertificationRule
    | EnergyRule
    | ContractLengthRule
    | NoAutoRenewalRule
    | RenewalIncreaseRule
    | MyTermsRule
    | DataUseRule
    | OriginRule
    | PromotionsRule
    | UnsubscribeRule
    | ConditionRule,
    Field(discriminator="kind"),
]

RULE_MODELS: dict[str, type[RuleBase]] = {
    "budget": BudgetRule,
    "ban": BanRule,
    "only-vendors": OnlyVendorsRule,
    "certifications": CertificationRule,
    "energy": EnergyRule,
    "contract-length": ContractLengthRule,
    "no-auto-renewal": NoAutoRenewalRule,
    "renewal-increase": RenewalIncreaseRule,
    "myterms": MyTermsRule,
    "data-use": DataUseRule,
    "origin": OriginRule,
    "promotions": PromotionsRule,
    "unsubscribe": UnsubscribeRule,
    "condition": ConditionRule,
}
RULE_KINDS: tuple[str, ...] = tuple(RULE_MODELS)


class Preference(_Strict):
    """A soft preference: one attribute, a weight, and how to score it between 0 (worst) and 1 (best)."""

    id: RuleId
    reason: str = Field(min_length=1, max_length=1000)
    attribute: Name
    weight: Decimal = Field(default=Decimal(1), gt=0, le=100)
    applies_to: AppliesTo = AppliesTo()
    min: Decimal | None = None
    max: Decimal | None = None
    prefer: Literal["lower", "higher"] | None = None
    wanted: Names = ()


class PolicyFile(_Strict):
    """One policy file as written."""

    pack: PackInfo | None = None
    rule: list[Rule] = Field(default_factory=list)
    preference: list[Preference] = Field(default_factory=list)
