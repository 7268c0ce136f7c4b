"""`butler audit …`: verify and read the hash-chained audit log."""

from __future__ import annotations

import argparse
import json

from butler.commands.common import unlock


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("audit", help="verify and read the audit log of everything butler did",
                                   description="Verify and read the audit log.")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    sub.add_parser("verify", help="check every entry and the hash chain").set_defaults(func=verify)
    p = sub.add_parser("show", help="print the latest entries")
    p.add_argument("-n", "--last", type=int, default=20, help="how many entries (default 20)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=show)


def verify(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        report = vault.audit.verify()
    print(f"audit log OK: {report.entries} entries, chain head {report.head[:16]}…")
    return 0


def show(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        entries = vault.audit.entries()[-args.last:]
    for entry in entries:
        if args.json:
            print(json.dumps(entry.to_json(), ensure_ascii=False))
        else:
            print(f"{entry.seq:>6}  {entry.at[:19]}  {entry.action:<24} {entry.subject}")
    return 0
