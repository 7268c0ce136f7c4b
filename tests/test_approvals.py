"""The approval desk: every kind listed in one shape, answers carried out once, every move audited with its cause."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from butler.approvals import MOVES, Desk, Item, Kind, NeedsAttention, Outcome, State, item_id, submit
from butler.cli import main
from butler.errors import UsageError
from butler.negotiate.renewal_approvals import ReminderItem, reminder_id, renewal_id
from butler.vault import KdfParams, Vault
from butler.vault.migrations import apply_migrations
from butler.wiring import desk


@pytest.fixture
def vault(butler_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Vault:
    home = Path(os.environ["BUTLER_HOME"])
    secret = tmp_path / "pw"
    secret.write_text("approval-pass\n")
    secret.chmod(0o600)
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(secret))
    return Vault.create(home, "approval-pass", KdfParams.fast_for_tests())


def _reminder(contract: str, date: str, created: str) -> ReminderItem:
    return ReminderItem(id=reminder_id(contract, date), contract_id=contract, renewal_date=date, vendor_id="coalco",
                        product="Energy", created=created)


def test_lists_every_kind_oldest_first_and_decides_once(vault: Vault, capsys: pytest.CaptureFixture[str]) -> None:
    submit(vault, _reminder("energy", "2026-12-24", "2026-11-02"))
    vault.put("approvals", "purchase:p1", {
        "kind": "purchase", "state": "pending", "vendor": "parla", "offer": "parla-5", "product": "Mobile 5 GB",
        "agreed_terms": {"price": {"amount": "7.86", "currency": "EUR"}}, "period": "month",
        "created": "2026-11-01", "reasons": ["parla: accepted (utility 0.58)"]})
    vault.put("approvals", "old", {"kind": "purchase", "state": "rejected", "vendor": "x", "created": "2026-01-01"})
    items = desk().pending(vault)
    assert [i.id for i in items] == ["purchase:p1", "renewal-reminder:energy@2026-12-24"]
    assert items[0].summary().startswith("buy Mobile 5 GB from parla: 7.86 EUR")
    assert items[0].reasons == ["parla: accepted (utility 0.58)"]
    vault.close()

    assert main(["approvals", "list"]) == 0
    out = capsys.readouterr().out
    assert "purchase:p1  [purchase]" in out and "renews on 2026-12-24" in out and "old" not in out

    assert main(["approvals", "reject", "renewal-reminder:energy@2026-12-24"]) == 0
    assert "dismissed" in capsys.readouterr().out
    assert main(["approvals", "reject", "renewal-reminder:energy@2026-12-24"]) != 0  # decided once only
    assert "already rejected" in capsys.readouterr().err


def test_unknown_item_is_a_clear_error(vault: Vault) -> None:
    with pytest.raises(UsageError, match="nothing waits"):
        desk().decide(vault, "nope", approve=True)
    vault.close()


def test_a_kind_without_a_handler_is_an_error_never_approved(vault: Vault) -> None:
    vault.put("approvals", "mystery:1", {"kind": "mystery", "state": "pending", "summary_text": "something"})
    for approve in (True, False):
        with pytest.raises(UsageError, match="no part of butler handles"):
            desk().decide(vault, "mystery:1", approve=approve)
    assert vault.get("approvals", "mystery:1").data["state"] == "pending"  # type: ignore[union-attr]
    assert "mystery:1" in [i.id for i in desk().items(vault)]  # still listed, never hidden
    vault.close()


def test_answers_and_every_move_are_audited_with_their_cause(vault: Vault) -> None:
    submit(vault, _reminder("phone", "2026-12-30", "2026-11-03"))
    the_id = reminder_id("phone", "2026-12-30")
    desk().decide(vault, the_id, approve=True)
    stored = vault.get("approvals", the_id)
    assert stored is not None and stored.data["state"] == "done"
    assert [(s["state"], s["by"]) for s in stored.data["steps"]] == [
        ("approved", "person"), ("executing", "butler"), ("done", "butler")]
    moves = [(e.action, e.actor) for e in vault.audit.entries() if e.subject == the_id]
    assert moves == [("approval.queued", "butler"), ("approval.approved", "person"),
                     ("approval.executing", "butler"), ("approval.done", "butler")]
    vault.close()


def test_ids_are_minted_per_kind_so_two_kinds_never_collide() -> None:
    assert reminder_id("energy", "2026-12-24") != renewal_id("energy", "2026-12-24")
    assert item_id("renewal", "x").split(":", 1)[0] == "renewal"
    with pytest.raises(ValueError):  # a kind with a colon could forge another kind's ids
        item_id("purchase:a", "b")


def test_the_state_machine_allows_only_its_moves() -> None:
    for final in (State.DONE, State.FAILED, State.REJECTED):
        assert MOVES[final] == frozenset()
    assert State.EXECUTING not in MOVES[State.PENDING]  # nothing is carried out unapproved


class _Boom:
    asked = 0

    def execute(self, vault: Vault, item: Any) -> Outcome:
        raise KeyError("a vendor's surprise")

    def reject(self, vault: Vault, item: Any) -> str:
        return "rejected"

    def reconcile(self, vault: Vault, item: Any) -> None:
        type(self).asked += 1
        return None


def test_a_surprise_while_carrying_out_leaves_the_item_visible_needing_attention(vault: Vault) -> None:
    the_desk = Desk([Kind("boom", Item, _Boom())])
    submit(vault, Item(id="boom:1", kind="boom"))
    with pytest.raises(NeedsAttention, match="KeyError"):
        the_desk.decide(vault, "boom:1", approve=True)
    item = the_desk.get(vault, "boom:1")
    assert item.state is State.NEEDS_ATTENTION and "KeyError" in item.note
    assert item in the_desk.items(vault)
    assert "dismissed" in the_desk.decide(vault, "boom:1", approve=False)
    assert the_desk.get(vault, "boom:1").state is State.FAILED
    vault.close()


def test_an_item_a_dead_process_left_executing_is_reconciled_not_hidden(vault: Vault) -> None:
    the_desk = Desk([Kind("boom", Item, _Boom())])
    submit(vault, Item(id="boom:2", kind="boom"))
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    vault.update("approvals", "boom:2", lambda d: {**(d or {}), "state": "executing", "owner": dead})
    asked = _Boom.asked
    assert the_desk.reconcile(vault) == ["boom:2: still unconfirmed; butler asks again on its next run"]
    item = the_desk.get(vault, "boom:2")
    assert item.state is State.EXECUTING and item in the_desk.items(vault)
    the_desk.reconcile(vault)  # the next open asks the vendor again
    assert _Boom.asked == asked + 2
    vault.close()


def test_migration_rekeys_old_ids_and_states(vault: Vault) -> None:
    from butler.vault.migrations import META, SCHEMA

    vault.put("approvals", "renewal-energy-2026-12-24", {
        "id": "renewal-energy-2026-12-24", "kind": "renewal-reminder", "state": "pending", "contract_id": "energy",
        "renewal_date": "2026-12-24"})
    vault.put("approvals", "purchase-i-1", {"kind": "purchase", "state": "buying", "vendor": "v", "offer": "o",
                                            "agreed_terms": {"price": {"amount": "1", "currency": "EUR"}}})
    record = vault.get(META, SCHEMA)
    assert record is not None
    vault.put(META, SCHEMA, {**record.data, "applied": [a for a in record.data["applied"] if not a.startswith("0003")]})
    assert apply_migrations(vault) == ["0003_approval_desk_ids_and_states"]
    assert vault.get("approvals", "renewal-energy-2026-12-24") is None
    moved = vault.get("approvals", "renewal-reminder:energy@2026-12-24")
    assert moved is not None and moved.data["formerly"] == "renewal-energy-2026-12-24"
    buying = vault.get("approvals", "purchase:i-1")
    assert buying is not None and buying.data["state"] == "executing" and buying.data["owner"] == 0
    vault.close()


def test_items_needing_attention_are_listed_and_in_status(vault: Vault, capsys: pytest.CaptureFixture[str]) -> None:
    the_desk = Desk([Kind("boom", Item, _Boom())])
    submit(vault, Item(id="boom:3", kind="boom"))
    with pytest.raises(NeedsAttention):
        the_desk.decide(vault, "boom:3", approve=True)
    vault.put("approvals", "purchase:x", {
        "kind": "purchase", "state": "needs-attention", "vendor": "v", "offer": "o", "note": "order o1 differs",
        "agreed_terms": {"price": {"amount": "1", "currency": "EUR"}}})
    vault.close()
    assert main(["approvals", "list"]) == 0
    listed = capsys.readouterr().out
    assert "purchase:x  [purchase] (needs-attention)" in listed and "latest: order o1 differs" in listed
    assert main(["status"]) == 0
    assert "purchase:x is needs-attention: order o1 differs" in capsys.readouterr().out
