"""What a policy can be asked about, besides an `Offer` and a `Vendor` (which come from `butler.models`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from butler.models import Contract, Money, Offer, Vendor

__all__ = [
    "AgreementProposal",
    "PromoEmail",
    "Renewal",
    "Subject",
    "SubjectKind",
    "UnsubscribeAction",
    "subject_kind",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AgreementProposal(_Frozen):
    """A MyTerms agreement about to be proffered to, or accepted from, a vendor."""

    term_id: str = Field(min_length=1)
    vendor_id: str = Field(min_length=1)


class PromoEmail(_Frozen):
    """A promotional email. Allow means "let it reach me", deny means "sweep it away"."""

    sender: str = Field(min_length=1)
    category: str | None = None
    matched_intent: str | None = None  # the id of an open intent it answers, if any
    vendor_id: str | None = None


class UnsubscribeAction(_Frozen):
    """Butler wants to unsubscribe the person from a sender, by one method."""

    sender: str = Field(min_length=1)
    method: Literal["one-click", "mailto", "link"]


class Renewal(_Frozen):
    """A contract about to renew at a new price."""

    vendor_id: str = Field(min_length=1)
    category: str
    old_price: Money
    new_price: Money
    contract_id: str | None = None
    auto_renew: bool = True

    @classmethod
    def of(cls, contract: Contract, new_price: Money) -> Renewal:
        return cls(
            vendor_id=contract.vendor_id,
            category=contract.category,
            old_price=contract.price,
            new_price=new_price,
            contract_id=contract.id,
            auto_renew=contract.auto_renew,
        )

    @model_validator(mode="after")
    def _non_negative(self) -> Renewal:
        if self.old_price.amount < 0 or self.new_price.amount < 0:
            raise ValueError("renewal prices cannot be negative")
        return self


Subject = Offer | Vendor | AgreementProposal | PromoEmail | UnsubscribeAction | Renewal

_KINDS: dict[type, str] = {
    Offer: "offer",
    Vendor: "vendor",
    AgreementProposal: "agreement",
    PromoEmail: "promo-email",
    UnsubscribeAction: "unsubscribe",
    Renewal: "renewal",
}

SubjectKind = Literal["offer", "vendor", "agreement", "promo-email", "unsubscribe", "renewal"]


def subject_kind(subject: Subject) -> str:
    """The name policy files use for this kind of subject (`applies_to.subjects`, `kind` in conditions)."""
    return _KINDS[type(subject)]
