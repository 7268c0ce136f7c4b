"""Keys do what the footer says, on the row the person sees selected, and ask before anything is undone."""

from __future__ import annotations

import re

import pytest
from textual.widgets import TabbedContent

from butler.tui import make_app
from butler.tui.screens import DealsScreen, MailScreen, VaultScreen
from butler.tui.widgets import KeysScreen
from tests.tui.conftest import Seeded
from tests.tui.test_tui_screens import SIZE, settle, text


async def test_brackets_change_tabs_where_the_footer_offers_them(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        for key, screen in (("4", DealsScreen), ("7", VaultScreen)):
            await pilot.press(key)
            await settle(app)
            assert isinstance(app.screen, screen)
            tabs = app.screen.query_one(TabbedContent)
            first = tabs.active
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert tabs.active != first, screen
            await pilot.press("left_square_bracket")
            await pilot.pause()
            assert tabs.active == first, screen


async def test_question_mark_lists_every_key_of_the_screen_in_front(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("3")
        await settle(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        shown = text(app, "#keys-list")
        for key, words in (("b", "Move back"), ("k", "Unsubscribe"), ("u", "Undo sweep"), ("o", "Other mailbox"),
                           ("]", "Next tab"), ("[", "Prev tab"), ("^r", "Refresh"), ("4", "Go to Deals")):
            assert re.search(rf"{re.escape(key)} +{words}", shown), (key, words, shown)
        assert shown.index("On Mail") < shown.index("Move back") < shown.index("Everywhere") < shown.index("Quit")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, MailScreen)


async def test_the_palette_reaches_the_actions_of_the_screen_in_front(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("7")
        await settle(app)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Verify audit", "Next tab", "Refresh", "Go to Mail", "Quit"} <= set(commands), commands
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Verify audit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        assert "audit log OK" in text(app, "#status")


@pytest.mark.slow
async def test_every_place_opens_at_200x60_and_home_uses_the_room(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(app)
        await pilot.pause()
        assert app.screen.query_one("#activity").size.width > 90  # two columns of half the width each
        assert app.screen.query_one("#activity").size.height > 20
        for key in "2345671":
            await pilot.press(key)
            await settle(app)
        await pilot.pause()
        assert "Nothing new" in text(app, "#activity") or "Mail:" in text(app, "#activity")
