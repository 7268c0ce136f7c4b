"""The whole flow from the command line, against the example vendors on loopback:
intent add → negotiate → approvals approve → purchase and contract in the vault; plus mandate and renewals."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_main
from vendorkit import connector_class, enable_all, install, running

from butler.vault import Vault
from examples.vendors import VENDORS


@pytest.fixture
def home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    return butler_env


def _vault(home: Path) -> Vault:
    return Vault(home, Vault.key_from_passphrase(home, PASSPHRASE))


ASK_EVERY_TIME = """[[rule]]
id = "ask-small-spends"
kind = "budget"
max_per_purchase = "1 EUR"
action = "ask"
reason = "I look at every purchase myself."
"""


@pytest.mark.slow
def test_intent_negotiate_approve_buys_and_stores_receipt_and_contract(home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "policies").mkdir(exist_ok=True)
    (home / "policies" / "mine.toml").write_text(ASK_EVERY_TIME)
    with running() as servers:
        with _vault(home) as vault:
            enable_all(vault, monkeypatch, servers)
        added = run_main("intent", "add", "a cheaper phone contract", "--category", "mobile", "--budget", "20 EUR")
        assert added.returncode == 0, added.stderr
        intent_id = added.stdout.split()[0]
        assert "[open]" in run_main("intent", "list").stdout

        out = run_main("negotiate", intent_id, "--seconds", "20")
        assert out.returncode == 0, out.stderr + out.stdout
        assert "dropped parla/parla-max" in out.stdout and "out of reach of the budget" in out.stdout
        assert "waits for your approval" in out.stdout
        item = re.search(r"approvals approve (\S+)", out.stdout)
        assert item is not None
        listed = run_main("approvals", "list").stdout
        assert item.group(1) in listed and "parla" in listed
        assert "- your rule ask-small-spends (" in listed  # the rule that made it wait, where it is written

        shown = run_main("negotiations", intent_id).stdout
        assert "round   1 vendor" in shown and "buyer" in shown  # every offer and counter-offer, visible

        approved = run_main("approvals", "approve", item.group(1))
        assert approved.returncode == 0, approved.stderr
        assert "bought" in approved.stdout
        parla_app = servers["parla"][1]
        assert len(parla_app.state.orders) == 1
        order = next(iter(parla_app.state.orders.values()))
        keys = [h.get("idempotency-key") for m, p, h in parla_app.state.seen if p.endswith("/pay")]
        assert keys == [f"butler-{item.group(1)}"]  # paid once, under the key stored with the item

        again = run_main("approvals", "approve", item.group(1))
        assert again.returncode != 0 and len(parla_app.state.orders) == 1  # decided once, bought once

        explained = run_main("explain", order["id"])
        assert explained.returncode == 0, explained.stderr
        text = explained.stdout
        assert f"purchase {order['id']}" in text and "bought by person" in text and "approved total" in text
        assert f"{item.group(1)}  [purchase]  done" in text
        assert "approved by person" in text and "done by butler" in text and "why it came to you:" in text
        assert run_main("approvals", "show", item.group(1)).stdout in text
        assert "your policies on this deal: Ask the person first." in text  # the rule, where, and the reason
        assert "ask-small-spends (" in text and "mine.toml:" in text and "I look at every purchase myself." in text

    with _vault(home) as vault:
        purchases = list(vault.records("purchases"))
        assert [p.id for p in purchases] == [order["id"]]
        assert purchases[0].data["total"] == order["total"]
        contract = vault.get("contracts", order["contract_id"])
        assert contract is not None and contract.data["vendor_id"] == "parla"
        assert vault.get("intents", intent_id).data["status"] == "fulfilled"  # type: ignore[union-attr]
        actions = [e.action for e in vault.audit.entries()]
        assert "negotiate.purchased" in actions and "negotiate.offer-dropped" in actions
        assert actions.index("approval.approved") < actions.index("negotiate.purchased")
    assert "[fulfilled]" in run_main("intent", "list").stdout


def test_within_a_mandate_the_winner_is_bought_without_asking(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {"parla": VENDORS["parla"]}
    with running(specs) as servers:
        with _vault(home) as vault:
            enable_all(vault, monkeypatch, servers, specs)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).date().isoformat()
        assert run_main("mandate", "set", "--max", "300 EUR", "--vendor", "parla", "--category", "mobile",
                        "--expires", expires).returncode == 0
        assert "parla" in run_main("mandate", "show").stdout
        intent_id = run_main("intent", "add", "phone", "--category", "mobile", "--budget", "20 EUR").stdout.split()[0]
        out = run_main("negotiate", intent_id)
        assert out.returncode == 0, out.stderr
        assert "bought within your mandate" in out.stdout
        assert len(servers["parla"][1].state.orders) == 1

        # a mandate for another vendor does not let butler buy: the deal waits
        assert run_main("mandate", "set", "--max", "300 EUR", "--vendor", "other", "--category", "mobile",
                        "--expires", expires).returncode == 0
        second = run_main("intent", "add", "phone 2", "--category", "mobile", "--budget", "20 EUR").stdout.split()[0]
        out = run_main("negotiate", second)
        assert "waits for your approval" in out.stdout and "not among the mandate's vendors" in out.stdout
        assert len(servers["parla"][1].state.orders) == 1
        assert run_main("mandate", "revoke").stdout.strip() == "mandate revoked"
        assert "no mandate" in run_main("mandate", "show").stdout
    with _vault(home) as vault:
        entries = [e for e in vault.audit.entries() if e.action == "negotiate.mandate-purchase"]
        assert len(entries) == 1 and entries[0].actor == "mandate"
        bought = [e for e in vault.audit.entries() if e.action == "negotiate.purchased"]
        assert [e.actor for e in bought] == ["mandate"]


def test_enable_through_the_cli_with_base_url_and_reject(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {"parla": VENDORS["parla"]}
    install(monkeypatch, {"ev-parla": connector_class("ev-parla")})
    with running(specs) as servers:
        url = servers["parla"][0]
        enabled = run_main("connectors", "enable", "ev-parla", "--set", f"base_url={url}",
                           env={"BUTLER_CONNECTOR_SECRET_API_KEY": VENDORS["parla"].api_key})
        assert enabled.returncode == 0, enabled.stderr
        intent_id = run_main("intent", "add", "phone", "--category", "mobile", "--budget", "20 EUR").stdout.split()[0]
        out = run_main("negotiate", intent_id)
        item = re.search(r"approvals approve (\S+)", out.stdout)
        assert item is not None, out.stdout + out.stderr
        rejected = run_main("approvals", "reject", item.group(1))
        assert "nothing bought" in rejected.stdout
        assert servers["parla"][1].state.orders == {}
    assert "[open]" in run_main("intent", "list").stdout
    assert run_main("intent", "cancel", intent_id).returncode == 0
    assert "[cancelled]" in run_main("intent", "list").stdout
    assert run_main("negotiate", intent_id).returncode != 0


def test_renewals_propose_switch_with_saving(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {"voltwise": VENDORS["voltwise"]}
    renews = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    with running(specs) as servers:
        with _vault(home) as vault:
            enable_all(vault, monkeypatch, servers, specs)
            vault.put("contracts", "energy", {
                "id": "energy", "vendor_id": "coalco", "product": "Fixed 24", "category": "energy",
                "price": {"amount": "140.00", "currency": "EUR"}, "period": "month", "term_months": 24,
                "start": "2025-01-01", "renewal_date": renews, "auto_renew": True,
                "usage": {"kwh_per_year": "2900"}})
        out = run_main("renewals", "--within", "30")
        assert out.returncode == 0, out.stderr
        assert "[switch]" in out.stdout and "saving" in out.stdout
        assert "[renewal]" in run_main("approvals", "list").stdout
        assert "no new renewal" in run_main("renewals").stdout  # proposed once per renewal date
        with _vault(home) as vault:
            item = next(r for r in vault.records("approvals") if r.data.get("kind") == "renewal")
            deal = item.data["alternatives"][0]["purchase"]  # the price negotiated in the sweep
        approved = run_main("approvals", "approve", item.id)
        assert approved.returncode == 0, approved.stderr
        assert "bought" in approved.stdout and "cancel the old contract with coalco" in approved.stdout
        with _vault(home) as vault:
            assert vault.get("approvals", item.id).data["state"] == "done"  # type: ignore[union-attr]
            purchases = list(vault.records("purchases"))
            assert len(purchases) == 1
            assert purchases[0].data["total"]["amount"] == deal["agreed_terms"]["price"]["amount"]
            old = vault.get("contracts", "energy")
            assert old is not None and old.data["auto_renew"] is False
            assert old.data["superseded_by"] == purchases[0].id
        assert run_main("approvals", "approve", item.id).returncode != 0  # decided once
    assert os.environ["BUTLER_HOME"] == str(home)


def test_the_daemons_reminder_and_the_negotiated_proposal_for_one_contract_both_exist(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from butler.daemon import jobs
    from butler.negotiate.renewal_approvals import reminder_id, renewal_id

    specs = {"voltwise": VENDORS["voltwise"]}
    renews = (dt.date.today() + dt.timedelta(days=12)).isoformat()
    with running(specs) as servers, _vault(home) as vault:
        enable_all(vault, monkeypatch, servers, specs)
        vault.put("contracts", "energy", {
            "id": "energy", "vendor_id": "coalco", "product": "Fixed 24", "category": "energy",
            "price": {"amount": "140.00", "currency": "EUR"}, "period": "month", "term_months": 24,
            "start": "2025-01-01", "renewal_date": renews, "auto_renew": True, "usage": {"kwh_per_year": "2900"}})
        said = jobs.renewal_sweep(jobs.JobContext(vault.home, vault, now=dt.datetime.now(dt.UTC)))
        assert "1 new reminder(s); 1 renewal proposal(s)" in said
        reminder = vault.get("approvals", reminder_id("energy", renews))
        proposal = vault.get("approvals", renewal_id("energy", renews))
        assert reminder is not None and reminder.data["kind"] == "renewal-reminder"
        assert proposal is not None and proposal.data["kind"] == "renewal"
        assert proposal.data["action"] in ("renew", "switch", "cancel")
    listed = run_main("approvals", "list").stdout
    assert "[renewal-reminder]" in listed and "[renewal]" in listed
