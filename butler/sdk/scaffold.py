"""`butler connectors new NAME`: a connector package that passes the conformance kit from its first minute.

It holds a connector (list_offers; checkout in two steps, prepare_checkout and pay), a fake vendor for its
tests, and the one-line conformance test.
"""

from __future__ import annotations

import re
from pathlib import Path

from butler.errors import UsageError

__all__ = ["scaffold"]

_PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "butler-{id}"
version = "0.1.0"
description = "Butler connector for {title}"
requires-python = ">=3.11"
dependencies = ["butler>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points."butler.connectors"]
{id} = "{module}:{cls}"

[tool.setuptools.packages.find]
where = ["src"]
'''

_CONNECTOR = '''"""Butler connector for {title}."""

from __future__ import annotations

import datetime as dt
from typing import Any

from butler.sdk import (Capability, CheckoutLine, CheckoutQuote, Connector, Manifest, Money, Offer, OfferQuery,
                        Purchase, SecretSpec)
from pydantic import BaseModel, ConfigDict

__all__ = ["{cls}", "Settings"]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = "https://api.{id}.example"


class {cls}(Connector):
    manifest = Manifest.build(
        id="{id}",
        name="{title}",
        version="0.1.0",
        capabilities={{Capability.LIST_OFFERS, Capability.CHECKOUT}},
        # 127.0.0.1 is where tests/fake_vendor.py runs: remove it once you test against the real vendor
        allowed_hosts=("api.{id}.example", "127.0.0.1"),
        secrets=(SecretSpec(name="api_key", description="from your account page at {id}.example"),),
        settings=Settings,
    )

    def _auth(self) -> dict[str, str]:
        return {{"Authorization": f"Bearer {{self.ctx.secrets.get('api_key')}}"}}

    async def validate(self) -> None:
        await self.ctx.request("GET", "/v1/offers", headers=self._auth())

    async def list_offers(self, query: OfferQuery) -> list[Offer]:
        answer: dict[str, Any] = await self.ctx.json("GET", "/v1/offers", headers=self._auth())
        return [Offer(id=o["id"], vendor_id="{id}", product=o["name"], category=o["category"],
                      price=Money.model_validate(o["price"]), period=o["period"]) for o in answer["offers"]]

    async def prepare_checkout(self, offer_id: str, *, idempotency_key: str,
                               session_id: str | None = None) -> CheckoutQuote:
        cart = await self.ctx.json("POST", "/v1/carts", json={{"offer_id": offer_id}}, headers=self._auth(),
                                   offer_id=offer_id, idempotency_key=idempotency_key)
        line = CheckoutLine(item=offer_id, amount=Money.model_validate(cart["price"]))
        return CheckoutQuote(checkout_id=cart["id"], offer_id=offer_id, lines=(line,),
                             shipping=Money.model_validate(cart["shipping"]), total=Money.model_validate(cart["total"]))

    async def pay(self, quote: CheckoutQuote, *, idempotency_key: str) -> Purchase:
        # the amount authorised: the vendor must refuse, not charge, if its cart now costs anything else
        order = await self.ctx.json("POST", f"/v1/carts/{{quote.checkout_id}}/pay", headers=self._auth(),
                                    json={{"amount": quote.total.model_dump(mode="json")}},
                                    idempotency_key=idempotency_key)
        return self._purchase(order)

    def _purchase(self, order: dict[str, Any]) -> Purchase:
        return Purchase(id=order["id"], vendor_id="{id}", offer_id=order["offer_id"], items=(order["offer_id"],),
                        total=Money.model_validate(order["total"]), at=dt.datetime.fromisoformat(order["at"]))

    async def find_order(self, quote: CheckoutQuote) -> Purchase | None:
        answer = await self.ctx.json("GET", f"/v1/carts/{{quote.checkout_id}}", headers=self._auth())
        return self._purchase(answer["order"]) if answer.get("order") else None
'''

_FAKE_VENDOR = '''"""A stand-in for {title}'s API, just enough for the conformance kit; grow it with the real API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

API_KEY = "test-key-{id}"
OFFERS = [{{"id": "basic", "name": "Basic", "category": "shop", "price": {{"amount": "9.99", "currency": "EUR"}},
           "period": "month"}}]


def make_app() -> FastAPI:
    app = FastAPI()
    carts: dict[str, dict[str, Any]] = {{}}

    def refused(authorization: str | None) -> JSONResponse | None:
        if authorization != f"Bearer {{API_KEY}}":
            return JSONResponse({{"error": "unauthorized"}}, status_code=401)
        return None

    @app.get("/v1/offers")
    async def offers(authorization: str | None = Header(None)) -> Any:
        return refused(authorization) or {{"offers": OFFERS}}

    @app.post("/v1/carts")
    async def cart(body: dict[str, Any], authorization: str | None = Header(None),
                   idempotency_key: str | None = Header(None)) -> Any:
        if (answer := refused(authorization)) is not None:
            return answer
        if not idempotency_key:
            return JSONResponse({{"error": "Idempotency-Key required"}}, status_code=400)
        if idempotency_key not in carts:
            cart_id = f"cart-{{len(carts) + 1}}"
            shipping = {{"amount": "0.00", "currency": "EUR"}}
            carts[idempotency_key] = {{"id": cart_id, "offer_id": body["offer_id"], "price": OFFERS[0]["price"],
                                      "shipping": shipping, "total": OFFERS[0]["price"], "order": None}}
        return carts[idempotency_key]

    def by_id(cart_id: str) -> dict[str, Any] | None:
        return next((c for c in carts.values() if c["id"] == cart_id), None)

    @app.get("/v1/carts/{{cart_id}}")
    async def get_cart(cart_id: str, authorization: str | None = Header(None)) -> Any:
        found = by_id(cart_id)
        return refused(authorization) or found or JSONResponse({{"error": "not found"}}, status_code=404)

    @app.post("/v1/carts/{{cart_id}}/pay")
    async def pay(cart_id: str, body: dict[str, Any], authorization: str | None = Header(None),
                  idempotency_key: str | None = Header(None)) -> Any:
        if (answer := refused(authorization)) is not None:
            return answer
        found = by_id(cart_id)
        if not idempotency_key or found is None:
            return JSONResponse({{"error": "Idempotency-Key and a cart required"}}, status_code=400)
        if body.get("amount") != found["total"]:
            return JSONResponse({{"error": "the cart costs another amount"}}, status_code=409)
        if found["order"] is None:
            found["order"] = {{"id": f"order-{{cart_id}}", "offer_id": found["offer_id"], "total": found["total"],
                              "at": "2026-01-11T12:00:00+00:00"}}
        return found["order"]

    return app
'''

_TEST = '''"""Butler's conformance tests for {title}, against the fake vendor on loopback."""

from collections.abc import Iterator
from contextlib import contextmanager

from fake_vendor import API_KEY, make_app
from {module} import {cls}

from butler.testing import LiveVendor, connector_test_class, live_server


@contextmanager
def fake_vendor() -> Iterator[LiveVendor]:
    with live_server(make_app()) as url:
        yield LiveVendor(settings={{"base_url": url}}, secrets={{"api_key": API_KEY}})


Test{cls} = connector_test_class({cls}, live=fake_vendor)
'''

_README = '''# butler-{id}

A [butler](https://github.com/) connector for {title}.

    pip install -e .[test]
    pytest tests            # butler's conformance kit, against tests/fake_vendor.py
    butler connectors about {id}
    butler connectors enable {id} --set base_url=https://api.{id}.example

See butler's docs/connectors.md for the whole guide.
'''


def scaffold(name: str, directory: Path) -> Path:
    """Create `directory/butler-<name>/` for connector id `name`; returns its path. Refuses to overwrite."""
    connector_id = name.strip().lower().removeprefix("butler-")
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,62}", connector_id):
        raise UsageError(f"not a connector id: {name!r}",
                         "Use lower-case letters, digits and dashes, e.g. acme-energy.")
    root = directory / f"butler-{connector_id}"
    if root.exists():
        raise UsageError(f"{root} already exists; nothing was written")
    module = "butler_" + connector_id.replace("-", "_")
    words = connector_id.split("-")
    fields = {"id": connector_id, "module": module, "title": " ".join(w.capitalize() for w in words),
              "cls": "".join(w.capitalize() for w in words) + "Connector"}
    files = {
        "pyproject.toml": _PYPROJECT, "README.md": _README, f"src/{module}/__init__.py": _CONNECTOR,
        f"src/{module}/py.typed": "", "tests/fake_vendor.py": _FAKE_VENDOR, "tests/test_connector.py": _TEST,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**fields), encoding="utf-8")
    return root
