"""`butler mail …`: classify, sweep, undo, explain, stats, setup and unsubscribe."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("mail", help="keep marketing mail out of the inbox",
                                   description="Sweep promotions out of the inbox; every move can be undone.")
    sub = parser.add_subparsers(dest="mail_command", metavar="ACTION", required=True)

    p = sub.add_parser("classify", help="print <path>\\t<category>\\t<score> for raw message files (no vault)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=run_classify)

    def source_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--maildir", type=Path, metavar="PATH", help="a local Maildir instead of the IMAP account")

    p = sub.add_parser("sweep", help="move promotions out of the inbox")
    source_args(p)
    p.add_argument("--dry-run", action="store_true", help="show what would move; move nothing")
    p.set_defaults(func=run_sweep)

    p = sub.add_parser("undo", help="put moved mail back (default: the last sweep)")
    source_args(p)
    p.add_argument("--since", help="undo moves at or after this ISO time")
    p.add_argument("--until", help="undo moves at or before this ISO time")
    p.add_argument("--sender", help="undo every move of this sender's mail (and keep it from now on)")
    p.set_defaults(func=run_undo)

    p = sub.add_parser("explain", help="why a message is (or would be) moved")
    source_args(p)
    p.add_argument("message", help="a raw message file, or an IMAP UID in the inbox")
    p.set_defaults(func=run_explain)

    p = sub.add_parser("stats", help="what the sweeps moved and learned")
    source_args(p)
    p.set_defaults(func=run_stats)

    p = sub.add_parser("setup", help="store the IMAP account and mail settings in the vault")
    p.add_argument("--host", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--port", type=int)
    p.add_argument("--no-tls", action="store_true", help="plain IMAP (only 127.0.0.1 unless --allow-plaintext)")
    p.add_argument("--allow-plaintext", action="store_true")
    p.add_argument("--password-file", type=Path, help="read the password or app password from this file")
    p.add_argument("--offers", choices=("inbox", "folder"), default="inbox")
    p.add_argument("--promotions-folder", metavar="NAME",
                   help="where promotions go (default Promotions; filed under the server's namespace, e.g. INBOX.)")
    p.add_argument("--offers-folder", metavar="NAME", help="where offers go with --offers folder (default Offers)")
    p.add_argument("--spam-folder", metavar="NAME",
                   help="where spam goes (default: the server's Junk folder, else the promotions folder)")
    p.add_argument("--keep-sender", action="append", default=[], metavar="ADDRESS_OR_@DOMAIN")
    p.add_argument("--smtp-host", help="send mailto: unsubscribe requests through this server (none by default)")
    p.add_argument("--smtp-port", type=int)
    p.add_argument("--smtp-security", choices=("ssl", "starttls", "none"), default="ssl",
                   help="none only to 127.0.0.1 unless --allow-plaintext")
    p.add_argument("--smtp-user", help="default: --user")
    p.add_argument("--smtp-from", help="the From address; default: the SMTP user")
    p.add_argument("--smtp-password-file", type=Path, help="when it differs from the IMAP password")
    p.add_argument("--no-test", action="store_true",
                   help="store the account without logging in first (e.g. while offline)")
    p.add_argument("--test-timeout", type=float, default=15.0, metavar="SECONDS",
                   help="how long the connection test may take (default 15)")
    p.set_defaults(func=run_setup)

    p = sub.add_parser("unsubscribe", help="unsubscribe requests (one-click, or mailto: by SMTP) awaiting approval")
    p.add_argument("action", choices=("list", "approve", "reject", "send", "letter"))
    p.add_argument("target", nargs="?", help="request id (approve/reject) or sender (letter)")
    p.set_defaults(func=run_unsubscribe)


def run_classify(args: argparse.Namespace) -> int:
    from butler.mail.classify import classify

    status = 0
    for path in args.files:
        try:
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            print(f"{path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        c = classify(raw)
        print(f"{path}\t{c.category}\t{c.score:.3f}")
    return status


class _Opened:
    """A mail source with the settings, policies and intents that go with it.

    A local Maildir is the person's mailbox too: where a vault exists, its settings (what moves, who is always
    kept, where offers go) and open intents apply, as for IMAP; without one, the defaults and no intents."""

    def __init__(self, args: argparse.Namespace) -> None:
        from butler.mail.account import load_intents, load_mail_policies, load_settings
        from butler.mail.settings import MailSettings

        self.vault: Any = None
        self.intents: list[Any] = []
        self.policies = load_mail_policies()
        if args.maildir is not None:
            from butler import paths
            from butler.mail.maildir import MaildirSource

            self.source: Any = MaildirSource(args.maildir)
            self.settings = MailSettings()
            if paths.vault_key_path(paths.butler_home()).exists():
                from butler.commands.common import unlock

                self.vault = unlock().vault
                mailbox = load_settings(self.vault)
                self.settings = MailSettings.model_validate(  # the mailbox's choices, not its IMAP account
                    mailbox.model_dump(exclude={"host", "port", "username", "tls", "allow_plaintext", "inbox",
                                                "smtp_host"}))
                self.intents = load_intents(self.vault)
            return
        from butler.commands.common import unlock
        from butler.mail.unattended import open_imap

        self.vault = unlock().vault
        self.settings = load_settings(self.vault)
        self.intents = load_intents(self.vault)
        self.source = open_imap(self.vault, self.settings)

    def close(self) -> None:
        self.source.close()
        if self.vault is not None:
            self.vault.close()


sweep_readers: Callable[[Any], list[Any]] | None = None
"""Set by the shell (`butler.commands.mail`): the other readers of the mail a sweep fetches, for a vault."""


def run_sweep(args: argparse.Namespace) -> int:
    from butler.config import load_config
    from butler.mail.sweep import MailSweep

    opened = _Opened(args)
    try:
        readers = sweep_readers(opened.vault) if sweep_readers is not None and opened.vault is not None else []
        sweep = MailSweep(opened.source, opened.settings, policies=opened.policies, intents=opened.intents,
                          dry_run=args.dry_run, engagement=load_config().mail, readers=readers)
        report = sweep.run()
        for item in report.planned:
            print(f"would move {item['uid']} ({item['category']}, {item['sender']}) to {item['to']}: "
                  f"{item['subject']}")
        print(report.summary())
        if opened.vault is not None and not args.dry_run:
            _propose_unsubscribes(opened, sweep, report.unsubscribe_candidates)
            _still_writing(opened, report.senders)
    finally:
        opened.close()
    return 0


def _propose_unsubscribes(opened: _Opened, sweep: Any, senders: list[str]) -> None:
    from butler.mail.unattended import propose_unsubscribes

    for item in propose_unsubscribes(opened.vault, sweep, senders):
        print(f"unsubscribe from {item['sender']}? approve with `butler mail unsubscribe approve {item['id']}`")


def _still_writing(opened: _Opened, senders: Any) -> None:
    """Senders whose mail keeps coming more than two days after a one-click unsubscribe was sent."""
    import datetime as dt

    from butler.mail.unsubscribe import requests

    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat(timespec="seconds")
    for data in requests(opened.vault, state="done"):
        if str(data.get("sent_at", "9")) < cutoff:
            count = senders.get(data.get("sender"), 0)
            if count:
                print(f"{data['sender']} sent {count} more message(s) after you unsubscribed on "
                      f"{str(data['sent_at'])[:10]}: `butler mail unsubscribe letter {data['sender']}` writes a "
                      "GDPR Art. 21 objection")


def run_undo(args: argparse.Namespace) -> int:
    from butler.mail.undo import UndoFilter, restore

    which = UndoFilter(last_sweep=not (args.since or args.until or args.sender), since=args.since,
                       until=args.until, sender=args.sender)
    opened = _Opened(args)
    try:
        report = restore(opened.source, which)
    finally:
        opened.close()
    print(report.summary())
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from butler.mail.classify import classify_facts
    from butler.mail.decide import decide
    from butler.mail.message import read_facts
    from butler.mail.state import MailboxState, account_dir

    path = Path(args.message)
    opened = _Opened(args) if not path.is_file() or args.maildir else None
    memory = None
    if opened is not None:
        memory = MailboxState.load(account_dir(opened.source.account)).memory
    try:
        if path.is_file():
            raw = path.read_bytes()
        else:
            assert opened is not None
            found = list(opened.source.fetch(opened.settings.inbox, [args.message]))
            if not found:
                print(f"no message {args.message} in {opened.settings.inbox}", file=sys.stderr)
                return 1
            raw = found[0].raw
        facts = read_facts(raw)
        c = classify_facts(facts, memory)
        print(c.explain())
        if opened is not None:
            action = decide(c, facts, opened.settings, opened.policies, opened.intents)
            from butler.mail.folders import JUNK

            where = {None: "the inbox", JUNK: "the junk folder"}.get(action.move_to, action.move_to)
            print(f"decision: {where} — " + "; ".join(action.reasons))
    finally:
        if opened is not None:
            opened.close()
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from collections import Counter

    from butler.mail.state import MailboxState, account_dir

    opened = _Opened(args)
    try:
        state = MailboxState.load(account_dir(opened.source.account))
    finally:
        opened.close()
    categories = Counter(str(v.get("category")) for v in state.moved.values())
    print(f"moved and still away: {len(state.moved)} ({', '.join(f'{n} {c}' for c, n in categories.items())})")
    print(f"restored by undo: {len(state.restored)}; kept after you moved them back: {len(state.kept)}")
    print(f"senders learned from your corrections: {len(state.memory.senders)}")
    top = sorted(state.senders.items(), key=lambda kv: -int(kv[1].get("moved", 0)))[:10]
    for sender, info in top:
        print(f"  {sender}: moved {info.get('moved', 0)}, read {info.get('read', 0)}"
              f"{', one-click unsubscribe' if info.get('one_click') else ''}")
    return 0


def run_setup(args: argparse.Namespace) -> int:
    from butler.commands.common import unlock
    from butler.log import register_secret
    from butler.mail.account_setup import save_account

    if args.password_file:
        password = args.password_file.read_text(encoding="utf-8").strip()
    elif sys.stdin.isatty():
        password = getpass.getpass(f"IMAP password for {args.user}: ")
    else:
        password = sys.stdin.readline().strip()
    register_secret(password)
    smtp_password = (args.smtp_password_file.read_text(encoding="utf-8").strip()
                     if args.smtp_password_file else None)
    changes = {
        "host": args.host, "username": args.user, "port": args.port, "tls": not args.no_tls,
        "allow_plaintext": args.allow_plaintext, "offers": args.offers,
        **{name: value for name, value in (("promotions_folder", args.promotions_folder),
                                           ("offers_folder", args.offers_folder),
                                           ("spam_folder", args.spam_folder)) if value},
        "keep_senders": tuple(args.keep_sender), "smtp_host": args.smtp_host, "smtp_port": args.smtp_port,
        "smtp_security": args.smtp_security, "smtp_username": args.smtp_user, "smtp_from": args.smtp_from}
    with unlock().vault as vault:
        save_account(vault, changes, password, test=not args.no_test, timeout=args.test_timeout,
                     smtp_password=smtp_password)
    print(f"stored the mail settings for {args.user}@{args.host}"
          + (f"; mailto: unsubscribes go through {args.smtp_host}" if args.smtp_host else ""))
    return 0


def _letter(vault: Any, sender: str) -> str:
    """The GDPR objection to `sender`, dated and worded from the unsubscribe butler sent, signed with the name in
    the person's profile; placeholders where the vault does not know."""
    from butler.mail import unsubscribe

    sent = sorted(unsubscribe.requests(vault, state="done", sender=sender), key=lambda d: str(d.get("sent_at", "")))
    from butler import profile

    me = profile.load(vault)
    person = me.name if me is not None else ""
    if not sent:
        return unsubscribe.objection_letter(sender, unsubscribed_on="[date]", person=person, method="")
    last = sent[-1]
    return unsubscribe.objection_letter(sender, unsubscribed_on=str(last.get("sent_at", "[date]"))[:10],
                                        person=person, method=str(last.get("method", "one-click")))


