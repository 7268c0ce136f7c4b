"""A small vendor speaking the example vendors' API, that misbehaves in one chosen way."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

API_KEY = "hostile-key"
MODES = ("honest", "checkout-price", "redirect", "malformed", "huge", "stall", "currency-offer", "currency-switch",
         "endless", "stall-about", "bomb-about")


def make_hostile_app(mode: str, *, vendor_id: str = "hostile", price: str = "10.00", stall_seconds: float = 3.0,
                     opening: str | None = None) -> FastAPI:
    """`price` is the listed price, sent as given ("1e26", "-100.00", "NaN" too); `opening` the price the vendor
    opens a negotiation with (the listed one unless given). In "stall-about" mode, and whenever the test sets
    `app.state.stall_about`, GET /v1/vendor (what `validate()` asks) stalls until the test clears the flag or
    `stall_seconds` pass; in "bomb-about" mode it answers 16 MiB of zeros gzipped twice (a few hundred bytes on
    the wire). `app.state.about_calls` counts those requests."""
    assert mode in MODES, mode
    app = FastAPI()
    app.state.orders = []
    app.state.cancelled = []
    app.state.calls = 0
    app.state.about_calls = 0
    app.state.stall_about = mode == "stall-about"
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC).isoformat()
    currency = "USD" if mode == "currency-offer" else "EUR"

    def terms(amount: str, cur: str = currency) -> dict[str, Any]:
        return {"price": {"amount": amount, "currency": cur}, "term_months": 0, "data_use": "service", "extras": []}

    sessions: dict[str, dict[str, Any]] = {}

    @app.get("/v1/vendor")
    async def about() -> Response:
        app.state.about_calls += 1
        waited = 0.0
        while app.state.stall_about and waited < stall_seconds:  # polled, so a test can end the stall at once
            await asyncio.sleep(0.02)
            waited += 0.02
        if mode == "bomb-about":
            bomb = gzip.compress(gzip.compress(bytes(16 << 20), 9), 9)
            return Response(bomb, media_type="application/json", headers={"Content-Encoding": "gzip, gzip"})
        return JSONResponse({"id": vendor_id})

    @app.get("/v1/offers")
    async def offers() -> Response:
        if mode == "redirect":
            return RedirectResponse("http://evil.example/v1/offers", status_code=307)
        return JSONResponse({"vendor_id": vendor_id, "offers": [{
            "id": f"{vendor_id}-1", "product": "Gadget", "category": "shop", "price": terms(price)["price"],
            "period": "once", "term_months": 0, "auto_renew": False, "data_use": "service"}]})

    def session_of(sid: str, offers_: list[dict[str, Any]], status: str = "open", agreed: Any = None,
                   max_rounds: int = 20) -> dict[str, Any]:
        return {"id": sid, "offer_id": f"{vendor_id}-1", "status": status, "agreed_terms": agreed,
                "constraints": {"max_rounds": max_rounds, "deadline": now}, "offers": offers_}

    @app.post("/v1/negotiations")
    async def open_(request: Request) -> Response:
        app.state.calls += 1
        if mode == "malformed":
            return Response('{"id": "s1", "offers": [', media_type="application/json")
        if mode == "huge":
            return Response(b'{"pad": "' + b"x" * (20 * 1024 * 1024) + b'"}', media_type="application/json")
        if mode == "stall":
            await asyncio.sleep(stall_seconds)
        opening_terms = terms(opening if opening is not None else price,
                              "USD" if mode == "currency-switch" else currency)
        if mode == "endless":  # asks more than listed, so butler never accepts
            opening_terms = terms(str(float(price) + 1))
        sid = f"s{len(sessions) + 1}"
        sessions[sid] = session_of(sid, [{"round": 1, "proposer": "vendor", "terms": opening_terms,
                                          "expires_at": now}],
                                   max_rounds=1_000_000 if mode == "endless" else 20)
        return JSONResponse(sessions[sid], status_code=201)

    @app.get("/v1/negotiations/{sid}")
    async def get(sid: str) -> Response:
        return JSONResponse(sessions[sid])

    @app.post("/v1/negotiations/{sid}/offers")
    async def counter(sid: str, request: Request) -> Response:
        body = await request.json()
        session = sessions[sid]
        session["offers"].append({"round": body["round"], "proposer": "buyer", "terms": body["terms"],
                                  "expires_at": now})
        if mode == "endless":  # never agrees, never ends: the same counter-offer for ever
            session["offers"].append({"round": body["round"] + 1, "proposer": "vendor",
                                      "terms": terms(str(float(price) + 1)), "expires_at": now})
        else:
            session["status"], session["agreed_terms"] = "accepted", body["terms"]
        return JSONResponse(session)

    @app.post("/v1/negotiations/{sid}/accept")
    async def accept(sid: str) -> Response:
        session = sessions[sid]
        session["status"], session["agreed_terms"] = "accepted", session["offers"][-1]["terms"]
        return JSONResponse(session)

    @app.post("/v1/orders")
    async def order(request: Request) -> Response:
        body = await request.json()
        agreed = dict(sessions[body["negotiation_id"]]["agreed_terms"])
        if mode == "checkout-price":  # the price "went up" between agreement and checkout
            agreed["price"] = {"amount": str(float(agreed["price"]["amount"]) + 5), "currency": "EUR"}
        placed = {"id": f"o{len(app.state.orders) + 1}", "vendor_id": vendor_id, "offer_id": body["offer_id"],
                  "total": agreed["price"], "terms": agreed, "created_at": now, "contract_id": "c1"}
        app.state.orders.append(placed)
        return JSONResponse(placed, status_code=201)

    @app.post("/v1/contracts/{cid}/cancel")
    async def cancel(cid: str) -> Response:
        app.state.cancelled.append(cid)
        return JSONResponse({"id": cid, "vendor_id": vendor_id, "product": "Gadget", "category": "shop",
                             "price": terms(price)["price"], "period": "once", "term_months": 0,
                             "start": "2030-01-01", "end": "2030-02-01", "renewal_date": None, "auto_renew": False})

    return app
