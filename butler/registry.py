"""Which connectors are installed (entry points, group `butler.connectors`) and which the person enabled.

Listing reads package metadata only. An installed connector is loaded into butler's sandbox (`butler.sandbox`):
its code is imported and run only in a child process that sees its own settings and secrets and nothing else;
where the sandbox is not available, only the connectors the person trusts run, in process. One that fails to
load is reported as a problem, never a crash. A program that embeds butler may also `provide` connector classes
for its own process (the demo runs the example vendors this way); they are listed, enabled and opened like
installed ones, in process. A connector runs only once enabled, and enabling runs its `validate()` against the
vendor first; its settings, secrets and the enabled flag live in the vault. Every connector is built one way:
its context's client comes from the one egress (`butler.sdk.egress`), over the `transport` a test gives in place
of the network. `aenable` and `acheck` are the awaitable forms of `enable` and `check`, for a caller that bounds
them (`butler.negotiate.vendors`):

    connectors/<id>                 {"enabled": bool, "settings": {...}, "version": str, "changed_at": iso}
    connector_secrets/<id>/<name>   butler.models.ConnectorSecret
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import httpx
from pydantic import SecretStr

from butler import profile, sandbox
from butler.config import load_config
from butler.errors import UsageError
from butler.models import ConnectorSecret
from butler.records import Collection
from butler.sdk import Connector, ConnectorContext, FatalError, Manifest, Person, Resolver
from butler.vault import Vault

__all__ = [
    "COLLECTION",
    "GROUP",
    "RECORDS",
    "SECRETS_COLLECTION",
    "SECRET_RECORDS",
    "Installed",
    "LoadProblem",
    "acheck",
    "aenable",
    "check",
    "disable",
    "enable",
    "enabled_ids",
    "installed",
    "load",
    "load_all",
    "open_connector",
    "provide",
    "stored_secret_names",
    "withdraw",
]

GROUP = "butler.connectors"
COLLECTION = "connectors"
SECRETS_COLLECTION = "connector_secrets"
RECORDS = Collection(COLLECTION, __name__, "enabled connectors and their settings", id_scheme="<connector id>")
SECRET_RECORDS = Collection(SECRETS_COLLECTION, __name__, "connectors' secrets", id_scheme="<connector id>",
                            secret=True)
log = logging.getLogger("butler.registry")


@dataclass(frozen=True)
class Installed:
    """An installed connector as its package metadata names it; nothing imported yet."""

    id: str
    target: str  # module:Class
    distribution: str | None
    version: str | None


@dataclass(frozen=True)
class LoadProblem:
    id: str
    message: str


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


_PROVIDED: dict[str, type[Connector]] = {}


def provide(cls: type[Connector]) -> None:
    """Make `cls` available under its manifest id in this process, without an installed package.

    For programs that embed butler. An id an installed package already declares is refused: a provided class
    never stands in for an installed connector.
    """
    manifest = getattr(cls, "manifest", None)
    if not (isinstance(cls, type) and issubclass(cls, Connector) and isinstance(manifest, Manifest)):
        raise FatalError(f"{cls!r} is not a butler.sdk.Connector subclass with a Manifest")
    if manifest.id in _entry_points():
        raise UsageError(f"a connector {manifest.id!r} is installed already; a provided one may not replace it")
    _PROVIDED[manifest.id] = cls


def withdraw(connector_id: str) -> None:
    """Forget a class `provide` made available (what the vault stores about it stays)."""
    _PROVIDED.pop(connector_id, None)


def installed() -> list[Installed]:
    """Every connector an installed package declares, sorted by id, without importing any, and the provided ones."""
    found = [Installed(cid, f"{cls.__module__}:{cls.__qualname__}", None, cls.manifest.version)
             for cid, cls in _PROVIDED.items()]
    for name, ep in _entry_points().items():
        dist = ep.dist
        found.append(Installed(name, ep.value, dist.name if dist else None, dist.version if dist else None))
    return sorted(found, key=lambda item: item.id)


def load(connector_id: str) -> type[Connector]:
    """One connector class: a provided one, or an installed one in the sandbox (in process with `[connectors]
    sandbox = "off"`, or when it is trusted and the sandbox is not available). Raises UsageError if none is
    installed under that id, FatalError if it is broken or may not run here."""
    provided = _PROVIDED.get(connector_id)
    if provided is not None:
        return provided
    ep = _entry_points().get(connector_id)
    if ep is None:
        raise UsageError(f"no connector {connector_id!r} is installed",
                         "`butler connectors list` shows the installed ones; install a connector package first.")
    settings = load_config().connectors
    if settings.sandbox == "auto":
        why = sandbox.available()
        if why is None:
            return _sandboxed(connector_id, ep.value, sandbox.limits_from(settings))
        _say_once(why)
        if connector_id not in settings.trusted:
            raise FatalError(f"connector {connector_id!r} does not run: {why}, and butler runs installed "
                             "connectors only in its sandbox",
                             f"Install bubblewrap (Debian: `apt install bubblewrap`), or, if you trust its code "
                             f"with all your secrets, add it to `[connectors] trusted` in config.toml "
                             f"(`butler config set connectors.trusted '[\"{connector_id}\"]'`).")
    try:
        cls = ep.load()
    except Exception as exc:  # any import-time failure of third-party code
        raise FatalError(f"connector {connector_id!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}",
                         "Reinstall or upgrade the connector package, or uninstall it.") from None
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise FatalError(f"{ep.value} is not a butler.sdk.Connector subclass")
    manifest = getattr(cls, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise FatalError(f"{ep.value} has no valid butler.sdk.Manifest")
    if manifest.id != connector_id:
        raise FatalError(f"{ep.value} calls itself {manifest.id!r} but is installed as {connector_id!r}")
    return cls


def _sandboxed(connector_id: str, target: str, limits: sandbox.Limits) -> type[Connector]:
    try:
        cls = sandbox.described(target, limits=limits)
    except FatalError as exc:
        raise FatalError(f"connector {connector_id!r} ({target}) failed to import: {exc.message}",
                         "Reinstall or upgrade the connector package, or uninstall it.") from None
    if cls.manifest.id != connector_id:
        raise FatalError(f"{target} calls itself {cls.manifest.id!r} but is installed as {connector_id!r}")
    return cls


@functools.cache
def _say_once(why: str) -> None:
    log.warning("connectors run without a sandbox: %s; only those trusted in config.toml run", why)


def load_all() -> tuple[dict[str, type[Connector]], list[LoadProblem]]:
    """Every installed connector that loads, and a problem (logged as a warning) for each that does not."""
    loaded: dict[str, type[Connector]] = {}
    problems: list[LoadProblem] = []
    for item in installed():
        try:
            loaded[item.id] = load(item.id)
        except FatalError as exc:
            log.warning("%s", exc.message)
            problems.append(LoadProblem(item.id, exc.message))
    return loaded, problems


def _state(vault: Vault, connector_id: str) -> dict[str, Any] | None:
    record = vault.get(COLLECTION, connector_id)
    return record.data if record else None


def enabled_ids(vault: Vault) -> set[str]:
    return {r.id for r in vault.records(COLLECTION) if r.data.get("enabled")}


def stored_secret_names(vault: Vault, connector_id: str) -> set[str]:
    prefix = f"{connector_id}/"
    return {rid[len(prefix):] for rid in vault.ids(SECRETS_COLLECTION) if rid.startswith(prefix)}


def _secrets_for(vault: Vault, manifest: Manifest) -> dict[str, str]:
    """Only the secrets the manifest declares are read out of the vault."""
    values = {}
    for name in manifest.secret_names:
        record = vault.get(SECRETS_COLLECTION, f"{manifest.id}/{name}")
        if record is not None:
            values[name] = ConnectorSecret.model_validate(record.data).value.get_secret_value()
    return values


def _person_for(vault: Vault, manifest: Manifest) -> Person | None:
    """The person's profile, reduced to what the manifest asks for (`person_fields`); None when it asks nothing."""
    if not manifest.person_fields:
        return None
    me = profile.load(vault)
    if me is None:
        return None
    known = {"name": me.name, "email": me.email, "address": me.address, "currency": me.currency}
    return Person.model_validate({name: known[name] for name in manifest.person_fields})


