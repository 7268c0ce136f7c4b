"""The desk's kind "myterms-counter-offer": a vendor's alternative to the terms the person proffered.

Approving proffers the alternative to the vendor (who should accept it); rejecting keeps a signed refusal and
contacts nobody. `approve` and `reject` are what `butler terms approve|reject` run: the same desk, the same
moves and audit entries as `butler approvals approve|reject`.
"""

from __future__ import annotations

import httpx

from butler.approvals import Desk, Kind, Outcome, State, TryLater
from butler.terms.errors import TermsError, VendorUnavailable
from butler.terms.handshake import Outcome as TermsOutcome
from butler.terms.handshake import accept_alternative, refuse_alternative
from butler.terms.pending import PENDING_KIND, CounterOfferItem, get_item
from butler.vault import Vault

__all__ = ["KIND", "CounterOffers", "approve", "reject"]


class CounterOffers:
    """Carries out the answer on a counter-offer; remembers the last handshake outcome for its caller."""

    def __init__(self, *, client: httpx.AsyncClient | None = None, reason: str = "declined by the person") -> None:
        self.client = client
        self.reason = reason
        self.last: TermsOutcome | None = None

    async def execute(self, vault: Vault, item: CounterOfferItem) -> Outcome:
        try:
            self.last = await accept_alternative(vault, item, client=self.client)
        except VendorUnavailable as exc:
            raise TryLater(exc.message) from None
        return Outcome(State.DONE, self.last.describe())

    def reject(self, vault: Vault, item: CounterOfferItem) -> str:
        self.last = refuse_alternative(vault, item, self.reason)
        return self.last.describe()

    def reconcile(self, vault: Vault, item: CounterOfferItem) -> Outcome:
        return Outcome(State.NEEDS_ATTENTION, f"interrupted while telling {item.vendor}; proffer {item.term_id} "
                                              "again with `butler terms proffer` to be sure")


KIND = Kind(PENDING_KIND, CounterOfferItem, CounterOffers())


async def approve(vault: Vault, approval_id: str, *, client: httpx.AsyncClient | None = None) -> TermsOutcome:
    """The person accepts a waiting alternative: butler proffers it to the vendor, who should accept it."""
    get_item(vault, approval_id)  # ApprovalNotFound unless it waits
    handler = CounterOffers(client=client)
    try:
        await Desk([Kind(PENDING_KIND, CounterOfferItem, handler)]).adecide(vault, approval_id, approve=True)
    except TryLater as exc:
        raise VendorUnavailable(exc.message) from None
    if handler.last is None:
        raise TermsError(f"counter-offer {approval_id} was not carried out")
    return handler.last


def reject(vault: Vault, approval_id: str, reason: str = "declined by the person") -> TermsOutcome:
    """The person refuses a waiting alternative; kept as a signed refusal. The vendor is not contacted."""
    get_item(vault, approval_id)
    handler = CounterOffers(reason=reason)
    Desk([Kind(PENDING_KIND, CounterOfferItem, handler)]).decide(vault, approval_id, approve=False)
    if handler.last is None:
        raise TermsError(f"counter-offer {approval_id} was not refused")
    return handler.last
