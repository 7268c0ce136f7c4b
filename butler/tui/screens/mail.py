"""Mail: the messages the sweeps moved (from, subject, kind, when, why), a text-only preview, and per message:
move back (butler learns), explain, unsubscribe; undo per message, sender or sweep. Every change asks first,
saying what will move, and acts only on the row shown selected in the tab in front."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from butler.tui.data import AccountView, MessageView, SenderView, SweepView, UndoOutcome, VaultReader
from butler.tui.data.mailbox import recorded_preview
from butler.tui.screens.base import TAB_BINDINGS, ButlerScreen
from butler.tui.widgets import ConfirmScreen, NoticeScreen
from butler.tui.widgets.table import PlainTable

__all__ = ["MailScreen"]

T = TypeVar("T")
NOTHING_DELETED = "Nothing is ever deleted: messages only move."


class MailScreen(ButlerScreen):
    PLACE: ClassVar[str] = "mail"
    BINDINGS: ClassVar[list[BindingType]] = [
        # the footer keeps to the changes; `?` lists these too
        *(Binding(b.key, b.action, b.description, show=False, key_display=b.key_display)
          for b in TAB_BINDINGS if isinstance(b, Binding)),
        Binding("p", "preview", "Preview", show=False),
        Binding("b", "move_back", "Move back"),
        Binding("e", "explain", "Explain"),
        Binding("k", "unsubscribe", "Unsubscribe"),
        Binding("s", "undo_sender", "Undo sender"),
        Binding("u", "undo_sweep", "Undo sweep"),
        Binding("o", "next_account", "Other mailbox", show=False),
    ]
    AUTO_FOCUS = "#messages"

    def __init__(self) -> None:
        super().__init__()
        self.accounts: list[AccountView] = []
        self.index = 0

    def body(self) -> Iterable[Widget]:
        yield Static("", id="mail-summary")
        with TabbedContent(id="mail-tabs"):
            with TabPane("Messages moved", id="tab-messages"):
                messages: PlainTable = PlainTable(id="messages", cursor_type="row", zebra_stripes=True)
                messages.add_columns("When", "From", "Subject", "Kind", "Why")
                yield messages
                with VerticalScroll(id="preview-scroll"):
                    yield Static("", id="mail-preview")
            with TabPane("Senders", id="tab-senders"):
                senders: PlainTable = PlainTable(id="senders", cursor_type="row", zebra_stripes=True)
                senders.add_columns("Sender", "Moved", "Read", "Away now", "Unsubscribe")
                yield senders
            with TabPane("Sweeps", id="tab-sweeps"):
                sweeps: PlainTable = PlainTable(id="mail-sweeps", cursor_type="row", zebra_stripes=True)
                sweeps.add_columns("When", "Moved", "Put back")
                yield sweeps

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
        tables = [self.query_one(f"#{name}", DataTable) for name in ("messages", "senders", "mail-sweeps")]
        rows = [t.cursor_row for t in tables]
        for table in tables:
            table.clear()
        account = self.account
        if account is None:
            summary.update(Content.from_markup(
                "No sweep has run yet. Set up your mailbox with [b]butler mail setup[/b]."))
            self.query_one("#mail-preview", Static).update("")
            return
        more = f" · [b]o[/b] next of {len(self.accounts)} mailboxes" if len(self.accounts) > 1 else ""
        undo = "" if account.can_undo else "\n[$warning]moving back needs the mailbox: run butler mail setup[/]"
        summary.update(Content.from_markup(
            f"[b]$name[/b]: $away message(s) away from the inbox, $restored put back{more}{undo}",
            name=account.account.rsplit("-", 1)[0], away=str(account.away), restored=str(account.restored)))
        messages, senders, sweeps = tables
        for m in account.messages:
            messages.add_row(m.at, m.sender, m.subject, m.category, m.why, key=m.move)
        for v in account.senders:
            how = "one click" if v.one_click else "by mail" if v.can_unsubscribe else ""
            senders.add_row(v.sender, str(v.moved), str(v.read), str(v.kept), how, key=v.sender)
        for s in account.sweeps[:50]:
            sweeps.add_row(s.at, str(s.moved), str(s.undone), key=s.sweep)
        for table, row in zip(tables, rows, strict=True):
            if table.row_count:
                table.move_cursor(row=min(row, table.row_count - 1))
        self.show_recorded()

    # -- what the person has selected, in the tab in front only --------------------------------------------
    def _selected(self, tab: str, table_id: str, items: Sequence[T]) -> T | None:
        if self.query_one("#mail-tabs", TabbedContent).active != tab:
            return None
        table = self.query_one(f"#{table_id}", DataTable)
        return items[table.cursor_row] if items and 0 <= table.cursor_row < len(items) else None

    def message(self) -> MessageView | None:
        account = self.account
        return None if account is None else self._selected("tab-messages", "messages", account.messages)

    def sender(self) -> SenderView | None:
        account = self.account
        return None if account is None else self._selected("tab-senders", "senders", account.senders)

    def sweep(self) -> SweepView | None:
        account = self.account
        return None if account is None else self._selected("tab-sweeps", "mail-sweeps", account.sweeps)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "messages":
            self.show_recorded()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "messages":
            self.action_preview()

    def show_recorded(self) -> None:
        message = self.message()
        hint = "\n[p: the message's text · e: why it moved · ?: every key]"
        text = recorded_preview(message) + hint if message else ""
        self.query_one("#mail-preview", Static).update(Content(text))

    # -- reading ---------------------------------------------------------------------------------------------
    def action_next_account(self) -> None:
        if self.accounts:
            self.index = (self.index + 1) % len(self.accounts)
            self.render_account()

    def _read_message(self, read: Callable[[VaultReader, str, MessageView], str]) -> None:
        account, message = self.account, self.message()
        if account is None or message is None:
            self.say("Select a message on the Messages tab first.")
            return
        name = account.account
        self.fetch(lambda reader: read(reader, name, message),
                   lambda text: self.query_one("#mail-preview", Static).update(Content(text)))

    def action_preview(self) -> None:
        """The selected message's text, fetched from the mailbox: text only, no images, no links followed."""
        self._read_message(lambda reader, name, message: reader.preview(name, message))

    def action_explain(self) -> None:
        self._read_message(lambda reader, _name, message: reader.explain_message(message))

    # -- changes, each asked first -----------------------------------------------------------------------------
    def action_move_back(self) -> None:
        message = self.message()
        if message is None:
            self.say("Select a message on the Messages tab first.")
            return
        self._confirm(f"Put “{message.subject}” from {message.sender} back into the inbox?",
                      [f"Butler learns from this: {message.sender}'s {message.category} mail stays in the inbox "
                       "from now on.", NOTHING_DELETED],
                      lambda reader, name: reader.undo(name, moves=frozenset({message.move})))

    def chosen_sender(self) -> str | None:
        """The sender selected on the Senders tab, or the selected message's; None (and says so) if neither."""
        chosen, message = self.sender(), self.message()
        sender = chosen.sender if chosen else message.sender if message else None
        if sender is None:
            self.say("Select a message or a sender first (] and [ change tabs).")
        return sender

    def action_undo_sender(self) -> None:
        sender, account = self.chosen_sender(), self.account
        if sender is None or account is None:
            return
        away = sum(1 for m in account.messages if m.sender == sender)
        self._confirm(f"Put {sender}'s {away} message(s) back into the inbox, and keep their mail in the inbox "
                      "from now on?", [NOTHING_DELETED],
                      lambda reader, name: reader.undo(name, sender=sender))

    def action_undo_sweep(self) -> None:
        account = self.account
        if account is None or not account.sweeps:
            self.say("No sweep to undo.")
            return
        chosen = self.sweep()
        message = self.message()
        sweep = next((s for s in account.sweeps if s.sweep == (message.sweep if message else "")), None)
        sweep = chosen or sweep or account.sweeps[0]
        away = sum(1 for m in account.messages if m.sweep == sweep.sweep)
        if not away:
            self.say(f"Every message the sweep of {sweep.at} moved is back already.")
            return
        self._confirm(f"Put the {away} message(s) the sweep of {sweep.at} moved back into the inbox?",
                      [NOTHING_DELETED], lambda reader, name: reader.undo(name, sweep=sweep.sweep))

    def action_unsubscribe(self) -> None:
        sender, account = self.chosen_sender(), self.account
        if sender is None or account is None:
            return
        name = account.account

        def answered(yes: bool | None) -> None:
            if not yes:
                self.say("Nothing done: no request was queued.")
                return

            def do(reader: VaultReader) -> tuple[str, int]:
                return reader.unsubscribe(name, sender), len(reader.approvals())

            def done(result: tuple[str, int]) -> None:
                self.say(result[0], kind="done")
                self.butler.set_pending(result[1])

            self.act(do, done)

        self.app.push_screen(ConfirmScreen(
            f"Ask to unsubscribe from {sender}?",
            ["The request waits on Approvals: nothing is sent until you approve it there."]), answered)

    def _confirm(self, question: str, details: list[str],
                 undo: Callable[[VaultReader, str], UndoOutcome]) -> None:
        account = self.account
        if account is None:
            self.say("No sweep to undo.")
            return
        name = account.account

        def answered(yes: bool | None) -> None:
            if not yes:
                self.say("Nothing done: no message was moved.")
                return
            self.say("Putting mail back…")

            def do(reader: VaultReader) -> tuple[UndoOutcome, list[AccountView]]:
                return undo(reader, name), reader.mail()

            self.act(do, self.undone)

        self.app.push_screen(ConfirmScreen(question, details), answered)

    def undone(self, result: tuple[UndoOutcome, list[AccountView]]) -> None:
        outcome, accounts = result
        self.say(outcome.said, kind="error" if outcome.missing else "done")
        self.show(accounts)
        if outcome.missing:
            self.app.push_screen(NoticeScreen(f"Could not put back {len(outcome.missing)} message(s)",
                                              outcome.missing))
