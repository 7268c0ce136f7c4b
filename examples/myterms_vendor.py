"""An example vendor that speaks MyTerms (IEEE 7012) the way butler does (see docs/terms.md).

It publishes `/.well-known/myterms.json` and `/.well-known/gpc.json`, and answers `POST /myterms/proffer`:
it accepts an agreement it lists, otherwise counter-offers its one alternative (if it has one), otherwise
refuses. It checks the Ed25519 signature on the proffer record with only the public key sent alongside, and
it remembers every request's headers so tests can see that `Sec-GPC: 1` was sent.

Run it:  .venv/bin/python -m uvicorn --app-dir examples myterms_vendor:app --port 8012
Tests build their own with `make_app(Behaviour(...))` and may change `app.state.behaviour` between requests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

__all__ = ["Behaviour", "Seen", "app", "make_app"]


@dataclass
class Behaviour:
    """How the vendor answers. `raw_proffer` replaces the proffer answer with (status, bytes): hostile tests."""

    accepts: tuple[str, ...] = ("SD-BASE",)
    alternative: str | None = None
    refuse_reason: str = "We only do business on our own terms."
    publish_myterms: bool = True
    gpc: bool | None = True
    max_age: int | None = None
    raw_proffer: tuple[int, bytes] | None = None
    raw_myterms: tuple[int, bytes] | None = None


@dataclass
class Seen:
    """What the vendor saw: every request (method, path, headers) and the agreements it made."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    proffers: list[dict[str, Any]] = field(default_factory=list)
    agreements: dict[str, str] = field(default_factory=dict)  # person → agreement


def _signature_ok(body: dict[str, Any]) -> bool:
    try:
        record = dict(body["record"])
        signature = base64.b64decode(record.pop("signature"), validate=True)
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(body["public_key"], validate=True))
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        key.verify(signature, canonical)
    except (KeyError, TypeError, ValueError, InvalidSignature):
        return False
    return record.get("term_id") == body.get("agreement")


def make_app(behaviour: Behaviour | None = None) -> FastAPI:
    app = FastAPI(title="Example MyTerms vendor")
    app.state.behaviour = behaviour or Behaviour()
    app.state.seen = Seen()

    def now() -> Behaviour:
        current: Behaviour = app.state.behaviour
        return current

    @app.middleware("http")
    async def remember(request: Request, call_next: Any) -> Response:
        app.state.seen.requests.append((request.method, request.url.path, dict(request.headers)))
        response: Response = await call_next(request)
        return response

    @app.get("/.well-known/myterms.json")
    async def myterms(request: Request) -> Response:
        b = now()
        if b.raw_myterms is not None:
            return Response(b.raw_myterms[1], status_code=b.raw_myterms[0], media_type="application/json")
        if not b.publish_myterms:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        document = {
            "effective_date": "Mon, 01 Sep 2025 00:00:00 +0000",
            "agreements": [{"id": a, "url": f"https://myterms.info/agreements/{a}"} for a in b.accepts],
            "tos_url": "https://vendor.example/terms",
        }
        etag = '"' + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16] + '"'
        headers = {"ETag": etag}
        if b.max_age is not None:
            headers["Cache-Control"] = f"max-age={b.max_age}"
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return JSONResponse(document, headers=headers)

    @app.get("/.well-known/gpc.json")
    async def gpc() -> Response:
        b = now()
        if b.gpc is None:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return JSONResponse({"gpc": b.gpc, "lastUpdate": "2025-09-01"})

    @app.post("/myterms/proffer")
    async def proffer(request: Request) -> Response:
        b = now()
        if b.raw_proffer is not None:
            return Response(b.raw_proffer[1], status_code=b.raw_proffer[0], media_type="application/json")
        body = await request.json()
        app.state.seen.proffers.append(body)
        term = body.get("agreement")
        if not _signature_ok(body):
            return JSONResponse({"status": "AgreementRefused", "reason": "the proffer record is not signed"})
        if term in b.accepts:
            app.state.seen.agreements[str(body.get("person"))] = term
            return JSONResponse({"status": "AgreementAccepted", "agreement": term})
        if b.alternative is not None and b.alternative != term:
            return JSONResponse({"status": "AgreementNegotiationCounterOfferMade", "agreement": term,
                                 "alternative": b.alternative})
        return JSONResponse({"status": "AgreementRefused", "agreement": term, "reason": b.refuse_reason})

    return app


app = make_app()
