"""The TUI's own widgets, one per module."""

from butler.tui.widgets.confirm import ConfirmScreen
from butler.tui.widgets.keys import KeysScreen
from butler.tui.widgets.nav import NavBar
from butler.tui.widgets.notice import NoticeScreen
from butler.tui.widgets.panel import Panel
from butler.tui.widgets.status import StatusLine
from butler.tui.widgets.table import PlainTable

__all__ = ["ConfirmScreen", "KeysScreen", "NavBar", "NoticeScreen", "Panel", "PlainTable", "StatusLine"]
