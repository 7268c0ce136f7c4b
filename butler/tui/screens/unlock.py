"""The passphrase screen, shown when neither the keyring nor a passphrase file could open the vault."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from butler.errors import ButlerError, WrongPassphrase
from butler.vault import Unlocked, Vault
from butler.vault.keys import keyring_store, vault_settings

if TYPE_CHECKING:
    from butler.tui.app import ButlerApp

__all__ = ["PassphraseScreen"]


class PassphraseScreen(Screen[None]):
    """Asks for the vault passphrase; the typed text is never shown, logged or kept."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", "Quit")]
    AUTO_FOCUS = "#passphrase"

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="unlock-box"):
            yield Static("The vault is locked", id="unlock-title")
            yield Static(self.reason, id="unlock-reason")
            yield Input(placeholder="vault passphrase", password=True, id="passphrase")
            yield Static("", id="unlock-message")
        yield Footer()

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        passphrase = event.value
        event.input.value = ""
        if not passphrase:
            return
        event.input.disabled = True
        self.query_one("#unlock-message", Static).update("Unlocking…")
        self.unlock(passphrase)

    @work(thread=True, exclusive=True)
    def unlock(self, passphrase: str) -> None:
        app = cast("ButlerApp", self.app)
        try:
            settings = vault_settings(app.home)
            key = Vault.key_from_passphrase(app.home, passphrase)
            vault = Vault(app.home, key, lock_timeout=settings.lock_timeout_seconds)
        except WrongPassphrase:
            app.call_from_thread(self.retry, "That passphrase does not open this vault. Try again.")
            return
        except ButlerError as exc:
            app.call_from_thread(self.retry, exc.message)
            return
        notes = []
        try:  # like `butler` on the command line: keep the key in the keyring for unattended runs
            store = keyring_store(app.home, settings)
            if store is not None:
                store.remember(vault)
                notes.append(f"vault key stored in the keyring ({store.name})")
        except ButlerError as exc:
            notes.append(f"could not store the key in the keyring: {exc.message}")
        app.call_from_thread(app.unlocked, Unlocked(vault, "passphrase", notes))

    def retry(self, message: str) -> None:
        self.query_one("#unlock-message", Static).update(message)
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()
