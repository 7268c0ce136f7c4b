"""One first paint, in the process `butler bench tui` starts for it: the TUI's Home, or a minimal Textual app's first
screen. Prints `painted` once the screen shows it (Home: what waits, the daemon, the vault) and, for Home,
`complete` once the audit log is read too, then quits; the parent times those lines from the moment it started the
process, so interpreter start-up and imports count as they do for a person.

`python -m butler.bench.paint butler|minimal [--profile FILE]`
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["MINIMAL_APP", "main"]

# the baseline: what any Textual app pays to show one line and a footer
MINIMAL_APP = """
import sys
from textual.app import App
from textual.widgets import Footer, Static

class Minimal(App[None]):
    def compose(self):
        yield Static("Hello")
        yield Footer()

async def painted(pilot):
    await pilot.pause()
    print("painted", flush=True)
    pilot.app.exit()

Minimal().run(headless=True, size=(80, 24), auto_pilot=painted)
"""


async def _shown(pilot: Any, selector: str) -> None:
    """Until the Home panel `selector` shows what it read (its placeholder is "…") and the next frame is drawn."""
    import asyncio

    from butler.tui.screens import HomeScreen

    app = pilot.app
    while True:
        screen = app.screen
        panel = screen.query(selector) if isinstance(screen, HomeScreen) else None
        if panel and str(panel.first().render()) != "…":
            break
        await asyncio.sleep(0.002)
    drawn = asyncio.get_running_loop().create_future()
    app.call_after_refresh(drawn.set_result, None)
    await drawn


async def _home_filled(pilot: Any) -> None:
    await _shown(pilot, "#waiting")
    print("painted", flush=True)
    await _shown(pilot, "#activity")
    print("complete", flush=True)
    pilot.app.exit()


def main(argv: list[str]) -> int:
    if argv[0] == "minimal":
        exec(compile(MINIMAL_APP, "<minimal app>", "exec"), {"__name__": "minimal"})  # noqa: S102 - our own text
        return 0
    from butler.tui import make_app

    make_app().run(headless=True, size=(80, 24), auto_pilot=_home_filled)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
