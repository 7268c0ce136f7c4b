"""Mail errors, by what the caller does about them.

    ButlerError
    └── MailError
        ├── MailSourceError          -- the mailbox cannot be reached or read: check the setup, try again
        │   ├── MailConnectionLost   -- the connection broke mid-way: nothing more is done on it; run again
        │   ├── MailAuthError        -- the server refused the login: fix the password in the vault
        │   └── MailboxBusy          -- another sweep or undo of this mailbox is running: wait, then try again
        ├── MailConfigError          -- the [mail] settings are missing or wrong: run `butler mail setup`
        │   └── MailFolderGone       -- a folder butler used was renamed or removed: recreate it or name another
        └── UnsubscribeRefused       -- butler will not send this unsubscribe request (unsafe or not allowed)
"""

from __future__ import annotations

import imaplib
from typing import TypeVar

from butler.errors import ButlerError

__all__ = ["MailAuthError", "MailConfigError", "MailConnectionLost", "MailError", "MailFolderGone", "MailSourceError",
           "MailboxBusy", "UnsubscribeRefused", "absent_unless_lost", "broke"]

T = TypeVar("T")


class MailError(ButlerError):
    exit_code = 9


class MailSourceError(MailError):
    default_hint = "Check that the mail server or Maildir is reachable, then run the command again."


class MailConnectionLost(MailSourceError):
    """The connection failed under a command (a broken socket, a timeout, an answer out of turn). Not "the folder
    or message is not there": code that reads an absence into a failure must let this one through."""

    default_hint = "Nothing more was done on that connection; run the command again (a sweep picks up where it was)."


class MailAuthError(MailSourceError):
    default_hint = "Store the right password or app password with `butler mail setup`."


class MailboxBusy(MailSourceError):
    exit_code = 75
    default_hint = "Wait for the other sweep (the daemon's, or another terminal's) to finish, then try again."


class MailConfigError(MailError):
    default_hint = "Run `butler mail setup --host HOST --user USER`, or sweep a local Maildir with --maildir."


class MailFolderGone(MailConfigError):
    default_hint = "Create the folder again, or name another with `butler mail setup`."


class UnsubscribeRefused(MailError):
    default_hint = "Nothing was sent. Unsubscribe in the sender's own preference page if you still want to."


def broke(exc: BaseException) -> bool:
    """Whether `exc` says the connection itself failed (imaplib's abort, a socket error or timeout), not the
    server refusing a command."""
    return isinstance(exc, MailConnectionLost | OSError | imaplib.IMAP4.abort)


def absent_unless_lost(exc: BaseException, absent: T) -> T:
    """`absent` for a command the server refused (a folder that is not there); a lost connection raises
    MailConnectionLost instead, since reading it as an absence would take messages for gone that are not."""
    if isinstance(exc, MailConnectionLost):
        raise exc
    if broke(exc):
        raise MailConnectionLost(f"the connection broke ({exc})") from None
    return absent
