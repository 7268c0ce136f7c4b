"""Run the unlock benchmark: `python bench/unlock.py [--rounds N]` (same as `butler bench unlock`)."""

from __future__ import annotations

import argparse

from butler.bench.unlock import run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command (default 5)")
    raise SystemExit(run(rounds=parser.parse_args().rounds))
