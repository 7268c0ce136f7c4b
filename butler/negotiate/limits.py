"""How long a whole operation with a vendor may take: `within_deadline` ends one (validating a connector, a
checkout) that takes longer than the person allows (`[vendors] deadline_seconds` in config.toml) with a
DeadlineExceeded.

What one answer may cost (its decoded size, its own deadline) is the egress's business: every connector's
client comes from `butler.sdk.egress`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from typing import TypeVar

from butler.sdk import RetriableError

__all__ = ["DeadlineExceeded", "within_deadline"]

T = TypeVar("T")


class DeadlineExceeded(RetriableError):
    default_hint = ("The vendor was too slow; try again later, or allow more time with `[vendors] deadline_seconds` "
                    "in config.toml.")


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
