"""`python -m examples.vendors NAME [--port N]`: serve one example vendor on 127.0.0.1."""

from __future__ import annotations

import argparse

from examples.vendors import VENDORS, serve, vendor

parser = argparse.ArgumentParser(prog="python -m examples.vendors", description=__doc__)
parser.add_argument("vendor", help=f"one of {', '.join(VENDORS)} or a category (energy, mobile, insurance, shop)")
parser.add_argument("--port", type=int, default=8101)
args = parser.parse_args()
spec = vendor(args.vendor)
print(f"{spec.name}: http://127.0.0.1:{args.port}  (API key: {spec.api_key})", flush=True)
serve(args.vendor, args.port)
