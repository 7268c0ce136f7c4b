"""One purchase from the UCP reference merchant on the command line, as a person makes it: profile → enable →
check → buy → approve; the order exists at the merchant, the purchase and its audit trail are in the vault, and a
budget policy stops an over-budget buy before anything is paid."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from butler_ucp import UcpConnector
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_main
from ucp_peer import AGENT_PROFILE, PEER_GROUP, UcpPeer

from butler import registry
from butler.vault import Vault

pytestmark = [PEER_GROUP, pytest.mark.slow]

BUDGET = """[[rule]]
id = "flowers-budget"
kind = "budget"
max_per_purchase = "80 USD"
action = "deny"
reason = "Flowers: 80 dollars at most."
"""


def _ok(*args: str) -> str:
    out = run_main(*args)
    assert out.returncode == 0, f"butler {' '.join(args)}: {out.stderr}{out.stdout}"
    return out.stdout


def test_a_purchase_on_the_command_line(ucp_peer: UcpPeer, butler_env: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        record_property: pytest.RecordProperty) -> None:
    started = time.perf_counter()
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    original = registry.load  # as if butler-ucp were installed, whether it is or not
    monkeypatch.setattr(registry, "load", lambda cid: UcpConnector if cid == "ucp" else original(cid))
    (butler_env / "policies").mkdir(exist_ok=True)
    (butler_env / "policies" / "budget.toml").write_text(BUDGET)
    email = f"ada-{uuid.uuid4().hex[:8]}@example.org"

    shown = _ok("profile", "set", "--name", "Ada Lovelace", "--email", email, "--street", "12 Analytical Row",
                "--city", "Springfield", "--region", "IL", "--postal-code", "62704", "--country", "us",
                "--currency", "USD")
    assert "12 Analytical Row, Springfield, IL, 62704, US" in shown
    # no secret is asked for: the merchant wants no key and is paid with its test handler
    enabled = _ok("connectors", "enable", "ucp", "--set", f"base_url={ucp_peer.url}",
                  "--set", "payment_handler=mock_payment_handler", "--set", f"agent_profile={AGENT_PROFILE}")
    assert "ucp validated and enabled" in enabled
    assert "the host of setting base_url" in _ok("connectors", "about", "ucp")
    checked = _ok("connectors", "check", "ucp")
    assert "HTTP 404" in checked and "pays with mock_payment_handler" in checked and "ucp: ok" in checked

    bought = _ok("buy", "bouquet_tulips", "--from", "ucp", "--qty", "2")
    assert "2 × Spring Tulips from ucp:127.0.0.1:" in bought
    assert "65.00 USD (60.00 USD + shipping 5.00 USD)" in bought and "Allowed." in bought
    item = re.search(r"butler approvals approve (\S+)", bought)
    assert item is not None
    assert item.group(1) in _ok("approvals", "list")

    approved = _ok("approvals", "approve", item.group(1))
    order_id = re.search(r"\(order (\S+)\)", approved)
    assert order_id is not None and "for 65.00 USD" in approved
    order = ucp_peer.get(f"/orders/{order_id.group(1)}")
    assert order.status_code == 200
    lines = order.json()["line_items"]
    assert [(line["item"]["id"], line["quantity"]["total"]) for line in lines] == [("bouquet_tulips", 2)]
    assert order.json()["fulfillment"]["expectations"][0]["destination"]["street_address"] == "12 Analytical Row"
    assert run_main("approvals", "approve", item.group(1)).returncode != 0  # decided once, bought once

    explained = _ok("explain", order_id.group(1))
    assert f"purchase {order_id.group(1)}" in explained and "bought by person" in explained

    denied = run_main("buy", "orchid_white", "--from", "ucp", "--qty", "2")  # 90.00 + shipping > 80 USD
    assert denied.returncode == 8, denied.stderr + denied.stdout
    assert "flowers-budget" in denied.stderr and "Nothing was paid" in denied.stderr
    assert "orchid" not in _ok("approvals", "list").lower()

    with Vault(butler_env, Vault.key_from_passphrase(butler_env, PASSPHRASE)) as vault:
        purchase = vault.get("purchases", order_id.group(1))
        assert purchase is not None
        assert purchase.data["approval"] == item.group(1) and purchase.data["approved_total"] == "65.00 USD"
        assert purchase.data["total"] == {"amount": "65.00", "currency": "USD"}
        entries = list(vault.audit.entries())
        trail = [e.action for e in entries if item.group(1) in (e.subject, e.details.get("item"))]
        assert trail[:2] == ["approval.queued", "approval.approved"]
        assert {"approval.executing", "negotiate.checkout-started", "negotiate.purchased",
                "approval.done"} <= set(trail)
        refused = [e for e in entries if e.action == "negotiate.buy-denied"]
        assert len(refused) == 1 and refused[0].details["vendor_told"] is True
    # the over-budget checkout was cancelled at the merchant, and no order was placed for it
    assert ucp_peer.get(f"/checkout-sessions/{refused[0].details['checkout']}").json()["status"] == "canceled"

    seconds = time.perf_counter() - started
    record_property("seconds", round(seconds, 2))
    print(f"\nCLI purchase from the UCP reference merchant: {seconds:.2f} s")
