"""MyTerms goes out through the one egress: public addresses only (loopback when config.toml allows it), and a
vendor's answer is refused once its decoded size passes the cap, however small it was on the wire."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from butler.errors import UsageError
from butler.terms import VendorAnswerInvalid, discover, gpc_client, proffer, vendor_records
from butler.terms.web import MAX_BODY_BYTES
from butler.testing import live_server
from butler.vault import Vault

MiB = 1 << 20


def double_gzip(mebibytes: int) -> bytes:
    """`mebibytes` of zeros, gzipped twice: a few hundred bytes on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MiB)
    once = b"".join(packer.compress(block) for _ in range(mebibytes)) + packer.flush()
    return gzip.compress(once, 9)


BOMB = double_gzip(64)


async def _bomb(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every request with 64 MiB of zeros, gzipped twice."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-encoding", b"gzip, gzip")]})
    await send({"type": "http.response.body", "body": BOMB})


async def test_a_compressed_bomb_is_refused_one_chunk_past_the_cap(terms_vault: Vault) -> None:
    assert len(BOMB) < 4096
    with live_server(_bomb) as url:
        tracemalloc.start()
        try:
            with pytest.raises(VendorAnswerInvalid, match="more than"):
                await discover(terms_vault, url)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < MAX_BODY_BYTES + 4 * MiB, f"held {peak / MiB:.1f} MiB of a {len(BOMB)}-byte answer"


def fake_dns(address: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> Sequence[str]:
        return [address]
    return resolve


@pytest.mark.parametrize("address", ["10.0.0.7", "127.0.0.1", "169.254.169.254", "::1"])
async def test_a_vendor_name_resolving_to_a_private_address_is_refused(terms_vault: Vault, address: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    async with gpc_client(httpx.MockTransport(handler), resolver=fake_dns(address), allow_loopback=True) as client:
        with pytest.raises(UsageError, match="not a public address"):
            await discover(terms_vault, "https://shop.example", client=client)
        with pytest.raises(UsageError, match="not a public address"):
            await proffer(terms_vault, "https://shop.example", client=client)
    assert seen == []
    assert [r.status for r in vendor_records(terms_vault, "shop.example")] == [
        "AgreementNegotiationRequested", "AgreementNegotiationUnknown"]


async def test_a_vendor_name_is_reached_at_the_address_checked(terms_vault: Vault) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404)

    async with gpc_client(httpx.MockTransport(handler), resolver=fake_dns("93.184.216.34")) as client:
        found = await discover(terms_vault, "https://shop.example", client=client)
    assert not found.supports_myterms
    assert {r.url.host for r in seen} == {"93.184.216.34"}
    assert {r.headers["host"] for r in seen} == {"shop.example"}
    assert {r.extensions["sni_hostname"] for r in seen} == {"shop.example"}


async def test_a_vendor_on_loopback_needs_the_allowance(terms_vault: Vault, terms_home: Path) -> None:
    (terms_home / "config.toml").write_text("[terms]\nallow_loopback = false\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not a public address") as caught:
        await discover(terms_vault, "http://127.0.0.1:9")
    assert "allow_loopback" in caught.value.hint
