"""Every place of the TUI driven with Pilot at 80×24: what it shows and what its keys do to the vault."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from textual.worker import WorkerState

from butler.tui import ButlerApp, make_app
from butler.tui.screens import (
    ApprovalsScreen,
    ContractsScreen,
    DealsScreen,
    HomeScreen,
    MailScreen,
    PassphraseScreen,
    TermsScreen,
    VaultScreen,
)
from butler.vault import Vault, open_vault
from tests.helpers.vaultkit import PASSPHRASE
from tests.tui.conftest import Seeded

SIZE = (80, 24)


async def settle(app: ButlerApp) -> None:
    """Let workers finish and their results reach the screen (a result may start another read), however long that
    takes: until a pass finds no worker left. A worker cancelled by a newer read of its group counts as done."""
    for _ in range(200):  # a hang guard, never reached
        busy = [worker for worker in app.workers if not worker.is_finished]
        if not busy:
            await Pilot(app).pause()  # results posted from worker threads reach their screens
            if all(worker.is_finished for worker in app.workers):
                return
            continue
        started = [worker for worker in busy if worker.state is not WorkerState.PENDING]
        if started:
            await asyncio.gather(*(worker.wait() for worker in started), return_exceptions=True)
        else:
            await Pilot(app).pause()  # let the pending ones start
    raise AssertionError(f"workers still busy: {[w.name for w in app.workers if not w.is_finished]}")


def text(app: ButlerApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def cells(table: DataTable[str]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def reopen(home: Path) -> Vault:
    return open_vault(home, interactive=False).vault


async def test_home_shows_what_happened_what_waits_and_the_daemon(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert "Mail: 1 sweep moved 2 message(s)" in text(app, "#activity")
        assert "Savings proposed: 1 deal(s)" in text(app, "#activity")
        assert "2 items wait for your decision" in text(app, "#waiting")
        assert "daemon not running" in text(app, "#sweeps")
        assert "audit log verified" in text(app, "#vault-status")
        await pilot.press("q")
    # what was seen is remembered: next time nothing is new
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        assert "Nothing new" in text(app, "#activity")


async def test_daemon_state_file_shows_next_sweeps(seeded: Seeded) -> None:
    (seeded.home / "daemon-state.json").write_text(
        '{"pid": null, "jobs": {"mail-sweep": {"last_run": "2026-01-02T03:00:00+00:00", '
        '"next_run": "2026-01-02T04:00:00+00:00", "last_result": "moved 3"}}}')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        shown = text(app, "#sweeps")
        assert "daemon running" in shown and "mail-sweep" in shown and "moved 3" in shown


@pytest.mark.slow
async def test_number_keys_and_palette_reach_every_place(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        for key, screen in (("2", ApprovalsScreen), ("3", MailScreen), ("4", DealsScreen),
                            ("5", ContractsScreen), ("6", TermsScreen), ("7", VaultScreen), ("1", HomeScreen)):
            await pilot.press(key)
            await settle(app)
            assert isinstance(app.screen, screen), key
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Go to Contracts")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app)
        assert isinstance(app.screen, ContractsScreen)


@pytest.mark.parametrize(("key", "state", "said"), [("a", "done", "noted"), ("r", "rejected", "dismissed")])
async def test_one_key_decides_the_selected_item(seeded: Seeded, key: str, state: str, said: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("2")
        await settle(app)
        table = app.screen.query_one("#approvals-table", DataTable)
        assert [row[0] for row in cells(table)] == ["Purchase", "Renewal reminder"]
        assert "voltra: no outcome beats walking away" in text(app, "#approval-detail")
        await pilot.press("down")  # the renewal reminder: its handler notes that the person saw it
        await pilot.press(key)
        await settle(app)
        await pilot.pause()
        assert "renews on" in text(app, "#status") and said in text(app, "#status")
        assert [row[0] for row in cells(table)] == ["Purchase"]
        assert "Approvals (1)" in str(app.screen.query_one("NavBar").render())
    with reopen(seeded.home) as vault:
        assert vault.get("approvals", "renew-energy").data["state"] == state  # type: ignore[union-attr]
        assert vault.get("approvals", "purchase-s1").data["state"] == "pending"  # type: ignore[union-attr]


async def test_a_failed_decision_is_shown_not_raised(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("2")
        await settle(app)
        with reopen(seeded.home) as vault:  # someone else answered meanwhile
            from butler.wiring import desk

            desk().decide(vault, "purchase-s1", approve=False)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")
        await settle(app)
        await pilot.pause()
        assert "already rejected" in text(app, "#status")


async def test_a_purchase_is_confirmed_with_its_total_before_anything_is_spent(seeded: Seeded) -> None:
    from butler.tui.widgets import ConfirmScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("2")
        await settle(app)
        assert "agreed: 7.86 EUR" in text(app, "#approval-detail")  # the explanation, as `butler explain` says
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = text(app, "#confirm-question")
        assert "Buy parla-5 from parla and pay at most 7.86 EUR" in question
        await pilot.press("n")
        await settle(app)
        assert "Nothing done" in text(app, "#status")
    with reopen(seeded.home) as vault:
        assert vault.get("approvals", "purchase-s1").data["state"] == "pending"  # type: ignore[union-attr]
        assert not [e for e in vault.audit.entries() if e.action.startswith("approval.")]


async def test_mail_undo_without_a_reachable_mailbox_says_what_to_do(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("3")
        await settle(app)
        await pilot.press("u", "y")
        await settle(app)
        await pilot.pause()
        assert "cannot reach the mailbox" in text(app, "#status")
        assert "butler mail setup" in text(app, "#mail-summary")


async def test_deals_show_every_offer_per_round_and_intents(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("4")
        await settle(app)
        await pilot.pause()
        deals = cells(app.screen.query_one("#negotiations", DataTable))
        assert deals[0][:5] == ["parla", "Parla 5 GB", "agreed", "7.86 EUR", "2.13 EUR"]  # the product, not its id
        rounds = cells(app.screen.query_one("#exchanges", DataTable))
        assert [(r[0], r[1], r[2]) for r in rounds] == [("1", "vendor", "9.99 EUR"), ("2", "buyer", "7.49 EUR"),
                                                        ("3", "vendor", "7.86 EUR")]
        await pilot.press("right_square_bracket")
        await pilot.pause()
        intents = cells(app.screen.query_one("#intents", DataTable))
        assert intents[0][:3] == ["a cheaper mobile plan", "mobile", "10.00 EUR"]


async def test_contracts_calendar_with_price_and_best_offer(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("5")
        await settle(app)
        await pilot.pause()
        rows = cells(app.screen.query_one("#contracts", DataTable))
        assert [r[2] for r in rows] == ["Parla Mobile 10GB", "Voltra Green"]  # soonest renewal first
        assert rows[0][1:] == ["12 d ↻", "Parla Mobile 10GB", "9.99 EUR/mo", "7.86 EUR", "2.13 EUR"]
        assert rows[1][4:] == ["—", "—"]
        assert "next renewal: Parla Mobile 10GB in 12 days" in text(app, "#contracts-summary")


async def test_terms_and_a_policy_error_shown_in_place_with_file_and_line(seeded: Seeded) -> None:
    policies = seeded.home / "policies"
    policies.mkdir()
    (policies / "good.toml").write_text('[[rule]]\nid = "cap"\nkind = "budget"\nreason = "not over 100 EUR"\n'
                                        'max_per_purchase = "100 EUR"\n')
    (policies / "broken.toml").write_text('[[rule]]\nid = "x"\nkind = "budget"\nreason = "r"\n'
                                          'max_per_purchase = "lots"\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("6")
        await settle(app)
        await pilot.pause()
        assert "you proffer SD-BASE" in text(app, "#choices")
        files = text(app, "#policy-files")
        assert f"{policies / 'broken.toml'}:5:" in files and "✓ good.toml" in files
        assert "broken.toml:5:1" in text(app, "#status")
        await pilot.press("e")  # explain the selected rule
        await settle(app)
        await pilot.pause()
        assert app.screen.query_one("#terms-tabs").active == "tab-policies"  # type: ignore[attr-defined]
        assert "not over 100 EUR" in text(app, "#rule-detail") and "good.toml:1" in text(app, "#rule-detail")


async def test_vault_records_hide_secrets_and_audit_verifies(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("7")
        await settle(app)
        await pilot.pause()
        assert "✓ verified" in text(app, "#audit-status")
        collections = app.screen.query_one("#collections")
        names = [o.id for o in collections.options]  # type: ignore[attr-defined]
        collections.highlighted = names.index("mail")  # type: ignore[attr-defined]
        await settle(app)
        await pilot.pause()
        rows = cells(app.screen.query_one("#records", DataTable))
        assert rows[0][0] == "imap-password" and rows[0][3] == "(secret: not shown)"
        smtp = next(row for row in rows if row[0] == "smtp-password")  # the mail module's own flags, not a list here
        assert smtp[3] == "(secret: not shown)" and "hunter3" not in str(rows)
        app.screen.query_one("#records").focus()
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        assert "never shows it" in text(app, "#record-detail")
        await pilot.press("v")
        await settle(app)
        await pilot.pause()
        assert "audit log OK" in text(app, "#status")
        assert "hunter2" not in app.export_screenshot()


@pytest.mark.slow
async def test_locked_vault_asks_for_the_passphrase(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUTLER_PASSPHRASE_FILE")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, PassphraseScreen)
        field = app.screen.query_one("#passphrase", Input)
        assert field.password
        await pilot.press(*"not it", "enter")
        await settle(app)
        await pilot.pause()
        assert "does not open this vault" in text(app, "#unlock-message")
        assert "not it" not in app.export_screenshot()
        await pilot.press(*PASSPHRASE, "enter")
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert PASSPHRASE not in app.export_screenshot()


async def test_no_vault_says_how_to_make_one(butler_env: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        assert "butler init" in text(app, "#opening")
        await pilot.press("2")  # nothing to go to yet
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_given_vault_is_used_and_left_open(seeded: Seeded) -> None:
    vault = reopen(seeded.home)
    app = make_app(vault=vault)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert vault.get("approvals", "purchase-s1") is not None
    vault.close()
