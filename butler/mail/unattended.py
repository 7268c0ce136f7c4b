"""The mail sweep as the daemon runs it: the configured IMAP mailbox, no questions asked of anyone."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from butler.mail.account import load_intents, load_mail_policies, load_password, load_settings
from butler.vault import Vault

if TYPE_CHECKING:
    from butler.mail.imap import ImapSource
    from butler.mail.settings import MailSettings
    from butler.mail.sweep import MessageReader

__all__ = ["connect_imap", "open_imap", "propose_unsubscribes", "run_unattended"]


def open_imap(vault: Vault, settings: MailSettings) -> ImapSource:
    """The mailbox set up with `butler mail setup`, logged in with the password kept in the vault."""
    return connect_imap(settings, load_password(vault))


def connect_imap(settings: MailSettings, password: str) -> ImapSource:
    """`open_imap` with the password already read from the vault (by a caller that must not hold the vault
    while connecting)."""
    from butler.mail.imap import ImapSource

    return ImapSource(settings, password, force_copy_fallback=os.environ.get("BUTLER_MAIL_NO_MOVE") == "1")


def propose_unsubscribes(vault: Vault, sweep: Any, senders: list[str]) -> list[dict[str, Any]]:
    """Queue an unsubscribe request for each sender the person never reads; returns the items queued."""
    from butler.mail.unsubscribe import propose

    queued = []
    for sender in senders:
        info = sweep.state.senders.get(sender, {})
        headers = {"list-unsubscribe": info.get("list_unsubscribe", ""),
                   "list-unsubscribe-post": "List-Unsubscribe=One-Click" if info.get("one_click") else ""}
        item = propose(vault, sender, headers, policies=sweep.policies,
                       standing_rule=sweep.settings.unsubscribe_without_asking,
                       allow_loopback=sweep.settings.allow_loopback_unsubscribe,
                       why=f"you read {info.get('read', 0)} of the {info.get('moved', 0)} messages of its that "
                           "butler moved",
                       by_mail=sweep.settings.smtp_configured)
        if item:
            queued.append(item)
    return queued


def run_unattended(vault: Vault, readers: Sequence[MessageReader] = ()) -> str:
    """Sweep the mailbox set up with `butler mail setup`; returns a one-line summary for the daemon's state."""
    from butler.config import load_config
    from butler.mail.sweep import MailSweep

    settings = load_settings(vault)
    if not settings.host or not settings.username:
        return "skipped: no mailbox set up (butler mail setup)"
    from butler.mail.errors import MailboxBusy

    policies = load_mail_policies()
    source = open_imap(vault, settings)
    try:
        sweep = MailSweep(source, settings, policies=policies, intents=load_intents(vault),
                          engagement=load_config().mail, readers=readers)
        report = sweep.run()
    except MailboxBusy:
        return "skipped: another sweep or undo of this mailbox is running"
    finally:
        source.close()
    moved = sum(report.moved.values())
    vault.audit.append("mail.sweep", source.account, {"examined": report.examined, "moved": moved,
                                                      "sweep": report.sweep_id})
    propose_unsubscribes(vault, sweep, report.unsubscribe_candidates)  # each waits for the person
    return report.summary().splitlines()[0]
