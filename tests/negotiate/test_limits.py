"""The response cap counts decoded bytes: a compression bomb is refused after at most one chunk past the cap,
and what a vendor compressed arrives decoded; `within_deadline` ends what takes too long."""

from __future__ import annotations

import asyncio
import functools
import gzip
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from butler.negotiate.limits import DeadlineExceeded, within_deadline
from butler.sdk.egress import (
    DECODE_CHUNK,
    MAX_RESPONSE_BYTES,
    BoundedTransport,
    ResponseTooLarge,
    UndecodableResponse,
)
from butler.testing import live_server

ANSWER = b'{"offers": [' + b",".join(b'{"id": "o%d", "product": "Gadget"}' % i for i in range(200)) + b"]}"


@functools.cache
def double_gzip_bomb(mebibytes: int = 128) -> bytes:
    """`mebibytes` of zeros, gzipped twice: a few hundred bytes on the wire."""
    inner = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1 << 20)
    once = b"".join(inner.compress(block) for _ in range(mebibytes)) + inner.flush()
    return gzip.compress(once, 9)


def _deflate(data: bytes, *, raw: bool) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ROUTES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "/bomb": ("gzip, gzip", double_gzip_bomb),
    "/gzip": ("gzip", lambda: gzip.compress(ANSWER)),
    "/gzip-twice": ("gzip, gzip", lambda: gzip.compress(gzip.compress(ANSWER))),
    "/deflate": ("deflate", lambda: _deflate(ANSWER, raw=False)),
    "/deflate-raw": ("deflate", lambda: _deflate(ANSWER, raw=True)),
    "/identity": ("identity", lambda: ANSWER),
    "/br": ("br", lambda: b"\x1b\x00\x00"),
    "/four-deep": ("gzip, gzip, gzip, gzip", lambda: gzip.compress(gzip.compress(gzip.compress(gzip.compress(
        ANSWER))))),
    "/damaged": ("gzip", lambda: gzip.compress(ANSWER)[:20] + b"\xff" * 40),
}


@contextmanager
def vendor() -> Iterator[tuple[str, list[dict[bytes, bytes]]]]:
    """A server answering each of ROUTES with its body and Content-Encoding; yields its URL and the request
    headers it saw."""
    seen: list[dict[bytes, bytes]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(dict(scope["headers"]))
        encoding, body = ROUTES[scope["path"]]
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-encoding", encoding.encode())]})
        await send({"type": "http.response.body", "body": body()})

    with live_server(app) as url:
        yield url, seen


async def _get(url: str, transport: BoundedTransport) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.get(url)


async def test_a_double_gzip_bomb_is_refused_one_chunk_past_the_cap_at_most() -> None:
    assert len(double_gzip_bomb()) < 4096 and MAX_RESPONSE_BYTES < 128 << 20
    transport = BoundedTransport()
    refused = f"decoded answer is larger than {MAX_RESPONSE_BYTES} bytes"
    with vendor() as (url, _), pytest.raises(ResponseTooLarge, match=refused):
        await _get(f"{url}/bomb", transport)
    assert MAX_RESPONSE_BYTES < transport.peak_decoded_bytes <= MAX_RESPONSE_BYTES + DECODE_CHUNK


@pytest.mark.parametrize("path", ["/gzip", "/gzip-twice", "/deflate", "/deflate-raw", "/identity"])
async def test_a_compressed_answer_arrives_decoded(path: str) -> None:
    transport = BoundedTransport()
    with vendor() as (url, seen):
        response = await _get(f"{url}{path}", transport)
    assert response.content == ANSWER and response.json()["offers"][199]["id"] == "o199"
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(ANSWER))
    assert seen[0][b"accept-encoding"] == b"gzip, deflate"  # only what the transport decodes with a bound
    assert transport.peak_decoded_bytes == len(ANSWER)


@pytest.mark.parametrize(("path", "expected"), [
    ("/br", "encoded as br, which butler does not decode"),
    ("/four-deep", "encoded 4 times over"),
    ("/damaged", "encoding is damaged"),
])
async def test_an_answer_butler_cannot_decode_with_a_bound_is_refused(path: str, expected: str) -> None:
    with vendor() as (url, _), pytest.raises(UndecodableResponse, match=expected):
        await _get(f"{url}{path}", BoundedTransport())


async def test_a_small_cap_counts_decoded_bytes_not_wire_bytes() -> None:
    cap = 1000
    assert len(gzip.compress(ANSWER)) < cap < len(ANSWER)
    transport = BoundedTransport(max_bytes=cap)
    with vendor() as (url, _), pytest.raises(ResponseTooLarge, match="decoded answer"):
        await _get(f"{url}/gzip", transport)
    assert transport.peak_decoded_bytes <= cap + DECODE_CHUNK


async def test_within_deadline_ends_what_takes_too_long() -> None:
    finished: list[str] = []

    async def slow() -> str:
        await asyncio.sleep(30)
        finished.append("slow")
        return "late"

    async def quick() -> str:
        return "on time"

    with pytest.raises(DeadlineExceeded, match=r"acme did not finish its validation within 0\.05 s"):
        await within_deadline(slow(), 0.05, "its validation", vendor="acme")
    assert finished == []
    assert await within_deadline(quick(), 5, "anything") == "on time"


async def test_within_deadline_passes_on_a_timeout_of_its_own_and_refuses_a_nonsense_deadline() -> None:
    async def times_out_itself() -> None:
        raise TimeoutError("the connector's own")

    with pytest.raises(TimeoutError, match="the connector's own"):
        await within_deadline(times_out_itself(), 5, "anything")
    for seconds in (0.0, -1.0, float("nan"), float("inf")):
        waiting = asyncio.sleep(0)
        with pytest.raises(ValueError, match="deadline"):
            await within_deadline(waiting, seconds, "anything")
        waiting.close()
