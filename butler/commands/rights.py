"""`butler rights …`: the companies you deal with, and your GDPR requests to them from draft to answer."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from butler.commands.common import unlock
from butler.errors import UsageError

__all__ = ["add_parser"]

_KINDS = ("access", "rectification", "erasure", "objection")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("rights", help="what companies hold about you: find them, ask them (GDPR)",
                                   description="Companies found in your mail, matched to the datenanfragen.de "
                                               "database, and GDPR requests sent and followed up.")
    sub = parser.add_subparsers(dest="rights_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="counterparties, their company record and match, and your requests"
                   ).set_defaults(func=run_list)
    p = sub.add_parser("discover", help="read your existing mail (read-only) for counterparties and purchases")
    p.add_argument("--maildir", type=Path, help="a local Maildir instead of the IMAP mailbox set up")
    p.set_defaults(func=run_discover)
    p = sub.add_parser("request", help="draft a request to a company; it waits for your approval")
    p.add_argument("company", help="a company's slug, web domain or name")
    p.add_argument("--kind", choices=_KINDS, default="access")
    p.add_argument("--with", dest="fields", default="name,email",
                   help="the profile fields that identify you, comma-separated (name, email, address)")
    p.add_argument("--language", help="the letter's language when the company names none (default: yours)")
    p.add_argument("--change", default="", help="for rectification: what to correct")
    p.set_defaults(func=run_request)
    p = sub.add_parser("status", help="each request's timeline and days left (or one request's)")
    p.add_argument("reference", nargs="?")
    p.set_defaults(func=run_status)
    sub.add_parser("remind", help="draft admonitions and complaints for unanswered requests"
                   ).set_defaults(func=run_remind)
    p = sub.add_parser("extended", help="the company wrote (not by mail) that it needs two more months")
    p.add_argument("reference")
    p.set_defaults(func=run_event, event="extended")
    p = sub.add_parser("close", help="the request is settled: no more reminders")
    p.add_argument("reference")
    p.set_defaults(func=run_event, event="closed")
    p = sub.add_parser("match", help="set which company record a counterparty is (it sticks)")
    p.add_argument("counterparty", help="the counterparty's domain, as `butler rights list` shows it")
    p.add_argument("company", nargs="?", help="a company's slug; leave out to say it is none of them")
    p.set_defaults(func=run_match)
    p = sub.add_parser("update", help="replace the company database with a newer export (checked first)")
    p.add_argument("file", type=Path, help="an export folder (companies/, templates/, …) or a snapshot file")
    p.set_defaults(func=run_update)


def run_list(args: argparse.Namespace) -> int:
    from butler.rights import counterparties, database
    from butler.rights.followup import deadline
    from butler.rights.requests import references, request

    db = database.load()
    with unlock().vault as vault:
        found = counterparties.all_counterparties(vault)
        for c in found:
            company = db.companies.get(c.company or "")
            matched = f"{company.name} [{company.slug}] by {c.match_by} ({c.quality})" if company else "no record"
            print(f"{c.key:<28} {c.name[:30]:<30} {', '.join(c.kinds) or '-':<24} {matched}")
        if not found:
            print("no counterparties yet: `butler rights discover` reads your mail for them")
        today = dt.datetime.now(dt.UTC)
        for ref in references(vault):
            state = request(vault, ref)
            if state is None:
                continue
            due = deadline(state)
            left = f"{(due - today).days} days left" if due and not state.answered else (
                "answered" if state.answered else "not sent yet")
            print(f"{ref}  {state.kind:<13} {state.company:<28} {left}")
    print(f"company data: {db.source}")
    return 0


def run_discover(args: argparse.Namespace) -> int:
    from butler.mail.account import load_settings
    from butler.mail.maildir import MaildirSource
    from butler.mail.sources import MailSource
    from butler.mail.unattended import open_imap
    from butler.rights import database
    from butler.rights.discover import discover_source

    with unlock().vault as vault:
        source: MailSource = MaildirSource(args.maildir) if args.maildir else open_imap(vault, load_settings(vault))
        try:
            found = discover_source(vault, database.load(), source)
        finally:
            source.close()
    print(f"read {found.messages} message(s): {len(found.counterparties)} counterparties "
          f"({found.new_counterparties} new), {found.new_transactions} new purchase(s) and the like, "
          f"{found.replies} repl(ies) to your requests"
          + (f"; {found.kept_whole} large attachment(s) kept from replies read whole" if found.kept_whole else ""))
    for problem in found.problems[:10]:
        print(f"note: {problem}")
    return 0


def run_request(args: argparse.Namespace) -> int:
    from butler.rights import database
    from butler.rights.draft import draft_request

    fields = tuple(f.strip() for f in args.fields.split(",") if f.strip())
    unknown = set(fields) - {"name", "email", "address"}
    if unknown:
        raise UsageError(f"unknown field(s): {', '.join(sorted(unknown))}", "Choose from name, email, address.")
    with unlock().vault as vault:
        drafted = draft_request(vault, database.load(), args.company, args.kind, fields=fields,
                                language=args.language, rectification=args.change)
    item = drafted.item
    print(f"{drafted.reference}: {args.kind} request to {item.addressee} "
          f"({'by mail to ' + item.to if item.to else 'as a letter'}), in {item.language}")
    print(f"Subject: {item.subject}\n\n{item.body}")
    print(f"approve with `butler approvals approve {drafted.approval_id}`")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from butler.rights.followup import deadline
    from butler.rights.requests import references, request, verify

    with unlock().vault as vault:
        refs = [args.reference] if args.reference else references(vault)
        for ref in refs:
            state = request(vault, ref)
            if state is None:
                raise UsageError(f"no request {ref}", "See `butler rights list`.")
            due = deadline(state)
            report = verify(vault, ref)
            print(f"{ref}: {state.kind} to {state.company}"
                  + (f", due {due.date().isoformat()}" if due else "")
                  + (" (extended)" if state.extended else "")
                  + ("; records verify" if report.ok else f"; RECORDS DO NOT VERIFY: {report.problems[0]}"))
            for at, event, summary in state.timeline:
                print(f"  {at.date().isoformat()}  {event:<8} {summary}")
    return 0


def run_remind(args: argparse.Namespace) -> int:
    from butler.rights import database
    from butler.rights.followup import remind

    with unlock().vault as vault:
        queued = remind(vault, database.load())
    for approval_id in queued:
        print(f"drafted {approval_id}: see `butler approvals list`")
    if not queued:
        print("nothing overdue")
    return 0


def run_event(args: argparse.Namespace) -> int:
    from butler.rights.requests import append, request

    with unlock().vault as vault:
        state = request(vault, args.reference)
        if state is None or state.sent_at is None:
            raise UsageError(f"no sent request {args.reference}", "See `butler rights list`.")
        summary = "you noted an extension by two months" if args.event == "extended" else "closed by you"
        append(vault, args.reference, state.company, args.event, place="person", details={"summary": summary})
    print(f"{args.reference}: {summary}")
    return 0


def run_match(args: argparse.Namespace) -> int:
    from butler.rights import counterparties, database

    slug = database.load().company(args.company).slug if args.company else None
    with unlock().vault as vault:
        if counterparties.get(vault, args.counterparty) is None:
            raise UsageError(f"no counterparty {args.counterparty}", "See `butler rights list`.")
        counterparties.correct(vault, args.counterparty, slug)
    print(f"{args.counterparty} is {slug or 'no company in the database'} from now on")
    return 0


def run_update(args: argparse.Namespace) -> int:
    from butler.rights import database

    db = database.update(args.file)
    print(f"company database replaced: {len(db.companies)} companies, {len(db.authorities)} authorities")
    return 0
