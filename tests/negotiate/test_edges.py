"""Nonsense amounts and reserves are refused at every edge: the command line, the models, the pure functions,
and a vendor's answer (which drops that vendor only, with a reason a person can read)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file, run_main
from hostile import API_KEY, make_hostile_app
from pydantic import ValidationError
from vendorkit import connector_class, install

from butler import registry
from butler.errors import UsageError
from butler.models import MAX_AMOUNT, Money, Offer
from butler.negotiate import intents
from butler.negotiate.fanout import IntentOutcome, negotiate_intent
from butler.negotiate.mandate import Mandate
from butler.negotiate.session import issue_space, negotiate_all, negotiate_offer, outcome_utility
from butler.negotiate.strategy import for_customer
from butler.negotiate.vendors import entered, open_enabled
from butler.policy import PolicySet
from butler.sdk import Connector, ConnectorContext, Terms
from butler.testing import live_server
from butler.vault import Vault

BAD_RESERVES = ["-1", "1", "1.5", "nan", "inf"]
BAD_AMOUNTS = ["-5 EUR", "0 EUR", "nan EUR", "inf EUR", "1e26 EUR", "100000000000000000000000000 EUR"]


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return make_vault(tmp_path / "home")


@pytest.fixture
def home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    return butler_env


def _offer(price: str, **update: object) -> Offer:
    return Offer(id="o1", vendor_id="v", product="Gadget", category="shop", price=Money.of(price, "EUR"), **update)


# the command line


@pytest.mark.parametrize("value", BAD_RESERVES)
def test_negotiate_refuses_a_reserve_outside_zero_to_one(home: Path, value: str) -> None:
    out = run_main("negotiate", "i-000000", "--reserve", value)
    assert out.returncode == UsageError.exit_code
    assert f"--reserve {float(value):g} is out of range" in out.stderr


@pytest.mark.parametrize(("option", "value"), [("--seconds", "0"), ("--seconds", "-1"), ("--seconds", "nan"),
                                               ("--seconds", "inf"), ("--max-vendors", "0")])
def test_negotiate_refuses_impossible_limits(home: Path, option: str, value: str) -> None:
    out = run_main("negotiate", "i-000000", option, value)
    assert out.returncode == UsageError.exit_code
    assert f"{option} " in out.stderr and "is out of range" in out.stderr


@pytest.mark.parametrize("value", BAD_AMOUNTS)
def test_intent_budget_and_mandate_maximum_refuse_nonsense_amounts(home: Path, value: str) -> None:
    added = run_main("intent", "add", "a gadget", "--category", "shop", "--budget", value)
    assert added.returncode == UsageError.exit_code
    assert repr(value) in added.stderr and "--budget" in added.stderr
    mandate = run_main("mandate", "set", "--max", value, "--vendor", "v", "--category", "shop",
                       "--expires", "2999-01-01")
    assert mandate.returncode == UsageError.exit_code
    assert repr(value) in mandate.stderr and "--max" in mandate.stderr
    with Vault(home, Vault.key_from_passphrase(home, "correct horse battery staple")) as vault:
        assert vault.ids("intents") == [] and vault.ids("mandates") == []


def test_a_sane_budget_is_still_accepted(home: Path) -> None:
    added = run_main("intent", "add", "a gadget", "--category", "shop", "--budget", f"{MAX_AMOUNT} EUR")
    assert added.returncode == 0, added.stderr


# the models and the pure functions


@pytest.mark.parametrize(("price", "shown"), [("-100.00", "-100.00 EUR"), ("1e26", "1E+26 EUR"),
                                              ("1000000000.01", "1000000000.01 EUR")])
def test_an_offer_or_terms_priced_out_of_range_fail_validation(price: str, shown: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(f"offer o1: price {shown} is out of range")):
        _offer(price)
    with pytest.raises(ValidationError, match=re.escape(f"{shown} is out of range")):
        Terms(price=Money.of(price, "EUR"))
    assert _offer("0").price.amount == 0 and Terms(price=Money.of("0", "EUR")).price.amount == 0


def test_money_prints_an_absurd_amount_without_crashing() -> None:
    assert str(Money.of("1e26", "EUR")) == "1E+26 EUR"
    assert str(Money.of("9.999", "EUR")) == "10.00 EUR"


@pytest.mark.parametrize("amount", ["0", "-5", "1e26"])
def test_a_mandate_maximum_must_be_more_than_zero_and_sane(amount: str) -> None:
    with pytest.raises(ValidationError, match=r"the maximum .* is out of range"):
        Mandate(max_amount=Money.of(amount, "EUR"), vendors=("v",), categories=("shop",),
                expires=dt.datetime(2999, 1, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize("amount", ["0", "-5", "1e26"])
def test_an_intent_budget_must_be_more_than_zero_and_sane(vault: Vault, amount: str) -> None:
    with pytest.raises(UsageError, match=r"the budget .* is out of range"):
        intents.add(vault, "a gadget", "shop", Money.of(amount, "EUR"))
    assert vault.ids("intents") == []


@pytest.mark.parametrize("reserve", [-1.0, 1.0, float("nan"), float("inf")])
async def test_the_pure_functions_refuse_a_reserve_outside_zero_to_one(reserve: float) -> None:
    offer = _offer("10.00")
    with pytest.raises(ValueError, match="reserve"):
        for_customer(issue_space(offer), lambda outcome: 0.5, reserve, 4)
    with pytest.raises(ValueError, match="reserve"):
        await negotiate_all([], PolicySet(), reserve=reserve)
    app = make_hostile_app("honest")
    with live_server(app) as url:
        async with _connector(connector_class("hostile"), url) as connector:
            with pytest.raises(ValueError, match="reserve"):
                await negotiate_offer(connector, offer, PolicySet(), reserve=reserve)
    assert app.state.calls == 0  # nothing was asked of the vendor


def test_issue_space_refuses_an_offer_that_escaped_validation() -> None:
    unchecked = Offer.model_construct(**{**_offer("1").__dict__, "price": Money.of("1e26", "EUR")})
    with pytest.raises(ValueError, match=r"price 1E\+26 EUR is out of range"):
        issue_space(unchecked)


def test_a_free_offer_has_a_utility() -> None:
    utility = outcome_utility(_offer("0"), PolicySet())
    assert 0 <= utility({"price": Money.of("0", "EUR"), "term_months": 0, "data_use": "service", "extras": ()}) <= 1


# a vendor's answer


@contextlib.asynccontextmanager
async def _connector(cls: type[Connector], url: str) -> AsyncIterator[Connector]:
    ctx = ConnectorContext(cls.manifest, settings={"base_url": url}, secrets={"api_key": API_KEY})
    async with cls(ctx) as connector:
        yield connector


async def _negotiate(vault: Vault, monkeypatch: pytest.MonkeyPatch, bad_app: object, *,
                     reserve: float = 0.2) -> tuple[IntentOutcome, object]:
    """Negotiate one intent with the misbehaving vendor `bad` and a fair one, both enabled as connectors."""
    fair_app = make_hostile_app("honest", vendor_id="fair")
    classes = {"bad": connector_class("bad"), "fair": connector_class("fair")}
    install(monkeypatch, classes)
    with live_server(bad_app) as bad_url, live_server(fair_app) as fair_url:
        for cid, url in (("bad", bad_url), ("fair", fair_url)):
            await asyncio.to_thread(registry.enable, vault, classes[cid], settings={"base_url": url},
                                    secrets={"api_key": API_KEY})
        intent = intents.add(vault, "a gadget", "shop", Money.of("20.00", "EUR"))
        async with entered(open_enabled(vault)) as opened:
            outcome = await negotiate_intent(vault, intent, PolicySet(), opened, reserve=reserve,
                                             per_vendor_seconds=10)
    return outcome, fair_app


@pytest.mark.parametrize(("price", "reason"), [
    ("1e26", r"offer bad-1: price 1E\+26 EUR is out of range"),
    ("-100.00", "offer bad-1: price -100.00 EUR is out of range"),
    ("NaN", "amount: Input should be a finite number"),
])
async def test_an_offer_priced_out_of_range_drops_that_vendor_only(vault: Vault, monkeypatch: pytest.MonkeyPatch,
                                                                   price: str, reason: str) -> None:
    bad_app = make_hostile_app("honest", vendor_id="bad", price=price)
    outcome, fair_app = await _negotiate(vault, monkeypatch, bad_app)
    assert [d.vendor_id for d in outcome.dropped] == ["bad"]
    assert re.search(reason, outcome.dropped[0].reason), outcome.dropped[0].reason
    assert "the connector failed" not in outcome.dropped[0].reason
    assert bad_app.state.calls == 0  # type: ignore[attr-defined]  # never negotiated with
    assert [r.vendor_id for r in outcome.results] == ["fair"] and outcome.results[0].agreed is not None
    assert fair_app.state.calls == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("opening", ["-100.00", "1e26"])
async def test_a_counter_offer_priced_out_of_range_ends_that_negotiation_only(
        vault: Vault, monkeypatch: pytest.MonkeyPatch, opening: str) -> None:
    bad_app = make_hostile_app("honest", vendor_id="bad", opening=opening)
    outcome, _ = await _negotiate(vault, monkeypatch, bad_app)
    by_vendor = {r.vendor_id: r for r in outcome.results}
    assert by_vendor["bad"].agreed is None
    assert by_vendor["bad"].reason.startswith("the vendor's answer is refused: ")
    assert "is out of range" in by_vendor["bad"].reason
    assert by_vendor["fair"].agreed is not None and outcome.winner is by_vendor["fair"]
    assert all(a.data.get("vendor") != "bad" for a in (vault.get("approvals", i) for i in vault.ids("approvals"))
               if a is not None)


async def test_a_negative_reserve_never_reaches_a_vendor(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    # with reserve -1 an outcome above the budget (utility 0) was "better than walking away" and got bought
    over_budget = make_hostile_app("honest", vendor_id="bad", price="25.00")
    with pytest.raises(ValueError, match="reserve"):
        await _negotiate(vault, monkeypatch, over_budget, reserve=-1)
    assert over_budget.state.calls == 0  # type: ignore[attr-defined]
    assert vault.ids("approvals") == [] and vault.ids("purchases") == []
