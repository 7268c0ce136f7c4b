"""Testing tools for connector authors: the conformance kit and a loopback server.

    connector_test_class(Connector, live=…)  -- a pytest test class with butler's standard connector tests
    LiveVendor                               -- settings, secrets and a query for a vendor running for real
    live_server(app)                         -- serve an ASGI app with uvicorn on 127.0.0.1:<free port>
    RecordingTransport                       -- an httpx transport that remembers what went through it
"""

from butler.loopback import live_server
from butler.testing._kit import LiveVendor, RecordingTransport, connector_test_class

__all__ = ["LiveVendor", "RecordingTransport", "connector_test_class", "live_server"]
