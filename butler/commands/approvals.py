"""`butler approvals list|show|approve|reject` and `butler explain`: what waits for you, and your answer."""

from __future__ import annotations

import argparse
import functools
import sys

from butler.approvals import OPEN, Desk, State, raw_item
from butler.commands.common import unlock
from butler.errors import UsageError
from butler.negotiate import purchases
from butler.vault import Vault
from butler.wiring import desk

__all__ = ["add_parser", "decide", "explain_lines"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("approvals", help="what waits for your decision (purchases, terms, unsubscribes)",
                                   description="Items butler may not decide alone: approve or reject them.")
    sub = parser.add_subparsers(dest="approvals_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="every item waiting or needing attention, with its reasons")
    p.add_argument("--all", action="store_true", help="decided items too")
    p.set_defaults(func=list_items)
    p = sub.add_parser("show", help="one item in full: totals, rules, history")
    p.add_argument("id", help="the item's id (see `butler approvals list`)")
    p.set_defaults(func=show_item)
    for name in ("approve", "reject"):
        p = sub.add_parser(name, help=f"{name} one item" + (" (carries it out at once)" if name == "approve" else ""))
        p.add_argument("id", help="the item's id (see `butler approvals list`)")
        p.set_defaults(func=functools.partial(decide_item, approve=name == "approve"))

    e = subparsers.add_parser("explain", help="why butler did or proposes something: an approval, a purchase, a "
                                              "mail move",
                              description="The rules that fired (file:line and your reasons), the mandate, who "
                                          "approved and when.")
    e.add_argument("id", help="an approval id, a purchase (order) id, or a mail message id")
    e.set_defaults(func=explain)


def _reconciled(vault: Vault, the_desk: Desk) -> None:
    for line in the_desk.reconcile(vault):
        print(f"note: {line}", file=sys.stderr)


def list_items(args: argparse.Namespace) -> int:
    the_desk = desk()
    with unlock(quiet=True).vault as vault:
        _reconciled(vault, the_desk)
        items = the_desk.items(vault, list(State) if args.all else OPEN)
    if not items:
        print("nothing waits for you")
    for item in items:
        state = "" if item.state is State.PENDING else f" ({item.state.value})"
        print(f"{item.id}  [{item.kind}]{state}  {item.summary()}")
        if item.state is not State.PENDING and item.note:
            print(f"    latest: {item.note}")
        for reason in item.reasons:
            print(f"    - {reason}")
    return 0


def show_item(args: argparse.Namespace) -> int:
    the_desk = desk()
    with unlock(quiet=True).vault as vault:
        print("\n".join(the_desk.explain(vault, args.id)))
    return 0


def decide(vault: Vault, item_id: str, *, approve: bool) -> str:
    """The person's answer through the one desk (every kind-specific approve/reject command runs this)."""
    the_desk = desk()
    _reconciled(vault, the_desk)
    return the_desk.decide(vault, item_id, approve=approve, by="person")


def decide_item(args: argparse.Namespace, *, approve: bool) -> int:
    with unlock(quiet=True).vault as vault:
        print(decide(vault, args.id, approve=approve))
    return 0


def explain_lines(vault: Vault, some_id: str) -> list[str]:
    """What `butler explain` prints for an approval item, a purchase, or a mail message id."""
    the_desk = desk()
    if raw_item(vault, some_id) is not None:
        return the_desk.explain(vault, some_id)
    purchase = purchases.get(vault, some_id)
    if purchase is not None:
        data = purchase.data
        lines = [f"purchase {some_id}: {data.get('total', {}).get('amount')} {data.get('total', {}).get('currency')} "
                 f"from {data.get('vendor_id')} at {data.get('at')}, bought by {data.get('bought_by')}",
                 f"  approved total: {data.get('approved_total') or 'unknown'}; checkout {data.get('checkout_id')}"]
        if data.get("disputed"):
            lines += [f"  disputed: {problem}" for problem in data["disputed"]]
        approval = data.get("approval")
        if isinstance(approval, str) and raw_item(vault, approval) is not None:
            lines += ["", *the_desk.explain(vault, approval)]
        return lines
    from butler.mail.explain import explain_move

    found = explain_move(some_id)
    if found:
        return found
    raise UsageError(f"butler knows no approval, purchase or mail message {some_id!r}",
                     "See `butler approvals list --all`, or the ids in `butler mail log`.")


def explain(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        print("\n".join(explain_lines(vault, args.id)))
    return 0
