"""The host allowlist holds against redirects, absolute URLs in answers, and DNS names pointing elsewhere."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse

from butler.sdk import (
    AllowlistTransport,
    Capability,
    ConnectorContext,
    HostNotAllowed,
    Manifest,
    host_allowed,
)
from butler.testing import RecordingTransport, live_server

seen: list[tuple[str, dict[str, str]]] = []


def _vendor() -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def remember(request, call_next):  # type: ignore[no-untyped-def]
        seen.append((request.url.path, dict(request.headers)))
        return await call_next(request)

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/bounce")
    async def bounce(to: str) -> RedirectResponse:
        return RedirectResponse(to, status_code=302)

    @app.get("/links")
    async def links(other: str) -> JSONResponse:
        return JSONResponse({"next": f"{other}/ok"})

    return app


@pytest.fixture(scope="module")
def vendor_url() -> Iterator[str]:
    with live_server(_vendor()) as url:
        yield url


@pytest.fixture(scope="module")
def other_url() -> Iterator[str]:
    """A second server, on another loopback address the manifest does not declare."""
    with live_server(_vendor(), host="127.0.0.2") as url:
        yield url


def manifest(*hosts: str) -> Manifest:
    return Manifest(id="allow-test", name="Allow test", version="1.0.0",
                    capabilities=frozenset({Capability.LIST_OFFERS}), allowed_hosts=hosts)


async def test_declared_host_is_reached_with_gpc(vendor_url: str) -> None:
    async with ConnectorContext(manifest("127.0.0.1")) as ctx:
        response = await ctx.http.get(f"{vendor_url}/ok", headers={"Sec-GPC": "0"})
    assert response.json() == {"ok": "yes"}
    assert seen[-1][1]["sec-gpc"] == "1"


async def test_redirect_to_an_undeclared_host_is_refused(vendor_url: str, other_url: str) -> None:
    seen.clear()
    async with ConnectorContext(manifest("127.0.0.1")) as ctx:
        with pytest.raises(HostNotAllowed, match=r"127\.0\.0\.2"):
            await ctx.http.get(f"{vendor_url}/bounce", params={"to": f"{other_url}/ok"})
    assert [path for path, _ in seen] == ["/bounce"], "the redirect target must never be contacted"


async def test_redirect_within_declared_hosts_is_followed(vendor_url: str) -> None:
    async with ConnectorContext(manifest("127.0.0.1")) as ctx:
        response = await ctx.http.get(f"{vendor_url}/bounce", params={"to": f"{vendor_url}/ok"})
    assert response.json() == {"ok": "yes"}


async def test_absolute_url_in_an_answer_is_refused(vendor_url: str, other_url: str) -> None:
    seen.clear()
    async with ConnectorContext(manifest("127.0.0.1")) as ctx:
        link = (await ctx.http.get(f"{vendor_url}/links", params={"other": other_url})).json()["next"]
        with pytest.raises(HostNotAllowed):
            await ctx.http.get(link)
    assert [path for path, _ in seen] == ["/links"]


async def test_localhost_is_not_127_0_0_1(vendor_url: str) -> None:
    port = httpx.URL(vendor_url).port
    async with ConnectorContext(manifest("127.0.0.1")) as ctx:
        with pytest.raises(HostNotAllowed, match="localhost"):
            await ctx.http.get(f"http://localhost:{port}/ok")


async def test_port_in_an_entry_is_enforced(vendor_url: str) -> None:
    port = httpx.URL(vendor_url).port
    async with ConnectorContext(manifest(f"127.0.0.1:{port}")) as ctx:
        assert (await ctx.http.get(f"{vendor_url}/ok")).status_code == 200
        with pytest.raises(HostNotAllowed):
            await ctx.http.get(f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/ok")


def fake_dns(table: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        return table[host]
    return resolve


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "192.168.1.1", "169.254.169.254", "::1"])
async def test_declared_name_resolving_to_a_private_address_is_refused(address: str) -> None:
    inner = RecordingTransport(httpx.MockTransport(lambda request: httpx.Response(200)))
    transport = AllowlistTransport(("vendor.example",), inner, resolver=fake_dns({"vendor.example": [address]}))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(HostNotAllowed, match="not a public address"):
            await client.get("https://vendor.example/offers")
    assert inner.requests == []


async def test_declared_name_is_pinned_to_the_address_checked() -> None:
    inner = RecordingTransport(httpx.MockTransport(lambda request: httpx.Response(200)))
    transport = AllowlistTransport(("*.vendor.example",), inner,
                                   resolver=fake_dns({"api.vendor.example": ["93.184.216.34"]}))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://api.vendor.example/offers")
    [request] = inner.requests
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "api.vendor.example"
    assert request.extensions["sni_hostname"] == "api.vendor.example"
    assert request.headers["sec-gpc"] == "1"


async def test_a_name_mapped_to_one_of_several_addresses_elsewhere_is_refused() -> None:
    inner = RecordingTransport(httpx.MockTransport(lambda request: httpx.Response(200)))
    resolver = fake_dns({"vendor.example": ["93.184.216.34", "127.0.0.1"]})
    transport = AllowlistTransport(("vendor.example",), inner, resolver=resolver)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(HostNotAllowed):
            await client.get("http://vendor.example/")
    assert inner.requests == []


@pytest.mark.parametrize(("host", "port", "entries", "allowed"), [
    ("api.vendor.example", 443, ("*.vendor.example",), True),
    ("vendor.example", 443, ("*.vendor.example",), False),
    ("evilvendor.example", 443, ("*.vendor.example",), False),
    ("vendor.example.evil.test", 443, ("vendor.example",), False),
    ("VENDOR.example.", 443, ("vendor.example",), True),
    ("::1", 8080, ("[::1]:8080",), True),
    ("127.0.0.1", 80, ("127.0.0.1:8080",), False),
])
def test_host_matching(host: str, port: int, entries: tuple[str, ...], allowed: bool) -> None:
    assert host_allowed(host, port, entries) is allowed


async def test_other_schemes_are_refused() -> None:
    transport = AllowlistTransport(("vendor.example",), httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(HostNotAllowed, match="scheme"):
        await transport.handle_async_request(httpx.Request("GET", "ftp://vendor.example/x"))


def test_base_url_outside_the_allowlist_is_refused() -> None:
    from pydantic import BaseModel

    class WithBase(BaseModel):
        base_url: str

    m = Manifest(id="base-test", name="Base", version="1.0", capabilities=frozenset({Capability.CANCEL}),
                 allowed_hosts=("127.0.0.1",), settings=WithBase)
    with pytest.raises(HostNotAllowed):
        ConnectorContext(m, settings={"base_url": "http://localhost:8000"})
