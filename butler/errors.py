"""The butler's error tree, sorted by what the caller does about it.

    ButlerError(message, hint)            -- the root: the CLI prints message and hint, exits non-zero
    ├── UsageError                        -- the person asked for something that cannot be: fix the command
    ├── ConfigError                       -- a config or policy file is wrong: fix the file (names file:line)
    ├── VaultError
    │   ├── VaultNotFound                 -- run `butler init`
    │   ├── VaultExists                   -- refuse to overwrite
    │   ├── VaultLocked                   -- no key available: give a passphrase or unlock the keyring
    │   │   └── WrongPassphrase
    │   ├── VaultBusy                     -- another process holds the vault: try again later
    │   ├── VaultCorrupt                  -- a file was damaged or tampered with: restore a backup
    │   ├── VaultVersionError             -- written by a newer butler: upgrade
    │   └── RecordConflict                -- the record changed since it was read: read again and retry
    ├── KeyringError                      -- the OS keyring failed or is absent: fall back to a passphrase
    └── AuditError                        -- the audit log does not verify: investigate
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "ButlerError",
    "ConfigError",
    "KeyringError",
    "RecordConflict",
    "UsageError",
    "VaultBusy",
    "VaultCorrupt",
    "VaultError",
    "VaultExists",
    "VaultLocked",
    "VaultNotFound",
    "VaultVersionError",
    "WrongPassphrase",
]


class ButlerError(Exception):
    """An error the person can act on: a message saying what went wrong and a hint saying what to do."""

    exit_code = 1
    default_hint = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


class UsageError(ButlerError):
    exit_code = 2


class ConfigError(ButlerError):
    """A configuration or policy file is invalid. `location` is `file:line[:column]` when known."""

    exit_code = 3

    def __init__(self, message: str, hint: str | None = None, *, location: str | None = None) -> None:
        full = f"{location}: {message}" if location else message
        super().__init__(full, hint)
        self.location = location


class VaultError(ButlerError):
    exit_code = 4


class VaultNotFound(VaultError):
    default_hint = "Run `butler init` to create a vault, or set BUTLER_HOME to where yours lives."


class VaultExists(VaultError):
    default_hint = "Nothing was overwritten. Choose another BUTLER_HOME or remove the old vault yourself."


class VaultLocked(VaultError):
    default_hint = (
        "Unlock the OS keyring, run the command in a terminal to type the passphrase, "
        "or point BUTLER_PASSPHRASE_FILE at a file (mode 0600) holding it."
    )


class WrongPassphrase(VaultLocked):
    default_hint = "Check the passphrase and try again; nothing was changed."


class VaultBusy(VaultError):
    exit_code = 75  # EX_TEMPFAIL: try again later
    default_hint = "Another butler process (the daemon or the TUI) is writing; try again in a moment."


class VaultCorrupt(VaultError):
    default_hint = (
        "The file was damaged or altered outside butler; nothing was changed. "
        "Restore it with `butler vault import BACKUP` from a backup, or, if a power loss may have torn the last "
        "write, return to the last sound write with `butler vault recover` (it keeps a copy)."
    )


class VaultVersionError(VaultError):
    default_hint = "This vault was written by a newer butler; upgrade butler to open it."


class RecordConflict(VaultError):
    default_hint = "The record changed since it was read; read it again and retry."


class KeyringError(ButlerError):
    default_hint = "Butler can work without the keyring: it will ask for the passphrase instead."


class AuditError(ButlerError):
    exit_code = 5
    default_hint = "The audit log was altered or damaged; compare it with a backup (`butler vault export`)."
