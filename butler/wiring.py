"""Where the shells (CLI, TUI, daemon, demo) get the pieces every feature registered: one desk of every kind.

Each feature declares its approval kinds in its own module; this is the one place that gathers them. An
import that fails here fails loudly: a kind is never silently missing (and so never silently "approved").
"""

from __future__ import annotations

from butler.approvals import Desk, Kind

__all__ = ["approval_kinds", "desk"]


def approval_kinds() -> list[Kind]:
    from butler.mail.approvals import KIND as UNSUBSCRIBE
    from butler.negotiate.approvals import KIND as PURCHASE
    from butler.negotiate.renewal_approvals import REMINDER_KIND, RENEWAL_KIND
    from butler.terms.approvals import KIND as COUNTER_OFFER

    return [PURCHASE, RENEWAL_KIND, REMINDER_KIND, COUNTER_OFFER, UNSUBSCRIBE]


def desk() -> Desk:
    """The desk with every kind butler knows."""
    return Desk(approval_kinds())
