"""Where the shells (CLI, TUI, daemon, demo) get what every feature registered: its approval kinds and its
vault collections.

Each feature declares its approval kinds in its own module; this is the one place that gathers them. An
import that fails here fails loudly: a kind is never silently missing (and so never silently "approved").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from butler.approvals import Desk, Kind
from butler.records import Catalog

if TYPE_CHECKING:
    from butler.mail.sweep import MessageReader
    from butler.vault import Vault

__all__ = ["approval_kinds", "catalog", "desk", "mail_readers"]


def approval_kinds() -> list[Kind]:
    from butler.mail.approvals import KIND as UNSUBSCRIBE
    from butler.negotiate.approvals import KIND as PURCHASE
    from butler.negotiate.reauth import KIND as REAUTH
    from butler.negotiate.renewal_approvals import REMINDER_KIND, RENEWAL_KIND
    from butler.rights.approvals import KIND as DATA_REQUEST
    from butler.terms.approvals import KIND as COUNTER_OFFER

    return [PURCHASE, RENEWAL_KIND, REMINDER_KIND, COUNTER_OFFER, UNSUBSCRIBE, REAUTH, DATA_REQUEST]


def mail_readers(vault: Vault) -> list[MessageReader]:
    """What else reads the inbox mail the sweep fetches: data-rights discovery (counterparties, replies)."""
    from butler.rights.database import load
    from butler.rights.discover import MailReader

    return [MailReader(vault, load(vault.home), follow_up=True)]


def desk() -> Desk:
    """The desk with every kind butler knows."""
    return Desk(approval_kinds())


def catalog() -> Catalog:
    """Every vault collection, declared by its owner: what views may show of each record."""
    from butler import approvals, profile, registry
    from butler.mail import account
    from butler.negotiate import contracts, intents, mandate, purchases, session, speakers
    from butler.rights import attachments, counterparties, requests, transactions
    from butler.terms import choices, discovery, records
    from butler.vault import migrations

    return Catalog([approvals.RECORDS, registry.RECORDS, registry.SECRET_RECORDS, account.RECORDS, profile.RECORDS,
                    purchases.RECORDS, contracts.RECORDS, intents.RECORDS, mandate.RECORDS, session.RECORDS,
                    records.RECORDS, records.KEY_RECORDS, choices.RECORDS, discovery.RECORDS, migrations.RECORDS,
                    counterparties.RECORDS, transactions.RECORDS, requests.RECORDS, attachments.RECORDS,
                    speakers.RECORDS])
