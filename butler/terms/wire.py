"""What travels between butler and a vendor, as strict pydantic models, and one parser for vendor bytes.

Vendor documents: `/.well-known/myterms.json` and `/.well-known/gpc.json`. The proffer protocol (butler's own,
since IEEE 7012 defines none; see docs/terms.md): `ProfferRequest` out, `ProfferAnswer` back.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from butler.terms.errors import VendorAnswerInvalid
from butler.terms.roster import Status

__all__ = [
    "ANSWER_STATUSES",
    "AgreementLink",
    "GpcDocument",
    "MyTermsDocument",
    "ProfferAnswer",
    "ProfferRequest",
    "parse_vendor_json",
]

TermId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")]
ANSWER_STATUSES = (Status.ACCEPTED, Status.COUNTER_OFFER_MADE, Status.REFUSED)
Model = TypeVar("Model", bound=BaseModel)


class _Vendor(BaseModel):
    # strict types; unknown fields are ignored so a vendor may add to its documents
    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")


class AgreementLink(_Vendor):
    id: TermId
    url: HttpUrl | None = None


class MyTermsDocument(_Vendor):
    """`/.well-known/myterms.json`: the agreements a vendor says it accepts."""

    effective_date: str = Field(max_length=100)
    agreements: list[AgreementLink] = Field(max_length=64)
    tos_url: HttpUrl | None = None

    @field_validator("effective_date")
    @classmethod
    def _rfc2822(cls, value: str) -> str:
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError(f"effective_date is not an RFC 2822 date: {value!r}") from None
        return value

    @property
    def effective(self) -> dt.datetime:
        return email.utils.parsedate_to_datetime(self.effective_date)

    @property
    def agreement_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.agreements)


class GpcDocument(_Vendor):
    """`/.well-known/gpc.json`: whether the vendor says it honours Global Privacy Control."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore", populate_by_name=True)

    gpc: bool
    last_update: str | None = Field(default=None, alias="lastUpdate", pattern=r"^\d{4}-\d{2}-\d{2}$")


class ProfferRequest(BaseModel):
    """What butler POSTs to `{vendor}/myterms/proffer`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    protocol: Literal["butler-myterms/1"] = "butler-myterms/1"
    agreement: str
    person: str
    record: dict[str, Any]
    public_key: str


class ProfferAnswer(_Vendor):
    """The vendor's answer: accepted, one alternative from the roster, or refused (with a reason)."""

    status: Annotated[Status, Field(strict=False)]  # strict mode would demand an enum instance
    agreement: TermId | None = None
    alternative: TermId | None = None
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _shape(self) -> ProfferAnswer:
        if self.status not in ANSWER_STATUSES:
            raise ValueError(f"a vendor answers {', '.join(ANSWER_STATUSES)}, not {self.status}")
        if self.status == Status.COUNTER_OFFER_MADE and self.alternative is None:
            raise ValueError("a counter-offer must name its alternative")
        if self.status != Status.COUNTER_OFFER_MADE and self.alternative is not None:
            raise ValueError(f"{self.status} cannot carry an alternative")
        return self


def parse_vendor_json(model: type[Model], body: bytes, source: str) -> Model:
    """Parse a vendor's bytes as `model`; anything else is VendorAnswerInvalid naming `source`."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise VendorAnswerInvalid(f"{source} did not answer valid JSON") from None
    if not isinstance(data, dict):
        raise VendorAnswerInvalid(f"{source} answered JSON that is not an object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise VendorAnswerInvalid(f"{source} answered an invalid {model.__name__}: {problems}") from None
