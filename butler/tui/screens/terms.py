"""Terms: your MyTerms choices in plain language and each vendor's signed records; your policy files, with
any error shown where it is (file:line), and each rule explained."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from butler.tui.data import PolicyFileView, TermsView, VaultReader, rule_text
from butler.tui.screens.base import TAB_BINDINGS, ButlerScreen
from butler.tui.widgets.table import PlainTable

__all__ = ["TermsScreen"]


class TermsScreen(ButlerScreen):
    PLACE: ClassVar[str] = "terms"
    BINDINGS: ClassVar[list[BindingType]] = [*TAB_BINDINGS, Binding("e", "explain", "Explain rule")]

    def __init__(self) -> None:
        super().__init__()
        self.rules: list[tuple[str, str, str, str]] = []

    def body(self) -> Iterable[Widget]:
        with TabbedContent(id="terms-tabs"):
            with TabPane("MyTerms", id="tab-myterms"):
                with VerticalScroll(id="choices-scroll"):
                    yield Static("", id="choices")
                vendors: PlainTable = PlainTable(id="vendor-records", cursor_type="row")
                vendors.add_columns("Vendor", "Records", "Latest", "Chain")
                vendors.border_title = "Signed records per vendor"
                yield vendors
            with TabPane("Policies", id="tab-policies"):
                yield Static("", id="policy-files")
                rules: PlainTable = PlainTable(id="rules", cursor_type="row", zebra_stripes=True)
                rules.add_columns("Rule", "Kind", "Action", "Where")
                yield rules
                with VerticalScroll(id="rule-scroll"):
                    yield Static("", id="rule-detail")

    def load(self) -> None:
        def read(reader: VaultReader) -> tuple[TermsView, list[PolicyFileView]]:
            return reader.terms(), reader.policies()

        self.fetch(read, self.show)

    def show(self, result: tuple[TermsView, list[PolicyFileView]]) -> None:
        terms, files = result
        self.query_one("#choices", Static).update(Content(terms.choices))
        vendors = self.query_one("#vendor-records", DataTable)
        vendors.clear()
        for v in terms.vendors:
            vendors.add_row(v.vendor, str(v.records), v.latest, v.verified, key=v.vendor)
        lines = []
        for f in files:
            if f.ok:
                lines.append(Content.from_markup("[$success]✓[/] [b]$path[/b] $msg", path=f.path, msg=f.message))
            else:
                lines.append(Content.from_markup("[$error b]✗ $path[/]\n  [$error]$msg[/]", path=f.path,
                                                 msg=f.message))
        self.query_one("#policy-files", Static).update(Content("\n").join(lines) if lines else "No policy files.")
        self.rules = [rule for f in files for rule in f.rules]
        table = self.query_one("#rules", DataTable)
        table.clear()
        for rule_id, kind, action, where in self.rules:
            table.add_row(rule_id, kind, action, where.rsplit("/", 1)[-1], key=rule_id)
        broken = [f for f in files if not f.ok]
        if broken:
            where = broken[0].location or broken[0].path
            self.say(f"{len(broken)} policy file(s) need fixing, first at {where.rsplit('/', 1)[-1]}: "
                     "see the Policies tab (])", kind="error")

    def action_explain(self) -> None:
        table = self.query_one("#rules", DataTable)
        if not self.rules or not 0 <= table.cursor_row < len(self.rules):
            self.say("Select a rule on the Policies tab first.")
            return
        self.query_one("#terms-tabs", TabbedContent).active = "tab-policies"
        rule_id, _kind, _action, where = self.rules[table.cursor_row]
        file = Path(where.rsplit(":", 1)[0])
        self.fetch(lambda _reader: rule_text(file, rule_id),
                   lambda text: self.query_one("#rule-detail", Static).update(Content(text)))
