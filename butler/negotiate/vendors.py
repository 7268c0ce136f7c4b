"""Opening connectors the one way butler talks to vendors: answers capped in size, whole operations in time.

Every connector sends through the one egress (`butler.sdk.egress`: the manifest's allowlist, the checked
address, the answer's size capped); enabling and checking one also ends once the deadline (`[vendors]
deadline_seconds` in config.toml) has passed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from butler import registry
from butler.errors import ButlerError
from butler.negotiate.limits import within_deadline
from butler.sdk import Capability, Connector
from butler.vault import Vault

__all__ = ["check", "enable", "entered", "open_enabled", "open_one"]

log = logging.getLogger("butler.negotiate")


def open_one(vault: Vault, connector_id: str) -> Connector:
    """One enabled connector, its answers capped in size; the caller closes it."""
    return registry.open_connector(vault, connector_id)


def open_enabled(vault: Vault, capability: Capability = Capability.LIST_OFFERS) -> list[tuple[str, Connector]]:
    """Every enabled connector that declares `capability`; one that fails to open is a warning, not a crash."""
    opened: list[tuple[str, Connector]] = []
    for connector_id in sorted(registry.enabled_ids(vault)):
        try:
            cls = registry.load(connector_id)
            if capability not in cls.manifest.capabilities:
                continue
            opened.append((connector_id, registry.open_connector(vault, connector_id, cls=cls)))
        except ButlerError as exc:
            log.warning("%s: %s", connector_id, exc.message)
    return opened


@contextlib.asynccontextmanager
async def entered(opened: list[tuple[str, Connector]]) -> AsyncIterator[list[tuple[str, Connector]]]:
    """Enter every connector of `opened` (as `open_enabled` returns them); all are closed on the way out."""
    async with contextlib.AsyncExitStack() as stack:
        for _, connector in opened:
            await stack.enter_async_context(connector)
        yield opened


async def enable(vault: Vault, cls: type[Connector], *, deadline_seconds: float,
                 settings: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None) -> None:
    """`registry.aenable` with answers capped in size, ended by DeadlineExceeded after `deadline_seconds`;
    nothing is stored unless validation finished in time."""
    await within_deadline(
        registry.aenable(vault, cls, settings=settings, secrets=secrets),
        deadline_seconds, "validating", vendor=cls.manifest.id)


async def check(vault: Vault, connector_id: str, *, deadline_seconds: float) -> list[str]:
    """`registry.acheck` with answers capped in size, ended by DeadlineExceeded after `deadline_seconds`: the
    lines the connector reports."""
    return await within_deadline(registry.acheck(vault, connector_id),
                          deadline_seconds, "validating", vendor=connector_id)
