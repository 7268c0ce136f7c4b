"""Property tests: sealing, the vault's record round trip, and the domain models' JSON round trip."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from butler.models import (
    AgreementRecord,
    ConnectorSecret,
    Contract,
    CurrencyMismatch,
    DataUse,
    Intent,
    IntentStatus,
    Money,
    Offer,
    Profile,
    Purchase,
    Usage,
    Vendor,
)
from butler.vault import KdfParams, Vault, crypto

keys = st.binary(min_size=crypto.KEY_LEN, max_size=crypto.KEY_LEN)


@given(key=keys, plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_seal_open_round_trip(key: bytes, plaintext: bytes, aad: bytes) -> None:
    sealed = crypto.seal(key, plaintext, aad)
    assert len(sealed) == len(plaintext) + crypto.NONCE_LEN + crypto.TAG_LEN
    assert crypto.open_(key, sealed, aad) == plaintext


@given(key=keys, plaintext=st.binary(max_size=512), aad=st.binary(max_size=64), data=st.data())
def test_any_flipped_bit_of_sealed_bytes_is_refused(key: bytes, plaintext: bytes, aad: bytes,
                                                    data: st.DataObject) -> None:
    sealed = bytearray(crypto.seal(key, plaintext, aad))
    at = data.draw(st.integers(0, len(sealed) - 1))
    sealed[at] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(crypto.InvalidKey):
        crypto.open_(key, bytes(sealed), aad)


@given(key=keys, other=keys, plaintext=st.binary(max_size=256), aad=st.binary(max_size=32),
       other_aad=st.binary(max_size=32))
def test_wrong_key_or_context_is_refused(key: bytes, other: bytes, plaintext: bytes, aad: bytes,
                                         other_aad: bytes) -> None:
    sealed = crypto.seal(key, plaintext, aad)
    if other != key:
        with pytest.raises(crypto.InvalidKey):
            crypto.open_(other, sealed, aad)
    if other_aad != aad:
        with pytest.raises(crypto.InvalidKey):
            crypto.open_(key, sealed, other_aad)


@given(sealed=st.binary(max_size=crypto.NONCE_LEN + crypto.TAG_LEN - 1))
def test_short_input_is_refused(sealed: bytes) -> None:
    with pytest.raises(crypto.InvalidKey):
        crypto.open_(bytes(32), sealed, b"")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
records = st.dictionaries(st.text(max_size=12), json_values, max_size=6)
names = st.text(st.characters(min_codepoint=32, exclude_categories=["Cs"]), min_size=1, max_size=40)


@pytest.fixture(scope="module")
def shared_vault() -> Iterator[Vault]:
    home = Path(tempfile.mkdtemp(prefix="butler-prop-"))
    vault = Vault.create(home / "butler", "property passphrase", KdfParams.fast_for_tests())
    yield vault
    vault.close()
    shutil.rmtree(home)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(collection=names, record_id=names, data=records)
def test_vault_put_get_round_trip(shared_vault: Vault, collection: str, record_id: str,
                                  data: dict[str, Any]) -> None:
    written = shared_vault.put(collection, record_id, data)
    assert shared_vault.get(collection, record_id).data == data
    assert record_id in shared_vault.ids(collection)
    # a second process's view: a fresh handle reads the same
    with Vault(shared_vault.home, shared_vault.data_key) as again:
        got = again.get(collection, record_id)
        assert got.data == data
        assert got.version == written.version
    assert json.loads(json.dumps(data)) == data


currencies = st.sampled_from(["EUR", "USD", "JPY", "KWD", "GBP", "CHF", "XAU", "SEK"])
amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False,
                      allow_infinity=False, places=4)
money = st.builds(Money, amount=amounts, currency=currencies)
# what an offer may cost and an intent may budget: never below 0 (a budget above it), never above MAX_AMOUNT
prices = st.builds(Money, amount=st.decimals(min_value=0, max_value=Decimal("1e9"), places=2), currency=currencies)
budgets = st.builds(Money, amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
                    currency=currencies)
short = st.text(min_size=1, max_size=20)
moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1),
                       timezones=st.just(dt.UTC))
days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1))
fractions = st.decimals(min_value=0, max_value=1, places=3)
json_objects = st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8) | st.booleans(), max_size=3)

models = st.one_of(
    money,
    st.builds(Profile, name=short, email=st.none() | st.just("me@example.org"), country=st.just("DE"),
              currency=currencies),
    st.builds(Vendor, id=short, name=short, brands=st.lists(short, max_size=3).map(tuple),
              renewable_share=st.none() | fractions, carbon_intensity_g_per_kwh=st.none() | amounts),
    st.builds(Usage, kwh_per_year=st.none() | amounts, notes=st.none() | short),
    st.builds(Contract, id=short, vendor_id=short, product=short, category=short, price=money,
              period=st.sampled_from(["month", "year", "once"]), term_months=st.integers(0, 60),
              start=days, end=st.none(), renewal_date=st.none() | days, auto_renew=st.booleans()),
    st.builds(Offer, id=short, vendor_id=short, product=short, category=short, price=prices,
              data_use=st.sampled_from(list(DataUse)), renewable_share=st.none() | fractions,
              attributes=json_objects, expires_at=st.none() | moments),
    st.builds(Intent, id=short, description=short, category=short, budget=budgets, created=moments,
              deadline=st.none() | moments, status=st.sampled_from(list(IntentStatus)),
              keywords=st.lists(short, max_size=3).map(tuple)),
    st.builds(Purchase, id=short, vendor_id=short, items=st.lists(short, min_size=1, max_size=3).map(tuple),
              total=money, at=moments, receipt=json_objects),
    st.builds(AgreementRecord, seq=st.integers(0, 1000), term_id=short, counterparty=short, status=short,
              at=moments, place=short, prev_hash=st.just("0" * 64), details=json_objects),
    st.builds(ConnectorSecret, connector_id=short, name=short, value=short),
)


@given(model=models)
def test_models_round_trip_through_json(model: BaseModel) -> None:
    text = model.model_dump_json()
    again = type(model).model_validate_json(text)
    assert again == model
    assert again.model_dump_json() == text


@given(money=money)
def test_money_serialises_amounts_as_exact_strings(money: Money) -> None:
    raw = json.loads(money.model_dump_json())
    assert isinstance(raw["amount"], str)
    assert Decimal(raw["amount"]) == money.amount


@given(value=st.floats(allow_nan=True, allow_infinity=True), currency=currencies)
def test_money_refuses_floats(value: float, currency: str) -> None:
    with pytest.raises(ValidationError, match="never floats"):
        Money(amount=value, currency=currency)


@given(a=money, b=money)
def test_money_refuses_mixing_currencies(a: Money, b: Money) -> None:
    if a.currency == b.currency:
        assert (a + b).amount == a.amount + b.amount
        assert (a - b) + b == a
        assert (a < b) == (a.amount < b.amount)
        return
    for operation in (lambda: a + b, lambda: a - b, lambda: a < b, lambda: a <= b, lambda: a > b,
                      lambda: a >= b):
        with pytest.raises(CurrencyMismatch):
            operation()


@given(a=money, factor=st.floats(allow_nan=False))
def test_money_refuses_float_factors(a: Money, factor: float) -> None:
    with pytest.raises(TypeError):
        a * factor


def test_money_examples() -> None:
    assert str(Money.of("9.995", "EUR")) == "10.00 EUR"  # half to even: 9.995 → 10.00
    assert str(Money.of("2.5", "JPY")) == "2 JPY"
    assert Money.of(3, "usd").currency == "USD"
    with pytest.raises(ValidationError):
        Money(amount="NaN", currency="EUR")
    with pytest.raises(ValidationError):
        Money(amount="1", currency="EURO")
    with pytest.raises(ValidationError):
        Money(amount="one", currency="EUR")
    with pytest.raises(TypeError):
        Money.of("1", "EUR") + 1  # type: ignore[operator]
    with pytest.raises(ValidationError, match="never floats"):
        Money.model_validate_json('{"amount": 1.5, "currency": "EUR"}')  # a JSON number is a float
