"""The Mail screen: each moved message in one line, a text-only preview, and per message move back, explain,
unsubscribe and undo, each asked first and acting on the row the person sees selected."""

from __future__ import annotations

import json

from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent

from butler.mail import MaildirSource
from butler.mail.state import MailboxState
from butler.tui import ButlerApp, make_app
from butler.tui.screens import MailScreen
from butler.tui.widgets import ConfirmScreen, NoticeScreen
from tests.tui.conftest import Seeded
from tests.tui.test_tui_screens import SIZE, cells, reopen, settle, text


def mail_app(seeded: Seeded) -> ButlerApp:
    return make_app(mail_sources=lambda _vault: [MaildirSource(seeded.maildir)])


async def press(app: ButlerApp, *keys: str) -> None:
    """Press `keys`, then let every read and change they started reach the screen."""
    await Pilot(app).press(*keys)
    await settle(app)
    await Pilot(app).pause()


async def open_mail(app: ButlerApp) -> MailScreen:
    await settle(app)
    await app.screen.run_action("app.go('mail')")
    await settle(app)
    assert isinstance(app.screen, MailScreen)
    return app.screen


def selected_sender(screen: MailScreen) -> tuple[DataTable[str], str]:
    table: DataTable[str] = screen.query_one("#messages", DataTable)
    return table, str(table.get_row_at(table.cursor_row)[1])


def away(seeded: Seeded) -> list[str]:
    return sorted(p.name for sub in ("cur", "new") for p in (seeded.maildir / ".Promotions" / sub).iterdir())


async def test_messages_moved_in_one_line_and_a_text_only_preview(seeded: Seeded) -> None:
    app = mail_app(seeded)
    async with app.run_test(size=SIZE):
        screen = await open_mail(app)
        rows = cells(screen.query_one("#messages", DataTable))
        assert sorted(r[1] for r in rows) == ["news@a.example", "news@b.example"]
        assert {r[2] for r in rows} == {"48 hours only: 30% off everything"} and {r[3] for r in rows} == {"promotion"}
        assert all(r[4] and r[4] != "no reason recorded" for r in rows)  # why, from the sweep's journal
        await press(app, "p")
        shown = text(app, "#mail-preview")
        assert "Summer sale" in shown and "SUMMER30" in shown  # the text, fetched from the mailbox
        assert "hero.jpg" not in shown and "https://" not in shown and "image(s) not loaded" in shown
        await press(app, "e")
        assert "judged promotion; why:" in text(app, "#mail-preview")


async def test_moving_one_message_back_asks_then_teaches(seeded: Seeded) -> None:
    app = mail_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mail(app)
        table, sender = selected_sender(screen)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        question = text(app, "#confirm-question")
        assert "48 hours only" in question and sender in question and "back into the inbox" in question
        assert f"{sender}'s promotion mail stays in the inbox" in text(app, "#confirm-details")
        await pilot.press("n")
        await settle(app)
        assert len(away(seeded)) == 2 and "Nothing done" in text(app, "#status")
        await pilot.press("b")
        await pilot.pause()
        await press(app, "y")
        assert "restored 1 message(s) from the message" in text(app, "#status")
        assert [r[1] for r in cells(table)] == [s for s in ("news@a.example", "news@b.example") if s != sender]
    assert len(away(seeded)) == 1
    state = MailboxState.load(next((seeded.home / "mail").iterdir()))
    assert state.memory.senders[sender].to_json()  # butler learned to keep this sender's promotions


async def test_undo_acts_only_on_the_selection_shown_in_the_tab_in_front(seeded: Seeded) -> None:
    app = mail_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mail(app)
        tabs = screen.query_one("#mail-tabs", TabbedContent)
        await pilot.press("right_square_bracket", "right_square_bracket")  # Sweeps: no sender is shown selected
        await pilot.pause()
        assert tabs.active == "tab-sweeps"
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert "Select a message or a sender first" in text(app, "#status")
        await pilot.press("left_square_bracket")  # Senders: the highlighted one is the one asked about
        await pilot.pause()
        senders = screen.query_one("#senders", DataTable)
        await pilot.press("down")
        chosen = str(senders.get_row_at(senders.cursor_row)[0])
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Put {chosen}'s 1 message(s) back" in text(app, "#confirm-question")
        await press(app, "y")
        assert f"restored 1 message(s) from {chosen}'s mail" in text(app, "#status")
    assert len(away(seeded)) == 1


async def test_undoing_a_sweep_names_what_could_not_be_put_back(seeded: Seeded) -> None:
    gone = next(p for sub in ("cur", "new") for p in (seeded.maildir / ".Promotions" / sub).iterdir())
    gone.unlink()  # the person deleted one of the moved messages meanwhile
    app = mail_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        await open_mail(app)
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Put the 2 message(s) the sweep of" in text(app, "#confirm-question")
        await press(app, "y")
        assert isinstance(app.screen, NoticeScreen)
        assert "Could not put back 1 message(s)" in text(app, "#notice-title")
        assert "not in" in text(app, "#notice-lines") and "deleted or moved elsewhere" in text(app, "#notice-lines")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MailScreen)
        assert "restored 1 message(s) from that sweep; 1 could not be put back" in text(app, "#status")


async def test_unsubscribe_waits_on_the_approval_desk(seeded: Seeded) -> None:
    directory = next((seeded.home / "mail").iterdir())
    state = json.loads((directory / "state.json").read_text())
    for info in state["senders"].values():  # an endpoint on this machine, so that no name is resolved
        info["list_unsubscribe"] = "<http://127.0.0.1:9/u>"
    (directory / "state.json").write_text(json.dumps(state))
    with reopen(seeded.home) as vault:
        from butler.mail import MailSettings
        from butler.mail.account import save_settings

        save_settings(vault, MailSettings(allow_loopback_unsubscribe=True))
    app = mail_app(seeded)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_mail(app)
        _table, sender = selected_sender(screen)
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert f"unsubscribe from {sender}" in text(app, "#confirm-question")
        assert "nothing is sent until you approve it" in text(app, "#confirm-details")
        await press(app, "y")
        assert "waits on Approvals" in text(app, "#status")
        assert "Approvals (3)" in str(screen.query_one("NavBar").render())
    with reopen(seeded.home) as vault:
        from butler.mail.unsubscribe import requests

        assert [(r["sender"], r["state"]) for r in requests(vault)] == [(sender, "pending")]


async def test_what_a_sender_wrote_is_shown_as_written_never_as_markup(seeded: Seeded) -> None:
    directory = next((seeded.home / "mail").iterdir())
    journal = directory / "journal.jsonl"
    hostile = "[/] Sale [link=https://evil.example]click[/link] [b]now"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    for line in lines:
        if line.get("op") == "move":
            line["subject"], line["sender"] = hostile, "[@click=app.quit]x[/]@a.example"
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    app = mail_app(seeded)
    async with app.run_test(size=SIZE):
        screen = await open_mail(app)
        rows = cells(screen.query_one("#messages", DataTable))
        assert rows and {r[2] for r in rows} == {hostile}
        assert {r[1] for r in rows} == {"[@click=app.quit]x[/]@a.example"}
        assert "link=https://evil.example" in app.export_screenshot()
