"""The example-vendors connector passes the conformance kit against each example vendor running on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from butler_example_vendors import ExampleVendorConnector

from butler.sdk import OfferQuery
from butler.testing import LiveVendor, connector_test_class, live_server
from examples.vendors import make_app, vendor


def running(name: str, query: OfferQuery | None = None):  # type: ignore[no-untyped-def]
    @contextmanager
    def live() -> Iterator[LiveVendor]:
        spec = vendor(name)
        with live_server(make_app(spec)) as url:
            yield LiveVendor(settings={"base_url": url}, secrets={"api_key": spec.api_key},
                             query=query or OfferQuery())
    return live


TestEnergySupplier = connector_test_class(ExampleVendorConnector,
                                          live=running("energy", OfferQuery(kwh_per_year=Decimal(2500))))
TestMobileCarrier = connector_test_class(ExampleVendorConnector, live=running("mobile"))
TestInsurer = connector_test_class(ExampleVendorConnector, live=running("insurance"))
TestShop = connector_test_class(ExampleVendorConnector, live=running("shop"))
