"""`butler init`: create BUTLER_HOME and the vault, guided on a terminal, from flags in scripts.

On a terminal it walks through five steps: the passphrase; the OS keyring or not (and what that means for runs
nobody attends); the policy packs to start from; an optional mail account (tested before it is stored); the
vendor connectors to enable. Every step has a flag, and `--no-input` (or no terminal) asks nothing: the
passphrase then comes from `--passphrase-file` or BUTLER_PASSPHRASE_FILE. It ends with the next three commands.

On a home that has a vault already, `--pack` only adds packs; anything else is refused, as before.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from butler import paths
from butler.errors import ButlerError, KeyringError, UsageError, VaultExists
from butler.log import register_secret

__all__ = ["NEXT_COMMANDS", "add_parser"]

NEXT_COMMANDS = (
    ("butler doctor", "check that everything is in order, unattended runs too"),
    ("butler daemon install", "run the sweeps, reminders and backups in the background from now on"),
    ("butler status", "see what ran, what runs next and what waits for your decision"),
)

KEYRING_MEANS = ("the daemon and other unattended runs open the vault by themselves; anyone who can use your "
                 "desktop session can too")
NO_KEYRING_MEANS = ("every command asks for the passphrase, and the daemon works only while `butler unlock --for "
                    "8h` holds the key (or with BUTLER_PASSPHRASE_FILE)")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init", help="create your butler home and encrypted vault",
        description="Create BUTLER_HOME and an encrypted vault. On a terminal it guides you: passphrase, keyring, "
                    "policy packs, mail, connectors. With --no-input (or without a terminal) it asks nothing: the "
                    "passphrase comes from --passphrase-file or BUTLER_PASSPHRASE_FILE, the rest from the flags "
                    "below. The vault key is kept in the OS keyring where there is one, unless --no-keyring.")
    parser.add_argument("--no-input", action="store_true", help="ask nothing; take every answer from flags")
    parser.add_argument("--passphrase-file", type=Path, metavar="PATH",
                        help="read the new passphrase from this file (else BUTLER_PASSPHRASE_FILE)")
    parser.add_argument("--keyring", action=argparse.BooleanOptionalAction, default=None,
                        help="keep the vault key in the OS keyring for unattended runs (default: yes)")
    parser.add_argument("--pack", action="append", default=[], metavar="NAME",
                        help="a policy pack to copy into BUTLER_HOME/policies (repeatable; `all` for every one)")
    mail = parser.add_argument_group("mail account (optional; tested before it is stored)")
    mail.add_argument("--mail-host", metavar="HOST")
    mail.add_argument("--mail-user", metavar="USER")
    mail.add_argument("--mail-port", type=int, metavar="PORT")
    mail.add_argument("--mail-no-tls", action="store_true", help="plain IMAP (only to 127.0.0.1)")
    mail.add_argument("--mail-password-file", type=Path, metavar="PATH")
    parser.add_argument("--connector", action="append", default=[], metavar="ID",
                        help="validate and enable this vendor connector (repeatable; secrets from "
                             "BUTLER_CONNECTOR_SECRET_<NAME>)")
    parser.add_argument("--connector-set", action="append", default=[], metavar="ID:KEY=VALUE",
                        help="a setting of a connector given with --connector (repeatable)")
    parser.set_defaults(func=run)


class _Guide:
    """Asks on the terminal when there is one (and input is allowed); otherwise every answer is the flag's."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive
        self.step = 0

    def title(self, text: str) -> None:
        if self.interactive:
            self.step += 1
            print(f"\n[{self.step}/5] {text}")

    def say(self, text: str) -> None:
        print(text if not self.interactive else f"  {text}")

    def ask(self, question: str, default: str = "") -> str:
        shown = f" [{default}]" if default else ""
        answer = input(f"  {question}{shown}: ").strip()
        return answer or default

    def yes(self, question: str, default: bool) -> bool:
        while True:
            answer = self.ask(f"{question} ({'Y/n' if default else 'y/N'})").lower()
            if not answer:
                return default
            if answer in ("y", "yes", "n", "no"):
                return answer.startswith("y")
            self.say("please answer y or n")


