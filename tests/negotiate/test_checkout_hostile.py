"""Checkout against a vendor that cheats at every step: nothing is paid above the approved total, every order the
vendor placed is recorded (or its item waits, visible, naming the checkout), and every refusal names its cause."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault
from hostile_checkout import API_KEY, PAY_MALFORMED, Cheat, make_cheat_app
from vendorkit import connector_class, install

from butler import registry
from butler.approvals import OPEN, Desk, NeedsAttention, State
from butler.errors import ButlerError
from butler.models import Money
from butler.negotiate import intents, mandate
from butler.negotiate.approvals import KIND, PurchaseItem
from butler.negotiate.checkout import CheckoutFailed, CheckoutRefused
from butler.negotiate.fanout import negotiate_intent
from butler.negotiate.vendors import entered, open_enabled
from butler.policy import PolicySet
from butler.testing import live_server
from butler.vault import Vault

DESK = Desk([KIND])


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return make_vault(tmp_path / "home")


@contextlib.asynccontextmanager
async def queued(vault: Vault, monkeypatch: pytest.MonkeyPatch, cheat: Cheat,
                 budget: str = "50.00") -> AsyncIterator[PurchaseItem]:
    """Serve the cheat, enable it, negotiate an intent with it: the purchase waiting for approval."""
    cls = connector_class("cheat")
    install(monkeypatch, {"cheat": cls})
    with live_server(make_cheat_app(cheat)) as url:
        await asyncio.to_thread(registry.enable, vault, cls, settings={"base_url": url}, secrets={"api_key": API_KEY})
        intent = intents.add(vault, "a kettle", "shop", Money.of(budget, "EUR"))
        async with entered(open_enabled(vault)) as opened:
            outcome = await negotiate_intent(vault, intent, PolicySet(), opened)
        assert outcome.approval_id is not None, outcome.results
        item = DESK.get(vault, outcome.approval_id)
        assert isinstance(item, PurchaseItem) and item.state is State.PENDING
        yield item


def assert_safe(vault: Vault, cheat: Cheat, item: PurchaseItem) -> None:
    """The properties that must hold whatever the vendor did."""
    approved = item.total
    # butler never authorised a payment above what was approved
    assert all(Decimal(b["amount"]["amount"]) <= approved.amount for b in cheat.pay_bodies)
    if cheat.pay != "overcharge":  # a vendor keeping to the authorisation took no more than was approved
        assert sum((c for _, c in cheat.charges), Decimal(0)) <= approved.amount
    now = DESK.get(vault, item.id)
    assert now.state is not State.EXECUTING  # never left half-way once the call returned
    recorded = {r.id for r in vault.records("purchases")}
    waiting = {getattr(getattr(now, "checkout_quote", None), "checkout_id", None)} \
        if now.state is State.NEEDS_ATTENTION else set()
    for order_id, order in cheat.orders.items():  # every placed order: recorded, or its checkout awaits the person
        assert order_id in recorded or order["checkout_id"] in waiting, (order_id, now.state, now.note)
    assert now.state not in OPEN or now.id in {i.id for i in DESK.items(vault)}  # never invisible


@pytest.mark.parametrize(("mode", "cause"), [
    ("raise", "more than the approved"),
    ("shipping", "shipping 5.00 EUR added"),
    ("currency", "the total is in USD"),
    ("items", "holds 2 × cheat-2"),
    ("terms", "24 months instead of 0"),
])
async def test_a_changed_checkout_is_refused_before_paying(vault: Vault, monkeypatch: pytest.MonkeyPatch,
                                                           mode: str, cause: str) -> None:
    cheat = Cheat(prepare=mode)
    async with queued(vault, monkeypatch, cheat) as item:
        with pytest.raises(CheckoutRefused, match=cause) as refused:
            await DESK.adecide(vault, item.id, approve=True)
    assert "Nothing was paid" in refused.value.message
    assert cheat.charges == [] and cheat.orders == {} and cheat.pay_bodies == []
    assert cheat.cancelled == [f"co{cheat.prepares}"]  # the vendor was told butler will not pay
    done = DESK.get(vault, item.id)
    assert done.state is State.FAILED and cause in done.note
    assert_safe(vault, cheat, item)
    from butler.commands.approvals import explain_lines

    explained = "\n".join(explain_lines(vault, item.id))
    assert f"{item.id}  [purchase]  failed" in explained and "approved by person" in explained
    assert "failed by butler: cheat changed the deal before payment: " in explained and cause in explained


@pytest.mark.parametrize(("mode", "cause"), [
    ("not-json", "not JSON"), ("array", "not a JSON object"), ("no-total", "malformed"),
    ("bad-amount", "malformed"), ("huge", "malformed"), ("negative", "malformed"), ("nan", "malformed"),
    ("parts", "malformed"),
])
async def test_a_malformed_checkout_pays_nothing(vault: Vault, monkeypatch: pytest.MonkeyPatch, mode: str,
                                                 cause: str) -> None:
    cheat = Cheat(prepare=mode)
    async with queued(vault, monkeypatch, cheat) as item:
        with pytest.raises(CheckoutFailed, match=cause):
            await DESK.adecide(vault, item.id, approve=True)
    assert cheat.charges == [] and cheat.pay_bodies == []
    assert DESK.get(vault, item.id).state is State.FAILED
    assert_safe(vault, cheat, item)


async def test_the_person_approves_the_total_with_shipping_and_pays_exactly_that(
        vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    cheat = Cheat(shipping="5.00")
    async with queued(vault, monkeypatch, cheat) as item:
        assert item.quote is not None and item.quote.shipping == Money.of("5.00", "EUR")
        assert item.total == item.agreed_terms.price + Money.of("5.00", "EUR")
        assert "+ shipping 5.00 EUR" in item.summary()
        said = await DESK.adecide(vault, item.id, approve=True)
    assert "bought" in said and cheat.finds == 0
    assert cheat.charges == [("co2", item.total.amount)]
    stored = vault.get("purchases", "o1")
    assert stored is not None and stored.data["approved_total"] == str(item.total) and stored.data["disputed"] == []
    assert DESK.get(vault, item.id).state is State.DONE
    assert_safe(vault, cheat, item)


async def test_an_overcharging_vendor_is_recorded_flagged_and_needs_attention(
        vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    cheat = Cheat(pay="overcharge", period="month")
    async with queued(vault, monkeypatch, cheat) as item:
        with pytest.raises(NeedsAttention, match="more than the approved") as raised:
            await DESK.adecide(vault, item.id, approve=True)
    assert "asked cheat to cancel contract c-o1" in raised.value.message
    assert cheat.pay_bodies == [{"amount": item.total.model_dump(mode="json")}]  # authorised no more than approved
    stored = vault.get("purchases", "o1")
    assert stored is not None and stored.data["disputed"]
    assert cheat.cancelled == ["c-o1"]
    done = DESK.get(vault, item.id)
    assert done.state is State.NEEDS_ATTENTION and "o1" in done.note
    assert "negotiate.order-disputed" in [e.action for e in vault.audit.entries()]
    assert_safe(vault, cheat, item)


async def test_a_refused_payment_takes_nothing_and_says_why(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    cheat = Cheat(pay="refuse")
    async with queued(vault, monkeypatch, cheat) as item:
        with pytest.raises(CheckoutFailed, match=r'refused the payment: .* says "the total changed to 49\.00 EUR"'):
            await DESK.adecide(vault, item.id, approve=True)
    assert cheat.charges == [] and DESK.get(vault, item.id).state is State.FAILED
    assert_safe(vault, cheat, item)


@pytest.mark.parametrize("mode", ["lost", "stall", *PAY_MALFORMED])
async def test_an_order_whose_answer_is_lost_or_broken_is_found_and_recorded(
        vault: Vault, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    cheat = Cheat(pay=mode, stall_seconds=3.0)
    home = Path(os.environ["BUTLER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[vendors]\ndeadline_seconds = 1\n")  # the whole checkout's deadline
    async with queued(vault, monkeypatch, cheat) as item:
        said = await DESK.adecide(vault, item.id, approve=True)
    assert "bought" in said and "o1" in said
    assert cheat.finds == 1  # the answer was lost (the stall: past the configured deadline), so butler asked
    assert list(cheat.orders) == ["o1"] and vault.get("purchases", "o1") is not None
    assert DESK.get(vault, item.id).state is State.DONE
    assert_safe(vault, cheat, item)


@pytest.mark.parametrize("find", ["broken", "malformed"])
@pytest.mark.parametrize("mode", PAY_MALFORMED)
async def test_when_the_vendor_cannot_say_either_the_item_waits_visibly_then_reconciles(
        vault: Vault, monkeypatch: pytest.MonkeyPatch, mode: str, find: str) -> None:
    cheat = Cheat(pay=mode, find=find)
    async with queued(vault, monkeypatch, cheat) as item:
        with pytest.raises(NeedsAttention, match="could not say whether it placed the order for checkout co2"):
            await DESK.adecide(vault, item.id, approve=True)
        waiting = DESK.get(vault, item.id)
        assert waiting.state is State.NEEDS_ATTENTION and waiting in DESK.items(vault)
        assert_safe(vault, cheat, item)
        with pytest.raises(ButlerError):  # still down: still waiting, nothing lost
            await DESK.adecide(vault, item.id, approve=True)
        cheat.find = "honest"
        said = await DESK.adecide(vault, item.id, approve=True)  # the person asks again: butler asks the vendor
    assert "o1" in said and vault.get("purchases", "o1") is not None
    assert DESK.get(vault, item.id).state is State.DONE
    assert len(cheat.charges) == 1
    assert_safe(vault, cheat, item)


async def test_the_mandate_limits_the_total_with_shipping(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    cheat = Cheat(shipping="9.00", price="30.00")
    mandate.set_mandate(vault, mandate.Mandate(
        max_amount=Money.of("25.00", "EUR"), vendors=("cheat",), categories=("shop",),
        expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)))
    async with queued(vault, monkeypatch, cheat) as item:
        assert item.agreed_terms.price <= Money.of("25.00", "EUR") < item.total  # the price fits, the total not
    assert cheat.charges == [] and vault.ids("purchases") == []
    declined = [e for e in vault.audit.entries() if e.action == "negotiate.mandate-declined"]
    assert declined and "more than the mandate's 25.00 EUR" in declined[0].details["reason"]
