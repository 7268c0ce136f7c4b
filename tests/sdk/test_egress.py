"""The one egress: host policies, the checked address pinned, answers capped and deadlines kept, sync and async."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from butler.sdk import HostNotAllowed
from butler.sdk.egress import (
    DECODE_CHUNK,
    HostPolicy,
    ResponseTooLarge,
    SyncBoundedTransport,
    async_client,
    sync_client,
)
from butler.testing import live_server

PUBLIC = "93.184.216.34"


class Seen:
    """A MockTransport that answers 200 and remembers what reached it."""

    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer or httpx.Response(200, json={"ok": True})


def dns(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> Sequence[str]:
        return addresses
    return resolve


def async_dns(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        return addresses
    return resolve


@pytest.mark.parametrize("url", ["https://10.0.0.7/u", "https://192.168.1.1/", "https://169.254.169.254/latest",
                                 "https://127.0.0.1/", "https://[::1]/", "https://[::ffff:127.0.0.1]/",
                                 "https://224.0.1.1/", "ftp://shop.example/x"])
def test_public_policy_refuses_what_is_not_public(url: str) -> None:
    seen = Seen()
    with (sync_client(HostPolicy.public(), inner=httpx.MockTransport(seen), resolver=dns(PUBLIC)) as client,
          pytest.raises(HostNotAllowed)):
        client.get(url)
    assert seen.requests == []


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "::1", "fe80::1", "100.64.0.1"])
def test_a_name_resolving_to_a_private_address_is_refused_even_with_the_loopback_allowance(address: str) -> None:
    seen = Seen()
    policy = HostPolicy.public(allow_loopback=True)
    with (sync_client(policy, inner=httpx.MockTransport(seen), resolver=dns(PUBLIC, address)) as client,
          pytest.raises(HostNotAllowed, match="not a public address")):
        client.get("https://shop.example/")
    assert seen.requests == []


def test_loopback_written_out_needs_the_allowance() -> None:
    seen = Seen()
    with (sync_client(HostPolicy.public(), inner=httpx.MockTransport(seen)) as client,
          pytest.raises(HostNotAllowed, match=r"127\.0\.0\.1 is not a public address")):
        client.get("http://127.0.0.1:8080/")
    with sync_client(HostPolicy.public(allow_loopback=True), inner=httpx.MockTransport(seen)) as client:
        assert client.get("http://127.0.0.1:8080/").status_code == 200
        assert client.get("http://[::1]:8080/").status_code == 200
    assert [r.url.host for r in seen.requests] == ["127.0.0.1", "::1"]


def test_a_name_is_resolved_once_and_reached_at_the_address_checked() -> None:
    seen = Seen()
    lookups: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        lookups.append((host, port))
        return [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]

    with sync_client(HostPolicy.public(), inner=httpx.MockTransport(seen), resolver=resolve) as client:
        client.post("https://Shop.Example:8443/u?t=1", content=b"x", headers={"Sec-GPC": "0"})
    [request] = seen.requests
    assert lookups == [("shop.example", 8443)]
    assert str(request.url) == f"https://{PUBLIC}:8443/u?t=1"
    assert request.headers["host"] == "shop.example:8443"
    assert request.extensions["sni_hostname"] == "shop.example"
    assert request.headers["sec-gpc"] == "1"
    assert request.headers["accept-encoding"] == "gzip, deflate"


async def test_the_async_client_pins_the_same_way() -> None:
    seen = Seen()
    async with async_client(HostPolicy.public(), inner=httpx.MockTransport(seen),
                            resolver=async_dns("2606:2800:220:1:248:1893:25c8:1946")) as client:
        await client.get("https://shop.example/x")
    [request] = seen.requests
    assert request.url.host == "2606:2800:220:1:248:1893:25c8:1946"
    assert request.headers["host"] == "shop.example"
    assert request.extensions["sni_hostname"] == "shop.example"


async def test_a_redirect_is_followed_only_when_asked_and_only_within_the_policy() -> None:
    seen = Seen(httpx.Response(302, headers={"Location": "https://10.0.0.7/admin"}))
    async with async_client(HostPolicy.public(), inner=httpx.MockTransport(seen), resolver=async_dns(PUBLIC)) as client:
        assert (await client.get("https://shop.example/a")).status_code == 302
    async with async_client(HostPolicy.public(), inner=httpx.MockTransport(seen), resolver=async_dns(PUBLIC),
                            follow_redirects=True) as client:
        with pytest.raises(HostNotAllowed, match=r"10\.0\.0\.7"):
            await client.get("https://shop.example/b")
    assert [r.url.path for r in seen.requests] == ["/a", "/b"]


async def test_a_relative_redirect_keeps_the_name() -> None:
    answers = iter([httpx.Response(302, headers={"Location": "/next"}), httpx.Response(200)])
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    async with async_client(HostPolicy.allowlist(["shop.example"]), inner=httpx.MockTransport(handler),
                            resolver=async_dns(PUBLIC), follow_redirects=True) as client:
        assert (await client.get("https://shop.example/first")).status_code == 200
    assert [(r.headers["host"], r.url.path) for r in seen] == [("shop.example", "/first"), ("shop.example", "/next")]


def test_an_answer_past_the_cap_is_refused_even_from_a_mock() -> None:
    seen = Seen(httpx.Response(200, content=b"x" * 1001))
    with (sync_client(HostPolicy.public(), inner=httpx.MockTransport(seen), resolver=dns(PUBLIC),
                      max_bytes=1000) as client,
          pytest.raises(ResponseTooLarge, match="larger than 1000 bytes")):
        client.get("https://shop.example/")


def _double_gzip(mebibytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    once = b"".join(packer.compress(bytes(1 << 20)) for _ in range(mebibytes)) + packer.flush()
    return gzip.compress(once, 9)


DRIP_BYTES = 100  # a byte every 0.1 s: 10 s in all, far past any deadline here
DRIPPED: list[int] = []

async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/bomb: 64 MiB of zeros gzipped twice; /gzip: a small gzipped answer; /drip: a byte every 0.1 s."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/drip":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(DRIP_BYTES):
            DRIPPED.append(1)
            await send({"type": "http.response.body", "body": b".", "more_body": True})
            try:
                if (await asyncio.wait_for(receive(), 0.1))["type"] == "http.disconnect":
                    return
            except TimeoutError:
                pass
        await send({"type": "http.response.body", "body": b""})
        return
    body = _double_gzip(64) if scope["path"] == "/bomb" else gzip.compress(b'{"ok": true}')
    encoding = b"gzip, gzip" if scope["path"] == "/bomb" else b"gzip"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-encoding", encoding)]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with live_server(_asgi) as url:
        yield url


def test_the_sync_client_decodes_within_the_cap(server: str) -> None:
    with sync_client(HostPolicy.public(allow_loopback=True)) as client:
        response = client.get(f"{server}/gzip")
    assert response.json() == {"ok": True} and "content-encoding" not in response.headers
    bounded = SyncBoundedTransport(max_bytes=1 << 20)
    with httpx.Client(transport=bounded) as client, pytest.raises(ResponseTooLarge, match="decoded answer"):
        client.get(f"{server}/bomb")
    assert 1 << 20 < bounded.peak_decoded_bytes <= (1 << 20) + DECODE_CHUNK


def test_the_sync_deadline_ends_a_dripping_answer(server: str) -> None:
    DRIPPED.clear()
    with sync_client(HostPolicy.public(allow_loopback=True), deadline=0.5) as client, \
            pytest.raises(httpx.ReadTimeout, match=r"within 0\.5 s"):
        client.get(f"{server}/drip")
    assert len(DRIPPED) < DRIP_BYTES  # the answer was cut off, not read to its end (counted, not timed)


async def test_the_async_deadline_ends_a_dripping_answer(server: str) -> None:
    DRIPPED.clear()
    async with async_client(HostPolicy.public(allow_loopback=True), deadline=0.5) as client:
        with pytest.raises(httpx.ReadTimeout, match=r"within 0\.5 s"):
            await client.get(f"{server}/drip")
    assert len(DRIPPED) < DRIP_BYTES
