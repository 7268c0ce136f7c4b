"""Shared domain types. Money is Decimal plus an ISO 4217 currency: never a float."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

__all__ = [
    "CURRENCY_DIGITS",
    "MAX_AMOUNT",
    "SCHEMA_VERSION",
    "AgreementRecord",
    "ConnectorSecret",
    "Contract",
    "CurrencyMismatch",
    "DataUse",
    "Intent",
    "IntentStatus",
    "Money",
    "Offer",
    "PostalAddress",
    "Price",
    "Profile",
    "Purchase",
    "Usage",
    "Vendor",
    "amount_problem",
]

SCHEMA_VERSION = 1

# Minor units of the currencies butler prices in; any other three-letter code is accepted with two.
CURRENCY_DIGITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "CAD": 2,
    "AUD": 2, "NZD": 2, "JPY": 0, "KRW": 0, "ISK": 0, "HUF": 2, "INR": 2, "CNY": 2, "BRL": 2, "MXN": 2,
    "KWD": 3, "BHD": 3, "TND": 3,
}


MAX_AMOUNT = Decimal(1_000_000_000)
"""The most a price, budget or limit may be, in any currency: anything above is a typing or a vendor's error."""


class CurrencyMismatch(ValueError):
    """Arithmetic or comparison between two different currencies."""


