"""The `butler` command line: a thin shell over the library.

Each feature contributes its commands through a module with `add_parser(subparsers)`; each command's handler
takes the parsed arguments and returns an exit code. Errors derived from ButlerError are printed as message and
hint, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from butler import __version__, paths
from butler.errors import ButlerError
from butler.log import redact, setup_logging

__all__ = ["build_parser", "main"]

# Modules that add subcommands, in the order `butler --help` lists them.
COMMAND_MODULES = [
    "butler.commands.demo",
    "butler.commands.init",
    "butler.commands.vault",
    "butler.commands.unlock",
    "butler.commands.audit",
    "butler.policy.commands",
    "butler.terms.commands",
    "butler.commands.approvals",
    "butler.commands.negotiate",
    "butler.commands.buy",
    "butler.commands.profile",
    "butler.daemon.commands",
    "butler.commands.tui",
    "butler.commands.connectors",
    "butler.mail.commands",
    "butler.commands.bench",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="butler",
        description="Your digital butler: your data, your terms, your deals.",
    )
    parser.add_argument("--version", action="version", version=f"butler {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue  # a feature not built into this install
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(logging.WARNING - 10 * min(args.verbose, 2))
    handler = getattr(args, "func", None)
    umask = paths.private_umask()  # what butler writes is the person's alone, whatever the shell's umask
    try:
        if handler is None:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                parser.print_help()
                return 0
            from butler.commands.tui import run as run_tui  # `butler` alone opens the terminal UI

            return run_tui()
        return int(handler(args) or 0)
    except ButlerError as exc:
        print(f"error: {redact(exc.message)}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {redact(exc.hint)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        os.umask(umask)
