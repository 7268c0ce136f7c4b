"""Deals: negotiations with every offer exchanged, round by round, drawn against the reserve, and the intents
behind them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, TabbedContent, TabPane

from butler.tui.data import IntentView, NegotiationView, VaultReader, format_money
from butler.tui.screens.base import TAB_BINDINGS, ButlerScreen
from butler.tui.widgets.table import PlainTable

__all__ = ["DealsScreen"]


class DealsScreen(ButlerScreen):
    PLACE: ClassVar[str] = "deals"
    BINDINGS: ClassVar[list[BindingType]] = [*TAB_BINDINGS]
    AUTO_FOCUS = "#negotiations"

    def __init__(self) -> None:
        super().__init__()
        self.deals: list[NegotiationView] = []

    def body(self) -> Iterable[Widget]:
        with TabbedContent(id="deals-tabs"):
            with TabPane("Negotiations", id="tab-negotiations"):
                from butler.tui.widgets.charts import RoundsChart  # plotting is imported when first shown

                table: PlainTable = PlainTable(id="negotiations", cursor_type="row", zebra_stripes=True)
                table.add_columns("Vendor", "What", "Outcome", "Agreed", "Saving", "When")
                yield table
                with Horizontal(id="deal-detail"):
                    rounds: PlainTable = PlainTable(id="exchanges", cursor_type="row")
                    rounds.add_columns("Round", "By", "Price", "Months", "Data use", "Extras", "Value")
                    rounds.border_title = "Offers exchanged"
                    yield rounds
                    yield RoundsChart(id="rounds-chart")
            with TabPane("Intents", id="tab-intents"):
                intents: PlainTable = PlainTable(id="intents", cursor_type="row", zebra_stripes=True)
                intents.add_columns("What", "Category", "Budget", "By", "Status")
                yield intents

    def load(self) -> None:
        def read(reader: VaultReader) -> tuple[list[NegotiationView], list[IntentView]]:
            return reader.negotiations(), reader.intents()

        self.fetch(read, self.show)

    def show(self, result: tuple[list[NegotiationView], list[IntentView]]) -> None:
        self.deals, intents = result
        table = self.query_one("#negotiations", DataTable)
        table.clear()
        for n in self.deals:
            table.add_row(n.vendor, n.offer, n.outcome, n.agreed_price, format_money(n.saving), n.at, key=n.id)
        self.show_exchanges()
        other = self.query_one("#intents", DataTable)
        other.clear()
        for i in intents:
            other.add_row(i.description, i.category, i.budget, i.deadline, i.status, key=i.id)
        if not self.deals:
            self.say("No negotiation yet: the butler negotiates when an intent or a renewal calls for it.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "negotiations":
            self.show_exchanges()

    def show_exchanges(self) -> None:
        table = self.query_one("#negotiations", DataTable)
        rounds = self.query_one("#exchanges", DataTable)
        rounds.clear()
        from butler.tui.widgets.charts import RoundsChart

        chart = self.query_one("#rounds-chart", RoundsChart)
        if not self.deals or not 0 <= table.cursor_row < len(self.deals):
            chart.show(None)
            return
        deal = self.deals[table.cursor_row]
        chart.show(deal)
        rounds.border_title = f"Offers exchanged with {deal.vendor}"
        for x in deal.exchanges:
            rounds.add_row(str(x.round), x.proposer, x.price, x.term_months, x.data_use, x.extras,
                           f"{x.utility:.2f}")
