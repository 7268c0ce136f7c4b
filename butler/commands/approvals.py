"""`butler approvals …`: what waits for you, and your answer."""

from __future__ import annotations

import argparse
import functools

from butler import approvals
from butler.commands.common import unlock


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("approvals", help="what waits for your decision (purchases, terms, unsubscribes)",
                                   description="Items butler may not decide alone: approve or reject them.")
    sub = parser.add_subparsers(dest="approvals_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="every item waiting, with its reasons").set_defaults(func=list_items)
    for name, verb in (("approve", "approve"), ("reject", "reject")):
        p = sub.add_parser(name, help=f"{verb} one item")
        p.add_argument("id", help="the item's id (see `butler approvals list`)")
        p.set_defaults(func=functools.partial(decide_item, approve=name == "approve"))


def list_items(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        items = approvals.pending(vault)
    if not items:
        print("nothing waits for you")
    for item in items:
        print(f"{item.id}  [{item.kind}]  {item.summary}")
        for reason in item.reasons:
            print(f"    - {reason}")
    return 0


def decide_item(args: argparse.Namespace, *, approve: bool) -> int:
    with unlock(quiet=True).vault as vault:
        print(approvals.decide(vault, args.id, approve=approve))
    return 0
