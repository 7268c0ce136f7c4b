"""A message the person must see before going on (what an undo could not put back); any key closes it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["NoticeScreen"]


class NoticeScreen(ModalScreen[None]):
    """A title and lines of plain text, closed with enter or escape."""

    DEFAULT_CSS = """
    NoticeScreen { align: center middle; }
    NoticeScreen > Vertical {
        width: 80%; max-width: 110; height: auto; max-height: 80%; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    NoticeScreen #notice-title { margin-bottom: 1; }
    NoticeScreen VerticalScroll { height: auto; max-height: 20; }
    NoticeScreen Button { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, title: str, lines: Iterable[str]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = tuple(lines)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.from_markup("[b]$t[/b]", t=self.title_text), id="notice-title")
            with VerticalScroll():
                yield Static(Content("\n".join(self.lines)), id="notice-lines")
            yield Button("OK (enter)", id="notice-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#notice-ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
