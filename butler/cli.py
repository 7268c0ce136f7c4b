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

from butler import paths
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
    "butler.commands.mail",
    "butler.commands.rights",
    "butler.commands.bench",
    "butler.commands.doctor",
    "butler.commands.config",
]


# Every top-level command: the module that adds it and its one-line help (a test checks them against what the
# modules add). Only the module of the command being run is imported, so `butler --help` imports none.
COMMANDS: list[tuple[str, str, str]] = [
    ("demo", "butler.commands.demo", "show the butler at work on example vendors and a throwaway vault"),
    ("init", "butler.commands.init", "create your butler home and encrypted vault"),
    ("vault", "butler.commands.vault", "inspect and maintain the encrypted vault"),
    ("unlock", "butler.commands.unlock", "keep the vault unlocked for a while, so commands need no passphrase"),
    ("lock", "butler.commands.unlock", "forget the key `butler unlock` kept (the agent exits)"),
    ("audit", "butler.commands.audit", "verify and read the audit log of everything butler did"),
    ("policy", "butler.policy.commands", "check and explain your purchase and privacy policies"),
    ("terms", "butler.terms.commands", "MyTerms (IEEE 7012): the terms you proffer to vendors"),
    ("approvals", "butler.commands.approvals", "what waits for your decision (purchases, terms, unsubscribes)"),
    ("explain", "butler.commands.approvals",
     "why butler did or proposes something: an approval, a purchase, a mail move"),
    ("intent", "butler.commands.negotiate", "what you are looking for (add, list, cancel)"),
    ("negotiate", "butler.commands.negotiate", "cast an intent to every enabled vendor and negotiate"),
    ("negotiations", "butler.commands.negotiate", "every offer and counter-offer exchanged"),
    ("renewals", "butler.commands.negotiate", "contracts renewing soon: renew, switch or cancel, with savings"),
    ("mandate", "butler.commands.negotiate", "limits within which butler may buy without asking"),
    ("buy", "butler.commands.buy", "buy a product at the vendor's own price (after your approval)"),
    ("profile", "butler.commands.profile", "who butler buys for: name, e-mail, delivery address"),
    ("daemon", "butler.daemon.commands",
     "run the background sweeps and reminders (foreground; for systemd or a terminal)"),
    ("status", "butler.daemon.commands", "is the daemon up, when do its jobs run, what waits for approval"),
    ("tui", "butler.commands.tui", "open the terminal UI (also what `butler` alone does)"),
    ("connectors", "butler.commands.connectors", "vendor connectors: list, enable, check, scaffold"),
    ("mail", "butler.commands.mail", "keep marketing mail out of the inbox"),
    ("rights", "butler.commands.rights", "what companies hold about you: find them, ask them (GDPR)"),
    ("bench", "butler.commands.bench", "measure butler against a baseline, in one run"),
    ("doctor", "butler.commands.doctor",
     "check keyring, permissions, vault, daemon, mail, connectors, policies and disk"),
    ("config", "butler.commands.config", "show, get or set a setting of config.toml (validated)"),
]


class _Version(argparse.Action):
    """`--version`, reading the version only when asked (see `butler.__getattr__`)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        import butler

        print(f"butler {butler.__version__}")
        parser.exit()


def build_parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The parser with every command's real arguments (`command="*"`), only one command's, or (None) just the
    list of commands with their help, which imports no command module."""
    parser = argparse.ArgumentParser(
        prog="butler",
        description="Your digital butler: your data, your terms, your deals.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (repeat for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    owner = {name: module for name, module, _ in COMMANDS}
    wanted = set(COMMAND_MODULES) if command == "*" else {owner[command]} if command in owner else set()
    listed = {module for _, module, _ in COMMANDS}
    for module_name in COMMAND_MODULES:
        if module_name in wanted or module_name not in listed:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                    continue  # a feature not built into this install
                raise
            module.add_parser(subparsers)
        else:  # listed for `--help` and for choosing; its module is imported only when it runs
            for name, _, help_text in (c for c in COMMANDS if c[1] == module_name):
                subparsers.add_parser(name, help=help_text)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command `argv` asks for (the first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_of(words))
    args = parser.parse_args(words)
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
