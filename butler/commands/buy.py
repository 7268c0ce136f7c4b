"""`butler buy PRODUCT --from CONNECTOR`: buy at the vendor's fixed price, through the approval desk."""

from __future__ import annotations

import argparse
import asyncio

from butler.commands.common import unlock
from butler.errors import UsageError

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("buy", help="buy a product at the vendor's own price (after your approval)",
                              description="Ask the vendor for its total (its price, shipping, tax), check it against "
                                          "your policies, and queue the purchase for your approval: "
                                          "`butler approvals approve ID` pays, never more than that total. Nothing "
                                          "is negotiated.")
    p.add_argument("product", help="the vendor's product id (or the product's URL, where the vendor takes one)")
    p.add_argument("--from", dest="connector", required=True, metavar="CONNECTOR",
                   help="the enabled connector of the vendor (see `butler connectors list`)")
    p.add_argument("--qty", type=int, default=1, help="how many (default 1)")
    p.set_defaults(func=buy)


def buy(args: argparse.Namespace) -> int:
    from butler.config import load_config
    from butler.negotiate.fixed_price import Proposed, propose_purchase
    from butler.negotiate.reauth import ask_to_reauthenticate
    from butler.negotiate.vendors import open_one
    from butler.policy import load_home_policies
    from butler.sdk import AuthError, MissingSecret

    if args.qty < 1:
        raise UsageError(f"--qty {args.qty} is out of range: it must be at least 1")
    if not args.product.strip():
        raise UsageError("name the product to buy")
    policies = load_home_policies()
    seconds = load_config().vendors.deadline_seconds
    with unlock(quiet=True).vault as vault:
        connector = open_one(vault, args.connector)

        async def run() -> Proposed:
            async with connector:
                return await propose_purchase(vault, args.connector, connector, args.product.strip(),
                                              quantity=args.qty, policies=policies, seconds=seconds)

        try:
            proposed = asyncio.run(run())
        except AuthError as exc:
            if not isinstance(exc, MissingSecret):  # a refusal, not a secret never given
                exc.message = ask_to_reauthenticate(vault, args.connector, exc)
            raise
    item = proposed.item
    print(f"{item.what()} from {item.vendor}: {proposed.quote.describe()}")
    verdict, *reasons = proposed.decision.explain().splitlines()
    print(f"your policies: {verdict}")
    for line in reasons:
        print(f"  {line.strip()}")
    print(f"it waits for your approval: butler approvals approve {item.id}")
    return 0
