"""What a vendor's answer may cost butler: a cap on response size, enforced below the connector.

`BoundedTransport` wraps the real transport handed to a connector (inside the allowlist transport), reads
each response body while counting, and refuses one larger than `max_bytes` before the connector parses it.
"""

from __future__ import annotations

import httpx

from butler.sdk import FatalError

__all__ = ["MAX_RESPONSE_BYTES", "BoundedTransport", "ResponseTooLarge"]

MAX_RESPONSE_BYTES = 2 * 1024 * 1024


class ResponseTooLarge(FatalError):
    default_hint = "The vendor sent far more than any offer needs; butler stopped reading and skipped it."


class BoundedTransport(httpx.AsyncBaseTransport):
    """Refuses (ResponseTooLarge) any response whose body exceeds `max_bytes`; reads nothing beyond that."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, *, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self.max_bytes = max_bytes

    def _refuse(self, request: httpx.Request, size: int) -> ResponseTooLarge:
        return ResponseTooLarge(f"{request.method} {request.url.copy_with(query=None)}: the answer is larger than "
                                f"{self.max_bytes} bytes ({size} or more)")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await response.aclose()
            raise self._refuse(request, int(declared))
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise self._refuse(request, len(body))
        finally:
            await response.aclose()
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body),
                              extensions=response.extensions, request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()
