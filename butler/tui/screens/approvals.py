"""Approvals: every item waiting for the person, explained; `a` approves (asking first when that spends, signs or
sends, showing the total), `r` rejects."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from butler.tui.data import ApprovalView, VaultReader
from butler.tui.screens.base import ButlerScreen
from butler.tui.widgets import ConfirmScreen
from butler.tui.widgets.table import PlainTable

__all__ = ["ApprovalsScreen", "kind_words"]

KIND_WORDS = {"purchase": "Purchase", "renewal": "Renewal", "renewal-reminder": "Renewal reminder",
              "myterms-counter-offer": "Terms offered", "unsubscribe": "Unsubscribe", "reauth": "Sign in again",
              "data-request": "Data request"}


def kind_words(kind: str) -> str:
    """An approval kind as people say it."""
    return KIND_WORDS.get(kind, kind.replace("-", " ").capitalize())


class ApprovalsScreen(ButlerScreen):
    PLACE: ClassVar[str] = "approvals"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "decide(True)", "Approve"),
        Binding("r", "decide(False)", "Reject"),
    ]
    AUTO_FOCUS = "#approvals-table"

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ApprovalView] = []

    def body(self) -> Iterable[Widget]:
        table: PlainTable = PlainTable(id="approvals-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Kind", "Waiting since", "What")
        yield table
        yield Static("", id="approval-detail")

    def load(self) -> None:
        self.fetch(lambda reader: reader.approvals(), self.show)

    def show(self, items: list[ApprovalView]) -> None:
        self.items = items
        self.butler.set_pending(len(items))
        table = self.query_one("#approvals-table", DataTable)
        row = table.cursor_row
        table.clear()
        for item in items:
            table.add_row(kind_words(item.kind), item.created or "—", item.summary, key=item.id)
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        self.show_detail()

    def current(self) -> ApprovalView | None:
        table = self.query_one("#approvals-table", DataTable)
        if not self.items or not 0 <= table.cursor_row < len(self.items):
            return None
        return self.items[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        detail = self.query_one("#approval-detail", Static)
        item = self.current()
        if item is None:
            detail.update(Content.from_markup("[$success]Nothing waits for you.[/]"))
            return
        lines = [Content.from_markup("[b]$summary[/b]  [dim]$id[/dim]", summary=item.summary, id=item.id)]
        if item.explanation:
            lines += [Content(line) for line in item.explanation[2:]]  # the first two repeat the summary
        else:
            lines += [Content.from_markup("  • $r", r=r) for r in item.reasons] or [Content("  (no reasons given)")]
        lines.append(Content.from_markup("[dim][b]a[/b] approve · [b]r[/b] reject[/dim]"))
        detail.update(Content("\n").join(lines))

    def action_decide(self, approve: bool) -> None:
        item = self.current()
        if item is None:
            self.say("Nothing is selected.")
            return
        if approve and item.confirm:  # spending, signing or sending: ask first, saying exactly what happens
            def answered(yes: bool | None) -> None:
                if yes:
                    self.carry_out(item, approve=True)
                else:
                    self.say(f"Nothing done: {item.summary}")

            self.app.push_screen(ConfirmScreen(item.confirm, item.explanation[2:]), answered)
            return
        self.carry_out(item, approve=approve)

    def carry_out(self, item: ApprovalView, *, approve: bool) -> None:
        self.say(f"{'Approving' if approve else 'Rejecting'} {item.summary}…")

        def do(reader: VaultReader) -> tuple[str, list[ApprovalView]]:
            return reader.decide(item.id, approve=approve), reader.approvals()

        def done(result: tuple[str, list[ApprovalView]]) -> None:
            self.say(result[0], kind="done")
            self.show(result[1])

        self.act(do, done)
