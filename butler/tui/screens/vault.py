"""Vault: records by collection (secrets never shown) and the audit log with its verification."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from butler.tui.data import AuditView, RecordView, VaultReader
from butler.tui.screens.base import TAB_BINDINGS, ButlerScreen
from butler.tui.widgets.table import PlainTable

__all__ = ["VaultScreen"]


class VaultScreen(ButlerScreen):
    PLACE: ClassVar[str] = "vault"
    BINDINGS: ClassVar[list[BindingType]] = [
        *TAB_BINDINGS,
        Binding("v", "verify", "Verify audit"),
    ]
    AUTO_FOCUS = "#collections"

    def __init__(self) -> None:
        super().__init__()
        self.collection: str | None = None
        self.shown: list[RecordView] = []

    def body(self) -> Iterable[Widget]:
        with TabbedContent(id="vault-tabs"):
            with TabPane("Records", id="tab-records"), Horizontal():
                yield OptionList(id="collections")
                records: PlainTable = PlainTable(id="records", cursor_type="row", zebra_stripes=True)
                records.add_columns("Id", "v", "Updated", "Data")
                yield records
            with TabPane("Audit log", id="tab-audit"):
                yield Static("", id="audit-status")
                audit: PlainTable = PlainTable(id="audit", cursor_type="row", zebra_stripes=True)
                audit.add_columns("#", "When", "Who", "What", "Subject")
                yield audit
        with VerticalScroll(id="record-scroll"):
            yield Static("", id="record-detail")

    def load(self) -> None:
        def read(reader: VaultReader) -> tuple[dict[str, int], AuditView]:
            return reader.collections(), reader.audit()

        self.fetch(read, self.show)

    def show(self, result: tuple[dict[str, int], AuditView]) -> None:
        collections, audit = result
        options = self.query_one("#collections", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options([Option(Content(f"{name} ({n})"), id=name) for name, n in collections.items()])
        if collections:
            options.highlighted = min(highlighted or 0, len(collections) - 1)
        status = self.query_one("#audit-status", Static)
        mark = "[$success]✓ $h[/]" if audit.ok else "[$error b]✗ $h[/]"
        status.update(Content.from_markup(mark, h=audit.headline))
        table = self.query_one("#audit", DataTable)
        table.clear()
        for e in audit.entries:
            table.add_row(str(e.seq), e.at[:19].replace("T", " "), e.actor, e.action, e.subject)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name is None or name == self.collection:
            return
        self.collection = name

        def read(reader: VaultReader) -> tuple[str, int, list[RecordView]]:
            return name, reader.collections().get(name, 0), reader.records(name)

        self.fetch(read, self.show_records)

    def show_records(self, result: tuple[str, int, list[RecordView]]) -> None:
        name, total, records = result
        self.shown = records
        table = self.query_one("#records", DataTable)
        table.clear()
        for r in records:
            table.add_row(r.id, str(r.version), r.updated, r.preview, key=r.id)
        more = f" (first {len(records)} of {total})" if total > len(records) else ""
        self.say(f"{name}: {total} record(s){more} · enter shows one in full")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "records":
            self.open_record()

    def open_record(self) -> None:
        """Show the selected record in full below the tables (enter)."""
        table = self.query_one("#records", DataTable)
        if self.collection is None or not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return
        name, record_id = self.collection, self.shown[table.cursor_row].id
        self.fetch(lambda reader: reader.record_text(name, record_id),
                   lambda text: self.query_one("#record-detail", Static).update(Content(text)))

    def action_verify(self) -> None:
        self.say("Verifying the audit log…")
        self.act(lambda reader: reader.verify_audit(), lambda text: self.say(text, kind="done"))
