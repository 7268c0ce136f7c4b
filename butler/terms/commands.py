"""`butler terms …`: the person's MyTerms choices, discovery, proffers, waiting counter-offers and records."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from butler.atomic import atomic_write
from butler.commands.common import unlock
from butler.policy import PolicySet, load_home_policies, load_policies
from butler.terms.approvals import approve, reject
from butler.terms.choices import describe_choices, load_choices, set_choice
from butler.terms.discovery import discover
from butler.terms.handshake import Outcome, proffer
from butler.terms.pending import pending_items
from butler.terms.records import export_records, vendor_records, verify_records
from butler.terms.roster import ROSTER, Status

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("terms", help="MyTerms (IEEE 7012): the terms you proffer to vendors",
                                   description="Proffer your own privacy terms to vendors and keep signed records.")
    sub = parser.add_subparsers(dest="terms_command", metavar="ACTION", required=True)
    p = sub.add_parser("show", help="your choices and the agreements of the roster, in plain language")
    p.add_argument("--roster", action="store_true", help="also list all 16 agreements")
    p.set_defaults(func=run_show)
    p = sub.add_parser("set", help="choose what to proffer, for everyone, one vendor or one category")
    p.add_argument("--proffer", required=True, metavar="ID", help="the agreement you proffer, e.g. SD-BASE")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--vendor", help="a vendor name or URL")
    scope.add_argument("--category", help="a category, e.g. telecom")
    p.add_argument("--accept", nargs="*", default=[], metavar="ID", help="alternatives butler may accept")
    p.set_defaults(func=run_set)
    p = sub.add_parser("discover", help="fetch a vendor's /.well-known/myterms.json and gpc.json")
    p.add_argument("url")
    p.add_argument("--refresh", action="store_true", help="ignore the cached answer")
    p.set_defaults(func=run_discover)
    p = sub.add_parser("proffer", help="proffer your agreement to a vendor")
    p.add_argument("url")
    p.add_argument("--agreement", metavar="ID", help="proffer this agreement instead of your choice")
    p.add_argument("--category", help="the vendor's category, to pick your choice for it")
    p.add_argument("--policies", nargs="*", type=Path, metavar="PATH",
                   help="policy files or directories (default: BUTLER_HOME/policies if present)")
    p.set_defaults(func=run_proffer)
    sub.add_parser("pending", help="counter-offers waiting for you").set_defaults(func=run_pending)
    p = sub.add_parser("approve", help="accept a waiting counter-offer (butler tells the vendor)")
    p.add_argument("id")
    p.set_defaults(func=run_approve)
    p = sub.add_parser("reject", help="refuse a waiting counter-offer (kept as a signed refusal)")
    p.add_argument("id")
    p.add_argument("--reason", default="declined by the person")
    p.set_defaults(func=run_reject)
    p = sub.add_parser("records", help="a vendor's signed agreement records")
    p.add_argument("vendor", help="a vendor name (host[:port]) or URL")
    p.add_argument("--export", type=Path, metavar="FILE", help="write them as JSON, with the public key")
    p.set_defaults(func=run_records)
    p = sub.add_parser("verify", help="check a vendor's records: signatures and hash chain")
    p.add_argument("vendor")
    p.set_defaults(func=run_verify)


def _policies(given: list[Path] | None) -> PolicySet:
    return load_policies(given) if given else load_home_policies()


def _print_outcome(outcome: Outcome) -> int:
    print(outcome.describe())
    return 0 if outcome.status in (Status.ACCEPTED, Status.CONFIRMATION_REQUIRED) else 1


def run_show(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        print(describe_choices(load_choices(vault)))
    if args.roster:
        print("\nThe MyTerms roster (IEEE 7012, DPV-P7012):")
        for entry in ROSTER.values():
            print(f"  {entry.id:<20} {entry.definition}")
    return 0


def run_set(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        choices = set_choice(vault, args.proffer, vendor=args.vendor, category=args.category,
                             accept=tuple(args.accept))
    print(describe_choices(choices))
    return 0


def run_discover(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        found = asyncio.run(discover(vault, args.url, refresh=args.refresh))
    if found.myterms is None:
        print(f"{found.vendor} publishes no MyTerms document.")
    else:
        print(f"{found.vendor} accepts (effective {found.myterms.effective_date}):")
        for link in found.myterms.agreements:
            known = ROSTER.get(link.id)
            print(f"  {link.id:<20} {known.definition if known else '(not in the MyTerms roster)'}")
        if found.myterms.tos_url:
            print(f"  terms of service: {found.myterms.tos_url}")
    gpc = "yes" if found.gpc and found.gpc.gpc else "not declared" if found.gpc is None else "no"
    print(f"Global Privacy Control honoured: {gpc}")
    return 0


def run_proffer(args: argparse.Namespace) -> int:
    policies = _policies(args.policies)
    with unlock().vault as vault:
        outcome = asyncio.run(proffer(vault, args.url, policies=policies, term_id=args.agreement,
                                      category=args.category))
    return _print_outcome(outcome)


def run_pending(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        items = pending_items(vault)
    if not items:
        print("Nothing waits for you.")
    for item in items:
        print(item.describe())
        print(f"    {item.term_id}: {ROSTER[item.term_id].definition}")
    return 0


def run_approve(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        outcome = asyncio.run(approve(vault, args.id))
    return _print_outcome(outcome)


def run_reject(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        outcome = reject(vault, args.id, args.reason)
    print(f"You refused {outcome.term_id} from {outcome.vendor}; the refusal is kept as a signed record.")
    return 0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def run_records(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        if args.export:
            document = export_records(vault, args.vendor)
            _write_json(args.export, document)
            print(f"{len(document['records'])} records for {document['vendor']} written to {args.export}")
            return 0
        records = vendor_records(vault, args.vendor)
    if not records:
        print("No records for this vendor.")
    for r in records:
        extra = r.details.get("reason") or r.details.get("error") or ""
        print(f"{r.seq:>4}  {r.at:%Y-%m-%d %H:%M:%S}  {r.status:<42} {r.term_id:<20} {extra}".rstrip())
    return 0


def run_verify(args: argparse.Namespace) -> int:
    with unlock().vault as vault:
        report = verify_records(vault, args.vendor)
    report.raise_for_problems()
    print(f"{report.records} records for {report.vendor} verify; head {report.head}")
    return 0