def run(args: argparse.Namespace) -> int:
    home = paths.butler_home()
    interactive = not args.no_input and sys.stdin.isatty() and sys.stdout.isatty()
    if paths.vault_key_path(home).exists():
        if args.pack:  # only add packs to a home that has its vault
            _add_packs(args.pack, home, _Guide(False))
            return 0
        raise VaultExists(f"a vault already exists in {home} (vault.key)")
    _check_flags(args)  # before the vault exists: a typo in a flag must not leave half a setup
    guide = _Guide(interactive)
    if interactive:
        print(f"Welcome to butler. This sets up your butler in {home}.\nPress Ctrl-C to stop at any time.")
    vault = _create_vault(home, args, guide)
    try:
        _keyring(home, vault, args, guide)
        _packs(home, args, guide)
        _mail(vault, args, guide)
        _connectors(vault, args, guide)
    finally:
        vault.close()
    print("\nYour butler is ready. Next:")
    width = max(len(command) for command, _ in NEXT_COMMANDS)
    for command, what in NEXT_COMMANDS:
        print(f"  {command:<{width}}  {what}")
    return 0


def _check_flags(args: argparse.Namespace) -> None:
    from butler.policy.packs import packs

    known = [p.name for p in packs()]
    unknown = [name for name in args.pack if name != "all" and name not in known]
    if unknown:
        raise UsageError(f"no policy pack named {', '.join(unknown)}", f"The packs are: {', '.join(known)}.")
    if (args.mail_host or args.mail_user) and not (args.mail_host and args.mail_user and args.mail_password_file):
        raise UsageError("a mail account needs --mail-host, --mail-user and --mail-password-file")
    if args.connector:
        from butler import registry

        missing = sorted(set(args.connector) - {item.id for item in registry.installed()})
        if missing:
            raise UsageError(f"no connector {', '.join(missing)} is installed",
                             "`butler connectors list` shows the installed ones.")
    settings = _connector_settings(args.connector_set)
    if set(settings) - set(args.connector):
        raise UsageError(f"--connector-set names {', '.join(sorted(set(settings) - set(args.connector)))}, "
                         "which no --connector enables")


