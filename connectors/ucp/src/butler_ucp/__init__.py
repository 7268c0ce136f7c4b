"""Butler connector for merchants speaking the Universal Commerce Protocol (UCP), version 2026-01-11.

Discovery reads the merchant's profile at `/.well-known/ucp`, refuses a merchant that does not speak 2026-01-11,
keeps only the capabilities both sides support (extensions whose parent is gone are pruned, as the spec's
intersection algorithm says) and the payment handlers it lists. The SDK capabilities map onto the REST binding:

    validate          discovery, then a read-only probe of the checkout endpoint with every required header
    list_offers       the merchant's items where it has a catalogue (`com.example.catalog`); UCP itself has none,
                      so most merchants list nothing and the person names the product (`butler buy`)
    prepare_checkout  create a checkout session (buyer, consent, delivery address from the person's profile),
                      choose the cheapest fulfilment option, and quote its totals
    pay               complete it with a 2026-01-11 card instrument, refusing when it no longer costs the quote
    find_order        the order of a completed session (after a lost answer or a crash)
    contract_status   the checkout session as the merchant holds it (`contract_id` is the checkout id)
    cancel            cancel a checkout session that is not completed

`start_checkout`, `update_checkout`, `get_checkout`, `complete_checkout` and `order_status` expose the rest:
discount codes, buyer, fulfilment and the order. Headers are in `butler_ucp.wire`, the data in
`butler_ucp.models`, paying in `butler_ucp.payment`. Every answer is read with nulls left out (`present`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from butler.sdk import (
    AuthError,
    Capability,
    CheckoutLine,
    CheckoutQuote,
    Connector,
    ConnectorError,
    Contract,
    FatalError,
    Manifest,
    MissingSecret,
    Money,
    Offer,
    OfferQuery,
    OfferUnavailable,
    PostalAddress,
    Purchase,
    SecretSpec,
)
from butler_ucp.models import (
    Buyer,
    CheckoutSession,
    OrderStatus,
    Shipping,
    UcpSettings,
    consent_for,
    money,
    obj,
    objs,
    present,
)
from butler_ucp.payment import CARD_SECRETS, choose_handler, handlers_offered, payment_data
from butler_ucp.wire import UNSIGNED, agent_header, request_id, wire_key

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
VERSION_UNSUPPORTED = "VERSION_UNSUPPORTED"
API_KEY = "api_key"  # the name of the optional secret, not a value
_CLOSED = ("completed", "canceled")


class _Negotiated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    endpoint: str
    capabilities: frozenset[str]
    handlers: tuple[dict[str, Any], ...] = ()


def _totals(wire: Mapping[str, Any]) -> dict[str, int]:
    """A session's, line's, option's or order's totals by type (subtotal, discount, fulfillment, total…)."""
    found: dict[str, int] = {}
    for total in objs(wire, "totals"):
        kind, amount = total.get("type"), total.get("amount")
        if isinstance(kind, str) and isinstance(amount, int) and not isinstance(amount, bool):
            found[kind] = found.get(kind, 0) + amount
    return found


def _option_cost(option: Mapping[str, Any]) -> int:
    totals = _totals(option)
    return totals.get("total", totals.get("subtotal", 0))


class UcpConnector(Connector):
    manifest = Manifest.build(
        id="ucp",
        name="UCP merchant",
        version="0.2.0",
        description="Any merchant speaking the Universal Commerce Protocol 2026-01-11 (checkout, orders).",
        categories=("shop",),
        capabilities=frozenset({Capability.LIST_OFFERS, Capability.CHECKOUT, Capability.CONTRACT_STATUS,
                                Capability.CANCEL}),
        hosts_from_settings=("base_url",),
        secrets=(SecretSpec(name="api_key", optional=True,
                            description="the merchant's API key for agents, if it asks for one"),
                 SecretSpec(name="card_number", optional=True,
                            description="to pay by card: the card number (only the merchant's tokenizer sees it)"),
                 SecretSpec(name="card_expiry", optional=True, description="to pay by card: its expiry, MM/YYYY"),
                 SecretSpec(name="card_cvc", optional=True, description="to pay by card: its security code"),
                 SecretSpec(name="card_name", optional=True, description="to pay by card: the name on it")),
        person_fields=frozenset({"name", "email", "address", "currency"}),
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

    # -- who buys, where to, in what --------------------------------------------------------------------
    def currency(self) -> str:
        """The currency to check out in: the setting, else the person's own."""
        currency = self.ucp_settings.currency or self.ctx.person.currency
        if currency is None:
            raise FatalError("butler does not know which currency to buy in from this merchant",
                             "Set it: `butler connectors enable ucp --set currency=USD` (UCP does not say).")
        return currency

    def buyer(self) -> Buyer | None:
        """The buyer sent: the setting, else the person's name and e-mail from their profile."""
        if self.ucp_settings.buyer is not None:
            return self.ucp_settings.buyer
        person = self.ctx.person
        if person.email is None and person.name is None:
            return None
        return Buyer(email=person.email, full_name=person.name)

    def shipping(self) -> Shipping | None:
        """Where to ship: the setting, else the address in the person's profile."""
        if self.ucp_settings.shipping is not None:
            return self.ucp_settings.shipping
        if self.ctx.person.address is None:
            return None
        return Shipping(address=self.ctx.person.address, option_id=self.ucp_settings.shipping_option)

    def _preferred(self, shipping: Shipping | None) -> str | None:
        """The fulfilment option to choose when offered: the shipping's own, else the setting's."""
        return (shipping.option_id if shipping else None) or self.ucp_settings.shipping_option

    # -- discovery and the wire -------------------------------------------------------------------------
    async def discover(self) -> _Negotiated:
        """Read the merchant's profile once; check the version, intersect capabilities, keep its handlers."""
        if self._negotiated is not None:
            return self._negotiated
        profile = present(await self.ctx.json("GET", "/.well-known/ucp", headers=self._headers()))
        ucp = profile.get("ucp") if isinstance(profile, dict) else None
        if not isinstance(ucp, dict):
            raise FatalError("the merchant's /.well-known/ucp is not a UCP profile")
        service = obj(ucp, "services", "dev.ucp.shopping")
        versions = {v for v in (ucp.get("version"), service.get("version")) if isinstance(v, str)}
        if UCP_VERSION not in versions:
            raise FatalError(f"the merchant speaks UCP {', '.join(sorted(versions)) or 'of no stated version'}, "
                             f"not {UCP_VERSION}",
                             "This connector implements UCP 2026-01-11 only; ask the merchant or update butler.")
        endpoint = obj(service, "rest").get("endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise FatalError("the merchant's UCP profile has no REST endpoint for dev.ucp.shopping")
        offered = {c["name"]: c.get("extends") for c in objs(ucp, "capabilities") if isinstance(c.get("name"), str)}
        both = {name: parent for name, parent in offered.items() if name in SUPPORTED_CAPABILITIES}
        pruned = True
        while pruned:  # an extension whose parent is not shared goes too (transitively)
            orphans = {name for name, parent in both.items() if parent is not None and parent not in both}
            pruned = bool(orphans)
            for name in orphans:
                del both[name]
        if CHECKOUT not in both:
            raise FatalError("the merchant does not offer UCP checkout (dev.ucp.shopping.checkout)")
        handlers = tuple(h for h in objs(profile, "payment", "handlers") if isinstance(h.get("id"), str))
        self._negotiated = _Negotiated(version=UCP_VERSION, endpoint=endpoint.rstrip("/"),
                                       capabilities=frozenset(both), handlers=handlers)
        self.ctx.log.info("UCP %s with %s", UCP_VERSION, ", ".join(sorted(both)))
        return self._negotiated

    def _headers(self) -> dict[str, str]:
        headers = {"UCP-Agent": agent_header(self.ucp_settings.agent_profile), "Request-Id": request_id(),
                   "Request-Signature": UNSIGNED, "Accept": "application/json"}
        if API_KEY in self.ctx.secrets:  # UCP's authentication is optional: sent only when the merchant gave one
            headers["Authorization"] = f"Bearer {self.ctx.secrets.get(API_KEY)}"
        return headers

    async def _call(self, method: str, path: str, *, json: Any = None, key: str | None = None,
                    offer_id: str | None = None) -> dict[str, Any]:
        negotiated = await self.discover()
        try:
            answer = await self.ctx.json(method, f"{negotiated.endpoint}{path}", headers=self._headers(),
                                         json=json, idempotency_key=wire_key(key) if key is not None else None,
                                         offer_id=offer_id)
        except AuthError as exc:
            if API_KEY not in self.ctx.secrets and not isinstance(exc, MissingSecret):
                raise MissingSecret(f"the merchant asks for an API key: {exc.message}", secret=API_KEY) from None
            raise
        except ConnectorError as exc:
            if exc.code == VERSION_UNSUPPORTED:
                raise FatalError(f"the merchant refuses butler's UCP version {UCP_VERSION}: {exc.message}",
                                 "Nothing was bought; the merchant and butler speak different UCP versions.",
                                 status=exc.status, code=exc.code) from None
            raise
        if not isinstance(answer, dict):
            raise FatalError(f"{method} {path}: the merchant's answer is not a JSON object")
        return present(answer)

    async def validate(self) -> list[str]:
        """Discovery, then a read-only probe: a checkout that does not exist is asked for with every header a
        checkout needs, so the merchant must answer "not found" (a refused header or key shows here, not at the
        first purchase). Then the payment handler is checked; nothing is created."""
        negotiated = await self.discover()
        report = [f"UCP {negotiated.version} at {negotiated.endpoint}: {', '.join(sorted(negotiated.capabilities))}"]
        probe = f"/checkout-sessions/butler-probe-{uuid.uuid4()}"
        try:
            await self._call("GET", probe)
            report.append("checkout endpoint answers butler's headers")
        except ConnectorError as exc:
            if exc.status not in (404, 410) or isinstance(exc, AuthError):
                raise
            report.append(f"checkout endpoint answers butler's headers (an unknown checkout: HTTP {exc.status})")
        if CATALOG in negotiated.capabilities:
            answer = await self._call("GET", "/items")
            report.append(f"catalogue: {len(objs(answer, 'items'))} items")
        handlers = list(negotiated.handlers)
        if handlers or self.ucp_settings.payment_handler is not None:
            handler = choose_handler(handlers, self.ucp_settings.payment_handler)
            if handler.get("name") != "dev.ucp.mock_payment":
                missing = [name for name in CARD_SECRETS if name not in self.ctx.secrets]
                if missing:
                    raise MissingSecret(f"the merchant's payment handler {handler['id']} takes cards: butler needs "
                                        f"{', '.join(missing)}", secret=missing[0])
            report.append(f"pays with {handler['id']} ({handler.get('name', 'unnamed')})")
        else:
            report.append("the profile lists no payment handlers; the checkout will")
        return report

    # -- offers -----------------------------------------------------------------------------------------
    async def list_offers(self, query: OfferQuery) -> list[Offer]:
        """The merchant's items, where it has a catalogue; [] where it has none (UCP 2026-01-11 has none: the
        person names the product instead)."""
        negotiated = await self.discover()
        if CATALOG not in negotiated.capabilities:
            self.ctx.log.info("the merchant publishes no catalogue; name its products to buy them")
            return []
        answer = await self._call("GET", "/items")
        currency = str(answer.get("currency") or self.currency())
        offers = [Offer(id=str(item["id"]), vendor_id=self.vendor_id, product=str(item.get("title") or item["id"]),
                        category="shop", price=money(int(item["price"]), currency), period="once",
                        attributes={"ucp_item": item})
                  for item in objs(answer, "items") if "id" in item and isinstance(item.get("price"), int)]
        if query.keywords:
            words = [w.lower() for w in query.keywords]
            offers = [o for o in offers if any(w in o.product.lower() for w in words)]
        return query.within_max_price(offers)

    # -- checkout sessions ------------------------------------------------------------------------------
    def _buyer_wire(self, negotiated: _Negotiated, buyer: Buyer | None) -> dict[str, Any] | None:
        if buyer is None:
            return None
        wire: dict[str, Any] = buyer.model_dump(exclude_none=True)
        if BUYER_CONSENT in negotiated.capabilities:
            wire["consent"] = consent_for(self.ucp_settings.myterms_agreement)
        return wire

    @staticmethod
    def _destination(address: PostalAddress, key: str) -> dict[str, Any]:
        """The address as a shipping destination, with an id of its own: some merchants keep destinations under
        the id the buyer gives, in one table for all buyers, so it is derived from this request's key (the same
        on a retry, another for another checkout)."""
        return {"id": f"dest-{wire_key(key)}", **address.model_dump(exclude_none=True)}

    def _create_body(self, negotiated: _Negotiated, items: Sequence[tuple[str, int]], *, key: str,
                     buyer: Buyer | None, discount_codes: Sequence[str] | None,
                     shipping: Shipping | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            # `title` is not part of item.create_req; merchants that need it (the reference one) replace it with
            # their own, and it tells them nothing but the id
            "line_items": [{"item": {"id": item_id, "title": item_id}, "quantity": quantity}
                           for item_id, quantity in items],
            "currency": self.currency(), "payment": {},
        }
        buyer_wire = self._buyer_wire(negotiated, buyer)
        if buyer_wire:
            body["buyer"] = buyer_wire
        if discount_codes is not None and DISCOUNT in negotiated.capabilities:
            body["discounts"] = {"codes": list(discount_codes)}
        if shipping is not None and FULFILLMENT in negotiated.capabilities:
            destination = self._destination(shipping.address, key)
            body["fulfillment"] = {"methods": [{"type": "shipping", "destinations": [destination],
                                                "selected_destination_id": destination["id"]}]}
        return body

    @staticmethod
    def _session(wire: dict[str, Any]) -> CheckoutSession:
        if not isinstance(wire.get("id"), str) or not isinstance(wire.get("currency"), str):
            raise FatalError("the merchant's checkout has no id or no currency")
        currency = str(wire["currency"])
        totals = _totals(wire)
        discounts = obj(wire, "discounts")
        items = []
        for line in objs(wire, "line_items"):
            item_id, quantity = obj(line, "item").get("id"), line.get("quantity", 1)
            if not isinstance(item_id, str) or not isinstance(quantity, int):
                raise FatalError(f"the merchant's checkout {wire['id']} has a line without an item id or quantity")
            items.append((item_id, quantity))
        codes = discounts.get("codes")
        return CheckoutSession(
            id=wire["id"], status=str(wire.get("status") or "incomplete"), currency=currency, items=tuple(items),
            subtotal=money(totals.get("subtotal", 0), currency),
            discount=money(totals.get("discount", 0) + totals.get("items_discount", 0), currency),
            fulfillment=money(totals.get("fulfillment", 0), currency),
            total=money(totals.get("total", 0), currency),
            discount_codes=tuple(str(c) for c in codes) if isinstance(codes, list) else (),
            applied_discounts=tuple(dict.fromkeys(str(a.get("code") or a.get("title"))
                                                  for a in objs(discounts, "applied"))),
            messages=tuple(objs(wire, "messages")), order_id=obj(wire, "order").get("id"), raw=wire)

    async def _create(self, negotiated: _Negotiated, pairs: list[tuple[str, int]], key: str,
                      body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._call("POST", "/checkout-sessions", json=body, key=key)
        except ConnectorError as exc:
            # the merchant refuses these items (unknown, out of stock): skip the offer, not the merchant
            if isinstance(exc, FatalError) and exc.status in (400, 404, 410) and exc.code != VERSION_UNSUPPORTED:
                items = ", ".join(f"{q} × {i}" for i, q in pairs)
                raise OfferUnavailable(f"{self.vendor_id} does not sell {items} now: {exc.message}",
                                       status=exc.status, code=exc.code) from None
            raise

    async def start_checkout(self, items: Sequence[tuple[str, int]] | Mapping[str, int], *, idempotency_key: str,
                             buyer: Buyer | None = None, discount_codes: Sequence[str] | None = None,
                             shipping: Shipping | None = None) -> CheckoutSession:
        """Create a checkout session for `items` ((item id, quantity) pairs); buyer and shipping default to the
        settings, then to the person's profile; the cheapest fulfilment option is chosen (or the one the settings
        name). Raises OfferUnavailable when the merchant refuses the items."""
        negotiated = await self.discover()
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        body = self._create_body(negotiated, pairs, key=idempotency_key, buyer=buyer or self.buyer(),
                                 discount_codes=discount_codes, shipping=shipping or self.shipping())
        session = self._session(await self._create(negotiated, pairs, idempotency_key, body))
        return await self._choose_fulfillment(session, key=f"{idempotency_key}:fulfillment",
                                              preferred=self._preferred(shipping or self.shipping()))

    async def get_checkout(self, session_id: str) -> CheckoutSession:
        return self._session(await self._call("GET", f"/checkout-sessions/{session_id}"))

    def _update_body(self, negotiated: _Negotiated, current: CheckoutSession, *, buyer: Buyer | None,
                     discount_codes: Sequence[str] | None, methods: list[dict[str, Any]] | None) -> dict[str, Any]:
        """The whole session as an update (UCP's update replaces it), from what the merchant holds and the changes."""
        raw = current.raw
        body: dict[str, Any] = {
            "id": current.id, "currency": current.currency, "payment": {},
            "line_items": [{**({"id": line["id"]} if "id" in line else {}),
                            "item": {"id": obj(line, "item").get("id"),
                                     "title": obj(line, "item").get("title") or obj(line, "item").get("id")},
                            "quantity": line.get("quantity", 1)} for line in objs(raw, "line_items")],
        }
        buyer_wire = self._buyer_wire(negotiated, buyer or (Buyer.from_wire(obj(raw, "buyer")) if obj(raw, "buyer")
                                                            else None))
        if buyer_wire:
            body["buyer"] = buyer_wire
        codes = discount_codes if discount_codes is not None else current.discount_codes
        if DISCOUNT in negotiated.capabilities and (codes or discount_codes is not None):
            body["discounts"] = {"codes": list(codes)}
        if FULFILLMENT in negotiated.capabilities:
            kept = methods if methods is not None else self._methods_as_held(raw)
            if kept:
                body["fulfillment"] = {"methods": kept}
        return body

    @staticmethod
    def _methods_as_held(raw: Mapping[str, Any], destinations: Mapping[str, str] | None = None,
                         options: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The session's fulfilment methods as an update sends them back, choosing `destinations` (method id →
        destination id) and `options` (group id → option id) where given."""
        methods = []
        for method in objs(raw, "fulfillment", "methods"):
            wire: dict[str, Any] = {k: method[k] for k in ("id", "type", "line_item_ids", "selected_destination_id")
                                    if k in method}
            if str(method.get("id")) in (destinations or {}):
                wire["selected_destination_id"] = (destinations or {})[str(method.get("id"))]
            held = objs(method, "destinations")
            if held:
                wire["destinations"] = held
            groups = [{"id": g["id"], "selected_option_id": (options or {}).get(g["id"], g.get("selected_option_id"))}
                      for g in objs(method, "groups") if "id" in g]
            wire["groups"] = [{k: v for k, v in g.items() if v is not None} for g in groups]
            methods.append(wire)
        return methods

    @staticmethod
    def _choices(raw: Mapping[str, Any], address: PostalAddress | None,
                 preferred: str | None) -> tuple[dict[str, str], dict[str, str]]:
        """What is left to choose: a destination for each method whose selection names none it holds (the one
        matching `address`, else the first), an option for each group without one (`preferred` where offered,
        else the cheapest, the first among equals)."""
        destinations: dict[str, str] = {}
        options: dict[str, str] = {}
        for method in objs(raw, "fulfillment", "methods"):
            held = [d for d in objs(method, "destinations") if isinstance(d.get("id"), str)]
            if held and isinstance(method.get("id"), str) and \
                    method.get("selected_destination_id") not in {d["id"] for d in held}:
                mine = next((d for d in held if address is not None
                             and d.get("street_address") == address.street_address
                             and d.get("postal_code") == address.postal_code), held[0])
                destinations[method["id"]] = mine["id"]
                continue  # the options follow from the destination: chosen once it is settled
            for group in objs(method, "groups"):
                offered = [o for o in objs(group, "options") if isinstance(o.get("id"), str)]
                if group.get("selected_option_id") or not offered or not isinstance(group.get("id"), str):
                    continue
                named = next((o for o in offered if o["id"] == preferred), None)
                options[group["id"]] = (named or min(offered, key=_option_cost))["id"]
        return destinations, options

    async def _choose_fulfillment(self, session: CheckoutSession, *, key: str,
                                  preferred: str | None) -> CheckoutSession:
        """Settle the delivery: a destination the merchant holds, and an option in every group that has none.

        A merchant may give a destination its own id when it stores it (the reference one does), so the choice is
        made again on what it answers, a few rounds at most; every round has its own idempotency key derived
        from `key`, so preparing again replays the same rounds. Nothing is sent when nothing is left to choose.
        """
        shipping = self.shipping()
        for round_ in range(1, 4):
            if session.status in _CLOSED:
                return session
            destinations, options = self._choices(session.raw, shipping.address if shipping else None, preferred)
            if not destinations and not options:
                return session
            negotiated = await self.discover()
            body = self._update_body(negotiated, session, buyer=None, discount_codes=None,
                                     methods=self._methods_as_held(session.raw, destinations, options))
            session = self._session(await self._call("PUT", f"/checkout-sessions/{session.id}", json=body,
                                                     key=f"{key}-{round_}"))
        return session

    async def update_checkout(self, session_id: str, *, idempotency_key: str, buyer: Buyer | None = None,
                              discount_codes: Sequence[str] | None = None,
                              shipping: Shipping | None = None) -> CheckoutSession:
        """Change buyer, discount codes (replacing the previous ones; `[]` clears them) or shipping (the option is
        chosen again: the one named, else the cheapest).

        UCP updates replace the whole session, so the current state is read first and what is not given is kept
        (buyer, codes and fulfilment as the merchant holds them).
        """
        negotiated = await self.discover()
        current = await self.get_checkout(session_id)
        methods = None
        if shipping is not None:
            lines = [str(line["id"]) for line in objs(current.raw, "line_items") if "id" in line]
            held = objs(current.raw, "fulfillment", "methods")
            destination = self._destination(shipping.address, idempotency_key)
            methods = [{**({"id": held[0]["id"]} if held and "id" in held[0] else {}), "type": "shipping",
                        "line_item_ids": lines, "destinations": [destination],
                        "selected_destination_id": destination["id"]}]
        body = self._update_body(negotiated, current, buyer=buyer, discount_codes=discount_codes, methods=methods)
        session = self._session(await self._call("PUT", f"/checkout-sessions/{session_id}", json=body,
                                                 key=idempotency_key))
        return await self._choose_fulfillment(session, key=f"{idempotency_key}:fulfillment",
                                              preferred=self._preferred(shipping))

    def _unready(self, session: CheckoutSession) -> list[str]:
        """Why `session` cannot be completed yet, as far as butler can tell (empty: it can)."""
        problems = [str(m.get("content") or m.get("path") or m.get("code")) for m in session.messages
                    if m.get("type") == "error"]
        if session.status not in ("ready_for_complete", "completed", "complete_in_progress"):
            problems.append(f"the checkout is {session.status}")
        for method in objs(session.raw, "fulfillment", "methods"):
            held = {d.get("id") for d in objs(method, "destinations")}
            if not method.get("selected_destination_id") or (held and method["selected_destination_id"] not in held):
                problems.append("no delivery address is chosen")
            if any(not g.get("selected_option_id") for g in objs(method, "groups")):
                problems.append("no delivery option is chosen")
        return list(dict.fromkeys(problems))

    async def complete_checkout(self, session_id: str, *, idempotency_key: str,
                                expected_total: Money | None = None) -> Purchase:
        """Pay with the chosen payment handler and place the order (see `butler_ucp.payment`); the same key gives
        the same purchase and never a second order. With `expected_total`, a session that now costs anything else
        is refused before paying (FatalError, status 409)."""
        negotiated = await self.discover()
        current = await self.get_checkout(session_id)
        if expected_total is not None and current.total != expected_total and current.status != "completed":
            raise FatalError(f"checkout {session_id} now costs {current.total}, not the {expected_total} approved",
                             "Nothing was paid.", status=409)
        handler = choose_handler(handlers_offered(current.raw, negotiated.handlers),
                                 self.ucp_settings.payment_handler)
        instrument = await payment_data(self.ctx, session_id, handler, base_url=self.ucp_settings.base_url,
                                        idempotency_key=idempotency_key, mock_token=self.ucp_settings.mock_token,
                                        wire_key=wire_key)
        # butler shares no device fingerprint or other risk data: the merchant gets an empty set
        body = {"payment_data": instrument, "risk_signals": {}}
        wire = await self._call("POST", f"/checkout-sessions/{session_id}/complete", json=body, key=idempotency_key)
        session = self._session(wire)
        if session.status != "completed" or session.order_id is None:
            continue_url = wire.get("continue_url")
            if session.status == "requires_escalation" and isinstance(continue_url, str) and \
                    continue_url.startswith("https://"):
                # a bank's check (3-D Secure) or anything else only the person can do: butler never opens it
                raise FatalError(f"checkout {session_id} needs you: the merchant asks you to continue at "
                                 f"{continue_url[:500]}", "Finish there yourself; nothing was bought.")
            raise FatalError(f"checkout {session_id} was not completed (status {session.status})")
        return self._purchase(session)

    def _purchase(self, session: CheckoutSession) -> Purchase:
        """The order of a completed session, from what the merchant states only (no clock of butler's): asking
        again gives the same purchase."""
        order = obj(session.raw, "order")
        at = order.get("created_at")
        try:
            when = dt.datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            when = None
        return Purchase(id=str(session.order_id), vendor_id=self.vendor_id,
                        offer_id=session.items[0][0] if session.items else None,
                        items=tuple(item for item, _ in session.items), total=session.total, at=when,
                        receipt={"checkout_id": session.id, "permalink_url": order.get("permalink_url"),
                                 "discounts": list(session.applied_discounts),
                                 "quantities": {item: quantity for item, quantity in session.items},
                                 "subtotal": str(session.subtotal), "discount": str(session.discount),
                                 "fulfillment": str(session.fulfillment)})

    # -- the SDK's checkout in phases -------------------------------------------------------------------
    async def prepare_checkout(self, offer_id: str, *, idempotency_key: str, session_id: str | None = None,
                               quantity: int = 1) -> CheckoutQuote:
        """Create a checkout session for `quantity` of `offer_id` (buyer and delivery from the settings or the
        person's profile, the cheapest option), or read the prepared session `session_id`, and quote its totals."""
        negotiated = await self.discover()
        if session_id is None:
            if FULFILLMENT in negotiated.capabilities and self.shipping() is None:
                raise FatalError("the merchant delivers (dev.ucp.shopping.fulfillment) and butler knows no "
                                 "delivery address", "Give yours: `butler profile set --street … --city … "
                                                     "--postal-code … --country …`.")
            session = await self.start_checkout([(offer_id, quantity)], idempotency_key=idempotency_key)
        else:
            session = await self._choose_fulfillment(await self.get_checkout(session_id),
                                                     key=f"{idempotency_key}:fulfillment",
                                                     preferred=self._preferred(self.shipping()))
        problems = self._unready(session)
        if problems:
            raise FatalError(f"the checkout for {offer_id!r} is not ready: {'; '.join(problems)}",
                             "Set your name, e-mail and delivery address with `butler profile set`.")
        return self._quote(session, offer_id)

    @staticmethod
    def _quote(session: CheckoutSession, offer_id: str) -> CheckoutQuote:
        totals = _totals(session.raw)
        lines = []
        for line in objs(session.raw, "line_items"):
            item = obj(line, "item")
            amounts = _totals(line)
            quantity = line.get("quantity", 1)
            price = item.get("price")
            amount = amounts.get("subtotal", amounts.get("total", price * quantity if isinstance(price, int) and
                                                          isinstance(quantity, int) else 0))
            lines.append(CheckoutLine(item=str(item.get("id")), quantity=quantity,
                                      description=str(item.get("title") or ""),
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
        return self._purchase(session)

    async def checkout(self, offer_id: str, *, idempotency_key: str, session_id: str | None = None,
                       quantity: int = 1) -> Purchase:
        """Prepare and pay in one go, without checking the total against anything else (for scripts)."""
        quote = await self.prepare_checkout(offer_id, idempotency_key=f"{idempotency_key}:create",
                                            session_id=session_id, quantity=quantity)
        return await self.pay(quote, idempotency_key=f"{idempotency_key}:complete")

    # -- after the order --------------------------------------------------------------------------------
    def _contract(self, session: CheckoutSession) -> Contract:
        created = session.raw.get("created_at")
        try:
            start = dt.date.fromisoformat(created[:10]) if isinstance(created, str) else dt.date.today()
        except ValueError:
            start = dt.date.today()
        titles = [str(obj(line, "item").get("title") or obj(line, "item").get("id"))
                  for line in objs(session.raw, "line_items")]
        end = dt.date.today() if session.status == "canceled" else None
        return Contract(id=session.id, vendor_id=self.vendor_id, product=", ".join(titles) or session.id,
                        category="shop", price=session.total, period="once", term_months=0, start=start,
                        end=max(end, start) if end else None, myterms=self.ucp_settings.myterms_agreement)

    async def contract_status(self, contract_id: str) -> Contract:
        return self._contract(await self.get_checkout(contract_id))

    async def cancel(self, contract_id: str, *, idempotency_key: str) -> Contract:
        """Cancel the checkout session `contract_id` (a completed one cannot be: FatalError)."""
        wire = await self._call("POST", f"/checkout-sessions/{contract_id}/cancel", key=idempotency_key)
        return self._contract(self._session(wire))

    async def order_status(self, order_id: str) -> OrderStatus:
        """The order as the merchant holds it (needs dev.ucp.shopping.order)."""
        negotiated = await self.discover()
        if ORDER not in negotiated.capabilities:
            raise FatalError("the merchant does not share orders (dev.ucp.shopping.order)")
        wire = await self._call("GET", f"/orders/{order_id}")
        lines = tuple(objs(wire, "line_items"))
        kinds = {str(a.get("type")) for a in objs(wire, "adjustments")}
        states = {str(line.get("status")) for line in lines}
        status = ("canceled" if "cancellation" in kinds else
                  "fulfilled" if states == {"fulfilled"} else "processing")
        totals = _totals(wire)
        currency = wire.get("currency")
        if not isinstance(currency, str):  # orders carry no currency in 2026-01-11: the checkout's is theirs
            checkout_id = wire.get("checkout_id")
            currency = (await self.get_checkout(str(checkout_id))).currency if checkout_id else self.currency()
        total = money(totals["total"], currency) if "total" in totals else None
        return OrderStatus(id=str(wire["id"]), checkout_id=str(wire.get("checkout_id") or ""),
                           permalink_url=str(wire.get("permalink_url") or ""), status=status, total=total,
                           line_items=lines)
