"""`butler bench negotiate --sandbox`: the same negotiations with the example mobile carrier, through its
connector run in butler's process and in the sandbox, in one run.

Each negotiation lists the offers, opens a negotiation on the first, counter-offers up to six times at falling
prices and accepts the vendor's last terms (about nine HTTP requests). `--latency MS` puts the vendor that far
away (each answer starts MS later), as a vendor on the internet is. The two ways alternate in blocks, so
that a machine busy with something else slows both alike. Printed: milliseconds per negotiation each way, the
ratio (goal ≤ 1.10), the CPU time per negotiation each way (butler's process, which also serves the vendor,
plus the sandboxed child's: steadier than wall time on a busy machine), and the start-up cost of one sandboxed
connector (its process ready to serve).
"""

from __future__ import annotations

import asyncio
import os
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


def _tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and its descendants (from /proc)."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


async def _block(build: Callable[[], Connector], negotiations: int) -> tuple[list[float], float]:
    """Wall seconds of each negotiation, and the CPU seconds of all of them (both processes)."""
    connector = build()
    try:
        await _negotiate(connector)  # warm: the sandboxed process starts here, and caches fill
        child = connector._process.proc.pid if isinstance(connector, sandbox.SandboxedConnector) and \
            connector._process is not None else None
        cpu = time.process_time() + (_tree_cpu(child) if child else 0.0)
        times = []
        for _ in range(negotiations):
            start = time.perf_counter()
            await _negotiate(connector)
            times.append(time.perf_counter() - start)
        cpu = time.process_time() + (_tree_cpu(child) if child else 0.0) - cpu
        return times, cpu
    finally:
        await connector.aclose()


def _far(app: Any, latency_ms: float) -> Any:
    """`app` as a vendor `latency_ms` away: each answer starts that much later (an ASGI wrapper)."""
    if latency_ms <= 0:
        return app

    async def delayed(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            await asyncio.sleep(latency_ms / 1000)
        await app(scope, receive, send)
    return delayed


def run(negotiations: int = 20, blocks: int = 4, latency_ms: float = 0.0,
        say: Callable[[str], None] = print) -> int:
    why = sandbox.available()
    if why is not None:
        say(f"the sandbox is not available here: {why}")
        return 1
    make_app, vendor, cls = _example_vendors()
    spec = vendor("mobile")
    boxed = sandbox.sandboxed(cls)
    with live_server(_far(make_app(spec), latency_ms)) as url:
        settings, secrets = {"base_url": url}, {"api_key": spec.api_key}

        def build(kind: type[Connector]) -> Callable[[], Connector]:
            return lambda: kind(ConnectorContext(cls.manifest, settings=settings, secrets=secrets))
        results: dict[str, list[float]] = {"in process": [], "sandboxed": []}
        cpu = {"in process": 0.0, "sandboxed": 0.0}
        for _ in range(blocks):
            for name, kind in (("in process", cls), ("sandboxed", boxed)):
                times, used = asyncio.run(_block(build(kind), negotiations))
                results[name] += times
                cpu[name] += used
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
    where = f", {latency_ms:g} ms away" if latency_ms > 0 else " on loopback"
    say(f"negotiations with the example mobile carrier{where}, {negotiations * blocks} each way, median:")
    say(f"  in process   {inproc:8.2f} ms per negotiation")
    say(f"  sandboxed    {boxed_ms:8.2f} ms per negotiation   ratio {boxed_ms / inproc:.3f} (goal ≤ 1.10)")
    cpu_in, cpu_boxed = (cpu[name] / (negotiations * blocks) * 1000 for name in ("in process", "sandboxed"))
    say(f"  CPU per negotiation: in process {cpu_in:.2f} ms, sandboxed {cpu_boxed:.2f} ms (both processes), "
        f"ratio {cpu_boxed / cpu_in:.3f}")
    say(f"  start-up of one sandboxed connector: {statistics.median(starts) * 1000:.0f} ms (median of 5)")
    return 0
