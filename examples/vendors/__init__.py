"""Runnable example vendors for butler's connectors, negotiation engine and benchmarks.

    VENDORS / vendor(name)   -- voltwise (energy, Boulware), parla (mobile, Conceder),
                                shieldly (insurance, hardliner), hearth (shop, tit-for-tat)
    make_app(spec)           -- a FastAPI app for one vendor (docs/vendor-api.yaml)
    serve(vendor, port)      -- run one on 127.0.0.1 (blocking); or `python -m examples.vendors energy --port 8101`
"""

from __future__ import annotations

import uvicorn

from examples.vendors.app import make_app
from examples.vendors.catalog import VENDORS, VendorSpec, vendor

__all__ = ["VENDORS", "VendorSpec", "make_app", "serve", "vendor"]


def serve(name: str, port: int, host: str = "127.0.0.1") -> None:
    """Serve the vendor `name` (id or category) until interrupted."""
    uvicorn.run(make_app(vendor(name)), host=host, port=port, log_level="warning")
