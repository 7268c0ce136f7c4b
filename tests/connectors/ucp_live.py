"""Shared helpers for the UCP connector's hostile tests: the project's own lenient UCP merchant on loopback, for
what the reference merchant cannot play (other versions, other capabilities, a card tokenizer), and a connector
for it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from butler_ucp import UcpConnector

from butler.sdk import ConnectorContext
from butler.testing import live_server
from examples.vendors.ucp_merchant import make_app

API_KEY = "ucp-test-key-5c1f"
BUYER = {"email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace"}
ADDRESS = {"street_address": "1 Analytical Row", "address_locality": "London", "postal_code": "N1 7AA",
           "address_country": "GB"}


def settings(url: str, **extra: Any) -> dict[str, Any]:
    return {"base_url": url, "buyer": BUYER, "shipping": {"address": ADDRESS, "option_id": "standard"},
            "currency": "EUR", **extra}


@contextmanager
def merchant(**options: Any) -> Iterator[tuple[Any, str]]:
    """The merchant app (its `state.log` records requests) and its base URL."""
    app = make_app(api_key=API_KEY, **options)
    with live_server(app) as url:
        yield app, url


def connector(url: str, *, secrets: Mapping[str, str] | None = None, **extra: Any) -> UcpConnector:
    """A connector for the merchant at `url`: its API key and any other `secrets`, settings with `extra`."""
    ctx = ConnectorContext(UcpConnector.manifest, settings=settings(url, **extra),
                           secrets={"api_key": API_KEY, **(secrets or {})})
    return UcpConnector(ctx)
