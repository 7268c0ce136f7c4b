"""Asking a busy vendor again, as it asked: `RetriableError.retry_after`, within the time the caller has.

A vendor that answers 429 or 503 with Retry-After (or a network failure) is asked again after that many seconds
(or after 1, then 2 seconds when it did not say), at most `attempts` times in all, and never past the caller's
time: a wait that would not fit is not started, and the error goes to the caller (the daemon's next run tries
again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from butler.sdk import RetriableError

__all__ = ["BACKOFF_SECONDS", "retrying"]

T = TypeVar("T")
BACKOFF_SECONDS = (1.0, 2.0, 4.0)


async def retrying(call: Callable[[], Awaitable[T]], *, seconds: float, attempts: int = 3,
                   sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """`call()`, again after each RetriableError while attempts and `seconds` last; the last error otherwise."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    for attempt in range(attempts):
        try:
            return await call()
        except RetriableError as exc:
            wait = exc.retry_after if exc.retry_after is not None else BACKOFF_SECONDS[
                min(attempt, len(BACKOFF_SECONDS) - 1)]
            if attempt == attempts - 1 or loop.time() + wait >= until:
                raise
            await sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
