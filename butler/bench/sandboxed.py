"""`butler bench negotiate --sandbox`: the same negotiations with the example mobile carrier, through its
connector run in butler's process and in the sandbox, in one run.

Each negotiation lists the offers, opens a negotiation on the first, counter-offers up to six times at falling
prices and accepts the vendor's last terms (about nine HTTP requests). The two ways alternate in blocks, so
that a machine busy with something else slows both alike. Printed: milliseconds per negotiation each way, the
ratio (goal ≤ 1.10), and the start-up cost of one sandboxed connector (its process ready to serve).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from butler import sandbox
from butler.loopback import live_server
from butler.models import Money
from butler.sdk import Connector, ConnectorContext, OfferQuery, Terms

__all__ = ["run"]


def _example_vendors() -> tuple[Any, Any, type[Connector]]:
    root = Path(__file__).resolve().parents[2]
    for path in (root, root / "connectors" / "example-vendors" / "src"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from butler_example_vendors import ExampleVendorConnector

    from examples.vendors import make_app, vendor

    return make_app, vendor, ExampleVendorConnector


async def _negotiate(connector: Connector) -> int:
    offers = await connector.list_offers(OfferQuery())
    offer = offers[0]
    opened = await connector.negotiate(offer.id)
    price = opened.terms.price
    rounds = 1
    for step in range(1, 7):
        if opened.status != "open":
            break
        amount = (price.amount * (Decimal(1) - Decimal(step) / 50)).quantize(Decimal("0.01"))
        proposal = opened.terms.model_copy(update={"price": Money(amount=amount, currency=price.currency)})
        opened = await connector.negotiate(offer.id, Terms.model_validate(proposal.model_dump()),
                                           session_id=opened.session_id)
        rounds += 1
    if opened.status == "open":
        await connector.negotiate(offer.id, None, session_id=opened.session_id)
    return rounds


async def _block(build: Callable[[], Connector], negotiations: int) -> list[float]:
    connector = build()
    try:
        await _negotiate(connector)  # warm: the sandboxed process starts here, and caches fill
        times = []
        for _ in range(negotiations):
            start = time.perf_counter()
            await _negotiate(connector)
            times.append(time.perf_counter() - start)
        return times
    finally:
        await connector.aclose()


def run(negotiations: int = 20, blocks: int = 4, say: Callable[[str], None] = print) -> int:
    why = sandbox.available()
    if why is not None:
        say(f"the sandbox is not available here: {why}")
        return 1
    make_app, vendor, cls = _example_vendors()
    spec = vendor("mobile")
    boxed = sandbox.sandboxed(cls)
    with live_server(make_app(spec)) as url:
        settings, secrets = {"base_url": url}, {"api_key": spec.api_key}

        def build(kind: type[Connector]) -> Callable[[], Connector]:
            return lambda: kind(ConnectorContext(cls.manifest, settings=settings, secrets=secrets))
        results: dict[str, list[float]] = {"in process": [], "sandboxed": []}
        for _ in range(blocks):
            results["in process"] += asyncio.run(_block(build(cls), negotiations))
            results["sandboxed"] += asyncio.run(_block(build(boxed), negotiations))
        starts = []
        for _ in range(5):
            start = time.perf_counter()
            connector = build(boxed)()
            assert isinstance(connector, sandbox.SandboxedConnector)
            connector.vendor_id  # noqa: B018 -- waits for the process to be ready
            starts.append(time.perf_counter() - start)
            asyncio.run(connector.aclose())
    inproc = statistics.median(results["in process"]) * 1000
    boxed_ms = statistics.median(results["sandboxed"]) * 1000
    say(f"negotiations with the example mobile carrier, {negotiations * blocks} each way, median:")
    say(f"  in process   {inproc:8.2f} ms per negotiation")
    say(f"  sandboxed    {boxed_ms:8.2f} ms per negotiation   ratio {boxed_ms / inproc:.3f} (goal ≤ 1.10)")
    say(f"  start-up of one sandboxed connector: {statistics.median(starts) * 1000:.0f} ms (median of 5)")
    return 0
