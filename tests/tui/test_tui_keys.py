"""Keys do what the footer says, on the row the person sees selected, and ask before anything is undone."""

from __future__ import annotations

from textual.widgets import TabbedContent

from butler.tui import make_app
from butler.tui.screens import DealsScreen, VaultScreen
from tests.tui.conftest import Seeded
from tests.tui.test_tui_screens import SIZE, settle


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


async def test_question_mark_lists_the_keys_of_the_screen_in_front(seeded: Seeded) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app)
        await pilot.press("2")
        await settle(app)
        await pilot.press("question_mark")
        await pilot.pause()
        panel = app.screen.query("HelpPanel")
        assert panel, "no help panel"
        await pilot.press("question_mark")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")
