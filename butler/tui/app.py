"""The butler's terminal UI: `make_app()` builds it for `butler tui` and for the tests.

The app opens the vault unattended (keyring, then BUTLER_PASSPHRASE_FILE) in a worker; when that fails
because the vault is locked it asks for the passphrase on its own screen. Every place (Home, Approvals, Mail,
Deals, Contracts, Terms, Vault) is a mode reached with a number key or the command palette (ctrl+p).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from butler import paths
from butler.errors import ButlerError, VaultLocked
from butler.tui.data import VaultReader, read_seen, write_seen
from butler.tui.screens import (
    ApprovalsScreen,
    ContractsScreen,
    DealsScreen,
    HomeScreen,
    MailScreen,
    PassphraseScreen,
    RightsScreen,
    TermsScreen,
    VaultScreen,
)
from butler.tui.widgets import KeysScreen
from butler.tui.widgets.nav import PLACES, NavBar
from butler.vault import Unlocked, Vault, open_vault

if TYPE_CHECKING:
    from butler.mail.sources import MailSource

__all__ = ["ButlerApp", "make_app"]


class ButlerApp(App[int]):
    """The butler's TUI. Use `make_app()`; `reader` is None until the vault is open."""

    TITLE = "butler"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    MODES: ClassVar[dict[str, str | Callable[[], Screen[None]]]] = {
        "home": HomeScreen,
        "approvals": ApprovalsScreen,
        "mail": MailScreen,
        "deals": DealsScreen,
        "contracts": ContractsScreen,
        "terms": TermsScreen,
        "vault": VaultScreen,
        "rights": RightsScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "keys", "Keys", key_display="?"),
        *(Binding(key, f"go('{mode}')", f"Go to {label}", show=False) for mode, label, key in PLACES),
    ]

    def __init__(self, home: Path, vault: Vault | None = None, *,
                 mail_sources: Callable[[Vault], list[MailSource]] | None = None) -> None:
        super().__init__()
        self.home = home
        self.reader: VaultReader | None = None
        self.pending_count = 0
        self.seen_seq = read_seen(home)
        self.head_seq = -1
        self._given = vault
        self._mail_sources = mail_sources

    def compose(self) -> ComposeResult:
        yield Static("Opening the vault…", id="opening")
        yield Footer()

    def on_mount(self) -> None:
        if self._given is not None:
            self.unlocked(Unlocked(self._given, "vault given", []))
        else:
            self.open_unattended()

    @work(thread=True, exclusive=True, group="unlock")
    def open_unattended(self) -> None:
        try:
            unlocked = open_vault(self.home, interactive=False)
        except VaultLocked as exc:
            self.call_from_thread(self.push_screen, PassphraseScreen(exc.message))
            return
        except ButlerError as exc:
            self.call_from_thread(self.cannot_open, exc)
            return
        self.call_from_thread(self.unlocked, unlocked)

    def cannot_open(self, exc: ButlerError) -> None:
        self.query_one("#opening", Static).update(Content.from_markup(
            "[$error b]$message[/]\n$hint\n\nPress [b]q[/b] to quit.", message=exc.message, hint=exc.hint))

    def unlocked(self, unlocked: Unlocked) -> None:
        """The vault is open: show Home (closing the passphrase screen if it was up)."""
        self.reader = VaultReader(unlocked.vault, unlocked.source, unlocked.notes, mail_sources=self._mail_sources)
        if isinstance(self.screen, PassphraseScreen):
            self.pop_screen()
        self.switch_mode("home")

    def set_pending(self, count: int) -> None:
        self.pending_count = count
        for bar in self.screen.query(NavBar):
            bar.refresh()

    def action_keys(self) -> None:
        """Show every key of the screen in front, with what it does."""
        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss(None)
            return
        place = next((label for mode, label, _ in PLACES if mode == getattr(self.screen, "PLACE", "")), "this screen")
        self.push_screen(KeysScreen(self.screen, place))

    def action_go(self, mode: str) -> None:
        if self.reader is not None and mode in self.MODES:
            self.switch_mode(mode)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.reader is None:
            return
        for mode, label, key in PLACES:
            yield SystemCommand(f"Go to {label}", f"show {label} (key {key})", self._goer(mode))
        # every action of the screen in front, by the words its key has
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if active.node is self or not binding.description or not active.enabled:
                continue
            if not isinstance(active.node, Screen):  # a widget's own keys (cursor moves): not actions
                continue
            yield SystemCommand(binding.description, f"on this screen (key {self.get_key_display(binding) or key})",
                                self._runner(binding.action, active.node))

    def _goer(self, mode: str) -> Callable[[], None]:
        return lambda: self.action_go(mode)

    def _runner(self, action: str, node: Screen[object]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action, node)

        return run

    def on_unmount(self) -> None:
        if self.reader is None:
            return
        if self.head_seq >= 0:
            with contextlib.suppress(OSError):  # only "since you last looked" would suffer
                write_seen(self.home, self.head_seq)
        if self._given is None:
            self.reader.close()


def make_app(home: Path | None = None, vault: Vault | None = None, *,
             mail_sources: Callable[[Vault], list[MailSource]] | None = None) -> ButlerApp:
    """The TUI for the vault in `home` (default BUTLER_HOME), or for an already open `vault`.

    `mail_sources` gives the mailboxes undo may act on (default: the IMAP account stored in the vault).
    """
    if vault is not None:
        home = vault.home
    return ButlerApp(home or paths.butler_home(), vault, mail_sources=mail_sources)
