"""One line under each screen's content: what just happened, or what went wrong and what to do."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

__all__ = ["StatusLine"]


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
    }
    StatusLine.-error { color: $text-error; }
    StatusLine.-done { color: $text-success; }
    """

    def say(self, text: str, *, kind: str = "info") -> None:
        """Show `text` (plain, never markup) as info, done or error."""
        self.set_class(kind == "error", "-error")
        self.set_class(kind == "done", "-done")
        self.update(Content(text))