def run_unsubscribe(args: argparse.Namespace) -> int:
    from butler.commands.common import unlock
    from butler.mail import unsubscribe
    from butler.mail.account import load_settings, smtp_sender

    if args.action == "letter":
        if not args.target:
            print("name the sender: butler mail unsubscribe letter SENDER", file=sys.stderr)
            return 2
        with unlock(quiet=True).vault as vault:
            print(_letter(vault, args.target))
        return 0
    vault = unlock().vault
    try:
        if args.action == "list":
            for item in unsubscribe.pending(vault):
                target = item.get("url") or f"mailto:{item.get('to')}"
                print(f"{item['id']}  {item['sender']}  {target}  {' '.join(item.get('reasons', []))}")
        elif args.action in ("approve", "reject"):
            from butler.commands.approvals import decide
            from butler.mail.errors import UnsubscribeRefused

            if not any(d.get("id") == args.target for d in unsubscribe.requests(vault)):
                raise UnsubscribeRefused(f"no unsubscribe request {args.target!r} waits for approval")
            print(decide(vault, args.target or "", approve=args.action == "approve"))
        else:
            settings = load_settings(vault)
            for result in unsubscribe.send_approved(vault, allow_loopback=settings.allow_loopback_unsubscribe,
                                                    smtp=smtp_sender(vault)):
                print(f"{result['sender']}: {result.get('status', result.get('error'))}")
    finally:
        vault.close()
    return 0