def _build(cls: type[Connector], settings: Mapping[str, Any], secrets: Mapping[str, str],
           transport: httpx.AsyncBaseTransport | None, resolver: Resolver | None,
           person: Person | None = None) -> Connector:
    """The one way a connector is built: its context's client is the egress's, over `transport` (tests only)."""
    return cls(ConnectorContext(cls.manifest, settings=settings, secrets=secrets, transport=transport,
                                resolver=resolver, person=person))


async def _validate(connector: Connector) -> list[str]:
    async with connector:
        return [str(line) for line in await connector.validate() or ()]


async def aenable(vault: Vault, cls: type[Connector], *, settings: Mapping[str, Any] | None = None,
                  secrets: Mapping[str, str] | None = None, transport: httpx.AsyncBaseTransport | None = None,
                  resolver: Resolver | None = None) -> None:
    """Validate `cls` with these settings and secrets (merged over the stored ones), then store and enable it.

    Nothing is stored when validation fails or is cancelled: the error (AuthError, RetriableError, …)
    propagates. Storing happens after the last await, so a cancelled call never stores half.
    """
    manifest = cls.manifest
    unknown = set(secrets or {}) - manifest.secret_names
    if unknown:
        raise UsageError(f"{manifest.id} does not declare the secrets {', '.join(sorted(unknown))}")
    previous = _state(vault, manifest.id) or {}
    merged_settings = {**previous.get("settings", {}), **(settings or {})}
    merged_secrets = {**_secrets_for(vault, manifest), **(secrets or {})}
    connector = _build(cls, merged_settings, merged_secrets, transport, resolver, _person_for(vault, manifest))
    await _validate(connector)
    for name, value in (secrets or {}).items():
        secret = ConnectorSecret(connector_id=manifest.id, name=name, value=SecretStr(value))
        vault.put(SECRETS_COLLECTION, f"{manifest.id}/{name}", secret.model_dump(mode="json"))
    vault.put(COLLECTION, manifest.id, {
        "enabled": True, "settings": connector.settings.model_dump(mode="json"), "version": manifest.version,
        "changed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})


def enable(vault: Vault, cls: type[Connector], *, settings: Mapping[str, Any] | None = None,
           secrets: Mapping[str, str] | None = None, transport: httpx.AsyncBaseTransport | None = None,
           resolver: Resolver | None = None) -> None:
    """`aenable`, run to completion in a new event loop."""
    asyncio.run(aenable(vault, cls, settings=settings, secrets=secrets, transport=transport, resolver=resolver))


def disable(vault: Vault, connector_id: str, *, forget_secrets: bool = False) -> bool:
    """Stop using a connector (its settings stay unless `forget_secrets`). False if it was not enabled."""
    state = _state(vault, connector_id)
    if forget_secrets:
        for name in stored_secret_names(vault, connector_id):
            vault.delete(SECRETS_COLLECTION, f"{connector_id}/{name}")
    if not state or not state.get("enabled"):
        return False
    vault.put(COLLECTION, connector_id, {**state, "enabled": False,
                                         "changed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    return True


def open_connector(vault: Vault, connector_id: str, *, cls: type[Connector] | None = None,
                   transport: httpx.AsyncBaseTransport | None = None,
                   resolver: Resolver | None = None) -> Connector:
    """An enabled connector, with its stored settings and declared secrets; the caller closes it."""
    state = _state(vault, connector_id)
    if not state or not state.get("enabled"):
        raise UsageError(f"connector {connector_id!r} is not enabled",
                         f"Enable it with `butler connectors enable {connector_id}` (it is validated first).")
    cls = cls or load(connector_id)
    return _build(cls, state.get("settings", {}), _secrets_for(vault, cls.manifest), transport, resolver,
                  _person_for(vault, cls.manifest))


async def acheck(vault: Vault, connector_id: str, *, cls: type[Connector] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> list[str]:
    """Run an enabled connector's `validate()` again with what is stored: the lines it reports; raises what it
    raises."""
    return await _validate(open_connector(vault, connector_id, cls=cls, transport=transport))


def check(vault: Vault, connector_id: str, *, cls: type[Connector] | None = None,
          transport: httpx.AsyncBaseTransport | None = None) -> list[str]:
    """`acheck`, run to completion in a new event loop."""
    return asyncio.run(acheck(vault, connector_id, cls=cls, transport=transport))
