"""The butler's whole error tree in one drawing, sorted by what the caller does about it.

Every error is a ButlerError(message, hint): the CLI prints the message and the hint, never a traceback, and
exits with its family's code. Families live beside the code that raises them (the SDK's in butler.sdk, so that a
connector needs nothing else), but they are all drawn here; a test checks the drawing against the classes.

    exit  class                                what the caller does
    1     ButlerError(message, hint)           the root: print message and hint
    2     ├── UsageError                       the command asked for something that cannot be: fix it
    3     ├── ConfigError                      a config or policy file is wrong: fix it (the error names file:line)
    3     │   └── PolicyErrors                 (policy) every problem of the policy files, each with file:line
    4     ├── VaultError
    4     │   ├── VaultNotFound                run `butler init`
    4     │   ├── VaultExists                  nothing was overwritten
    4     │   ├── VaultLocked                  no key: give the passphrase or unlock the keyring
    4     │   │   ├── WrongPassphrase
    4     │   │   └── AgentError               the unlock agent cannot be reached or refused
    75    │   ├── VaultBusy                    another process writes: try again in a moment
    4     │   ├── VaultCorrupt                 damaged or altered: `butler vault recover` or restore a backup
    4     │   │   └── VaultRolledBack          an older copy of a file was put back: the newest, or accept it
    4     │   ├── VaultVersionError            written by a newer butler: upgrade
    4     │   └── RecordConflict               changed since read: read again and retry
    1     ├── KeyringError                     the OS keyring failed: butler asks for the passphrase instead
    1     ├── DaemonAlreadyRunning             (daemon) one daemon per home: stop the other one first
    5     ├── AuditError                       the audit log does not verify: investigate, compare with a backup
    6     ├── ConnectorError(status)           (sdk) a vendor or its connector failed
    77    │   ├── AuthError                    credentials refused: butler queues a re-authentication item
    77    │   │   └── MissingSecret            a declared secret has no value: `butler connectors enable ID`
    75    │   ├── RetriableError(retry_after)  busy or unreachable: butler waits `retry_after` and tries again,
    75    │   │   └── DeadlineExceeded           then leaves it to the next run; (negotiate) past the deadline
    6     │   ├── OfferUnavailable             the offer is gone: skipped, the others carry on
    6     │   └── FatalError                   do not retry: reported, that vendor is left out
    6     │       ├── HostNotAllowed           the connector tried an undeclared host
    6     │       ├── SecretNotDeclared        the connector asked for an undeclared secret
    6     │       ├── CapabilityNotSupported   the connector does not do that
    6     │       ├── ManifestError            the connector's manifest is invalid
    6     │       ├── ResponseTooLarge         (negotiate) the answer was larger than the cap
    6     │       └── UndecodableResponse      (negotiate) the answer's encoding is refused or damaged
    7     ├── NeedsAttention                   (approvals) only the person can settle it: see `butler explain`
    7     │   └── OrderNeedsAttention          (negotiate) an order exists, or may, that differs or is unconfirmed
    75    ├── TryLater                         (approvals) nothing was done: the item waits again
    8     ├── CheckoutError                    (negotiate) nothing was paid
    8     │   ├── CheckoutRefused              the vendor's checkout differs from what was approved
    8     │   ├── CheckoutFailed               the vendor failed or refused before anything was paid
    8     │   └── PurchaseDenied               your policies deny it (`butler buy`): nothing waits for you
    9     ├── MailError                        (mail)
    9     │   ├── MailSourceError              the mailbox cannot be reached or read: check the setup, try again
    9     │   │   ├── MailConnectionLost       the connection broke mid-way: nothing more done on it; run again
    9     │   │   ├── MailAuthError            the server refused the login: fix the password
    75    │   │   └── MailboxBusy              another sweep or undo of this mailbox is running: try again later
    9     │   ├── MailConfigError              the mail settings are missing or wrong: `butler mail setup`
    9     │   │   └── MailFolderGone           a folder butler used was renamed or removed: recreate or name one
    9     │   └── UnsubscribeRefused           butler will not send this unsubscribe (unsafe or not allowed)
    10    ├── TermsError                       (terms) a MyTerms exchange failed
    75    │   ├── VendorUnavailable            unreachable, timed out or 5xx: try again later
    10    │   ├── VendorAnswerInvalid          outside the protocol: nothing was agreed
    10    │   ├── NoMyTermsSupport             the vendor publishes no MyTerms document
    2     │   ├── ApprovalNotFound             no such counter-offer waits: see `butler approvals list`
    5     │   └── RecordChainBroken            signed agreement records do not verify: investigate
    11    └── RightsError                      (rights) a data-rights request or the company database failed
    11        ├── CompanyNotFound              no company by that name, slug or domain: try another spelling
    11        └── DatabaseInvalid              not a usable company database: the current one is kept

75 (EX_TEMPFAIL) is shared on purpose: whatever the family, it means "nothing went wrong that waiting will not
fix". 77 is EX_NOPERM.
"""

from __future__ import annotations

__all__ = [
    "AgentError",
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
    "VaultRolledBack",
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


class AgentError(VaultLocked):
    """The unlock agent (`butler unlock`) could not be reached or refused; the vault opens another way or not."""


class VaultBusy(VaultError):
    exit_code = 75  # EX_TEMPFAIL: try again later
    default_hint = "Another butler process (the daemon or the TUI) is writing; try again in a moment."


class VaultCorrupt(VaultError):
    default_hint = (
        "The file was damaged or altered outside butler; nothing was changed. "
        "Restore it with `butler vault import BACKUP` from a backup, or, if a power loss may have torn the last "
        "write, return to the last sound write with `butler vault recover` (it keeps a copy)."
    )


class VaultRolledBack(VaultCorrupt):
    """The files are genuine but older than this vault has been: a file, both, or a commit record was put back."""

    default_hint = ("If you put these files back on purpose (a restore), run `butler vault accept-rollback`; "
                    "otherwise bring back the newest copies (a backup, your sync service's history) before "
                    "writing anything.")


class VaultVersionError(VaultError):
    default_hint = "This vault was written by a newer butler; upgrade butler to open it."


class RecordConflict(VaultError):
    default_hint = "The record changed since it was read; read it again and retry."


class KeyringError(ButlerError):
    default_hint = "Butler can work without the keyring: it will ask for the passphrase instead."


class AuditError(ButlerError):
    exit_code = 5
    default_hint = "The audit log was altered or damaged; compare it with a backup (`butler vault export`)."
