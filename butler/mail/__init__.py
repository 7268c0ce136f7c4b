"""Promotional mail: a pure classifier, sweeps over IMAP or a Maildir, a journal with undo, and unsubscribes.

    classify(raw, memory)              -- pure: bytes (+ learned memory) → Classification with reasons
    MailSweep(source, settings).run()  -- move what the person does not want; learn from their corrections
    undo_moves(source, UndoFilter())   -- put journaled moves back
    ImapSource / MaildirSource         -- where the mail is
"""

from butler.mail.classify import Category, Classification, classify
from butler.mail.errors import MailAuthError, MailConfigError, MailError, MailSourceError, UnsubscribeRefused
from butler.mail.imap import ImapSource
from butler.mail.learn import Memory
from butler.mail.maildir import MaildirSource
from butler.mail.settings import MailSettings
from butler.mail.sweep import MailSweep, SweepReport
from butler.mail.undo import UndoFilter, undo_moves

__all__ = [
    "Category",
    "Classification",
    "ImapSource",
    "MailAuthError",
    "MailConfigError",
    "MailError",
    "MailSettings",
    "MailSourceError",
    "MailSweep",
    "MaildirSource",
    "Memory",
    "SweepReport",
    "UndoFilter",
    "UnsubscribeRefused",
    "classify",
    "undo_moves",
]
