"""One example vendor as a FastAPI app: MyTerms discovery, catalogue, negotiation, checkout, contracts.

Message shapes are documented in docs/vendor-api.yaml. Every `/v1` call needs `Authorization: Bearer <api key>`
(the vendor's `api_key`); mutating calls need an `Idempotency-Key` header and replay the first answer for it.
Tests may push faults: `app.state.faults.append((503, {"Retry-After": "2"}))` answers the next `/v1` call so.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from examples.vendors.catalog import Product, VendorSpec
from examples.vendors.strategies import STRATEGIES, Issues, Position, decide, opening

__all__ = ["make_app"]

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def make_app(spec: VendorSpec, *, clock: Clock = _utc_now) -> FastAPI:
    """A fresh app for `spec` with empty state (negotiations, orders, contracts)."""
    app = FastAPI(title=f"{spec.name} (example vendor)")
    app.state.spec = spec
    app.state.faults = []  # (status, headers) answered to the next /v1 calls, in order
    app.state.seen = []  # (method, path, headers) of every request
    app.state.negotiations = {}
    app.state.checkouts = {}
    app.state.orders = {}
    app.state.contracts = {}
    app.state.idempotent = {}  # key → (request fingerprint, status, body)
    products = {p.id: p for p in spec.products}
    cur = spec.currency

    @app.middleware("http")
    async def gate(request: Request, call_next: Callable[[Request], Any]) -> Response:
        app.state.seen.append((request.method, request.url.path, dict(request.headers)))
        if request.url.path.startswith("/v1/"):
            if request.headers.get("authorization") != f"Bearer {spec.api_key}":
                return _error(401, "unauthorized", "missing or wrong API key",
                              {"WWW-Authenticate": 'Bearer realm="example-vendor"'})
            if app.state.faults:
                status, headers = app.state.faults.pop(0)
                return _error(status, "fault", "injected fault", headers)
        response: Response = await call_next(request)
        return response

    def price_for(product: Product, kwh: Decimal | None) -> Decimal:
        price = product.issues.list_price
        if product.kwh_unit_price is not None:
            price += (product.kwh_unit_price * (kwh if kwh is not None else Decimal(3000)) / 12)
        return price.quantize(Decimal("0.01"))

    def issues_for(product: Product, kwh: Decimal | None) -> Issues:
        # energy is negotiated on the whole monthly bill at the person's usage, floor scaled alike
        price = price_for(product, kwh)
        ratio = product.issues.floor_price / product.issues.list_price
        return replace(product.issues, list_price=price, floor_price=(price * ratio).quantize(Decimal("0.01")))

    def offer_wire(product: Product, kwh: Decimal | None = None) -> dict[str, Any]:
        opening_pos = opening(product.issues)
        return {
            "id": product.id, "product": product.name, "category": spec.category,
            "price": _money(price_for(product, kwh), cur), "period": product.period,
            "term_months": opening_pos.term_months, "auto_renew": product.auto_renew,
            "data_use": opening_pos.data_use, "extras_available": sorted(product.issues.extras),
            "term_options": list(product.issues.terms), "data_use_options": list(product.issues.data_uses),
            "certifications": list(spec.certifications),
            "carbon_intensity_g_per_kwh": str(spec.carbon_intensity_g_per_kwh)
            if spec.carbon_intensity_g_per_kwh is not None else None,
            "renewable_share": str(spec.renewable_share) if spec.renewable_share is not None else None,
            "myterms": spec.myterms_accepted[0] if spec.myterms_accepted else None,
            "expires_at": (clock() + dt.timedelta(days=7)).isoformat(),
        }

    async def replay(request: Request, body: dict[str, Any]) -> JSONResponse | str:
        """The stored answer for this Idempotency-Key, an error, or the key to store a new answer under."""
        key = request.headers.get("idempotency-key")
        if not key or len(key) > 255:
            return _error(400, "idempotency_key_required", "send an Idempotency-Key header (1-255 characters)")
        scoped = f"{request.url.path}\x00{key}"
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if scoped in app.state.idempotent:
            seen_fp, status, stored = app.state.idempotent[scoped]
            if seen_fp != fingerprint:
                return _error(422, "idempotency_key_reused", "this key was used with another request body")
            return JSONResponse(stored, status_code=status, headers={"Idempotent-Replayed": "true"})
        return scoped

    def remember(scoped: str, body: dict[str, Any], status: int, answer: dict[str, Any]) -> JSONResponse:
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        app.state.idempotent[scoped] = (fingerprint, status, answer)
        return JSONResponse(answer, status_code=status)

    @app.get("/.well-known/myterms.json")
    async def myterms() -> Response:
        if not spec.myterms_accepted:
            return _error(404, "no_myterms", "this vendor does not accept MyTerms agreements")
        return JSONResponse({
            "effective_date": email.utils.format_datetime(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
            "agreements": [{"id": a, "url": f"https://myterms.info/agreements/{a}"} for a in spec.myterms_accepted],
            "tos_url": f"/terms/{spec.id}",
        })

    @app.get("/.well-known/gpc.json")
    async def gpc() -> dict[str, Any]:
        return {"gpc": True, "lastUpdate": "2026-01-01"}

    @app.get("/v1/vendor")
    async def about() -> dict[str, Any]:
        return {"id": spec.id, "name": spec.name, "category": spec.category, "country": spec.country,
                "owner": spec.owner, "ownership": spec.ownership, "certifications": list(spec.certifications),
                "carbon_intensity_g_per_kwh": str(spec.carbon_intensity_g_per_kwh)
                if spec.carbon_intensity_g_per_kwh is not None else None,
                "renewable_share": str(spec.renewable_share) if spec.renewable_share is not None else None,
                "myterms_accepted": list(spec.myterms_accepted), "currency": cur}

    @app.get("/v1/offers")
    async def offers(category: str | None = None, kwh_per_year: Decimal | None = None) -> dict[str, Any]:
        chosen = [] if category not in (None, spec.category) else list(products.values())
        return {"vendor_id": spec.id, "offers": [offer_wire(p, kwh_per_year) for p in chosen]}

    @app.get("/v1/offers/{offer_id}")
    async def one_offer(offer_id: str, kwh_per_year: Decimal | None = None) -> Response:
        if offer_id not in products:
            return _error(404, "offer_unavailable", f"no offer {offer_id}")
        return JSONResponse(offer_wire(products[offer_id], kwh_per_year))

    def terms_wire(pos: Position) -> dict[str, Any]:
        return {"price": _money(pos.price, cur), "term_months": pos.term_months, "data_use": pos.data_use,
                "extras": list(pos.extras)}

    def session_wire(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    @app.post("/v1/negotiations")
    async def open_negotiation(request: Request) -> Response:
        body = await request.json()
        product = products.get(body.get("offer_id", ""))
        if product is None:
            return _error(404, "offer_unavailable", f"no offer {body.get('offer_id')}")
        constraints = body.get("constraints") or {}
        max_rounds = max(2, min(int(constraints.get("max_rounds", 8)), 20))
        now = clock()
        deadline = now + dt.timedelta(minutes=30)
        sid = f"neg-{spec.id}-{len(app.state.negotiations) + 1}"
        kwh = Decimal(str(body["kwh_per_year"])) if body.get("kwh_per_year") is not None else None
        issues = issues_for(product, kwh)
        first = opening(issues)
        session = {"id": sid, "offer_id": product.id, "status": "open",
                   "constraints": {"max_rounds": max_rounds, "deadline": deadline.isoformat()},
                   "offers": [{"round": 1, "proposer": "vendor", "terms": terms_wire(first),
                               "expires_at": (now + dt.timedelta(minutes=10)).isoformat()}],
                   "agreed_terms": None, "_target": 1.0, "_buyer": [], "_issues": issues}
        app.state.negotiations[sid] = session
        return JSONResponse(session_wire(session), status_code=201)

    @app.get("/v1/negotiations/{sid}")
    async def get_negotiation(sid: str) -> Response:
        session = app.state.negotiations.get(sid)
        return JSONResponse(session_wire(session)) if session else _error(404, "not_found", sid)

    def closed(session: dict[str, Any]) -> Response | None:
        if session["status"] == "open" and clock() > dt.datetime.fromisoformat(session["constraints"]["deadline"]):
            session["status"] = "expired"
        if session["status"] != "open":
            return _error(409, "negotiation_closed", f"negotiation is {session['status']}")
        return None

    @app.post("/v1/negotiations/{sid}/offers")
    async def counter(sid: str, request: Request) -> Response:
        session = app.state.negotiations.get(sid)
        if session is None:
            return _error(404, "not_found", sid)
        if (problem := closed(session)) is not None:
            return problem
        body = await request.json()
        round_ = len(session["offers"]) + 1
        if body.get("round") != round_ or body.get("proposer") != "buyer":
            return _error(409, "out_of_turn", f"the next offer is round {round_}, from the buyer")
        try:
            t = body["terms"]
            if t["price"]["currency"] != cur:
                return _error(422, "currency", f"prices are in {cur}")
            pos = Position(Decimal(t["price"]["amount"]), int(t.get("term_months", 0)),
                           str(t.get("data_use", "service")), tuple(t.get("extras", ())))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return _error(422, "bad_terms", "terms need price {amount, currency}, term_months, data_use, extras")
        now = clock()
        session["offers"].append({"round": round_, "proposer": "buyer", "terms": terms_wire(pos),
                                  "expires_at": (now + dt.timedelta(minutes=10)).isoformat()})
        session["_buyer"].append(pos)
        max_rounds = session["constraints"]["max_rounds"]
        decision = decide(STRATEGIES[spec.strategy], session["_issues"], session["_buyer"], round_, max_rounds,
                          session["_target"])
        session["_target"] = decision.target
        if decision.accept:
            session["status"], session["agreed_terms"] = "accepted", terms_wire(pos)
        elif decision.counter is None or round_ + 1 > max_rounds:
            session["status"] = "rejected"
        else:
            session["offers"].append({"round": round_ + 1, "proposer": "vendor",
                                      "terms": terms_wire(decision.counter),
                                      "expires_at": (now + dt.timedelta(minutes=10)).isoformat()})
        return JSONResponse(session_wire(session))

    @app.post("/v1/negotiations/{sid}/accept")
    async def accept(sid: str, request: Request) -> Response:
        session = app.state.negotiations.get(sid)
        if session is None:
            return _error(404, "not_found", sid)
        if (problem := closed(session)) is not None:
            return problem
        body = await request.json()
        last = session["offers"][-1]
        if last["proposer"] != "vendor" or body.get("round") != last["round"]:
            return _error(409, "out_of_turn", f"only the vendor's offer of round {last['round']} can be accepted")
        session["status"], session["agreed_terms"] = "accepted", last["terms"]
        return JSONResponse(session_wire(session))

    def contract_wire(order: dict[str, Any], product: Product) -> dict[str, Any]:
        start = clock().date()
        months = order["terms"]["term_months"]
        end = start + dt.timedelta(days=30 * months) if months else None
        return {"id": f"c-{order['id']}", "vendor_id": spec.id, "product": product.name, "category": spec.category,
                "price": order["terms"]["price"], "period": product.period, "term_months": months,
                "start": start.isoformat(), "end": end.isoformat() if end else None,
                "renewal_date": end.isoformat() if end and product.auto_renew else None,
                "auto_renew": product.auto_renew, "status": "active", "offer_id": product.id}

    def checkout_wire(cid: str, product: Product, terms: dict[str, Any]) -> dict[str, Any]:
        price = Decimal(terms["price"]["amount"])
        lines = [{"item": product.id, "description": product.name, "quantity": 1, "amount": _money(price, cur)}]
        total = price + product.shipping
        return {"id": cid, "offer_id": product.id, "status": "open", "lines": lines,
                "shipping": _money(product.shipping, cur), "tax": _money(Decimal(0), cur),
                "fees": _money(Decimal(0), cur), "total": _money(total, cur), "terms": terms,
                "expires_at": (clock() + dt.timedelta(minutes=30)).isoformat()}

    @app.post("/v1/checkouts")
    async def prepare(request: Request) -> Response:
        body = await request.json()
        scoped = await replay(request, body)
        if not isinstance(scoped, str):
            return scoped
        product = products.get(body.get("offer_id", ""))
        if product is None:
            return _error(404, "offer_unavailable", f"no offer {body.get('offer_id')}")
        kwh = Decimal(str(body["kwh_per_year"])) if body.get("kwh_per_year") is not None else None
        terms = terms_wire(opening(issues_for(product, kwh)))
        if body.get("negotiation_id"):
            session = app.state.negotiations.get(body["negotiation_id"])
            if session is None or session["offer_id"] != product.id or session["status"] != "accepted":
                return _error(409, "not_agreed", "that negotiation did not end in an agreement on this offer")
            terms = dict(session["agreed_terms"])
        cid = f"co-{spec.id}-{len(app.state.checkouts) + 1}"
        app.state.checkouts[cid] = checkout_wire(cid, product, terms)
        return remember(scoped, body, 201, app.state.checkouts[cid])

    @app.get("/v1/checkouts/{cid}")
    async def get_checkout(cid: str) -> Response:
        found = app.state.checkouts.get(cid)
        return JSONResponse(found) if found else _error(404, "not_found", cid)

    @app.post("/v1/checkouts/{cid}/pay")
    async def pay(cid: str, request: Request) -> Response:
        body = await request.json()
        scoped = await replay(request, body)
        if not isinstance(scoped, str):
            return scoped
        checkout = app.state.checkouts.get(cid)
        if checkout is None:
            return _error(404, "not_found", cid)
        if checkout["status"] != "open":
            return _error(409, "checkout_closed", f"the checkout is {checkout['status']}")
        if body.get("amount") != checkout["total"]:  # the payment authorises this amount and no other
            return _error(409, "total_changed", f"the checkout costs {checkout['total']['amount']} "
                                                f"{checkout['total']['currency']}, not the amount authorised")
        product = products[checkout["offer_id"]]
        oid = f"o-{spec.id}-{len(app.state.orders) + 1}"
        placed = {"id": oid, "vendor_id": spec.id, "offer_id": product.id, "checkout_id": cid,
                  "status": "confirmed", "terms": checkout["terms"], "total": checkout["total"],
                  "created_at": clock().isoformat(), "contract_id": None}
        if product.period != "once":
            contract = contract_wire(placed, product)
            app.state.contracts[contract["id"]] = contract
            placed["contract_id"] = contract["id"]
        app.state.orders[oid] = placed
        checkout.update(status="paid", order_id=oid)
        return remember(scoped, body, 201, placed)

    @app.post("/v1/checkouts/{cid}/cancel")
    async def cancel_checkout(cid: str, request: Request) -> Response:
        body = await request.json()
        scoped = await replay(request, body)
        if not isinstance(scoped, str):
            return scoped
        checkout = app.state.checkouts.get(cid)
        if checkout is None:
            return _error(404, "not_found", cid)
        if checkout["status"] == "paid":
            return _error(409, "checkout_closed", "the checkout is paid; cancel the contract instead")
        checkout["status"] = "cancelled"
        return remember(scoped, body, 200, dict(checkout))

    @app.get("/v1/orders")
    async def find_orders(checkout_id: str) -> dict[str, Any]:
        return {"orders": [o for o in app.state.orders.values() if o.get("checkout_id") == checkout_id]}

    @app.get("/v1/orders/{oid}")
    async def get_order(oid: str) -> Response:
        found = app.state.orders.get(oid)
        return JSONResponse(found) if found else _error(404, "not_found", oid)

    @app.get("/v1/contracts/{cid}")
    async def get_contract(cid: str) -> Response:
        found = app.state.contracts.get(cid)
        return JSONResponse(found) if found else _error(404, "not_found", cid)

    @app.post("/v1/contracts/{cid}/renew")
    async def renew(cid: str, request: Request) -> Response:
        body = await request.json()
        scoped = await replay(request, body)
        if not isinstance(scoped, str):
            return scoped
        found = app.state.contracts.get(cid)
        if found is None or found["status"] != "active":
            return _error(404, "not_found", f"no active contract {cid}")
        months = int(body.get("term_months") or found["term_months"] or 12)
        start = dt.date.fromisoformat(found["end"]) if found["end"] else clock().date()
        end = start + dt.timedelta(days=30 * months)
        found.update(term_months=months, end=end.isoformat(),
                     renewal_date=end.isoformat() if found["auto_renew"] else None)
        return remember(scoped, body, 200, dict(found))

    @app.post("/v1/contracts/{cid}/cancel")
    async def cancel(cid: str, request: Request) -> Response:
        body = await request.json()
        scoped = await replay(request, body)
        if not isinstance(scoped, str):
            return scoped
        found = app.state.contracts.get(cid)
        if found is None:
            return _error(404, "not_found", cid)
        # the earliest end a vendor allows: one month's notice, never before the agreed end
        notice = clock().date() + dt.timedelta(days=30)
        end = max(notice, dt.date.fromisoformat(found["end"])) if found["end"] else notice
        found.update(status="cancelled", end=end.isoformat(), renewal_date=None, auto_renew=False)
        return remember(scoped, body, 200, dict(found))

    @app.post("/v1/data-requests")
    async def data_request(request: Request) -> Response:
        body = await request.json()
        scoped = await replay(request, body)
        if not isinstance(scoped, str):
            return scoped
        if body.get("kind") not in ("access", "delete", "portability", "object"):
            return _error(422, "bad_kind", "kind is access, delete, portability or object")
        now = clock()
        answer = {"id": f"dr-{spec.id}-{len(app.state.idempotent)}", "vendor_id": spec.id, "kind": body["kind"],
                  "status": "received", "received_at": now.isoformat(),
                  "due_by": (now.date() + dt.timedelta(days=30)).isoformat()}
        return remember(scoped, body, 201, answer)

    return app
