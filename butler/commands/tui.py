"""`butler tui`: the terminal UI."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("tui", help="open the terminal UI (also what `butler` alone does)",
                                   description="Live with your butler: what it did, what waits for you, "
                                               "your mail, deals, contracts, terms and vault.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace | None = None) -> int:
    """Open the TUI on BUTLER_HOME; returns the exit code."""
    from butler.tui import make_app

    app = make_app()
    app.run()
    return int(app.return_code or 0)