def _currency(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValueError(f"currency must be a three-letter ISO 4217 code, got {code!r}")
    return code


Currency = Annotated[str, AfterValidator(_currency)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(_Frozen):
    """An exact amount in one currency. Floats are refused: `Money(amount="9.99", currency="EUR")`."""

    amount: Decimal
    currency: Currency

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError("money amounts must be given as strings or Decimals, never floats")
        if isinstance(value, str):
            try:
                Decimal(value)
            except InvalidOperation as exc:
                raise ValueError(f"not a number: {value!r}") from exc
        return value

    @field_validator("amount")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("money amount must be finite")
        return value

    @field_serializer("amount")
    def _amount_str(self, value: Decimal) -> str:
        return str(value)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        return cls(amount=Decimal(str(amount)) if isinstance(amount, int) else amount, currency=currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply money by an int or a Decimal, never a float")
        return Money(amount=self.amount * factor, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def rounded(self) -> Money:
        """Rounded to the currency's minor unit, half to even."""
        digits = CURRENCY_DIGITS.get(self.currency, 2)
        quantum = Decimal(1).scaleb(-digits)
        return Money(amount=self.amount.quantize(quantum, rounding=ROUND_HALF_EVEN), currency=self.currency)

    def __str__(self) -> str:
        if abs(self.amount) > MAX_AMOUNT:  # as given: rounding 1E+26 to cents needs more digits than Decimal keeps
            return f"{self.amount} {self.currency}"
        return f"{self.rounded().amount} {self.currency}"


def amount_problem(money: Money, *, zero: bool = True) -> str | None:
    """Why `money` cannot be a price (`zero` allowed) or a budget or limit (`zero=False`); None when it can.

    A price is at least 0, a budget or limit more than 0, and neither more than MAX_AMOUNT.
    """
    low = money.amount >= 0 if zero else money.amount > 0
    if low and money.amount <= MAX_AMOUNT:
        return None
    floor = "at least 0" if zero else "more than 0"
    return f"{money.amount} {money.currency} is out of range ({floor} and at most {MAX_AMOUNT})"


def _price(value: Money) -> Money:
    problem = amount_problem(value)
    if problem is not None:
        raise ValueError(problem)  # pydantic names the field
    return value


Price = Annotated[Money, AfterValidator(_price)]
"""Money that can be a price: from 0 to MAX_AMOUNT."""


class DataUse(StrEnum):
    """How much of the person's data a vendor may use, from least to most (ordered)."""

    NONE = "none"
    SERVICE = "service"  # only to deliver the service
    ANALYTICS_FIRST_PARTY = "analytics-first-party"
    PROFILING_FIRST_PARTY = "profiling-first-party"
    SHARE_ANONYMISED = "share-anonymised"
    SHARE_THIRD_PARTY = "share-third-party"

    @property
    def rank(self) -> int:
        return list(DataUse).index(self)


class PostalAddress(_Frozen):
    """A postal address in the schema.org shape shops use (UCP's `postal_address`); the country is ISO 3166-1
    alpha-2."""

    street_address: str = Field(min_length=1, max_length=200)
    extended_address: str | None = Field(default=None, max_length=200)
    address_locality: str = Field(min_length=1, max_length=100)
    address_region: str | None = Field(default=None, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    address_country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")

    @field_validator("address_country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    def one_line(self) -> str:
        parts = [self.street_address, self.extended_address, self.address_locality, self.address_region,
                 self.postal_code, self.address_country]
        return ", ".join(p for p in parts if p)


class Profile(_Frozen):
    """Who the butler works for: the name, e-mail and address shops deliver to. Kept only in the vault."""

    name: str
    email: str | None = None
    country: str | None = Field(default=None, min_length=2, max_length=2)
    currency: Currency = "EUR"
    locale: str = "en"
    address: PostalAddress | None = None


class Vendor(_Frozen):
    id: str = Field(min_length=1, max_length=200)
    name: str
    base_url: str | None = None
    country: str | None = None
    owner: str | None = None
    brands: tuple[str, ...] = ()
    certifications: tuple[str, ...] = ()
    carbon_intensity_g_per_kwh: Decimal | None = None
    renewable_share: Decimal | None = Field(default=None, ge=0, le=1)
    myterms_accepted: tuple[str, ...] = ()


class Usage(_Frozen):
    """Recorded consumption, used to price alternatives on the same footing."""

    kwh_per_year: Decimal | None = None
    gb_per_month: Decimal | None = None
    minutes_per_month: Decimal | None = None
    notes: str | None = None


class Contract(_Frozen):
    id: str
    vendor_id: str
    product: str
    category: str
    price: Money
    period: Literal["month", "year", "once"] = "month"
    term_months: int = Field(ge=0)
    start: dt.date
    end: dt.date | None = None
    renewal_date: dt.date | None = None
    auto_renew: bool = False
    usage: Usage = Usage()
    myterms: str | None = None

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.end is not None and self.end < self.start:
            raise ValueError("contract end is before its start")
        return self


class Purchase(_Frozen):
    """An order a vendor placed. `at` is when the vendor says it placed it; None when it does not say (a record
    is built from what the vendor states only, so asking again yields the same purchase)."""

    id: str
    vendor_id: str
    offer_id: str | None = None
    items: tuple[str, ...]
    total: Money
    at: dt.datetime | None = None
    receipt: dict[str, Any] = Field(default_factory=dict)


class IntentStatus(StrEnum):
    OPEN = "open"
    NEGOTIATING = "negotiating"
    AWAITING_APPROVAL = "awaiting-approval"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Intent(_Frozen):
    """What the person seeks: "a laptop under 900 EUR by Friday"."""

    id: str
    description: str
    category: str
    budget: Money
    deadline: dt.datetime | None = None
    keywords: tuple[str, ...] = ()
    status: IntentStatus = IntentStatus.OPEN
    created: dt.datetime


class Offer(_Frozen):
    """A vendor's offer as butler sees it, whatever the vendor's wire format."""

    id: str
    vendor_id: str
    product: str
    category: str
    price: Money
    period: Literal["month", "year", "once"] = "once"
    term_months: int = Field(default=0, ge=0)
    auto_renew: bool = False
    data_use: DataUse = DataUse.SERVICE
    myterms: str | None = None
    certifications: tuple[str, ...] = ()
    country_of_origin: str | None = None
    carbon_intensity_g_per_kwh: Decimal | None = None
    renewable_share: Decimal | None = Field(default=None, ge=0, le=1)
    rating: Decimal | None = None
    extras: tuple[str, ...] = ()
    attributes: dict[str, Any] = Field(default_factory=dict)
    expires_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _priced_in_range(self) -> Offer:
        problem = amount_problem(self.price)
        if problem is not None:  # named here, not on the field, so that the refusal says which offer
            raise ValueError(f"offer {self.id}: price {problem}")
        return self


class AgreementRecord(_Frozen):
    """One signed event of a MyTerms exchange: proffer, answer or agreement."""

    seq: int = Field(ge=0)
    term_id: str
    counterparty: str
    status: str
    at: dt.datetime
    place: str
    prev_hash: str
    signature: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ConnectorSecret(_Frozen):
    """A credential a connector declared it needs. The value prints as `**********`."""

    connector_id: str
    name: str
    value: SecretStr

    @field_serializer("value", when_used="json")
    def _reveal_only_for_storage(self, value: SecretStr) -> str:
        # serialised only into the encrypted vault; repr/str keep hiding it
        return value.get_secret_value()
