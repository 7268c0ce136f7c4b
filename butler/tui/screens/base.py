"""What every place of the TUI shares: the nav bar, a status line, the footer, and reads in worker threads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, TabbedContent

from butler.errors import ButlerError
from butler.tui.widgets import NavBar, StatusLine

if TYPE_CHECKING:
    from butler.tui.app import ButlerApp
    from butler.tui.data import VaultReader

__all__ = ["TAB_BINDINGS", "ButlerScreen"]

TAB_BINDINGS: list[BindingType] = [
    Binding("right_square_bracket", "tab(1)", "Next tab", key_display="]"),
    Binding("left_square_bracket", "tab(-1)", "Prev tab", show=False, key_display="["),
]

T = TypeVar("T")


class ButlerScreen(Screen[None]):
    """A place in the TUI. Subclasses compose `body()` and fill it in `load()`, which must not block."""

    PLACE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "reload", "Refresh", show=False)]

    @property
    def butler(self) -> ButlerApp:
        return cast("ButlerApp", self.app)

    @property
    def reader(self) -> VaultReader:
        reader = self.butler.reader
        if reader is None:
            raise ButlerError("the vault is not open yet")
        return reader

    def compose(self) -> ComposeResult:
        yield NavBar(self.PLACE)
        yield from self.body()
        yield StatusLine("", id="status")
        yield Footer()

    def body(self) -> Iterable[Widget]:
        return ()

    def on_screen_resume(self) -> None:
        self.query_one(NavBar).refresh()
        self.load()

    def action_tab(self, step: int) -> None:
        """Show the next (1) or previous (-1) tab of this screen's tabbed content."""
        for tabs in self.query(TabbedContent):
            panes = [pane.id for pane in tabs.query("TabPane") if pane.id]
            if panes and tabs.active in panes:
                tabs.active = panes[(panes.index(tabs.active) + step) % len(panes)]
                # focus moves into the tab shown: a focused widget left in the hidden tab would bring it back
                shown = tabs.get_pane(tabs.active)
                target = next((w for w in shown.query("*") if w.focusable), None)
                if target is not None:
                    target.focus()
            return

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        """Start reading what this screen shows (in a worker)."""

    def say(self, text: str, *, kind: str = "info") -> None:
        self.query_one("#status", StatusLine).say(text, kind=kind)

    def fail(self, exc: ButlerError) -> None:
        self.say(f"{exc.message}" + (f" — {exc.hint}" if exc.hint else ""), kind="error")

    @work(thread=True, exclusive=True, group="read")
    def fetch(self, read: Callable[[VaultReader], T], show: Callable[[T], None]) -> None:
        """Run `read` in a thread, then `show` its result on the UI thread; errors go to the status line."""
        self._run(read, show)

    @work(thread=True, exclusive=True, group="read-more")
    def fetch_more(self, read: Callable[[VaultReader], T], show: Callable[[T], None]) -> None:
        """Like `fetch`, for a slower second read a screen starts once its first is shown."""
        self._run(read, show)

    @work(thread=True, exclusive=False, group="act")
    def act(self, do: Callable[[VaultReader], T], show: Callable[[T], None]) -> None:
        """Like `fetch`, for changes the person asked for: never cancelled by a later read."""
        self._run(do, show)

    def _run(self, read: Callable[[VaultReader], T], show: Callable[[T], None]) -> None:
        try:
            result = read(self.reader)
        except ButlerError as exc:
            self.app.call_from_thread(self.fail, exc)
            return
        except OSError as exc:
            self.app.call_from_thread(self.fail, ButlerError(f"{exc.strerror or exc}"))
            return
        self.app.call_from_thread(show, result)
