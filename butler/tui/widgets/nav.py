"""The row of places at the top of every screen: number keys go there; the current one is highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.app import RenderResult

__all__ = ["PLACES", "NavBar"]

# mode name, label, key
PLACES: tuple[tuple[str, str, str], ...] = (
    ("home", "Home", "1"),
    ("approvals", "Approvals", "2"),
    ("mail", "Mail", "3"),
    ("deals", "Deals", "4"),
    ("contracts", "Contracts", "5"),
    ("terms", "Terms", "6"),
    ("vault", "Vault", "7"),
    ("rights", "Rights", "8"),
)


class NavBar(Widget):
    """`1 Home  2 Approvals (3)  3 Mail …`, with the pending-approval count when there is one."""

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def render(self) -> RenderResult:
        pending = int(getattr(self.app, "pending_count", 0))
        parts: list[Content] = []
        for mode, label, key in PLACES:
            if mode == "approvals" and pending:
                label = f"{label} ({pending})"
            style = "reverse bold" if mode == self.current else ""
            parts.append(Content.from_markup("[$accent b]$key[/] ", key=key))
            parts.append(Content.styled(label, style))
            parts.append(Content("  "))
        return Content(" ").append(Content("").join(parts))
