"""A first sweep of N generated messages on local Dovecot, beside the raw FETCH of the same messages:
`python bench/mail_sweep.py [N] [--large-share 0.1] [--profile] [--load N]` (same as `butler bench mail --sweep N`)."""

from __future__ import annotations

import argparse

from butler.bench.mail_sweep import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int, nargs="?", default=50_000, help="messages (default 50,000)")
    parser.add_argument("--large-share", type=float, default=0.1, help="share of 36 KB marketing messages")
    parser.add_argument("--profile", action="store_true", help="where the sweep's time goes (cProfile)")
    parser.add_argument("--load", type=int, default=0, help="busy processes meanwhile (a loaded machine)")
    args = parser.parse_args()
    raise SystemExit(run(args.count, large_share=args.large_share, profile=args.profile, load=args.load))
