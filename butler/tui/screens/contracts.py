"""Contracts: the renewal calendar (a table, and a chart of the next twelve months), what each costs now, the best
offer the butler found, and what the deals saved year by year."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from butler.tui.data import ContractView, NegotiationView, VaultReader, values
from butler.tui.data.charts import renewal_months, savings_by_year
from butler.tui.screens.base import ButlerScreen
from butler.tui.widgets.table import PlainTable

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
        table: PlainTable = PlainTable(id="contracts", cursor_type="row", zebra_stripes=True)
        table.add_columns("Renews", "In", "Contract", "Price", "Best offer", "Saving")
        yield table
        yield Static("[dim]↻ renews by itself · best offer: the cheapest deal the butler agreed for it[/dim]",
                     id="contracts-legend")
        from butler.tui.widgets.charts import BarChart  # plotting is imported when first shown

        with Horizontal(id="contract-charts"):
            yield BarChart(id="renewal-chart")
            yield BarChart(id="savings-chart")

    def load(self) -> None:
        def read(reader: VaultReader) -> tuple[list[ContractView], list[NegotiationView]]:
            return reader.contracts(), reader.negotiations()

        self.fetch(read, self.show)

    def show(self, result: tuple[list[ContractView], list[NegotiationView]]) -> None:
        from butler.tui.widgets.charts import BarChart

        contracts, deals = result
        labels, amounts, currency = renewal_months(contracts, values.today())
        self.query_one("#renewal-chart", BarChart).show(
            f"Renewing in the next 12 months ({currency} a period)", labels, amounts,
            "Nothing renews in the next 12 months")
        years, saved, currency = savings_by_year(deals)
        self.query_one("#savings-chart", BarChart).show(
            f"Saved per year on the vendors' first price ({currency})", years, saved, "No savings yet")
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
