"""A bordered, titled block of text: the dashboard is made of these."""

from __future__ import annotations

from textual.widgets import Static

__all__ = ["Panel"]


class Panel(Static):
    """A Static with a rounded border whose title names what it shows."""

    DEFAULT_CSS = """
    Panel {
        border: round $primary;
        border-title-color: $text-primary;
        border-title-style: bold;
        padding: 0 1;
        height: auto;
    }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("…", id=id)
        self.border_title = title
