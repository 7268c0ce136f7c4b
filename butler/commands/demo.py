"""`butler demo`: the whole butler on an embedded default, cleaned up afterwards."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="show the butler at work on example vendors and a throwaway vault",
        description="Run the butler end to end on an embedded default: a throwaway BUTLER_HOME, example "
                    "policies, example vendors on loopback. Prints a report and removes what it created.")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway home for inspection")
    parser.add_argument("--tui", action=argparse.BooleanOptionalAction, default=None,
                        help="open the terminal UI on the demo home afterwards (default: when in a terminal)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from butler.demo import run_demo

    return run_demo(keep=args.keep, tui=args.tui)
