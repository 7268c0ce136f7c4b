"""HTTP for MyTerms: one way to make a client, one way to send a request.

The client comes from the one egress (`butler.sdk.egress`): a vendor's URL is the person's, so only public
addresses are reached (a loopback address written in the URL too, when `[terms] allow_loopback` is set in
config.toml, for tests and local setups), the name is resolved once and the request sent to the address
checked, redirects are not followed, and an answer is refused once its decoded size passes MAX_BODY_BYTES.
Every request carries `Sec-GPC: 1` (Global Privacy Control), also on a client a caller injects; `fetch` reads
at most MAX_BODY_BYTES of any answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from butler.config import load_config
from butler.errors import UsageError
from butler.sdk import HostNotAllowed
from butler.sdk.egress import HostPolicy, Resolver, ResponseTooLarge, UndecodableResponse, async_client
from butler.terms.errors import VendorAnswerInvalid, VendorUnavailable

__all__ = [
    "GPC_HEADERS", "MAX_BODY_BYTES", "Fetched", "client_or_new", "fetch", "gpc_client", "normalise_url", "vendor_key",
]

GPC_HEADERS: dict[str, str] = {"Sec-GPC": "1"}
MAX_BODY_BYTES = 1_000_000
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE_SECONDS = 20.0
_LOOPBACK_HINT = ("MyTerms vendors are reached on public addresses only. For a vendor on this machine (tests, local "
                  "setups), write its address (http://127.0.0.1:PORT) and set `allow_loopback = true` under [terms] "
                  "in config.toml.")


def gpc_client(transport: httpx.AsyncBaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT, *,
               resolver: Resolver | None = None, allow_loopback: bool = False) -> httpx.AsyncClient:
    """A new AsyncClient from the one egress: public addresses only (`allow_loopback`: also a loopback address
    written in the URL), `Sec-GPC: 1`, no redirects, answers capped at MAX_BODY_BYTES; the caller closes it.

    `transport` stands in for the network in tests; names are still resolved, by `resolver` (the system's by
    default).
    """
    return async_client(HostPolicy.public(allow_loopback=allow_loopback, who="MyTerms"), inner=transport,
                        resolver=resolver, max_bytes=MAX_BODY_BYTES, deadline=DEADLINE_SECONDS, timeout=timeout)


@asynccontextmanager
async def client_or_new(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    """The caller's `client` (the caller closes it), or a new `gpc_client()` that is closed on leaving; it
    reaches loopback only when config.toml allows it (`[terms] allow_loopback`)."""
    if client is not None:
        yield client
        return
    own = gpc_client(allow_loopback=load_config().terms.allow_loopback)
    try:
        yield own
    finally:
        await own.aclose()


def normalise_url(url: str) -> str:
    """The vendor's base URL: http(s), a host, no query or fragment, no trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not a vendor URL: {url!r}", "Give the vendor's base URL, e.g. https://shop.example")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"a vendor URL has no query, fragment or credentials: {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def vendor_key(url_or_key: str) -> str:
    """How butler names a vendor in its records: the host (and port, if not the default), lower case."""
    if "://" not in url_or_key:
        key = url_or_key.strip().lower()
        if not key or any(ch in key for ch in "/ \t\n?#"):
            raise UsageError(f"not a vendor name or URL: {url_or_key!r}")
        return key
    parts = urlsplit(normalise_url(url_or_key))
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


@dataclass(frozen=True)
class Fetched:
    """A response read within the size cap."""

    status: int
    headers: httpx.Headers
    body: bytes


async def fetch(client: httpx.AsyncClient, method: str, url: str, *, json: Any = None,
                headers: dict[str, str] | None = None, max_bytes: int = MAX_BODY_BYTES) -> Fetched:
    """Send one request with `Sec-GPC: 1` and read at most `max_bytes` of the answer.

    Raises VendorUnavailable when the vendor cannot be reached, times out or answers 5xx; VendorAnswerInvalid
    when the answer is larger than `max_bytes` (or the client's cap) or encoded in a way butler does not read;
    UsageError when the client's policy does not reach the vendor's address (a private one, say).
    """
    request = client.build_request(method, url, json=json, headers={**(headers or {}), **GPC_HEADERS})
    try:
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise VendorAnswerInvalid(f"{url} answered {declared} bytes, more than the {max_bytes} allowed")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise VendorAnswerInvalid(f"{url} answered more than the {max_bytes} bytes allowed")
                chunks.append(chunk)
        finally:
            await response.aclose()
    except HostNotAllowed as exc:
        raise UsageError(exc.message, _LOOPBACK_HINT) from None
    except ResponseTooLarge as exc:
        raise VendorAnswerInvalid(f"{url} answered more than the {max_bytes} bytes allowed ({exc.message})") from None
    except UndecodableResponse as exc:
        raise VendorAnswerInvalid(exc.message) from None
    except httpx.TimeoutException as exc:
        raise VendorUnavailable(f"{url} did not answer in time ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise VendorUnavailable(f"cannot reach {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code >= 500:
        raise VendorUnavailable(f"{url} failed with HTTP {response.status_code}")
    return Fetched(response.status_code, response.headers, b"".join(chunks))
