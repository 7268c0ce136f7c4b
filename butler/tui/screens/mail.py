"""Mail: the last sweeps and, per sender, what was moved; `u` undoes the last sweep, `s` the selected sender's
mail (the Senders table must be the one in use); both ask first, saying what will move."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from butler.tui.data import AccountView, VaultReader
from butler.tui.screens.base import ButlerScreen
from butler.tui.widgets import ConfirmScreen

__all__ = ["MailScreen"]


class MailScreen(ButlerScreen):
    PLACE: ClassVar[str] = "mail"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo_sweep", "Undo last sweep"),
        Binding("s", "undo_sender", "Undo sender"),
        Binding("o", "next_account", "Other mailbox", show=False),
    ]
    AUTO_FOCUS = "#senders"

    def __init__(self) -> None:
        super().__init__()
        self.accounts: list[AccountView] = []
        self.index = 0

    def body(self) -> Iterable[Widget]:
        yield Static("", id="mail-summary")
        sweeps: DataTable[str] = DataTable(id="sweeps", cursor_type="row")
        sweeps.add_columns("When", "Moved", "Put back")
        sweeps.border_title = "Last sweeps"
        yield sweeps
        senders: DataTable[str] = DataTable(id="senders", cursor_type="row", zebra_stripes=True)
        senders.add_columns("Sender", "Moved", "Read", "Away now", "One-click")
        senders.border_title = "Senders"
        yield senders

    def load(self) -> None:
        self.fetch(lambda reader: reader.mail(), self.show)

    @property
    def account(self) -> AccountView | None:
        return self.accounts[self.index] if self.accounts else None

    def show(self, accounts: list[AccountView]) -> None:
        self.accounts = accounts
        self.index = min(self.index, max(len(accounts) - 1, 0))
        self.render_account()

    def render_account(self) -> None:
        summary = self.query_one("#mail-summary", Static)
        sweeps = self.query_one("#sweeps", DataTable)
        senders = self.query_one("#senders", DataTable)
        sweeps.clear()
        senders.clear()
        account = self.account
        if account is None:
            summary.update(Content.from_markup(
                "No sweep has run yet. Set up your mailbox with [b]butler mail setup[/b]."))
            return
        more = f" · [b]o[/b] next of {len(self.accounts)} mailboxes" if len(self.accounts) > 1 else ""
        undo = "" if account.can_undo else "\n[$warning]undo needs the mailbox: run butler mail setup[/]"
        summary.update(Content.from_markup(
            f"[b]$name[/b]: $away message(s) away from the inbox, $restored put back{more}{undo}",
            name=account.account.rsplit("-", 1)[0], away=str(account.away), restored=str(account.restored)))
        for s in account.sweeps[:20]:
            sweeps.add_row(s.at, str(s.moved), str(s.undone), key=s.sweep)
        for v in account.senders:
            senders.add_row(v.sender, str(v.moved), str(v.read), str(v.kept), "yes" if v.one_click else "",
                            key=v.sender)

    def action_next_account(self) -> None:
        if self.accounts:
            self.index = (self.index + 1) % len(self.accounts)
            self.render_account()

    def action_undo_sweep(self) -> None:
        account = self.account
        if account is None or not account.sweeps:
            self.say("No sweep to undo.")
            return
        last = account.sweeps[0]
        self._confirm(f"Put the {last.moved} message(s) the sweep of {last.at} moved back into the inbox?", None)

    def action_undo_sender(self) -> None:
        account = self.account
        table = self.query_one("#senders", DataTable)
        # only the row the person sees selected: the Senders table must be the one in use
        if account is None or not account.senders or not table.has_focus \
                or not 0 <= table.cursor_row < len(account.senders):
            self.say("Select a sender in the Senders table first (tab moves there).")
            return
        sender = account.senders[table.cursor_row]
        self._confirm(f"Put {sender.sender}'s {sender.kept} message(s) back into the inbox, and keep their mail "
                      "in the inbox from now on?", sender.sender)

    def _confirm(self, question: str, sender: str | None) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._undo(sender)
            else:
                self.say("Nothing done: no message was moved.")

        self.app.push_screen(ConfirmScreen(question, ("Nothing is ever deleted: messages only move.",)), answered)

    def _undo(self, sender: str | None) -> None:
        account = self.account
        if account is None:
            self.say("No sweep to undo.")
            return
        name = account.account
        self.say(f"Putting back {sender + chr(39) + 's mail' if sender else 'the last sweep'}…")

        def do(reader: VaultReader) -> tuple[str, list[AccountView]]:
            return reader.undo(name, sender=sender), reader.mail()

        def done(result: tuple[str, list[AccountView]]) -> None:
            self.say(result[0], kind="done")
            self.show(result[1])

        self.act(do, done)
