"""Every place of the TUI, the keys screen and a purchase's confirmation, as SVG snapshots at 80×24 and 160×45,
on a still home (frozen clock, UTC, fixed data). `pytest --snapshot-update` rewrites them after a change a
person has looked at."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from butler.tui import make_app
from butler.tui.widgets.nav import PLACES
from tests.tui.test_tui_screens import settle

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}
VIEWS = {**{mode: (key,) for mode, _label, key in PLACES}, "keys": ("3", "question_mark"),
         "confirm-purchase": ("2", "down", "a")}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", VIEWS)
def test_screen(snap_compare: object, still_home: Path, view: str, size: str) -> None:
    async def go(pilot: Pilot[object]) -> None:
        await settle(pilot.app)  # type: ignore[arg-type]
        for key in VIEWS[view]:
            await pilot.press(key)
            await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=go)  # type: ignore[operator]


def test_home_in_a_light_theme(snap_compare: object, still_home: Path) -> None:
    async def go(pilot: Pilot[object]) -> None:
        pilot.app.theme = "textual-light"
        await settle(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=go)  # type: ignore[operator]