def _connector_settings(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """`--connector-set ID:KEY=VALUE` flags, by connector id."""
    from butler.commands.connectors import parse_settings

    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        connector_id, sep, setting = pair.partition(":")
        if not sep or not connector_id:
            raise UsageError(f"--connector-set takes ID:KEY=VALUE, got {pair!r}")
        out.setdefault(connector_id, {}).update(parse_settings([setting]))
    return out


# -- 1. passphrase ---------------------------------------------------------------------------------------------
def _new_passphrase(args: argparse.Namespace, guide: _Guide) -> str:
    from butler.commands.common import ask_new_passphrase
    from butler.vault.keys import ENV_PASSPHRASE_FILE, read_passphrase_file

    if args.passphrase_file is not None:
        value = read_passphrase_file(args.passphrase_file)
        if len(value) < 8:
            raise UsageError("choose a passphrase of at least 8 characters")
        return value
    if os.environ.get(ENV_PASSPHRASE_FILE) or not guide.interactive:
        return ask_new_passphrase(ENV_PASSPHRASE_FILE)
    guide.say("The vault keeps your data encrypted; your passphrase unlocks it. Use at least 8 characters and "
              "keep it safe:\n  nobody, butler included, can open the vault without it.")
    while True:
        value = getpass.getpass("  New passphrase: ")
        register_secret(value)
        if len(value) < 8:
            guide.say("that is shorter than 8 characters; try again")
        elif getpass.getpass("  Repeat it: ") != value:
            guide.say("the two differ; try again")
        else:
            return value


def _create_vault(home: Path, args: argparse.Namespace, guide: _Guide) -> Any:
    from butler.vault import crypto
    from butler.vault.store import Vault

    guide.title("Passphrase")
    passphrase = _new_passphrase(args, guide)
    kdf = crypto.KdfParams.fast_for_tests() if os.environ.get("BUTLER_INSECURE_FAST_KDF") == "1" else None
    if guide.interactive:
        guide.say("creating the vault (deriving the key takes a moment) …")
    vault = Vault.create(paths.ensure_home(home), passphrase, kdf)
    guide.say(f"vault created in {home}")
    return vault


# -- 2. keyring ------------------------------------------------------------------------------------------------
def _keyring(home: Path, vault: Any, args: argparse.Namespace, guide: _Guide) -> None:
    from butler.vault.keys import ENV_PASSPHRASE_FILE, keyring_store

    guide.title("OS keyring")
    if args.keyring is False:
        guide.say(f"the vault key is not kept in a keyring: {NO_KEYRING_MEANS}")
        return
    try:
        store = keyring_store(home)
    except KeyringError as exc:
        guide.say(f"note: {exc.message}; butler will ask for the passphrase (or read {ENV_PASSPHRASE_FILE})")
        return
    if store is None:
        guide.say(f"no OS keyring here: {NO_KEYRING_MEANS}")
        return
    if guide.interactive and args.keyring is None:
        guide.say(f"With the key in the OS keyring ({store.name}), {KEYRING_MEANS}.")
        guide.say(f"Without it, {NO_KEYRING_MEANS}.")
        if not guide.yes("Keep the vault key in the OS keyring?", True):
            guide.say("not kept: use `butler unlock --for 8h` when the daemon should work")
            return
    try:
        store.remember(vault)
        guide.say(f"vault key kept in the OS keyring ({store.name}): {KEYRING_MEANS}")
    except KeyringError as exc:
        guide.say(f"note: {exc.message}; butler will ask for the passphrase instead")


# -- 3. policy packs -------------------------------------------------------------------------------------------
def _add_packs(names: list[str], home: Path, guide: _Guide) -> None:
    from butler.policy.packs import install_packs, packs

    wanted = [p.name for p in packs()] if "all" in names else names
    copied, kept = install_packs(wanted, paths.policies_dir(home))
    for path in copied:
        guide.say(f"policy pack copied to {path}")
    for path in kept:
        guide.say(f"{path} is there already: left as it is")


def _packs(home: Path, args: argparse.Namespace, guide: _Guide) -> None:
    from butler.policy.packs import packs

    guide.title("Policy packs")
    if args.pack or not guide.interactive:
        if args.pack:
            _add_packs(args.pack, home, guide)
        return
    shipped = packs()
    guide.say("Policies say what butler may buy and agree to for you; it asks you about whatever they do not "
              "cover.\n  Start from any of these (you edit them later in " f"{paths.policies_dir(home)}):")
    width = max(len(p.name) for p in shipped)
    for number, pack in enumerate(shipped, 1):
        guide.say(f"  {number}. {pack.name:<{width}}  {pack.description}")
    while True:
        answer = guide.ask("Numbers or names, separated by spaces; `all`; Enter for none")
        try:
            chosen = _choices(answer, [p.name for p in shipped])
        except UsageError as exc:
            guide.say(exc.message)
            continue
        if chosen:
            _add_packs(chosen, home, guide)
        else:
            guide.say("no packs: `butler init --pack NAME` adds one later")
        return


def _choices(answer: str, names: list[str]) -> list[str]:
    """The names an answer picks: numbers (from 1), names, or `all`; UsageError names what is not one."""
    chosen: list[str] = []
    for word in answer.replace(",", " ").split():
        if word.lower() == "all":
            return list(names)
        if word.isdigit() and 1 <= int(word) <= len(names):
            chosen.append(names[int(word) - 1])
        elif word in names:
            chosen.append(word)
        else:
            raise UsageError(f"{word!r} is not one of them")
    return list(dict.fromkeys(chosen))


# -- 4. mail ---------------------------------------------------------------------------------------------------
def _mail(vault: Any, args: argparse.Namespace, guide: _Guide) -> None:
    guide.title("Mail (optional)")
    if args.mail_host:
        password = args.mail_password_file.read_text(encoding="utf-8").strip()
        _store_mail(vault, {"host": args.mail_host, "username": args.mail_user, "port": args.mail_port,
                            "tls": not args.mail_no_tls}, password, guide)
        return
    if not guide.interactive:
        return
    guide.say("butler can sweep promotions out of your inbox (IMAP; every move can be undone).")
    while guide.yes("Set up a mailbox now?", False):
        host = guide.ask("IMAP server (e.g. imap.example.org)")
        user = guide.ask("user name")
        tls = guide.yes("Use TLS (say no only for a server on this machine)?", True)
        port = guide.ask("port", "993" if tls else "143")
        password = getpass.getpass("  password (an app password where the provider wants one): ")
        try:
            _store_mail(vault, {"host": host, "username": user, "tls": tls, "port": int(port) if port.isdigit()
                                else None}, password, guide)
            return
        except ButlerError as exc:
            guide.say(f"not stored: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
            guide.say("try again, or answer no and run `butler mail setup` later")


def _store_mail(vault: Any, changes: dict[str, Any], password: str, guide: _Guide) -> None:
    from butler.mail.account_setup import save_account

    settings = save_account(vault, changes, password, say=guide.say)
    guide.say(f"mail account {settings.username}@{settings.host} stored; the daemon sweeps it every "
              f"{_config().daemon.mail_sweep_minutes} min")


def _config() -> Any:
    from butler.config import load_config

    return load_config()


# -- 5. connectors ---------------------------------------------------------------------------------------------
def _connectors(vault: Any, args: argparse.Namespace, guide: _Guide) -> None:
    guide.title("Vendor connectors")
    if args.connector:
        settings = _connector_settings(args.connector_set)
        for connector_id in dict.fromkeys(args.connector):
            _enable(vault, connector_id, guide, settings.get(connector_id, {}), strict=True)
        return
    if not guide.interactive:
        return
    from butler import registry

    installed = registry.installed()
    if not installed:
        guide.say("no vendor connectors are installed (they are packages: see docs/connectors.md)")
        return
    guide.say("Connectors let butler ask vendors for offers and negotiate. Installed:")
    for item in installed:
        guide.say(f"  - {item.id}" + (f" ({item.distribution} {item.version})" if item.distribution else ""))
    while True:
        answer = guide.ask("Which to enable (names separated by spaces; Enter for none)")
        try:
            chosen = _choices(answer, [item.id for item in installed])
        except UsageError as exc:
            guide.say(exc.message)
            continue
        break
    for connector_id in chosen:
        _enable(vault, connector_id, guide, _ask_settings(connector_id, guide), strict=False)
    if not chosen:
        guide.say("none now: `butler connectors enable ID` enables one later")


def _ask_settings(connector_id: str, guide: _Guide) -> dict[str, Any]:
    """Each setting the connector requires, asked for with its description (optional ones keep their default)."""
    from butler import registry
    from butler.commands.connectors import parse_settings

    try:
        fields = registry.load(connector_id).manifest.settings.model_fields
    except ButlerError as exc:
        guide.say(f"{connector_id} does not load: {exc.message}")
        return {}
    settings: dict[str, Any] = {}
    for name, field in fields.items():
        if field.is_required():
            answer = guide.ask(f"{connector_id}: {name}" + (f" ({field.description})" if field.description else ""))
            settings.update(parse_settings([f"{name}={answer}"]))
    return settings


def _enable(vault: Any, connector_id: str, guide: _Guide, settings: dict[str, Any], *, strict: bool) -> None:
    """Validate and enable one connector; a failure is raised (`strict`, for scripts) or said and skipped."""
    from butler.commands.connectors import enable_in

    try:
        enable_in(vault, connector_id, settings)
    except ButlerError as exc:
        if strict:
            raise
        guide.say(f"{connector_id} not enabled: {exc.message}; `butler connectors enable {connector_id}` "
                  "tries again")
        return
    guide.say(f"{connector_id} validated and enabled")
