"""What CLI commands share: opening the vault the way the person configured, and asking for passphrases."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from butler import paths
from butler.errors import UsageError, VaultLocked
from butler.log import register_secret
from butler.vault.keys import ENV_PASSPHRASE_FILE, Unlocked, open_vault, read_passphrase_file

__all__ = ["ask_new_passphrase", "ask_passphrase", "unlock"]


def unlock(home: Path | None = None, *, quiet: bool = False) -> Unlocked:
    """Open the vault as config.toml and the environment say (see `open_vault`), printing its notes."""
    unlocked = open_vault(home or paths.butler_home())
    if not quiet:
        for note in unlocked.notes:
            print(f"note: {note}", file=sys.stderr)
    return unlocked


def ask_passphrase(prompt: str = "Vault passphrase: ") -> str:
    """The current passphrase, from BUTLER_PASSPHRASE_FILE or the terminal."""
    file = os.environ.get(ENV_PASSPHRASE_FILE)
    if file:
        return read_passphrase_file(Path(file))
    if not sys.stdin.isatty():
        raise VaultLocked("a passphrase is needed and there is no terminal to ask on")
    value = getpass.getpass(prompt)
    register_secret(value)
    return value


def ask_new_passphrase(env_var: str = "BUTLER_NEW_PASSPHRASE_FILE") -> str:
    """A new passphrase, typed twice, or read from a file named by `env_var` (for scripts)."""
    file = os.environ.get(env_var)
    if file:
        value = read_passphrase_file(Path(file))
    else:
        if not sys.stdin.isatty():
            raise UsageError(f"no terminal to ask for a new passphrase; set {env_var} to a file holding it")
        value = getpass.getpass("New passphrase: ")
        register_secret(value)
        if getpass.getpass("Repeat it: ") != value:
            raise UsageError("the two passphrases differ; nothing was changed")
    if len(value) < 8:
        raise UsageError("choose a passphrase of at least 8 characters")
    return value
