"""A vendor speaking the example vendors' API that negotiates fairly and then cheats at checkout, one way at a time.

It keeps the ledger a real payment processor would: `charges` (what it actually took, per checkout) and
`orders` (what it placed). Tests compare those with what butler recorded.

    prepare  how the checkout butler pays is prepared, from the second prepare call on (the first, taken when
             the deal is queued, is honest): honest | raise | shipping | currency | items | terms | not-json |
             array | no-total | bad-amount | huge | negative | nan | parts
    pay      honest | overcharge (takes more than authorised) | refuse (409, takes nothing) | not-json | array |
             no-id | bad-total | negative-total | bad-date (the order is placed, the answer is broken) |
             lost (placed, then 502) | stall (placed, then no answer before the deadline)
    find     honest | broken (500) | malformed
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

API_KEY = "cheat-key"
PREPARE_MODES = ("honest", "raise", "shipping", "currency", "items", "terms", "not-json", "array", "no-total",
                 "bad-amount", "huge", "negative", "nan", "parts")
PAY_MALFORMED = ("not-json", "array", "no-id", "bad-total", "negative-total", "bad-date")
PAY_MODES = ("honest", "overcharge", "refuse", "lost", "stall", *PAY_MALFORMED)
FIND_MODES = ("honest", "broken", "malformed")
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).isoformat()


@dataclass
class Cheat:
    prepare: str = "honest"
    pay: str = "honest"
    find: str = "honest"
    price: str = "35.00"
    period: str = "once"
    shipping: str = "0.00"  # honest shipping, shown from the first quote on
    stall_seconds: float = 5.0
    charges: list[tuple[str, Decimal]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    prepares: int = 0
    finds: int = 0
    pay_bodies: list[dict[str, Any]] = field(default_factory=list)
    checkouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    keyed: dict[str, Any] = field(default_factory=dict)
    kill_pid: int | None = None  # SIGKILL this process at `kill_at`: prepare | pay-before | pay-after
    kill_at: str = ""

    def reset(self) -> None:
        """Forget every checkout, order and charge (negotiations stay agreed), as if the shop were new."""
        for kept in (self.charges, self.pay_bodies, self.cancelled):
            kept.clear()
        for table in (self.orders, self.checkouts, self.keyed):
            table.clear()
        self.prepares = 1  # the quote taken when the deal was queued is not asked again

    def maybe_kill(self, point: str) -> None:
        if self.kill_pid is not None and self.kill_at == point:
            os.kill(self.kill_pid, signal.SIGKILL)
            self.kill_pid = None


def _money(amount: Decimal | str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def make_cheat_app(cheat: Cheat, *, vendor_id: str = "cheat") -> FastAPI:
    assert cheat.prepare in PREPARE_MODES and cheat.pay in PAY_MODES and cheat.find in FIND_MODES
    app = FastAPI()
    sessions: dict[str, dict[str, Any]] = {}
    checkouts, keyed = cheat.checkouts, cheat.keyed
    offer_id = f"{vendor_id}-1"

    def terms(amount: str) -> dict[str, Any]:
        return {"price": _money(amount), "term_months": 0, "data_use": "service", "extras": []}

    @app.get("/v1/vendor")
    async def about() -> dict[str, Any]:
        return {"id": vendor_id}

    @app.get("/v1/offers")
    async def offers() -> dict[str, Any]:
        return {"vendor_id": vendor_id, "offers": [{
            "id": offer_id, "product": "Kettle", "category": "shop", "price": _money(cheat.price),
            "period": cheat.period, "term_months": 0, "auto_renew": False, "data_use": "service"}]}

    def session(sid: str) -> dict[str, Any]:
        return sessions[sid]

    @app.post("/v1/negotiations")
    async def open_(request: Request) -> Response:
        sid = f"s{len(sessions) + 1}"
        sessions[sid] = {"id": sid, "offer_id": offer_id, "status": "open", "agreed_terms": None,
                         "constraints": {"max_rounds": 20, "deadline": NOW},
                         "offers": [{"round": 1, "proposer": "vendor", "terms": terms(cheat.price), "expires_at": NOW}]}
        return JSONResponse(sessions[sid], status_code=201)

    @app.get("/v1/negotiations/{sid}")
    async def get(sid: str) -> Response:
        return JSONResponse(session(sid))

    @app.post("/v1/negotiations/{sid}/offers")
    async def counter(sid: str, request: Request) -> Response:
        body = await request.json()
        s = session(sid)
        s["offers"].append({"round": body["round"], "proposer": "buyer", "terms": body["terms"], "expires_at": NOW})
        s["status"], s["agreed_terms"] = "accepted", body["terms"]
        return JSONResponse(s)

    @app.post("/v1/negotiations/{sid}/accept")
    async def accept(sid: str) -> Response:
        s = session(sid)
        s["status"], s["agreed_terms"] = "accepted", s["offers"][-1]["terms"]
        return JSONResponse(s)

    def quote(cid: str, agreed: dict[str, Any], mode: str) -> Any:
        price = Decimal(agreed["price"]["amount"])
        shipping = Decimal(cheat.shipping)
        currency, item, quantity, the_terms = "EUR", offer_id, 1, dict(agreed)
        if mode == "raise":
            price = price + Decimal("14.00")
            the_terms = {**agreed, "price": _money(price)}
        elif mode == "shipping":
            shipping += Decimal("5.00")
        elif mode == "currency":
            currency = "USD"
            the_terms = {**agreed, "price": _money(price, "USD")}
        elif mode == "items":
            item, quantity = "cheat-2", 2
        elif mode == "terms":
            the_terms = {**agreed, "term_months": 24, "data_use": "share-third-party"}
        amount = price * quantity
        wire: dict[str, Any] = {
            "id": cid, "offer_id": offer_id, "status": "open",
            "lines": [{"item": item, "description": "Kettle", "quantity": quantity,
                       "amount": _money(amount, currency)}],
            "shipping": _money(shipping, currency), "tax": _money("0.00", currency),
            "fees": _money("0.00", currency), "total": _money(amount + shipping, currency), "terms": the_terms}
        malformed = {
            "not-json": None, "array": [wire], "no-total": {k: v for k, v in wire.items() if k != "total"},
            "bad-amount": {**wire, "total": {"amount": "lots", "currency": "EUR"}},
            "huge": {**wire, "total": _money("1e26"), "lines": [{**wire["lines"][0], "amount": _money("1e26")}]},
            "negative": {**wire, "total": _money("-35.00"), "lines": [{**wire["lines"][0], "amount": _money("-35")}]},
            "nan": {**wire, "total": {"amount": "NaN", "currency": "EUR"}},
            "parts": {**wire, "total": _money(amount + shipping - Decimal("10.00"))},
        }
        return malformed.get(mode, wire)

    @app.post("/v1/checkouts")
    async def prepare(request: Request) -> Response:
        body = await request.json()
        cheat.prepares += 1
        cheat.maybe_kill("prepare")
        mode = cheat.prepare if cheat.prepares > 1 else "honest"
        agreed = session(body["negotiation_id"])["agreed_terms"]
        cid = f"co{cheat.prepares}"
        wire = quote(cid, agreed, mode)
        if isinstance(wire, dict) and "total" in wire:
            checkouts[cid] = wire
        if wire is None:
            return Response("<html>oops</html>", status_code=201, media_type="application/json")
        return JSONResponse(wire, status_code=201)

    def order_wire(cid: str, total: Decimal) -> dict[str, Any]:
        checkout = checkouts[cid]
        oid = f"o{len(cheat.orders) + 1}"
        placed = {"id": oid, "vendor_id": vendor_id, "offer_id": offer_id, "checkout_id": cid,
                  "status": "confirmed", "terms": checkout["terms"], "total": _money(total),
                  "created_at": NOW, "contract_id": f"c-{oid}" if cheat.period != "once" else None}
        cheat.orders[oid] = placed
        cheat.charges.append((cid, total))
        checkout["status"] = "paid"
        return placed

    @app.post("/v1/checkouts/{cid}/pay")
    async def pay(cid: str, request: Request) -> Response:
        key = request.headers.get("idempotency-key", "")
        if key in keyed:  # a retry with the same key: the same answer, never a second order
            return JSONResponse(keyed[key], status_code=201)
        body = await request.json()
        cheat.pay_bodies.append(body)
        checkout = checkouts[cid]
        total = Decimal(checkout["total"]["amount"])
        if cheat.pay == "refuse":
            return JSONResponse({"error": {"code": "total_changed", "message": "the total changed to 49.00 EUR"}},
                                status_code=409)
        if cheat.pay == "overcharge":
            total += Decimal("14.00")
        elif Decimal(body["amount"]["amount"]) != total:
            return JSONResponse({"error": {"code": "total_changed", "message": "not the amount"}}, status_code=409)
        if checkout["status"] == "paid":  # paid under another key: the same order, never a second charge
            return JSONResponse(next(o for o in cheat.orders.values() if o["checkout_id"] == cid), status_code=201)
        cheat.maybe_kill("pay-before")
        placed = order_wire(cid, total)
        keyed[key] = placed
        cheat.maybe_kill("pay-after")
        if cheat.pay == "lost":
            return JSONResponse({"error": {"code": "bad_gateway", "message": "upstream"}}, status_code=502)
        if cheat.pay == "stall":
            await asyncio.sleep(cheat.stall_seconds)
        broken: dict[str, Any] = {
            "not-json": None, "array": [placed], "no-id": {k: v for k, v in placed.items() if k != "id"},
            "bad-total": {**placed, "total": "fourty-nine"}, "negative-total": {**placed, "total": _money("-1")},
            "bad-date": {**placed, "created_at": "yesterday"}}
        if cheat.pay in broken:
            if broken[cheat.pay] is None:
                return Response('{"id": "o', status_code=201, media_type="application/json")
            return JSONResponse(broken[cheat.pay], status_code=201)
        return JSONResponse(placed, status_code=201)

    @app.post("/v1/checkouts/{cid}/cancel")
    async def cancel_checkout(cid: str) -> Response:
        cheat.cancelled.append(cid)
        return JSONResponse({**checkouts.get(cid, {"id": cid}), "status": "cancelled"})

    @app.get("/v1/orders")
    async def find(checkout_id: str) -> Response:
        cheat.finds += 1
        if cheat.find == "broken":
            return JSONResponse({"error": {"code": "down", "message": "down"}}, status_code=500)
        if cheat.find == "malformed":
            return JSONResponse({"orders": "yes"})
        return JSONResponse({"orders": [o for o in cheat.orders.values() if o["checkout_id"] == checkout_id]})

    @app.post("/v1/contracts/{contract_id}/cancel")
    async def cancel_contract(contract_id: str) -> Response:
        cheat.cancelled.append(contract_id)
        return JSONResponse({"id": contract_id, "vendor_id": vendor_id, "product": "Kettle", "category": "shop",
                             "price": _money(cheat.price), "period": cheat.period, "term_months": 0,
                             "start": "2030-01-01", "end": "2030-02-01", "renewal_date": None, "auto_renew": False})

    return app
