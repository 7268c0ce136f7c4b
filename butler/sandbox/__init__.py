"""Connectors in a sandbox: a connector sees only its own secrets and reaches only its own hosts.

Connectors are third-party code. Butler runs each installed one in a child process inside bubblewrap (no
network, no view of the home directory, BUTLER_HOME, the keyring or the agent; a fresh environment; limits on
memory, CPU time, open files, processes and output) and gives it only what its manifest declares. Every HTTP
request it makes is sent by butler's own egress, here, with the manifest's hosts. Connector authors notice
nothing: the SDK is the same on both sides of the wall.

    available()                         None when the sandbox works here, else why not
    sandboxed(cls, limits=)             a Connector class running `cls` in the sandbox (`importable(cls)`)
    described(target, limits=)          the same for an installed connector ("module:Class"), whose code is
                                        imported only inside the sandbox (its manifest is read there too)
    limits_from(config)                 the Limits the person's config sets
    Limits, SandboxedConnector, stop    (see butler.sandbox.jail and butler.sandbox.host)

Where bubblewrap is missing, `butler.registry` says so once and runs in process only the connectors the person
marked trusted (`[connectors] trusted` in config.toml).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from butler.config import ConnectorsConfig
from butler.sandbox import wire
from butler.sandbox.host import SandboxedConnector, module_root, proxy_class, stop
from butler.sandbox.jail import Limits, available, import_paths
from butler.sandbox.process import run_child
from butler.sdk import Connector, FatalError, Manifest

__all__ = ["Limits", "SandboxedConnector", "available", "described", "importable", "limits_from", "sandboxed",
           "stop"]


def limits_from(config: ConnectorsConfig) -> Limits:
    return Limits(memory_mb=config.memory_mb, cpu_seconds=config.cpu_seconds, call_seconds=config.call_seconds,
                  output_bytes=config.output_kb * 1024)


def importable(cls: type[Connector]) -> bool:
    """Whether a child can import `cls` by its module and name (it is not local to a function or `__main__`)."""
    return "<locals>" not in cls.__qualname__ and cls.__module__ != "__main__"


def _target(cls: type[Connector]) -> str:
    if not importable(cls):
        raise FatalError(f"{cls.__qualname__} cannot run in the sandbox: it is not importable by name",
                         "Define the connector at the top level of an importable module.")
    return f"{cls.__module__}:{cls.__qualname__}"


def sandboxed(cls: type[Connector], *, limits: Limits | None = None) -> type[SandboxedConnector]:
    """A class that runs `cls` in the sandbox, with `cls`'s own manifest (the class is imported here already)."""
    if issubclass(cls, SandboxedConnector):
        return cls
    implemented = {name: inspect.signature(getattr(cls, name)) for name in wire.CALLS
                   if getattr(cls, name) is not getattr(Connector, name)}
    root = module_root(cls.__module__)
    return proxy_class(cls.manifest, _target(cls), _with_self(implemented), limits or Limits(),
                       import_paths([root] if root else []))


def _with_self(signatures: dict[str, inspect.Signature]) -> dict[str, inspect.Signature]:
    """Signatures of bound methods, with `self` put back (the proxy binds its own arguments)."""
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {name: sig.replace(parameters=[self_param, *sig.parameters.values()])
            if "self" not in sig.parameters else sig for name, sig in signatures.items()}


def _settings_model(connector_id: str, schema: Any) -> type[BaseModel]:
    """A stand-in for a connector's settings model, from its JSON schema: names, defaults and descriptions (the
    child validates the values for real)."""
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    required = set(schema.get("required", [])) if isinstance(schema, dict) else set()
    fields: dict[str, Any] = {}
    for name, prop in properties.items():
        if not (isinstance(name, str) and name.isidentifier() and not name.startswith(("_", "model_"))):
            raise FatalError(f"connector {connector_id!r} has a setting butler cannot name: {name!r}")
        prop = prop if isinstance(prop, dict) else {}
        default = ... if name in required else prop.get("default")
        fields[name] = (Any, Field(default, description=prop.get("description"), title=prop.get("title")))
    title = "".join(part.title() for part in connector_id.split("-")) + "Settings"
    model: type[BaseModel] = create_model(title, __config__=ConfigDict(frozen=True, extra="forbid"), **fields)
    return model


def _signature(name: str, params: Any) -> inspect.Signature:
    base = inspect.signature(getattr(Connector, name))
    wanted = set(params) if isinstance(params, list) else set(base.parameters)
    return base.replace(parameters=[p for p in base.parameters.values() if p.name == "self" or p.name in wanted])


def _found_root(module: str) -> str | None:
    """The folder `module`'s top package would be imported from here, found without importing anything."""
    try:
        spec = importlib.util.find_spec(module.partition(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.has_location:
        origin = Path(spec.origin).resolve()
        return str(origin.parent.parent if spec.submodule_search_locations is not None else origin.parent)
    locations = list(spec.submodule_search_locations or [])  # a namespace package
    return str(Path(locations[0]).resolve().parent) if locations else None


@functools.cache
def described(target: str, *, limits: Limits | None = None) -> type[SandboxedConnector]:
    """The sandboxed class of an installed connector ("module:Class"), its code never imported here."""
    limits = limits or Limits()
    module = target.partition(":")[0]
    root = _found_root(module)
    paths = import_paths([root] if root else [])
    answer = run_child({"describe": {"target": target}}, limits=limits, paths=paths, who=module,
                       wait=limits.call_seconds)
    if "error" in answer:
        raise wire.decode_error(answer["error"], who=module)
    described = answer.get("described")
    if not isinstance(described, dict) or not isinstance(described.get("manifest"), dict):
        raise FatalError(f"{target} did not describe itself as butler asked")
    try:  # what the child says of itself is read as carefully as anything else it sends
        data = dict(described["manifest"])
        manifest = Manifest.build(**data, settings=_settings_model(str(data.get("id")),
                                                                   described.get("settings_schema")))
        given = described.get("signatures")
        signatures: dict[str, Any] = given if isinstance(given, dict) else {}
        implemented = {name: _signature(name, signatures.get(name)) for name in described.get("implemented", [])
                       if name in wire.CALLS}
    except (TypeError, ValueError, AttributeError) as exc:
        raise FatalError(f"{target} described itself in a way butler cannot read: {type(exc).__name__}: "
                         f"{str(exc)[:200]}") from None
    return proxy_class(manifest, target, implemented, limits, paths)
