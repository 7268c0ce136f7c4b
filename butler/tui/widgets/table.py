"""A DataTable whose text cells are shown as written: vault data, vendors' words and mail subjects are never
read as markup (a subject like "[/]" would stop the screen; "[link=…]" would make a link)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

__all__ = ["PlainTable"]


class PlainTable(DataTable[Any]):
    """`DataTable` with every `str` cell taken as plain text."""

    def add_row(self, *cells: Any, height: int | None = 1, key: str | None = None,
                label: Any = None) -> RowKey:
        plain = [Text(cell, end="") if isinstance(cell, str) else cell for cell in cells]
        return super().add_row(*plain, height=height, key=key, label=label)
