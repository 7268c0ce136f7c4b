"""`?`: every key of the screen in front, with what it does (the footer shows only some); escape or `?` closes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["EVERYWHERE", "HERE", "MOVING", "KeysScreen", "screen_keys"]


HERE, MOVING, EVERYWHERE = "here", "moving", "everywhere"


def _own_actions(screen: Screen[object]) -> set[str]:
    """The actions butler's own classes bind on this screen (not Textual's defaults)."""
    return {b.action if isinstance(b, Binding) else b[1]
            for cls in type(screen).__mro__ if cls.__module__.startswith("butler.")
            for b in cls.__dict__.get("BINDINGS", [])}


def screen_keys(app: App[object], screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(key, what it does, group) for each key that does something on `screen`: the screen's own actions
    (HERE), moving around in it (MOVING), and the app's (EVERYWHERE); one line per action."""
    own = _own_actions(screen)
    seen: set[str] = set()
    rows: list[tuple[str, str, str]] = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or not active.enabled:
            continue
        shown = app.get_key_display(binding) or key
        if binding.action in seen:  # another key for the same action: listed beside the first
            rows = [(f"{k}, {shown}", d, m) if d == binding.description else (k, d, m) for k, d, m in rows]
            continue
        seen.add(binding.action)
        group = EVERYWHERE if active.node is app else HERE if active.node is screen and binding.action in own \
            else MOVING
        rows.append((shown, binding.description, group))
    return rows


class KeysScreen(ModalScreen[None]):
    """The keys of `of` (the screen in front when `?` was pressed): its own, everywhere's, then moving around."""

    DEFAULT_CSS = """
    KeysScreen { align: center middle; }
    KeysScreen > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%; padding: 0 2;
        border: thick $accent; background: $surface;
    }
    KeysScreen VerticalScroll { height: auto; max-height: 40; }
    KeysScreen #keys-title { text-style: bold; margin-bottom: 1; }
    """
    AUTO_FOCUS = "VerticalScroll"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?"),
    ]

    def __init__(self, of: Screen[object], place: str) -> None:
        super().__init__()
        self.of = of
        self.place = place

    def compose(self) -> ComposeResult:
        rows = screen_keys(self.app, self.of)
        lines: list[Content] = []
        for heading, wanted in ((f"On {self.place}", HERE), ("Everywhere", EVERYWHERE), ("Moving around", MOVING)):
            group = [(k, d) for k, d, where in rows if where == wanted]
            if group:
                lines.append(Content.from_markup("[b $accent]$h[/]", h=heading))
                lines += [Content.from_markup("  [b]$k[/b]  $d", k=k.ljust(12), d=d) for k, d in group]
        lines.append(Content.from_markup("\n[dim]ctrl+p finds every action by name · escape closes[/dim]"))
        with Vertical():
            yield Static("Keys", id="keys-title")
            with VerticalScroll():
                yield Static(Content("\n").join(lines), id="keys-list")

    def action_close(self) -> None:
        self.dismiss(None)
