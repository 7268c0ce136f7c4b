"""`butler mail …`: the mail feature's own commands (`butler.mail.commands`), with what only the shell may wire
in: the other readers of the mail a sweep fetches (data-rights discovery, `butler.wiring.mail_readers`), so that
a sweep run by hand feeds them as the daemon's does."""

from __future__ import annotations

import argparse
from typing import Any

from butler.mail import commands as mail_commands

__all__ = ["add_parser"]


def _readers(vault: Any) -> list[Any]:
    from butler.wiring import mail_readers

    return list(mail_readers(vault))


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mail_commands.add_parser(subparsers)
    mail_commands.sweep_readers = _readers
