"""`butler connectors …`: list, about, enable (validated first), disable, check, new (scaffold a package)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from butler import registry
from butler.commands.common import unlock
from butler.config import load_config
from butler.errors import UsageError
from butler.log import register_secret
from butler.sdk import Connector, MissingSecret, SecretSpec

__all__ = ["SECRET_ENV_PREFIX", "add_parser", "enable_in", "parse_settings"]

SECRET_ENV_PREFIX = "BUTLER_CONNECTOR_SECRET_"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("connectors", help="vendor connectors: list, enable, check, scaffold",
                                   description="Vendor connectors: installed packages that talk to vendors.")
    sub = parser.add_subparsers(dest="connectors_command", metavar="ACTION", required=True)
    p = sub.add_parser("list", help="installed connectors and whether each is enabled")
    p.add_argument("--no-vault", action="store_true", help="do not open the vault (enabled state unknown)")
    p.set_defaults(func=list_connectors)
    p = sub.add_parser("about", help="a connector's manifest: capabilities, hosts, secrets, settings")
    p.add_argument("id")
    p.set_defaults(func=about)
    p = sub.add_parser("enable", help="validate a connector against its vendor, then enable it",
                       description="Validate, then store settings and secrets in the vault and enable. Secrets are "
                                   f"read from {SECRET_ENV_PREFIX}<NAME> or asked for on the terminal. Validation "
                                   "ends after [vendors] deadline_seconds in config.toml (default 60).")
    p.add_argument("id")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting (repeatable)")
    p.add_argument("--new-secrets", action="store_true", help="ask for every secret again")
    p.set_defaults(func=enable)
    p = sub.add_parser("disable", help="stop using a connector")
    p.add_argument("id")
    p.add_argument("--forget-secrets", action="store_true", help="also delete its secrets from the vault")
    p.set_defaults(func=disable)
    p = sub.add_parser("check", help="run an enabled connector's validation again")
    p.add_argument("id")
    p.set_defaults(func=check)
    p = sub.add_parser("new", help="scaffold a connector package with its conformance test")
    p.add_argument("name", help="the connector's id, e.g. acme-energy")
    p.add_argument("--dir", type=Path, default=Path.cwd(), help="where to create the package (default: here)")
    p.set_defaults(func=new)


def _warn_problems(problems: list[registry.LoadProblem]) -> None:
    for problem in problems:
        print(f"warning: {problem.message}", file=sys.stderr)


def list_connectors(args: argparse.Namespace) -> int:
    items = registry.installed()
    if not items:
        print("no connectors installed (pip install a butler connector package; see docs/connectors.md)")
        return 0
    enabled: set[str] | None = None
    if not args.no_vault:
        with unlock(quiet=True).vault as vault:
            enabled = registry.enabled_ids(vault)
    for item in items:
        try:
            cls = registry.load(item.id)
            caps = ", ".join(sorted(c.value for c in cls.manifest.capabilities))
            line = f"{item.id:<24} {cls.manifest.version:<10} {caps}"
        except Exception as exc:  # a broken plugin is a warning, not a crash
            print(f"warning: {getattr(exc, 'message', exc)}", file=sys.stderr)
            line = f"{item.id:<24} {'?':<10} (does not load)"
        state = "" if enabled is None else ("enabled  " if item.id in enabled else "disabled ")
        print(f"{state}{line}")
    return 0


def about(args: argparse.Namespace) -> int:
    m = registry.load(args.id).manifest
    print(f"{m.name} ({m.id} {m.version}, SDK API {m.api_version})")
    if m.description:
        print(m.description)
    print(f"capabilities   {', '.join(sorted(c.value for c in m.capabilities))}")
    hosts = [*m.allowed_hosts, *(f"the host of setting {name}" for name in m.hosts_from_settings)]
    print(f"allowed hosts  {', '.join(hosts)}")
    if m.person_fields:
        print(f"your profile   {', '.join(sorted(m.person_fields))} (from `butler profile set`)")
    for spec in m.secrets:
        print(f"secret         {spec.name}{' (only when needed)' if spec.optional else ''}: {spec.description}")
    for name, field in m.settings.model_fields.items():
        default = "" if field.is_required() else f" (default {field.default!r})"
        print(f"setting        {name}{default}: {field.description or ''}")
    return 0


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set takes KEY=VALUE, got {pair!r}")
        try:
            settings[key] = json.loads(value)
        except ValueError:
            settings[key] = value
    return settings


def _ask_one(cls: type[Connector], spec: SecretSpec) -> str:
    env = f"{SECRET_ENV_PREFIX}{spec.name.upper()}"
    if not sys.stdin.isatty():
        raise UsageError(f"{cls.manifest.id} needs its secret {spec.name!r} and there is no terminal to ask on",
                         f"Set {env} for this command.")
    value = getpass.getpass(f"{spec.name} ({spec.description}): ")
    if not value.strip():
        raise UsageError(f"the secret {spec.name!r} was left empty; nothing was changed")
    return value


def _ask_secrets(cls: type[Connector], have: set[str], again: bool) -> dict[str, str]:
    """The secrets to store: any given in the environment, and each required one not stored yet (or every one,
    `again`). An optional secret is asked for only when the connector finds it needs it (see `enable`)."""
    values: dict[str, str] = {}
    for spec in cls.manifest.secrets:
        env = f"{SECRET_ENV_PREFIX}{spec.name.upper()}"
        given = os.environ.get(env)
        if given is not None:
            if not given.strip():
                raise UsageError(f"{env} is empty", f"Unset it, or give the secret {spec.name!r} a value.")
            values[spec.name] = given
        elif (spec.name in have and not again) or (spec.optional and not (again and spec.name in have)):
            continue
        else:
            values[spec.name] = _ask_one(cls, spec)
        register_secret(values[spec.name])
    return values


def enable_in(vault: Any, connector_id: str, settings: dict[str, Any] | None = None,
              new_secrets: bool = False) -> None:
    """Validate the connector `connector_id` against its vendor, then enable it in the open `vault`: secrets from
    the environment or asked for on the terminal (also by `butler init`)."""
    from butler.negotiate import vendors

    cls = registry.load(connector_id)
    deadline = load_config().vendors.deadline_seconds
    secrets = _ask_secrets(cls, registry.stored_secret_names(vault, connector_id), new_secrets)
    specs = {spec.name: spec for spec in cls.manifest.secrets}
    while True:
        try:
            asyncio.run(vendors.enable(vault, cls, settings=settings or {}, secrets=secrets,
                                       deadline_seconds=deadline))
            return
        except MissingSecret as exc:  # the vendor turned out to need an optional secret: ask, once each
            spec = specs.get(exc.secret or "")
            if spec is None or spec.name in secrets or not sys.stdin.isatty():
                raise
            print(f"{connector_id} needs {spec.name}: {exc.message}", file=sys.stderr)
            secrets[spec.name] = _ask_one(cls, spec)
            register_secret(secrets[spec.name])


def enable(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        enable_in(vault, args.id, parse_settings(args.settings), args.new_secrets)
    print(f"{args.id} validated and enabled")
    return 0


def disable(args: argparse.Namespace) -> int:
    with unlock(quiet=True).vault as vault:
        changed = registry.disable(vault, args.id, forget_secrets=args.forget_secrets)
    print(f"{args.id} disabled" if changed else f"{args.id} was not enabled")
    return 0


def check(args: argparse.Namespace) -> int:
    from butler.negotiate import vendors

    deadline = load_config().vendors.deadline_seconds
    with unlock(quiet=True).vault as vault:
        report = asyncio.run(vendors.check(vault, args.id, deadline_seconds=deadline))
    for line in report:
        print(f"  {line}")
    print(f"{args.id}: ok")
    return 0


def new(args: argparse.Namespace) -> int:
    from butler.sdk.scaffold import scaffold

    root = scaffold(args.name, args.dir)
    print(f"created {root}")
    print(f"next: pip install -e {root} && pytest {root / 'tests'}")
    return 0
