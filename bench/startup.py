"""Run the start-up benchmark: `python bench/startup.py [--rounds N]` (same as `butler bench startup`)."""

from __future__ import annotations

import argparse

from butler.bench.startup import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="runs of each command (default 10)")
    raise SystemExit(run(rounds=parser.parse_args().rounds))
