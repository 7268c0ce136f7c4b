"""Data rights: the companies found in the mail and their record, open requests with the days left, answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.widget import Widget
from textual.widgets import Static

from butler.tui.data import VaultReader
from butler.tui.screens.base import ButlerScreen
from butler.tui.widgets.table import PlainTable

if TYPE_CHECKING:
    from butler.rights.overview import Overview

__all__ = ["RightsScreen"]


def _days(days: int | None) -> str:
    if days is None:
        return "—"
    return f"{-days} d overdue" if days < 0 else f"{days} d"


class RightsScreen(ButlerScreen):
    PLACE: ClassVar[str] = "rights"
    AUTO_FOCUS = "#rights-requests"

    def body(self) -> Iterable[Widget]:
        yield Static("", id="rights-summary")
        requests: PlainTable = PlainTable(id="rights-requests", cursor_type="row", zebra_stripes=True)
        requests.add_columns("Request", "Kind", "Company", "State", "Left")
        yield requests
        answers: PlainTable = PlainTable(id="rights-answers", cursor_type="row", zebra_stripes=True)
        answers.add_columns("Request", "Company", "Received", "Files", "What")
        yield answers
        found: PlainTable = PlainTable(id="rights-counterparties", cursor_type="row", zebra_stripes=True)
        found.add_columns("Counterparty", "Mail", "Last", "Record", "Match")
        yield found
        yield Static("[dim]company data: datenanfragen.de (CC0) · `butler rights request COMPANY` drafts a request"
                     "[/dim]", id="rights-legend")

    def load(self) -> None:
        from butler.rights.database import load as load_database
        from butler.rights.overview import overview

        def read(reader: VaultReader) -> Overview:
            with reader.locked() as vault:
                return overview(vault, load_database(vault.home))

        self.fetch(read, self.show)

    def show(self, seen: Overview) -> None:
        table: PlainTable = self.query_one("#rights-requests", PlainTable)
        table.clear()
        for r in seen.requests:
            table.add_row(r.reference, r.kind, r.company, r.state, _days(r.days_left), key=r.reference)
        answers: PlainTable = self.query_one("#rights-answers", PlainTable)
        answers.clear()
        for a in seen.answers:
            answers.add_row(a.reference, a.company, a.received, str(a.attachments), a.note)
        found: PlainTable = self.query_one("#rights-counterparties", PlainTable)
        found.clear()
        for c in seen.counterparties:
            found.add_row(c.name, c.kinds, c.last_contact, c.record, c.quality, key=c.key)
        overdue = sum(1 for r in seen.requests if r.days_left is not None and r.days_left < 0)
        self.query_one("#rights-summary", Static).update(
            f"{len(seen.counterparties)} companies found in your mail · {len(seen.requests)} request(s), "
            f"{overdue} overdue · {len(seen.answers)} answer(s)")
