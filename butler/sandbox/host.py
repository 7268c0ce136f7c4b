"""Butler's side of the sandbox: a Connector whose methods run in a child process (`butler.sandbox.child`).

The child is started when the connector is built, with only what its manifest grants: its settings, its
declared secrets and the parts of the person it asked for. Every HTTP request it makes comes back here and goes
out through this connector's own context (`ConnectorContext.http`: the manifest's hosts, checked addresses,
capped answers). A call that outlives `Limits.call_seconds`, a child that prints and logs more than
`Limits.output_bytes`, one that sends what butler cannot read or keeps sending what nobody asked for is stopped
(its process killed) and the call fails with a connector error; the next call starts a fresh child. The child
itself, its pipes and threads, is `butler.sandbox.process`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx

from butler.sandbox import jail, wire
from butler.sandbox.process import EOF, MAX_RELAYS, ChildProcess
from butler.sdk import Connector, ConnectorContext, ConnectorError, FatalError, RetriableError

__all__ = ["SandboxedConnector", "module_root", "proxy_class", "stop"]


def stop(connector: Connector) -> None:
    """Stop a sandboxed connector's child now (tests: kill -9 at a step)."""
    if isinstance(connector, SandboxedConnector) and connector._process is not None:
        connector._process.stop("stopped by butler")


class SandboxedConnector(Connector):
    """A connector whose code runs in a child process; built by `butler.sandbox.sandboxed`."""

    target: ClassVar[str]
    limits: ClassVar[jail.Limits]
    paths: ClassVar[tuple[str, ...]]
    signatures: ClassVar[dict[str, inspect.Signature]]

    def __init__(self, ctx: ConnectorContext) -> None:
        super().__init__(ctx)
        self._process: ChildProcess | None = None
        self._lock = asyncio.Lock()
        self._start()

    def _start(self) -> ChildProcess:
        ctx = self.ctx
        person = ctx.person.model_dump(mode="json", exclude_none=True)
        first = {"init": {"target": self.target, "settings": ctx.settings.model_dump(mode="json"),
                          "secrets": {name: ctx.secrets.get(name) for name in ctx.secrets.names
                                      if name in ctx.secrets},
                          "person": person or None}}
        process = ChildProcess(first, self.limits, list(self.paths), self.manifest.id)
        self._process = process
        weakref.finalize(self, process.stop, "closed")
        return process

    def _ready(self, process: ChildProcess) -> dict[str, Any]:
        opening = process.opening
        if opening is None:
            raise process.ended()
        if "error" in opening:
            raise wire.decode_error(opening["error"], who=self.manifest.id)
        ready = opening.get("ready")
        if not isinstance(ready, dict):
            raise FatalError(f"connector {self.manifest.id!r} did not start as butler asked")
        return ready

    @property
    def vendor_id(self) -> str:
        process = self._process or self._start()
        process.opened.wait(self.limits.call_seconds)
        vendor = self._ready(process).get("vendor_id")
        return vendor if isinstance(vendor, str) and vendor else self.manifest.id

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        """Run `name(**args)` in the child and return its validated result; raise its error."""
        async with self._lock:
            process = self._process
            if process is None or process.gone or process.stopped is not None:
                process = self._start()
            relayed = 0
            try:
                async with asyncio.timeout(self.limits.call_seconds):
                    if not process.opened.is_set():  # a thread only for the first call
                        await asyncio.to_thread(process.opened.wait, self.limits.call_seconds)
                    self._ready(process)
                    queue = process.listen()
                    process.send({"call": name, "args": wire.encode_args(name, args)})
                    relays: set[asyncio.Task[None]] = set()
                    try:
                        while True:
                            message = await queue.get()
                            if message is EOF:
                                raise process.ended()
                            if "http" in message:
                                relayed += 1
                                if relayed > MAX_RELAYS:
                                    raise FatalError(f"connector {self.manifest.id!r} made more than {MAX_RELAYS} "
                                                     f"requests in one {name}")
                                task = asyncio.create_task(self._relay(process, message))
                                relays.add(task)
                                task.add_done_callback(relays.discard)
                            elif "result" in message:
                                return wire.decode_result(name, message["result"], who=self.manifest.id)
                            elif "error" in message:
                                raise wire.decode_error(message["error"], who=self.manifest.id)
                    finally:
                        process.unlisten()
                        for task in relays:
                            task.cancel()
            except TimeoutError:
                process.stop(f"it did not answer {name} within {self.limits.call_seconds:g} s")
                raise RetriableError(f"connector {self.manifest.id!r} did not answer {name} in time; butler "
                                     "stopped it", "Butler will try again later.") from None
            except asyncio.CancelledError:
                process.stop(f"{name} was abandoned")
                raise
            except FatalError as exc:
                if not process.gone and process.stopped is None:
                    raise  # the connector's own error, from a child that lives on
                process.stop("it failed")
                if relayed:  # it may have reached the vendor before it ended: what happened is not known
                    raise RetriableError(exc.message, "Butler will ask the vendor what became of it.") from None
                raise

    async def _relay(self, process: ChildProcess, message: dict[str, Any]) -> None:
        slot = message.get("slot") if isinstance(message.get("slot"), int) else None
        sent = False
        try:
            answer = await self._answer(message)
            process.send({"id": message.get("id"), **answer}, slot)  # its slot is released once written
            sent = True
        finally:
            if not sent:
                process.release(slot)

    async def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            method, url, headers, content = wire.decode_request(message["http"])
            response = await self.ctx.http.request(method, url, headers=headers, content=content)
            return {"response": wire.encode_response(response)}
        except ConnectorError as exc:
            return {"failure": wire.encode_error(exc)}
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            return {"failure": {"transport": type(exc).__name__, "message": str(exc)[:500]}}
        except (ValueError, TypeError, KeyError) as exc:
            return {"failure": {"type": "FatalError", "message": f"a malformed request: {exc}"[:500]}}

    async def aclose(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await asyncio.to_thread(process.close)
        await self.ctx.aclose()


def _forward(name: str, signature: inspect.Signature) -> Callable[..., Any]:
    async def method(self: SandboxedConnector, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        given = {key: value for key, value in bound.arguments.items() if key != "self"}
        return await self.call(name, given)
    method.__name__ = name
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


def proxy_class(manifest: Any, target: str, implemented: dict[str, inspect.Signature], limits: jail.Limits,
                paths: list[str]) -> type[SandboxedConnector]:
    """A SandboxedConnector class for `target` that overrides exactly the methods it implements."""
    namespace: dict[str, Any] = {"manifest": manifest, "target": target, "limits": limits, "paths": tuple(paths),
                                 "signatures": implemented, "__module__": __name__}
    for name, signature in implemented.items():
        namespace[name] = _forward(name, signature)
    cls = type(f"Sandboxed[{manifest.id}]", (SandboxedConnector,), namespace)
    return cls


@functools.cache
def module_root(module: str) -> str | None:
    """The folder `module`'s top package is imported from (so a child can import it too)."""
    found = sys.modules.get(module)
    file = getattr(found, "__file__", None)
    if not file:
        return None
    path = Path(file).resolve().parent  # the module's own package folder
    levels = module.count(".") + (1 if Path(file).name == "__init__.py" else 0)
    for _ in range(levels):
        path = path.parent
    return str(path)
