"""Promotional mail: a pure classifier, sweeps over IMAP or a Maildir, a journal with undo, and unsubscribes.

    classify(raw, memory)              -- pure: bytes (+ learned memory) → Classification with reasons
    MailSweep(source, settings).run()  -- move what the person does not want; learn from their corrections
    restore(source, UndoFilter())      -- put journaled moves back; an UndoReport names what it could not find
    ImapSource / MaildirSource         -- where the mail is
"""

from butler.mail.classify import Category, Classification, classify
from butler.mail.errors import (
    MailAuthError,
    MailboxBusy,
    MailConfigError,
    MailConnectionLost,
    MailError,
    MailFolderGone,
    MailSourceError,
    UnsubscribeRefused,
)
from butler.mail.imap import ImapSource
from butler.mail.learn import Memory
from butler.mail.maildir import MaildirSource
from butler.mail.settings import MailSettings
from butler.mail.sweep import MailSweep, SweepReport
from butler.mail.undo import UndoFilter, UndoReport, restore, undo_moves

__all__ = [
    "Category",
    "Classification",
    "ImapSource",
    "MailAuthError",
    "MailConfigError",
    "MailConnectionLost",
    "MailError",
    "MailFolderGone",
    "MailSettings",
    "MailSourceError",
    "MailSweep",
    "MailboxBusy",
    "MaildirSource",
    "Memory",
    "SweepReport",
    "UndoFilter",
    "UndoReport",
    "UnsubscribeRefused",
    "classify",
    "restore",
    "undo_moves",
]
