"""Mail errors, by what the caller does about them.

    ButlerError
    └── MailError
        ├── MailSourceError          -- the mailbox cannot be reached or read: check the setup, try again
        │   └── MailAuthError        -- the server refused the login: fix the password in the vault
        ├── MailConfigError          -- the [mail] settings are missing or wrong: run `butler mail setup`
        └── UnsubscribeRefused       -- butler will not send this unsubscribe request (unsafe or not allowed)
"""

from __future__ import annotations

from butler.errors import ButlerError

__all__ = ["MailAuthError", "MailConfigError", "MailError", "MailSourceError", "UnsubscribeRefused"]


class MailError(ButlerError):
    exit_code = 9


class MailSourceError(MailError):
    default_hint = "Check that the mail server or Maildir is reachable, then run the command again."


class MailAuthError(MailSourceError):
    default_hint = "Store the right password or app password with `butler mail setup`."


class MailConfigError(MailError):
    default_hint = "Run `butler mail setup --host HOST --user USER`, or sweep a local Maildir with --maildir."


class UnsubscribeRefused(MailError):
    default_hint = "Nothing was sent. Unsubscribe in the sender's own preference page if you still want to."
