"""Contracts: the renewal calendar, what each costs now, and the best offer the butler found."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from butler.tui.data import ContractView
from butler.tui.screens.base import ButlerScreen

__all__ = ["ContractsScreen"]


def _when(c: ContractView) -> str:
    if c.days_left is None:
        return "—"
    if c.days_left < 0:
        return f"{-c.days_left} days ago"
    return "today" if c.days_left == 0 else f"in {c.days_left} days"


class ContractsScreen(ButlerScreen):
    PLACE: ClassVar[str] = "contracts"
    AUTO_FOCUS = "#contracts"

    def body(self) -> Iterable[Widget]:
        yield Static("", id="contracts-summary")
        table: DataTable[str] = DataTable(id="contracts", cursor_type="row", zebra_stripes=True)
        table.add_columns("Renews", "In", "Contract", "Price", "Best offer", "Saving")
        yield table
        yield Static("[dim]↻ renews by itself · best offer: the cheapest deal the butler agreed for it[/dim]",
                     id="contracts-legend")

    def load(self) -> None:
        self.fetch(lambda reader: reader.contracts(), self.show)

    def show(self, contracts: list[ContractView]) -> None:
        table = self.query_one("#contracts", DataTable)
        table.clear()
        for c in contracts:
            days = "—" if c.days_left is None else f"{c.days_left} d"
            table.add_row(c.renewal.isoformat() if c.renewal else "—", days + (" ↻" if c.auto_renew else ""),
                          c.product or c.id, c.price.replace("/month", "/mo").replace("/year", "/yr"),
                          c.best_offer, c.saving, key=c.id)
        summary = self.query_one("#contracts-summary", Static)
        upcoming = [c for c in contracts if c.days_left is not None and c.days_left >= 0]
        if not contracts:
            summary.update("No contracts in the vault yet.")
        elif upcoming:
            nxt = upcoming[0]
            summary.update(Content.from_markup(
                "$n contract(s) · next renewal: [b]$what[/b] $when$auto",
                n=str(len(contracts)), what=nxt.product or nxt.id, when=_when(nxt),
                auto=" (renews by itself)" if nxt.auto_renew else ""))
        else:
            summary.update(f"{len(contracts)} contract(s), none renewing ahead.")
