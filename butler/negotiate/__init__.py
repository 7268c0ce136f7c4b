"""Negotiation: intents cast to every enabled vendor, deals within the person's limits, nothing bought unasked.

    strategy.for_customer                 -- the pure customer strategy (never below the walk-away point)
    session.negotiate_offer / negotiate_all  -- one vendor / many at once, every exchange recorded
    fanout.negotiate_intent               -- collect, filter by policy, negotiate, rank, queue (or buy in mandate)
    checkout.buy                          -- prepare, verify against the approved total, pay once, record
    approvals / renewal_approvals         -- the desk's kinds purchase, renewal and renewal-reminder
    renewal.sweep / sweep_renewals        -- contracts renewing soon: renew, switch or cancel, with savings
    mandate                               -- the limits within which butler may buy without asking
    intents                               -- what the person seeks
"""

from butler.negotiate.checkout import CheckoutRefused, Deal, buy
from butler.negotiate.fanout import IntentOutcome, negotiate_intent
from butler.negotiate.mandate import Mandate
from butler.negotiate.renewal import RenewalProposal, sweep, sweep_renewals
from butler.negotiate.session import NegotiationResult, negotiate_all, negotiate_offer

__all__ = ["CheckoutRefused", "Deal", "IntentOutcome", "Mandate", "NegotiationResult", "RenewalProposal", "buy",
           "negotiate_all", "negotiate_intent", "negotiate_offer", "sweep", "sweep_renewals"]
