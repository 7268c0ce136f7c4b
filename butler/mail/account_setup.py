"""Storing the person's mail account, after a connection test: what `butler mail setup` and `butler init` share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from butler.log import register_secret
from butler.mail.account import load_settings, save_password, save_settings, save_smtp_password
from butler.mail.errors import MailConfigError, MailSourceError
from butler.mail.probe import ServerProbe, probe
from butler.mail.settings import MailSettings
from butler.vault import Vault

__all__ = ["connection_test", "save_account"]


def connection_test(settings: MailSettings, password: str, timeout: float,
                    say: Callable[[str], None] = print) -> ServerProbe:
    """Log in once and say what the server offers; raises when it cannot be reached, refuses the login, or could
    not be swept safely (neither MOVE nor UIDPLUS)."""
    say(f"testing the connection to {settings.host}:{settings.imap_port} …")
    found = probe(settings, password, timeout=timeout)
    say(f"connected: {found.summary()}")
    for note in found.notes():
        say(f"  - {note}")
    if not found.can_sweep:
        raise MailSourceError(f"{settings.host} offers neither MOVE nor UIDPLUS: nothing was stored",
                              "butler cannot move mail on this server safely.")
    return found


def save_account(vault: Vault, changes: Mapping[str, Any], password: str, *, test: bool = True,
                 timeout: float = 15.0, smtp_password: str | None = None,
                 say: Callable[[str], None] = print) -> MailSettings:
    """Validate the stored mail settings with `changes`, test the connection (unless `test` is false), then store
    the settings and the password. Nothing is stored when validation or the test fails."""
    register_secret(password)
    try:
        settings = MailSettings.model_validate({**load_settings(vault).model_dump(), **changes})
    except ValidationError as exc:
        raise MailConfigError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    if test:
        connection_test(settings, password, timeout, say)
    save_settings(vault, settings)
    save_password(vault, password)
    if smtp_password:
        register_secret(smtp_password)
        save_smtp_password(vault, smtp_password)
    return settings
