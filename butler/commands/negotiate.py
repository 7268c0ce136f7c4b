"""`butler intent|negotiate|negotiations|renewals|mandate`: what you seek, the deals butler gets, your limits."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
from typing import Any

from butler.commands.common import unlock
from butler.errors import UsageError
from butler.models import Money, amount_problem
from butler.negotiate.session import negotiation_records
from butler.policy import EvalContext, PolicySet, load_home_policies
from butler.policy.rules import parse_money

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("intent", help="what you are looking for (add, list, cancel)",
                              description="Intents: what butler should find and negotiate for you.")
    sub = p.add_subparsers(dest="intent_command", metavar="ACTION", required=True)
    a = sub.add_parser("add", help="add an intent, e.g. 'a laptop' --category shop --budget '900 EUR'")
    a.add_argument("description")
    a.add_argument("--category", required=True, help="the vendors' category (energy, mobile, insurance, shop…)")
    a.add_argument("--budget", required=True, help='the most you will pay, like "900 EUR" (per period for contracts)')
    a.add_argument("--keyword", dest="keywords", action="append", default=[], help="a word the product must contain")
    a.add_argument("--deadline", help="ISO date or time by which it is needed")
    a.set_defaults(func=intent_add)
    sub.add_parser("list", help="every intent and its status").set_defaults(func=intent_list)
    c = sub.add_parser("cancel", help="stop looking")
    c.add_argument("id")
    c.set_defaults(func=intent_cancel)

    n = subparsers.add_parser("negotiate", help="cast an intent to every enabled vendor and negotiate",
                              description="Collect offers, drop what your policies forbid, negotiate with the "
                                          "promising vendors at once, and queue the best deal for your approval.")
    n.add_argument("intent", help="the intent's id (see `butler intent list`)")
    n.add_argument("--reserve", type=float, default=0.2, help="the utility of walking away, 0 <= r < 1 (default 0.2)")
    n.add_argument("--seconds", type=float, default=30.0, help="time limit per vendor (default 30)")
    n.add_argument("--max-vendors", type=int, default=8, help="negotiate with at most this many vendors")
    n.set_defaults(func=negotiate)

    h = subparsers.add_parser("negotiations", help="every offer and counter-offer exchanged",
                              description="Show the negotiations stored in the vault, each exchange by round.")
    h.add_argument("intent", nargs="?", help="only those of this intent")
    h.set_defaults(func=negotiations)

    r = subparsers.add_parser("renewals", help="contracts renewing soon: renew, switch or cancel, with savings",
                              description="Ask current vendors for retention deals and others for quotes; each "
                                          "proposal waits in `butler approvals list`.")
    r.add_argument("--within", type=int, default=45, help="days ahead to look (default 45)")
    r.add_argument("--seconds", type=float, default=30.0, help="time limit per vendor (default 30)")
    r.set_defaults(func=renewals)

    m = subparsers.add_parser("mandate", help="limits within which butler may buy without asking",
                              description="A spending mandate: max amount, allowed vendors and categories, expiry.")
    msub = m.add_subparsers(dest="mandate_command", metavar="ACTION", required=True)
    s = msub.add_parser("set", help="set (replace) the mandate")
    s.add_argument("--max", required=True, dest="max_amount", help='the most one purchase may commit, like "50 EUR"')
    s.add_argument("--vendor", dest="vendors", action="append", required=True, help="an allowed vendor (repeatable)")
    s.add_argument("--category", dest="categories", action="append", required=True,
                   help="an allowed category (repeatable)")
    s.add_argument("--expires", required=True, help="ISO date or time when the mandate ends")
    s.set_defaults(func=mandate_set)
    msub.add_parser("show", help="the current mandate").set_defaults(func=mandate_show)
    msub.add_parser("revoke", help="withdraw the mandate").set_defaults(func=mandate_revoke)


def _money(text: str, what: str) -> Money:
    """`text` as a budget or limit: an amount more than 0 and at most MAX_AMOUNT, with its currency."""
    try:
        money = Money.model_validate(parse_money(text))
    except ValueError as exc:
        raise UsageError(f"{what}: not an amount: {text!r}", 'Write it like "900 EUR".') from exc
    problem = amount_problem(money, zero=False)
    if problem is not None:
        raise UsageError(f"{what}: {text!r} is out of range: {problem}", 'Write it like "900 EUR".')
    return money


def _reserve(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value < 1):
        raise UsageError(f"--reserve {value:g} is out of range: it must be at least 0 and below 1",
                         "The reserve is the utility of walking away; 0.2 is the default.")
    return value


def _seconds(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"--seconds {value:g} is out of range: it must be more than 0", "Give a time like 30.")
    return value


def _when(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"not an ISO date or time: {text!r}", "Write it like 2026-12-31 or 2026-12-31T18:00.") from exc
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _policies() -> PolicySet:
    return load_home_policies()


def intent_add(args: argparse.Namespace) -> int:
    from butler.negotiate import intents

    budget = _money(args.budget, "--budget")
    deadline = _when(args.deadline) if args.deadline else None
    with unlock(quiet=True).vault as vault:
        intent = intents.add(vault, args.description, args.category, budget, keywords=tuple(args.keywords),
                             deadline=deadline)
    print(f"{intent.id}  {intent.description} ({intent.category}, at most {intent.budget})")
    return 0


def intent_list(args: argparse.Namespace) -> int:
    from butler.negotiate import intents

    with unlock(quiet=True).vault as vault:
        found = intents.all_intents(vault)
    if not found:
        print("no intents; add one with `butler intent add`")
    for intent in found:
        print(f"{intent.id}  [{intent.status.value}]  {intent.description} "
              f"({intent.category}, at most {intent.budget})")
    return 0


def intent_cancel(args: argparse.Namespace) -> int:
    from butler.negotiate import intents

    with unlock(quiet=True).vault as vault:
        intent = intents.cancel(vault, args.id)
    print(f"{intent.id} cancelled")
    return 0


def negotiate(args: argparse.Namespace) -> int:
    from butler.negotiate import intents
    from butler.negotiate.fanout import IntentOutcome, negotiate_intent
    from butler.negotiate.vendors import entered, open_enabled

    reserve, seconds = _reserve(args.reserve), _seconds(args.seconds)
    if args.max_vendors < 1:
        raise UsageError(f"--max-vendors {args.max_vendors} is out of range: it must be at least 1")
    policies = _policies()
    with unlock(quiet=True).vault as vault:
        intent = intents.get(vault, args.intent)
        opened = open_enabled(vault)
        if not opened:
            raise UsageError("no connector is enabled", "Enable one with `butler connectors enable ID`.")

        async def run() -> IntentOutcome:
            async with entered(opened):
                return await negotiate_intent(vault, intent, policies, opened, reserve=reserve,
                                              per_vendor_seconds=seconds, context=EvalContext(),
                                              max_vendors=args.max_vendors)

        outcome = asyncio.run(run())
    for dropped in outcome.dropped:
        print(f"dropped {dropped.vendor_id}{'/' + dropped.offer_id if dropped.offer_id else ''}: {dropped.reason}")
    for rank, result in enumerate(outcome.results, start=1):
        if result.agreed is not None:
            print(f"{rank}. {result.vendor_id} {result.offer.product}: {result.agreed.price} for "
                  f"{result.agreed.term_months} months, data use {result.agreed.data_use.value} (listed "
                  f"{result.offer.price}); utility {result.utility:.2f} after {len(result.exchanges)} offers")
        else:
            print(f"{rank}. {result.vendor_id} {result.offer.product}: {result.reason}")
    if outcome.purchase is not None:
        print(f"{outcome.mandate_note}: order {outcome.purchase.id}, {outcome.purchase.total}")
    elif outcome.approval_id is not None:
        print(f"the best deal waits for your approval: butler approvals approve {outcome.approval_id}")
        if outcome.mandate_note:
            print(f"(not bought within your mandate: {outcome.mandate_note})")
    else:
        print("no deal this time; nothing waits for approval")
        return 1
    return 0


def negotiations(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        records = negotiation_records(vault, args.intent)
    if not records:
        print("no negotiations recorded")
    for record in records:
        data: dict[str, Any] = record.data
        agreed = data.get("agreed")
        ending = f"agreed {agreed['price']}" if agreed else data.get("reason", data.get("state"))
        print(f"{record.id}: {data.get('vendor')} {data.get('offer')} — {ending}")
        for e in data.get("exchanges", []):
            t = e["terms"]
            extras = f", extras {', '.join(t['extras'])}" if t.get("extras") else ""
            print(f"    round {e['round']:>3} {e['proposer']:<6} {t['price']}, {t['term_months']} months, "
                  f"data {t['data_use']}{extras} (utility {e['utility']:.2f})")
    return 0


def renewals(args: argparse.Namespace) -> int:
    from butler.negotiate.renewal import sweep

    seconds = _seconds(args.seconds)
    if args.within < 0:
        raise UsageError(f"--within {args.within} is out of range: it must be at least 0 days")
    policies = _policies()
    with unlock(quiet=True).vault as vault:
        proposals = sweep(vault, policies, within_days=args.within, per_vendor_seconds=seconds)
    if not proposals:
        print(f"no new renewal in the next {args.within} days")
    for proposal in proposals:
        print(f"{proposal.item_id}  [{proposal.action}]  {proposal.summary}")
        for reason in proposal.reasons:
            print(f"    - {reason}")
    return 0


def mandate_set(args: argparse.Namespace) -> int:
    from butler.negotiate.mandate import Mandate, set_mandate

    given = Mandate(max_amount=_money(args.max_amount, "--max"), vendors=tuple(args.vendors),
                    categories=tuple(args.categories), expires=_when(args.expires))
    if given.expires <= dt.datetime.now(dt.UTC):
        raise UsageError("the mandate would already have expired", "Give an expiry in the future.")
    with unlock(quiet=True).vault as vault:
        set_mandate(vault, given)
    print(f"mandate set: up to {given.max_amount} per purchase from {', '.join(given.vendors)} "
          f"in {', '.join(given.categories)}, until {given.expires.isoformat(timespec='minutes')}")
    return 0


def mandate_show(args: argparse.Namespace) -> int:
    from butler.negotiate.mandate import current

    with unlock(quiet=True).vault as vault:
        given = current(vault)
    if given is None:
        print("no mandate: every purchase waits for your approval")
        return 0
    expired = " (expired)" if given.expires <= dt.datetime.now(dt.UTC) else ""
    print(f"up to {given.max_amount} per purchase\nvendors:    {', '.join(given.vendors)}\n"
          f"categories: {', '.join(given.categories)}\nexpires:    {given.expires.isoformat(timespec='minutes')}"
          f"{expired}")
    return 0


def mandate_revoke(args: argparse.Namespace) -> int:
    from butler.negotiate.mandate import revoke

    with unlock(quiet=True).vault as vault:
        had = revoke(vault)
    print("mandate revoked" if had else "there was no mandate")
    return 0
