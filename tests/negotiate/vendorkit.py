"""Example vendors as separately enabled connectors (one connector id per vendor), for negotiation tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from butler_example_vendors import ExampleVendorConnector

from butler import registry
from butler.sdk import Connector, ConnectorContext
from butler.testing import live_server
from butler.vault import Vault
from examples.vendors import VENDORS, VendorSpec, make_app


def connector_class(connector_id: str) -> type[ExampleVendorConnector]:
    """The example connector under its own id, so that several example vendors can be enabled at once."""
    manifest = ExampleVendorConnector.manifest.model_copy(update={"id": connector_id})
    return type(f"Connector_{connector_id.replace('-', '_')}", (ExampleVendorConnector,), {"manifest": manifest})


Connector_cheat = connector_class("cheat")
"""The "cheat" vendor's connector, importable by name (the sandbox imports it in its own process)."""


def vendor_connector(url: str, api_key: str) -> ExampleVendorConnector:
    """An example-vendor connector for the vendor at `url`, not enabled in any vault; the caller closes it."""
    ctx = ConnectorContext(ExampleVendorConnector.manifest, settings={"base_url": url, "max_rounds": 20},
                           secrets={"api_key": api_key})
    return ExampleVendorConnector(ctx)


def install(monkeypatch: pytest.MonkeyPatch, classes: Mapping[str, type[Connector]]) -> None:
    """Make `registry.load` find these classes as if their packages were installed."""
    original = registry.load
    monkeypatch.setattr(registry, "load", lambda cid: classes[cid] if cid in classes else original(cid))


@contextmanager
def running(specs: Mapping[str, VendorSpec] | None = None) -> Iterator[dict[str, tuple[str, Any]]]:
    """Serve example vendors on loopback: id → (base URL, app)."""
    specs = specs if specs is not None else VENDORS
    with ExitStack() as stack:
        out = {}
        for name, spec in specs.items():
            app = make_app(spec)
            out[name] = (stack.enter_context(live_server(app)), app)
        yield out


def enable_all(vault: Vault, monkeypatch: pytest.MonkeyPatch, urls: Mapping[str, tuple[str, Any]],
               specs: Mapping[str, VendorSpec] | None = None) -> dict[str, type[Connector]]:
    """Enable one connector `ev-<vendor>` per running vendor (validated against it, as the CLI does)."""
    specs = specs if specs is not None else VENDORS
    classes: dict[str, type[Connector]] = {f"ev-{name}": connector_class(f"ev-{name}") for name in urls}
    install(monkeypatch, classes)
    for name, (url, _) in urls.items():
        registry.enable(vault, classes[f"ev-{name}"], settings={"base_url": url, "max_rounds": 20},
                        secrets={"api_key": specs[name].api_key})
    return classes
