"""A small UCP merchant (Universal Commerce Protocol, version 2026-01-11), written from the spec for tests.

    GET  /.well-known/ucp                            business profile: version, services, capabilities
    GET  /ucp/v1/items                               the catalogue (vendor capability `com.example.catalog`)
    POST /ucp/v1/checkout-sessions                   create        ┐
    GET  /ucp/v1/checkout-sessions/{id}              get           │ dev.ucp.shopping.checkout (REST binding),
    PUT  /ucp/v1/checkout-sessions/{id}              update        │ with the fulfillment, discount and
    POST /ucp/v1/checkout-sessions/{id}/complete     place order   │ buyer_consent extensions
    POST /ucp/v1/checkout-sessions/{id}/cancel       cancel        ┘
    GET  /ucp/v1/orders/{id}                         the order (dev.ucp.shopping.order)
    POST /psp/tokenize                               the card tokenizer (see `ucp_tokenizer`)

Payment handlers: `invoice` (pay later, nothing to send) and `card_tokenizer` (UCP's shared Tokenization API:
the platform tokenizes the card at the handler's `token_url`, then completes with the token).

Amounts are integers in minor units. Every request under /ucp/v1 needs `Authorization: Bearer <api_key>` and a
`UCP-Agent` header; mutating requests honour `Idempotency-Key` (same key and body → the stored answer, same key
and another body → 409). `app.state.log` keeps every request (method, path, headers, body) for the tests.
Run it with `make_app()` under any ASGI server; it is not a shop, just enough of one to test a connector.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from examples.vendors.ucp_tokenizer import HANDLER_ID as CARD_HANDLER_ID
from examples.vendors.ucp_tokenizer import Tokenizer

__all__ = ["DISCOUNTS", "ITEMS", "SHIPPING_OPTIONS", "VERSION", "make_app"]

VERSION = "2026-01-11"
CHECKOUT = "dev.ucp.shopping.checkout"
ALL_CAPABILITIES: tuple[tuple[str, str | None], ...] = (
    (CHECKOUT, None),
    ("dev.ucp.shopping.fulfillment", CHECKOUT),
    ("dev.ucp.shopping.discount", CHECKOUT),
    ("dev.ucp.shopping.buyer_consent", CHECKOUT),
    ("dev.ucp.shopping.order", None),
    ("com.example.catalog", None),
)
ITEMS: dict[str, dict[str, Any]] = {
    "item_kettle": {"id": "item_kettle", "title": "Stainless kettle", "price": 3900},
    "item_mug": {"id": "item_mug", "title": "Stoneware mug", "price": 1250},
    "item_teapot": {"id": "item_teapot", "title": "Glass teapot", "price": 2800},
}
SHIPPING_OPTIONS: dict[str, dict[str, Any]] = {
    "standard": {"id": "standard", "title": "Standard shipping", "description": "3-5 working days",
                 "totals": [{"type": "total", "amount": 490}]},
    "express": {"id": "express", "title": "Express shipping", "description": "next working day",
                "totals": [{"type": "total", "amount": 990}]},
}
# code → (title, percent off the subtotal, fixed amount off)
DISCOUNTS: dict[str, tuple[str, int, int]] = {
    "SAVE10": ("10% off your order", 10, 0),
    "WELCOME5": ("5.00 off your first order", 0, 500),
}
CURRENCY = "EUR"
PAYMENT_HANDLER = {"id": "invoice", "name": "com.example.invoice", "version": VERSION,
                   "spec": "https://example.com/specs/payments/invoice",
                   "config_schema": "https://example.com/specs/payments/invoice_config.json",
                   "instrument_schemas": [], "config": {}}


def _error(status: int, code: str, content: str) -> JSONResponse:
    return JSONResponse({"status": "requires_escalation", "messages": [
        {"type": "error", "code": code, "content": content, "severity": "requires_buyer_input"}]},
        status_code=status)


@dataclass
class _State:
    version: str
    capabilities: tuple[tuple[str, str | None], ...]
    api_key: str
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[str, int, Any]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):04d}{secrets.token_hex(3)}"

    def has(self, name: str) -> bool:
        return any(cap == name for cap, _ in self.capabilities)

    def ucp(self) -> dict[str, Any]:
        return {"version": self.version,
                "capabilities": [{"name": name, "version": self.version} for name, _ in self.capabilities]}


def make_app(*, version: str = VERSION, api_key: str = "ucp-merchant-key",
             capabilities: Iterable[str] | None = None) -> FastAPI:
    """A fresh merchant. `version` is what its profile declares; `capabilities` (names) narrows what it offers."""
    wanted = set(capabilities) if capabilities is not None else None
    caps = tuple(c for c in ALL_CAPABILITIES if wanted is None or c[0] in wanted)
    state = _State(version=version, capabilities=caps, api_key=api_key)
    app = FastAPI(title="UCP example merchant", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.merchant = state
    app.state.log = state.log
    tokenizer = Tokenizer()
    tokenizer.mount(app)
    app.state.tokenizer = tokenizer

    def handlers(request: Request) -> list[dict[str, Any]]:
        return [PAYMENT_HANDLER, tokenizer.handler(str(request.base_url).rstrip("/"), state.version)]

    @app.get("/.well-known/ucp")
    async def profile(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {
            "ucp": {
                "version": state.version,
                "services": {"dev.ucp.shopping": {
                    "version": state.version, "spec": "https://ucp.dev/specification/overview",
                    "rest": {"schema": "https://ucp.dev/services/shopping/rest.openapi.json",
                             "endpoint": f"{base}/ucp/v1"}}},
                "capabilities": [
                    {"name": name, "version": state.version, **({"extends": parent} if parent else {})}
                    for name, parent in state.capabilities],
            },
            "payment": {"handlers": handlers(request)},
        }

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if not request.url.path.startswith("/ucp/v1/"):
            return await call_next(request)
        raw = await request.body()
        state.log.append({"method": request.method, "path": request.url.path,
                          "headers": dict(request.headers), "body": json.loads(raw) if raw else None})
        if request.headers.get("authorization") != f"Bearer {state.api_key}":
            return JSONResponse({"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if 'profile="' not in request.headers.get("ucp-agent", ""):
            return _error(400, "missing_agent", "the UCP-Agent header with the platform profile is required")
        key = request.headers.get("idempotency-key")
        if request.method not in ("POST", "PUT") or key is None:
            return await call_next(request)
        fingerprint = hashlib.sha256(request.method.encode() + request.url.path.encode() + raw).hexdigest()
        stored = state.idempotent.get((request.url.path, key))
        if stored is not None:
            if stored[0] != fingerprint:
                return _error(409, "idempotency_key_reused", "this Idempotency-Key was used for another request")
            return JSONResponse(stored[2], status_code=stored[1], headers={"Idempotent-Replayed": "true"})
        response = await call_next(request)
        body = b"".join([chunk async for chunk in response.body_iterator])
        if response.status_code < 500:
            state.idempotent[(request.url.path, key)] = (fingerprint, response.status_code, json.loads(body))
        return JSONResponse(json.loads(body), status_code=response.status_code)

    @app.get("/ucp/v1/items")
    async def items() -> Any:
        if not state.has("com.example.catalog"):
            return _error(404, "not_found", "no catalogue")
        return {"currency": CURRENCY, "items": list(ITEMS.values())}

    def render(session: dict[str, Any]) -> dict[str, Any]:
        return {"ucp": state.ucp(), **session}

    def apply(session: dict[str, Any], body: dict[str, Any]) -> JSONResponse | None:
        """Replace the session's writable state by `body` (UCP update is a full replacement) and price it."""
        lines = []
        for n, line in enumerate(body.get("line_items") or []):
            item = ITEMS.get(str(line.get("item", {}).get("id")))
            quantity = line.get("quantity", 1)
            if item is None or not isinstance(quantity, int) or quantity < 1:
                return _error(400, "invalid_cart_items", "one or more cart items are invalid")
            amount = item["price"] * quantity
            lines.append({"id": line.get("id") or f"li_{n + 1}", "item": dict(item), "quantity": quantity,
                          "totals": [{"type": "subtotal", "amount": amount}, {"type": "total", "amount": amount}]})
        if not lines:
            return _error(400, "invalid_cart_items", "a checkout needs at least one line item")
        if body.get("currency", CURRENCY) != CURRENCY:
            return _error(400, "invalid_currency", f"this merchant sells in {CURRENCY} only")
        messages: list[dict[str, Any]] = []
        subtotal = sum(line["totals"][0]["amount"] for line in lines)
        totals: list[dict[str, Any]] = [{"type": "subtotal", "amount": subtotal}]
        session.update(line_items=lines, currency=CURRENCY, messages=messages)
        buyer = body.get("buyer")
        if isinstance(buyer, dict):
            if not state.has("dev.ucp.shopping.buyer_consent"):
                buyer = {k: v for k, v in buyer.items() if k != "consent"}
            session["buyer"] = buyer
        discount = 0
        if state.has("dev.ucp.shopping.discount") and isinstance(body.get("discounts"), dict):
            codes = [str(c) for c in body["discounts"].get("codes", [])]
            applied = []
            for index, code in enumerate(codes):
                known = DISCOUNTS.get(code.upper())
                if known is None:
                    messages.append({"type": "warning", "code": "discount_code_invalid",
                                     "path": f"$.discounts.codes[{index}]", "content": f"Code {code!r} is unknown"})
                    continue
                amount = subtotal * known[1] // 100 + known[2]
                discount += amount
                applied.append({"code": code.upper(), "title": known[0], "amount": amount})
            session["discounts"] = {"codes": codes, "applied": applied}
            if discount:
                totals.append({"type": "discount", "amount": discount})
        shipping = 0
        wants_fulfillment = state.has("dev.ucp.shopping.fulfillment")
        if wants_fulfillment and isinstance(body.get("fulfillment"), dict):
            methods = []
            for m, method in enumerate(body["fulfillment"].get("methods", [])):
                destinations = [{"id": d.get("id") or f"dest_{m + 1}_{i + 1}", **{k: v for k, v in d.items()
                                                                                 if k != "id"}}
                                for i, d in enumerate(method.get("destinations", []))]
                selected = next((g.get("selected_option_id") for g in method.get("groups", [])
                                 if g.get("selected_option_id")), None)
                if selected is not None and selected not in SHIPPING_OPTIONS:
                    return _error(400, "invalid_fulfillment_option", f"no fulfillment option {selected!r}")
                if selected is not None:
                    shipping += SHIPPING_OPTIONS[selected]["totals"][0]["amount"]
                methods.append({
                    "id": method.get("id") or f"method_{m + 1}", "type": method.get("type", "shipping"),
                    "line_item_ids": [line["id"] for line in lines], "destinations": destinations,
                    "selected_destination_id": destinations[0]["id"] if destinations else None,
                    "groups": [{"id": "package_1", "line_item_ids": [line["id"] for line in lines],
                                "options": list(SHIPPING_OPTIONS.values()) if destinations else [],
                                "selected_option_id": selected}]})
            session["fulfillment"] = {"methods": methods}
            if shipping:
                totals.append({"type": "fulfillment", "amount": shipping})
        totals.append({"type": "total", "amount": max(0, subtotal - discount) + shipping})
        session["totals"] = totals
        ready = bool(session.get("buyer", {}).get("email"))
        if wants_fulfillment:
            chosen = [g for m in session.get("fulfillment", {}).get("methods", []) for g in m["groups"]
                      if g["selected_option_id"]]
            if not chosen:
                ready = False
                messages.append({"type": "error", "code": "missing", "path": "$.fulfillment",
                                 "content": "Please choose a fulfillment option", "severity": "recoverable"})
        if not session.get("buyer", {}).get("email"):
            messages.append({"type": "error", "code": "missing", "path": "$.buyer.email",
                             "content": "Buyer email is required", "severity": "recoverable"})
        session["status"] = "ready_for_complete" if ready else "incomplete"
        return None

    def open_session(session_id: str) -> dict[str, Any] | JSONResponse:
        session = state.sessions.get(session_id)
        if session is None:
            return _error(404, "not_found", f"no checkout session {session_id!r}")
        return session

    @app.post("/ucp/v1/checkout-sessions", status_code=201)
    async def create(request: Request) -> Any:
        body = await request.json()
        session: dict[str, Any] = {"id": state.new_id("chk"), "links": [
            {"type": "terms_of_service", "url": "https://merchant.example/terms"},
            {"type": "privacy_policy", "url": "https://merchant.example/privacy"}],
            "payment": {"handlers": handlers(request), "instruments": []}}
        problem = apply(session, body)
        if problem is not None:
            return problem
        state.sessions[session["id"]] = session
        return JSONResponse(render(session), status_code=201)

    @app.get("/ucp/v1/checkout-sessions/{session_id}")
    async def get(session_id: str) -> Any:
        session = open_session(session_id)
        return session if isinstance(session, JSONResponse) else render(session)

    @app.put("/ucp/v1/checkout-sessions/{session_id}")
    async def update(session_id: str, request: Request) -> Any:
        session = open_session(session_id)
        if isinstance(session, JSONResponse):
            return session
        if session["status"] in ("completed", "canceled"):
            return _error(409, "checkout_closed", f"the checkout is {session['status']}")
        body = await request.json()
        draft = dict(session)
        problem = apply(draft, body)
        if problem is not None:
            return problem
        session.update(draft)
        return render(session)

    @app.post("/ucp/v1/checkout-sessions/{session_id}/complete")
    async def complete(session_id: str, request: Request) -> Any:
        session = open_session(session_id)
        if isinstance(session, JSONResponse):
            return session
        if session["status"] != "ready_for_complete":
            return _error(409, "checkout_not_ready", f"the checkout is {session['status']}")
        payment = (await request.json()).get("payment_data") or {}
        if payment.get("handler_id") == CARD_HANDLER_ID:
            token = (payment.get("credential") or {}).get("token")
            if tokenizer.needs_challenge(token):
                return {**render(session), "status": "requires_escalation",
                        "continue_url": f"https://bank.example/challenge/{session_id}",
                        "messages": [{"type": "error", "code": "requires_3ds", "severity": "requires_buyer_input",
                                      "content": "bank requires verification."}]}
            declined = tokenizer.redeem(token, session_id)
            if declined is not None:
                return _error(400, *declined)
            instrument = {k: payment[k] for k in ("id", "handler_id", "type", "brand", "last_digits") if k in payment}
            session["payment"] = {**session["payment"], "instruments": [instrument],
                                  "selected_instrument_id": instrument.get("id")}
        elif payment.get("handler_id") != PAYMENT_HANDLER["id"]:
            return _error(400, "payment_declined", "unknown payment handler")
        order_id = state.new_id("ord")
        session["status"] = "completed"
        session["order"] = {"id": order_id, "permalink_url": f"https://merchant.example/orders/{order_id}",
                            "created_at": dt.datetime.now(dt.UTC).isoformat()}
        state.orders[order_id] = {
            "id": order_id, "checkout_id": session_id, "permalink_url": session["order"]["permalink_url"],
            "line_items": [{**line, "quantity": {"total": line["quantity"], "fulfilled": 0},
                            "status": "processing"} for line in session["line_items"]],
            "fulfillment": {"expectations": [], "events": []}, "adjustments": [], "totals": session["totals"]}
        return render(session)

    @app.post("/ucp/v1/checkout-sessions/{session_id}/cancel")
    async def cancel(session_id: str) -> Any:
        session = open_session(session_id)
        if isinstance(session, JSONResponse):
            return session
        if session["status"] in ("completed", "canceled"):
            return _error(409, "checkout_closed", f"the checkout is already {session['status']}")
        session["status"] = "canceled"
        return render(session)

    @app.get("/ucp/v1/orders/{order_id}")
    async def order(order_id: str) -> Any:
        found = state.orders.get(order_id)
        if found is None or not state.has("dev.ucp.shopping.order"):
            return _error(404, "not_found", f"no order {order_id!r}")
        return {"ucp": state.ucp(), **found}

    return app
