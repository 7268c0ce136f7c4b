"""Butler connector for merchants speaking the Universal Commerce Protocol (UCP), version 2026-01-11.

Discovery reads the merchant's profile at `/.well-known/ucp`, refuses a merchant that does not speak 2026-01-11
and keeps only the capabilities both sides support (extensions whose parent is gone are pruned, as the spec's
intersection algorithm says). The SDK capabilities map onto the checkout REST binding:

    list_offers       the merchant's items (vendor capability `com.example.catalog`; UCP itself has no catalogue)
    prepare_checkout  create a checkout session (buyer, consent, fulfillment from the settings) and quote it
    pay               complete it, refusing when it no longer costs the quoted total
    find_order        the order of a completed session (after a lost answer or a crash)
    contract_status   the checkout session as the merchant holds it (`contract_id` is the checkout id)
    cancel            cancel a checkout session that is not completed

`start_checkout`, `update_checkout`, `get_checkout`, `complete_checkout` and `order_status` expose the rest:
discount codes, buyer, fulfillment and the order. Every mutating call carries an `Idempotency-Key`. The data
(settings, buyer, sessions, orders) is in `butler_ucp.models`; paying is in `butler_ucp.payment`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from butler.sdk import (
    Capability,
    CheckoutLine,
    CheckoutQuote,
    Connector,
    Contract,
    FatalError,
    Manifest,
    Money,
    Offer,
    OfferQuery,
    OfferUnavailable,
    Purchase,
    SecretSpec,
)
from butler_ucp.models import (
    Buyer,
    CheckoutSession,
    OrderStatus,
    PostalAddress,
    Shipping,
    UcpSettings,
    consent_for,
    money,
)
from butler_ucp.payment import handler_for, payment_data

__all__ = [
    "SUPPORTED_CAPABILITIES",
    "UCP_VERSION",
    "Buyer",
    "CheckoutSession",
    "OrderStatus",
    "PostalAddress",
    "Shipping",
    "UcpConnector",
    "UcpSettings",
    "consent_for",
]

UCP_VERSION = "2026-01-11"
CHECKOUT = "dev.ucp.shopping.checkout"
FULFILLMENT = "dev.ucp.shopping.fulfillment"
DISCOUNT = "dev.ucp.shopping.discount"
BUYER_CONSENT = "dev.ucp.shopping.buyer_consent"
ORDER = "dev.ucp.shopping.order"
CATALOG = "com.example.catalog"
SUPPORTED_CAPABILITIES: frozenset[str] = frozenset({CHECKOUT, FULFILLMENT, DISCOUNT, BUYER_CONSENT, ORDER, CATALOG})


class _Negotiated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    endpoint: str
    capabilities: frozenset[str]


def _totals(wire: dict[str, Any]) -> dict[Any, int]:
    """A session's or order's totals by type (subtotal, discount, fulfillment, total), in minor units."""
    return {t.get("type"): int(t.get("amount", 0)) for t in wire.get("totals", []) if isinstance(t, dict)}


class UcpConnector(Connector):
    manifest = Manifest.build(
        id="ucp",
        name="UCP merchant",
        version="0.1.0",
        description="Any merchant speaking the Universal Commerce Protocol 2026-01-11 (checkout, orders).",
        categories=("shop",),
        capabilities=frozenset({Capability.LIST_OFFERS, Capability.CHECKOUT, Capability.CONTRACT_STATUS,
                                Capability.CANCEL}),
        allowed_hosts=("127.0.0.1",),
        secrets=(SecretSpec(name="api_key", description="the merchant's API key for agents"),
                 SecretSpec(name="card_number", description="to pay by card: the card number (only the "
                            "merchant's tokenizer sees it)"),
                 SecretSpec(name="card_expiry", description="to pay by card: its expiry, MM/YYYY"),
                 SecretSpec(name="card_cvc", description="to pay by card: its security code"),
                 SecretSpec(name="card_name", description="to pay by card: the name on it")),
        settings=UcpSettings,
    )

    _negotiated: _Negotiated | None = None

    @property
    def ucp_settings(self) -> UcpSettings:
        assert isinstance(self.settings, UcpSettings)
        return self.settings

    @property
    def vendor_id(self) -> str:
        return f"ucp:{self.ucp_settings.base_url.split('://', 1)[-1].rstrip('/')}"

    # -- discovery and negotiation ----------------------------------------------------------------------
    async def discover(self) -> _Negotiated:
        """Read the merchant's profile once; check the version and intersect capabilities."""
        if self._negotiated is not None:
            return self._negotiated
        profile = await self.ctx.json("GET", "/.well-known/ucp", headers=self._headers())
        ucp = profile.get("ucp") if isinstance(profile, dict) else None
        if not isinstance(ucp, dict):
            raise FatalError("the merchant's /.well-known/ucp is not a UCP profile")
        service = (ucp.get("services") or {}).get("dev.ucp.shopping") or {}
        versions = {v for v in (ucp.get("version"), service.get("version")) if isinstance(v, str)}
        if UCP_VERSION not in versions:
            raise FatalError(f"the merchant speaks UCP {', '.join(sorted(versions)) or 'of no stated version'}, "
                             f"not {UCP_VERSION}",
                             "This connector implements UCP 2026-01-11 only; ask the merchant or update butler.")
        endpoint = (service.get("rest") or {}).get("endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise FatalError("the merchant's UCP profile has no REST endpoint for dev.ucp.shopping")
        offered = {c["name"]: c.get("extends") for c in ucp.get("capabilities", [])
                   if isinstance(c, dict) and isinstance(c.get("name"), str)}
        both = {name: parent for name, parent in offered.items() if name in SUPPORTED_CAPABILITIES}
        pruned = True
        while pruned:  # an extension whose parent is not shared goes too (transitively)
            orphans = {name for name, parent in both.items() if parent is not None and parent not in both}
            pruned = bool(orphans)
            for name in orphans:
                del both[name]
        if CHECKOUT not in both:
            raise FatalError("the merchant does not offer UCP checkout (dev.ucp.shopping.checkout)")
        self._negotiated = _Negotiated(version=UCP_VERSION, endpoint=endpoint.rstrip("/"),
                                       capabilities=frozenset(both))
        self.ctx.log.info("UCP %s with %s", UCP_VERSION, ", ".join(sorted(both)))
        return self._negotiated

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.secrets.get('api_key')}",
                "UCP-Agent": f'profile="{self.ucp_settings.agent_profile}"'}

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        negotiated = await self.discover()
        answer = await self.ctx.json(method, f"{negotiated.endpoint}{path}", headers=self._headers(), **kwargs)
        if not isinstance(answer, dict):
            raise FatalError(f"{method} {path}: the merchant's answer is not a JSON object")
        return answer

    async def validate(self) -> None:
        negotiated = await self.discover()
        if CATALOG in negotiated.capabilities:  # the one cheap authenticated request UCP makes possible
            await self._call("GET", "/items")

    # -- offers -----------------------------------------------------------------------------------------
    async def list_offers(self, query: OfferQuery) -> list[Offer]:
        negotiated = await self.discover()
        if CATALOG not in negotiated.capabilities:
            raise FatalError("the merchant publishes no catalogue (com.example.catalog); UCP has none of its own")
        answer = await self._call("GET", "/items")
        currency = str(answer.get("currency", "EUR"))
        offers = [Offer(id=item["id"], vendor_id=self.vendor_id, product=item["title"], category="shop",
                        price=money(int(item["price"]), currency), period="once",
                        attributes={"ucp_item": item})
                  for item in answer.get("items", [])]
        if query.keywords:
            words = [w.lower() for w in query.keywords]
            offers = [o for o in offers if any(w in o.product.lower() for w in words)]
        return query.within_max_price(offers)

    # -- checkout sessions ------------------------------------------------------------------------------
    def _body(self, negotiated: _Negotiated, items: Sequence[tuple[str, int]], *, buyer: Buyer | None,
              discount_codes: Sequence[str] | None, shipping: Shipping | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "line_items": [{"id": f"li_{n + 1}", "item": {"id": item_id}, "quantity": quantity}
                           for n, (item_id, quantity) in enumerate(items)],
            "currency": self.ucp_settings.currency, "payment": {},
        }
        if buyer is not None:
            wire: dict[str, Any] = buyer.model_dump(exclude_none=True)
            if BUYER_CONSENT in negotiated.capabilities:
                wire["consent"] = consent_for(self.ucp_settings.myterms_agreement)
            body["buyer"] = wire
        if discount_codes is not None and DISCOUNT in negotiated.capabilities:
            body["discounts"] = {"codes": list(discount_codes)}
        if shipping is not None and FULFILLMENT in negotiated.capabilities:
            method: dict[str, Any] = {"type": "shipping",
                                      "destinations": [shipping.address.model_dump(exclude_none=True)]}
            if shipping.option_id is not None:
                method["groups"] = [{"selected_option_id": shipping.option_id}]
            body["fulfillment"] = {"methods": [method]}
        return body

    @staticmethod
    def _session(wire: dict[str, Any]) -> CheckoutSession:
        currency = str(wire["currency"])
        totals = _totals(wire)
        discounts = wire.get("discounts") or {}
        return CheckoutSession(
            id=wire["id"], status=wire["status"], currency=currency,
            items=tuple((line["item"]["id"], int(line["quantity"])) for line in wire.get("line_items", [])),
            subtotal=money(totals.get("subtotal", 0), currency), discount=money(totals.get("discount", 0), currency),
            fulfillment=money(totals.get("fulfillment", 0), currency),
            total=money(totals.get("total", 0), currency),
            discount_codes=tuple(discounts.get("codes", ())),
            applied_discounts=tuple(str(a.get("code") or a.get("title")) for a in discounts.get("applied", ())),
            messages=tuple(m for m in wire.get("messages", ()) if isinstance(m, dict)),
            order_id=(wire.get("order") or {}).get("id"), raw=wire)

    async def start_checkout(self, items: Sequence[tuple[str, int]] | Mapping[str, int], *, idempotency_key: str,
                             buyer: Buyer | None = None, discount_codes: Sequence[str] | None = None,
                             shipping: Shipping | None = None) -> CheckoutSession:
        """Create a checkout session for `items` ((item id, quantity) pairs); buyer and shipping default to the
        settings. Raises OfferUnavailable when the merchant refuses the items."""
        negotiated = await self.discover()
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        body = self._body(negotiated, pairs, buyer=buyer or self.ucp_settings.buyer, discount_codes=discount_codes,
                          shipping=shipping or self.ucp_settings.shipping)
        try:
            wire = await self._call("POST", "/checkout-sessions", json=body, idempotency_key=idempotency_key)
        except FatalError as exc:
            if exc.status == 400:
                raise OfferUnavailable(f"the merchant refused items {[i for i, _ in pairs]}") from None
            raise
        return self._session(wire)

    async def get_checkout(self, session_id: str) -> CheckoutSession:
        return self._session(await self._call("GET", f"/checkout-sessions/{session_id}"))

    async def update_checkout(self, session_id: str, *, idempotency_key: str, buyer: Buyer | None = None,
                              discount_codes: Sequence[str] | None = None,
                              shipping: Shipping | None = None) -> CheckoutSession:
        """Change buyer, discount codes (replacing the previous ones; `[]` clears them) or shipping.

        UCP updates replace the whole session, so the current state is read first and what is not given is
        kept (buyer, codes and shipping as the merchant holds them).
        """
        negotiated = await self.discover()
        current = await self.get_checkout(session_id)
        raw = current.raw
        if buyer is None and isinstance(raw.get("buyer"), dict):
            buyer = Buyer.model_validate({k: v for k, v in raw["buyer"].items() if k in Buyer.model_fields})
        if discount_codes is None and current.discount_codes:
            discount_codes = current.discount_codes
        if shipping is None:
            shipping = self._current_shipping(raw)
        body = {"id": session_id, **self._body(negotiated, current.items, buyer=buyer,
                                               discount_codes=discount_codes, shipping=shipping)}
        wire = await self._call("PUT", f"/checkout-sessions/{session_id}", json=body,
                                idempotency_key=idempotency_key)
        return self._session(wire)

    @staticmethod
    def _current_shipping(raw: dict[str, Any]) -> Shipping | None:
        for method in (raw.get("fulfillment") or {}).get("methods", []):
            destinations = method.get("destinations") or []
            if method.get("type") == "shipping" and destinations:
                address = {k: v for k, v in destinations[0].items() if k in PostalAddress.model_fields}
                option = next((g.get("selected_option_id") for g in method.get("groups", [])
                               if g.get("selected_option_id")), None)
                return Shipping(address=PostalAddress.model_validate(address), option_id=option)
        return None

    async def complete_checkout(self, session_id: str, *, idempotency_key: str,
                                expected_total: Money | None = None) -> Purchase:
        """Pay with the settings' payment handler and place the order (see `butler_ucp.payment`); the same key
        gives the same purchase and never a second order. With `expected_total`, a session that now costs
        anything else is refused before paying (FatalError, status 409)."""
        current = await self.get_checkout(session_id)
        if expected_total is not None and current.total != expected_total and current.status != "completed":
            raise FatalError(f"checkout {session_id} now costs {current.total}, not the {expected_total} approved",
                             "Nothing was paid.", status=409)
        handler = handler_for(current.raw, self.ucp_settings.payment_handler)
        body = {"payment_data": await payment_data(self.ctx, session_id, handler, base_url=self.ucp_settings.base_url,
                                                   idempotency_key=idempotency_key)}
        wire = await self._call("POST", f"/checkout-sessions/{session_id}/complete", json=body,
                                idempotency_key=idempotency_key)
        session = self._session(wire)
        if session.status != "completed" or session.order_id is None:
            continue_url = wire.get("continue_url")
            if session.status == "requires_escalation" and isinstance(continue_url, str) and \
                    continue_url.startswith("https://"):
                # a bank's check (3-D Secure) or anything else only the person can do: butler never opens it
                raise FatalError(f"checkout {session_id} needs you: the merchant asks you to continue at "
                                 f"{continue_url[:500]}", "Finish there yourself; nothing was bought.")
            raise FatalError(f"checkout {session_id} was not completed (status {session.status})")
        return self._purchase(session, wire["order"])

    def _purchase(self, session: CheckoutSession, order: dict[str, Any]) -> Purchase:
        at = order.get("created_at")
        return Purchase(id=str(session.order_id), vendor_id=self.vendor_id,
                        offer_id=session.items[0][0] if session.items else None,
                        items=tuple(item for item, _ in session.items), total=session.total,
                        at=dt.datetime.fromisoformat(at) if isinstance(at, str) else dt.datetime.now(dt.UTC),
                        receipt={"checkout_id": session.id, "permalink_url": order.get("permalink_url"),
                                 "discounts": list(session.applied_discounts),
                                 "subtotal": str(session.subtotal), "discount": str(session.discount),
                                 "fulfillment": str(session.fulfillment)})

    # -- the SDK's checkout in phases -------------------------------------------------------------------
    async def prepare_checkout(self, offer_id: str, *, idempotency_key: str,
                               session_id: str | None = None) -> CheckoutQuote:
        """Create a checkout session for one of `offer_id` (buyer and shipping from the settings), or read the
        prepared session `session_id`, and quote its totals."""
        if session_id is None:
            session = await self.start_checkout([(offer_id, 1)], idempotency_key=idempotency_key)
        else:
            session = await self.get_checkout(session_id)
        if session.status not in ("ready_for_complete", "completed"):
            missing = ", ".join(str(m.get("path") or m.get("code")) for m in session.messages
                                if m.get("type") == "error") or session.status
            raise FatalError(f"the checkout for {offer_id!r} is not ready: {missing}",
                             "Set the buyer (and shipping, when the merchant ships) in the settings.")
        return self._quote(session, offer_id)

    @staticmethod
    def _quote(session: CheckoutSession, offer_id: str) -> CheckoutQuote:
        totals = _totals(session.raw)
        lines = []
        for line in session.raw.get("line_items", []):
            amounts = _totals(line) if isinstance(line, dict) else {}
            amount = amounts.get("subtotal", amounts.get("total", 0))
            lines.append(CheckoutLine(item=str(line["item"]["id"]), quantity=int(line.get("quantity", 1)),
                                      description=str(line["item"].get("title") or ""),
                                      amount=money(amount, session.currency)))
        try:
            return CheckoutQuote(checkout_id=session.id, offer_id=offer_id, lines=tuple(lines),
                                 shipping=session.fulfillment, tax=money(totals.get("tax", 0), session.currency),
                                 fees=money(totals.get("fee", 0), session.currency), discount=session.discount,
                                 total=session.total)
        except ValidationError as exc:
            raise FatalError(f"the merchant's checkout {session.id} cannot be read as a total: "
                             f"{exc.errors()[0].get('msg')}") from None

    async def pay(self, quote: CheckoutQuote, *, idempotency_key: str) -> Purchase:
        return await self.complete_checkout(quote.checkout_id, idempotency_key=idempotency_key,
                                            expected_total=quote.total)

    async def abandon_checkout(self, quote: CheckoutQuote, *, idempotency_key: str) -> None:
        await self.cancel(quote.checkout_id, idempotency_key=idempotency_key)

    async def find_order(self, quote: CheckoutQuote) -> Purchase | None:
        session = await self.get_checkout(quote.checkout_id)
        if session.status != "completed" or session.order_id is None:
            return None
        order = session.raw.get("order")
        return self._purchase(session, order if isinstance(order, dict) else {})

    async def checkout(self, offer_id: str, *, idempotency_key: str, session_id: str | None = None) -> Purchase:
        """Prepare and pay in one go, without checking the total against anything else (for scripts)."""
        quote = await self.prepare_checkout(offer_id, idempotency_key=f"{idempotency_key}:create",
                                            session_id=session_id)
        return await self.pay(quote, idempotency_key=f"{idempotency_key}:complete")

    # -- after the order --------------------------------------------------------------------------------
    def _contract(self, session: CheckoutSession) -> Contract:
        created = session.raw.get("created_at")
        start = dt.date.fromisoformat(created[:10]) if isinstance(created, str) else dt.date.today()
        titles = [str(line.get("item", {}).get("title") or line["item"]["id"])
                  for line in session.raw.get("line_items", [])]
        end = dt.date.today() if session.status == "canceled" else None
        return Contract(id=session.id, vendor_id=self.vendor_id, product=", ".join(titles) or session.id,
                        category="shop", price=session.total, period="once", term_months=0, start=start,
                        end=max(end, start) if end else None, myterms=self.ucp_settings.myterms_agreement)

    async def contract_status(self, contract_id: str) -> Contract:
        return self._contract(await self.get_checkout(contract_id))

    async def cancel(self, contract_id: str, *, idempotency_key: str) -> Contract:
        """Cancel the checkout session `contract_id` (a completed one cannot be: FatalError)."""
        wire = await self._call("POST", f"/checkout-sessions/{contract_id}/cancel", json={},
                                idempotency_key=idempotency_key)
        return self._contract(self._session(wire))

    async def order_status(self, order_id: str) -> OrderStatus:
        """The order as the merchant holds it (needs dev.ucp.shopping.order)."""
        negotiated = await self.discover()
        if ORDER not in negotiated.capabilities:
            raise FatalError("the merchant does not share orders (dev.ucp.shopping.order)")
        wire = await self._call("GET", f"/orders/{order_id}")
        lines = tuple(line for line in wire.get("line_items", []) if isinstance(line, dict))
        kinds = {str(a.get("type")) for a in wire.get("adjustments", []) if isinstance(a, dict)}
        states = {str(line.get("status")) for line in lines}
        status = ("canceled" if "cancellation" in kinds else
                  "fulfilled" if states == {"fulfilled"} else "processing")
        totals = _totals(wire)
        currency = self.ucp_settings.currency
        total = money(totals["total"], currency) if "total" in totals else None
        return OrderStatus(id=wire["id"], checkout_id=wire["checkout_id"], permalink_url=wire["permalink_url"],
                           status=status, total=total, line_items=lines)
