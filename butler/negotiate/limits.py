"""What a vendor's answer may cost butler: a cap on its decoded size, and a deadline for a whole operation.

`BoundedTransport` wraps the real transport handed to a connector (inside the allowlist transport). It asks
only for the encodings it can decode with a bound (gzip and deflate, nested at most `MAX_ENCODINGS` deep),
decodes each body as it arrives, `DECODE_CHUNK` bytes at a time, and refuses one whose bytes on the wire or
decoded bytes exceed `max_bytes` before the connector parses it: a few kilobytes of nested gzip never grow
past the cap plus one chunk. The response it returns is already decoded (no Content-Encoding). An encoding it
cannot decode with a bound (brotli, zstd, anything unknown) is refused, never passed on undecoded.

`within_deadline` ends an operation (validating a connector, a checkout) that takes longer than the person
allows (`[vendors] deadline_seconds` in config.toml) with a DeadlineExceeded.
"""

from __future__ import annotations

import asyncio
import math
import zlib
from collections.abc import Awaitable, Iterator
from typing import TypeVar

import httpx

from butler.sdk import FatalError, RetriableError

__all__ = [
    "ACCEPTED_ENCODINGS",
    "DECODE_CHUNK",
    "MAX_ENCODINGS",
    "MAX_RESPONSE_BYTES",
    "BoundedTransport",
    "DeadlineExceeded",
    "ResponseTooLarge",
    "UndecodableResponse",
    "within_deadline",
]

MAX_RESPONSE_BYTES = 2 * 1024 * 1024
DECODE_CHUNK = 64 * 1024
"""The most one decoding step produces: what the transport may hold beyond the cap before it refuses."""
MAX_ENCODINGS = 3
"""The most encodings one answer may be wrapped in (`gzip, gzip` is two)."""
ACCEPTED_ENCODINGS = "gzip, deflate"
"""Sent as Accept-Encoding: only what this transport decodes with a bound."""

_ZLIB_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}

T = TypeVar("T")


class ResponseTooLarge(FatalError):
    default_hint = "The vendor sent far more than any offer needs; butler stopped reading and skipped it."


class UndecodableResponse(FatalError):
    default_hint = "The vendor encoded its answer in a way butler does not read, or damaged it; butler skipped it."


class DeadlineExceeded(RetriableError):
    default_hint = ("The vendor was too slow; try again later, or allow more time with `[vendors] deadline_seconds` "
                    "in config.toml.")


class _Inflater:
    """Undoes one zlib encoding (gzip or deflate), never more than DECODE_CHUNK bytes per step."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib = zlib.decompressobj(_ZLIB_WBITS[coding])
        self._fed = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of `data`, a chunk at a time; the next is decoded only when it is asked for."""
        pending = data
        while not self._zlib.eof:  # bytes after the end of the stream are ignored, as httpx does
            try:
                out = self._zlib.decompress(pending, DECODE_CHUNK)
            except zlib.error:
                if self.coding != "deflate" or self._fed:
                    raise
                # "deflate" is often sent raw, without its zlib header (httpx tries both the same way)
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._zlib.decompress(pending, DECODE_CHUNK)
            self._fed = True
            pending = self._zlib.unconsumed_tail
            if out:
                yield out
            if not pending and len(out) < DECODE_CHUNK:
                return


class BoundedTransport(httpx.AsyncBaseTransport):
    """Refuses (ResponseTooLarge) any response whose body, on the wire or decoded, exceeds `max_bytes`.

    Holds at most `max_bytes` plus one DECODE_CHUNK of decoded data per response; `peak_decoded_bytes` is the
    most it held for any response so far.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, *, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self.max_bytes = max_bytes
        self.peak_decoded_bytes = 0

    def _where(self, request: httpx.Request) -> str:
        return f"{request.method} {request.url.copy_with(query=None)}"

    def _refuse(self, request: httpx.Request, size: int, what: str = "answer") -> ResponseTooLarge:
        return ResponseTooLarge(f"{self._where(request)}: the {what} is larger than {self.max_bytes} bytes "
                                f"({size} or more)")

    def _decoders(self, request: httpx.Request, response: httpx.Response) -> list[_Inflater]:
        """One decoder per encoding, in the order they are undone (the last applied first)."""
        codings = [c.lower() for c in response.headers.get_list("content-encoding", split_commas=True)]
        codings = [c for c in codings if c not in ("", "identity")]
        unknown = [c for c in codings if c not in _ZLIB_WBITS]
        if unknown:
            raise UndecodableResponse(f"{self._where(request)}: the answer is encoded as {', '.join(unknown)}, "
                                      f"which butler does not decode (it asks for {ACCEPTED_ENCODINGS})")
        if len(codings) > MAX_ENCODINGS:
            raise UndecodableResponse(f"{self._where(request)}: the answer is encoded {len(codings)} times over "
                                      f"({', '.join(codings)}); butler undoes at most {MAX_ENCODINGS}")
        return [_Inflater(c) for c in reversed(codings)]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        response = await self._inner.handle_async_request(request)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise self._refuse(request, int(declared))
            body = await self._read(request, response, self._decoders(request, response))
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=body,
                              extensions=response.extensions, request=request)

    async def _read(self, request: httpx.Request, response: httpx.Response, decoders: list[_Inflater]) -> bytes:
        body = bytearray()
        # a stage's output (the next encoding's input) may be a little larger than the decoded answer, never more
        produced = [0] * len(decoders)
        stage_limit = 2 * self.max_bytes

        def take(level: int, data: bytes) -> None:
            if level == len(decoders):
                self.peak_decoded_bytes = max(self.peak_decoded_bytes, len(body) + len(data))
                if len(body) + len(data) > self.max_bytes:
                    raise self._refuse(request, len(body) + len(data), "decoded answer")
                body.extend(data)
                return
            for piece in decoders[level].pieces(data):
                produced[level] += len(piece)
                if produced[level] > stage_limit:
                    raise self._refuse(request, produced[level], f"{decoders[level].coding}-decoded answer")
                take(level + 1, piece)

        raw = 0
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > self.max_bytes:
                raise self._refuse(request, raw)
            try:
                take(0, chunk)
            except zlib.error as exc:
                raise UndecodableResponse(f"{self._where(request)}: the answer's encoding is damaged ({exc})") from None
        return bytes(body)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def within_deadline(awaitable: Awaitable[T], seconds: float, what: str, *, vendor: str = "the vendor") -> T:
    """The result of `awaitable`, or DeadlineExceeded ("<vendor> did not finish <what> within 60 s") once
    `seconds` have passed; the awaitable is then cancelled (a connector inside it is closed on the way out).

    A TimeoutError raised inside the awaitable itself propagates unchanged. ValueError unless `seconds` is
    finite and more than 0.
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"a deadline must be finite and more than 0 seconds, got {seconds}")
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await awaitable
    except TimeoutError:
        if not scope.expired():
            raise
        raise DeadlineExceeded(f"{vendor} did not finish {what} within {seconds:g} s") from None
