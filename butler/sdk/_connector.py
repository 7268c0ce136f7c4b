"""The base class every connector subclasses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from butler.models import Contract, Offer, Purchase
from butler.sdk._context import ConnectorContext
from butler.sdk._errors import CapabilityNotSupported, ManifestError
from butler.sdk._manifest import Capability, Manifest
from butler.sdk._types import CheckoutQuote, DataRequestReceipt, NegotiationRound, OfferQuery, Terms

__all__ = ["Connector", "implemented_capabilities"]


class Connector:
    """A vendor (or a family of vendors) as butler sees it.

    Subclasses set `manifest` and override `validate` plus one method per declared capability; the
    others raise CapabilityNotSupported. Every method may raise the SDK's errors: AuthError, RetriableError,
    OfferUnavailable, FatalError. Connectors use `self.ctx.http` (or `self.ctx.request`) and nothing else to
    reach the vendor, and `self.ctx.secrets.get(name)` for credentials.
    """

    manifest: ClassVar[Manifest]

    def __init__(self, ctx: ConnectorContext) -> None:
        if ctx.manifest is not type(self).manifest:
            raise ManifestError(f"context was built for {ctx.manifest.id!r}, not {type(self).manifest.id!r}")
        self.ctx = ctx

    @property
    def settings(self) -> BaseModel:
        return self.ctx.settings

    @property
    def vendor_id(self) -> str:
        """The vendor this connector deals with, as its offers and purchases name it (the manifest id unless a
        connector for many vendors says which one its settings point at)."""
        return self.manifest.id

    def _unsupported(self, capability: Capability) -> CapabilityNotSupported:
        return CapabilityNotSupported(f"connector {self.manifest.id!r} does not {capability.value}")

    async def validate(self) -> Sequence[str] | None:
        """Check settings and secrets against the vendor before butler saves them (cheap, read-only requests).

        Returns:
            Nothing, or lines saying what was checked (`butler connectors check` prints them).
        Raises:
            AuthError: the vendor refused the credentials.
            RetriableError: the vendor could not be reached now.
            FatalError: the settings are wrong (e.g. not this vendor's API).
        """
        raise NotImplementedError

    async def list_offers(self, query: OfferQuery) -> list[Offer]:
        """Offers matching `query`, as `butler.models.Offer` (prices exact, data use stated)."""
        raise self._unsupported(Capability.LIST_OFFERS)

    async def negotiate(self, offer_id: str, proposal: Terms | None = None, *,
                        session_id: str | None = None) -> NegotiationRound:
        """Open a negotiation on `offer_id` (no `session_id`: returns the vendor's opening offer) or answer it.

        With `proposal`, butler counter-offers in session `session_id` and gets the vendor's answer; with
        `proposal=None` and a `session_id`, butler accepts the vendor's latest terms.
        Raises OfferUnavailable when the offer is gone.
        """
        raise self._unsupported(Capability.NEGOTIATE)

    async def prepare_checkout(self, offer_id: str, *, idempotency_key: str, session_id: str | None = None,
                               quantity: int = 1) -> CheckoutQuote:
        """Prepare buying `quantity` of `offer_id` (at the terms agreed in `session_id`, if any) and read back the
        full total: lines, shipping, tax and fees. Nothing is paid or ordered yet. The same `idempotency_key` gives
        the same checkout. Raises OfferUnavailable when the offer is gone.

        `offer_id` is an id from `list_offers`, or a product id or URL the person gave (`butler buy`) for a vendor
        without a catalogue. Butler passes `quantity` only when it is more than one, so a connector that sells one
        at a time may leave the parameter out.
        """
        raise self._unsupported(Capability.CHECKOUT)

    async def pay(self, quote: CheckoutQuote, *, idempotency_key: str) -> Purchase:
        """Pay exactly `quote.total` for the checkout `quote` names and place the order.

        The vendor must refuse, rather than charge, when its checkout no longer costs `quote.total`. The same
        `idempotency_key` always yields the same purchase and never a second order. An error that leaves open
        whether the order was placed must be a RetriableError or a network failure; butler then asks
        `find_order`.
        """
        raise self._unsupported(Capability.CHECKOUT)

    async def abandon_checkout(self, quote: CheckoutQuote, *, idempotency_key: str) -> None:
        """Tell the vendor butler will not pay `quote` (it differs from what was agreed). Optional."""
        return None

    async def find_order(self, quote: CheckoutQuote) -> Purchase | None:
        """The order placed for the checkout `quote` names, or None when there is none (nothing was paid).

        Butler asks after a crash or a lost answer during `pay`. Raises CapabilityNotSupported when the vendor
        cannot say; the person is then asked to look.
        """
        raise self._unsupported(Capability.CHECKOUT)

    async def contract_status(self, contract_id: str) -> Contract:
        """The contract as the vendor holds it now."""
        raise self._unsupported(Capability.CONTRACT_STATUS)

    async def renew(self, contract_id: str, *, idempotency_key: str, term_months: int | None = None) -> Contract:
        """Renew a contract (for `term_months`, or the vendor's default); idempotent by key."""
        raise self._unsupported(Capability.RENEW)

    async def cancel(self, contract_id: str, *, idempotency_key: str) -> Contract:
        """End a contract at the earliest date the vendor allows; returns it with its `end` set."""
        raise self._unsupported(Capability.CANCEL)

    async def data_request(self, kind: Literal["access", "delete", "portability", "object"], *,
                           idempotency_key: str) -> DataRequestReceipt:
        """File a data-protection request about the person with the vendor."""
        raise self._unsupported(Capability.DATA_REQUEST)

    async def aclose(self) -> None:
        await self.ctx.aclose()

    async def __aenter__(self) -> Connector:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


METHODS: dict[Capability, tuple[str, ...]] = {c: (c.value,) for c in Capability}
METHODS[Capability.CHECKOUT] = ("prepare_checkout", "pay")


def implemented_capabilities(cls: type[Connector]) -> frozenset[Capability]:
    """The capabilities all of whose methods `cls` overrides (checkout: `prepare_checkout` and `pay`)."""
    return frozenset(c for c in Capability
                     if all(getattr(cls, name) is not getattr(Connector, name) for name in METHODS[c]))
