"""The connector's side of the sandbox: `python -m butler.sandbox.child`, started by `butler.sandbox.host`.

It keeps the pipes it was started with for messages (`butler.sandbox.wire`) and points its own standard output at
standard error, so a connector that prints cannot garble them. It sets its limits before it imports the
connector's code, then builds the connector's context exactly as butler does in process, except that the HTTP
client hands every request to the parent, whose egress checks and sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import itertools
import logging
import os
import resource
import sys
from typing import Any

import httpx
from pydantic import BaseModel

from butler.log import RedactingFilter
from butler.sandbox import wire
from butler.sdk import Connector, ConnectorContext, Person

__all__ = ["main"]


class _Channel:
    """Messages to and from the parent, and the answers to this side's HTTP requests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def send(self, message: dict[str, Any]) -> None:
        self.writer.write(wire.pack(message))

    async def http(self, request: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        self.send({"id": number, "http": request})
        await self.writer.drain()
        try:
            return await future
        finally:
            self.waiting.pop(number, None)


class RelayTransport(httpx.AsyncBaseTransport):
    """Sends each request to the parent, which makes it through butler's egress and returns the answer."""

    def __init__(self, channel: _Channel) -> None:
        self.channel = channel

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        answer = await self.channel.http(wire.encode_request(request, content))
        if "response" in answer:
            return wire.decode_response(answer["response"], request)
        failure = answer.get("failure") or {}
        transport = failure.get("transport")
        if isinstance(transport, str):
            cls = getattr(httpx, transport, None)
            if not (isinstance(cls, type) and issubclass(cls, httpx.TransportError)):
                cls = httpx.TransportError
            raise cls(str(failure.get("message", transport)), request=request)
        raise wire.decode_error(failure, who="butler")


class _ToParent(logging.Handler):
    def __init__(self, channel: _Channel) -> None:
        super().__init__()
        self.channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.channel.send({"log": {"level": record.levelno, "message": self.format(record)[:4000]}})


def _limit(limits: dict[str, Any]) -> None:
    mb = 1024 * 1024
    wanted = {
        resource.RLIMIT_AS: int(limits["memory_mb"]) * mb,
        resource.RLIMIT_CPU: int(limits["cpu_seconds"]),
        resource.RLIMIT_NOFILE: int(limits["open_files"]),
        resource.RLIMIT_FSIZE: int(limits["file_mb"]) * mb,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NPROC: int(limits["processes"]),
    }
    for kind, value in wanted.items():
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (value, value))


def _load(target: str) -> type[Connector]:
    module_name, _, qualname = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, Connector)):
        raise TypeError(f"{target} is not a butler.sdk.Connector subclass")
    return obj


def _describe(cls: type[Connector]) -> dict[str, Any]:
    manifest = cls.manifest
    data = manifest.model_dump(mode="json", exclude={"settings"})
    return {"manifest": data, "settings_schema": manifest.settings.model_json_schema(),
            "implemented": [name for name in wire.CALLS if getattr(cls, name) is not getattr(Connector, name)],
            "signatures": {name: list(inspect.signature(getattr(cls, name)).parameters) for name in wire.CALLS}}


async def _serve(channel: _Channel, first: dict[str, Any]) -> None:
    setup = first["init"]
    cls = _load(setup["target"])
    relay = RelayTransport(channel)
    person = Person.model_validate(setup["person"]) if setup.get("person") else None
    ctx = ConnectorContext(cls.manifest, settings=setup.get("settings") or {}, secrets=setup.get("secrets") or {},
                           person=person, relay=relay)
    connector = cls(ctx)
    settings = connector.settings
    channel.send({"ready": {"settings": settings.model_dump(mode="json") if isinstance(settings, BaseModel)
                            else {}, "vendor_id": connector.vendor_id}})
    calls: set[asyncio.Task[None]] = set()

    async def run(name: str, args: dict[str, Any]) -> None:
        try:
            result = await getattr(connector, name)(**wire.decode_args(name, args))
            channel.send({"result": wire.encode_result(name, result)})
        except Exception as exc:  # whatever the connector raises goes back as its error
            channel.send({"error": wire.encode_error(exc)})

    try:
        while (message := await wire.read_message(channel.reader)) is not None:
            if "id" in message:
                future = channel.waiting.get(int(message["id"]))
                if future is not None and not future.done():
                    future.set_result(message)
            elif "call" in message:
                name = str(message["call"])
                if name not in wire.CALLS:
                    channel.send({"error": {"type": "FatalError", "message": f"no method {name!r}"}})
                    continue
                task = asyncio.create_task(run(name, message.get("args") or {}))
                calls.add(task)
                task.add_done_callback(calls.discard)
            elif message.get("close"):
                break
    finally:
        with contextlib.suppress(Exception):
            await connector.aclose()


async def _main() -> None:
    loop = asyncio.get_running_loop()
    incoming, outgoing = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # what the connector prints goes to standard error, never into the messages
    reader = asyncio.StreamReader(limit=wire.MAX_MESSAGE + 16)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(incoming, "rb", 0))
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                        os.fdopen(outgoing, "wb", 0))
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    channel = _Channel(reader, writer)
    first = await wire.read_message(reader)
    if first is None:
        return
    sys.path[:0] = [p for p in first.get("path", []) if isinstance(p, str) and p not in sys.path]
    _limit(first["limits"])
    root = logging.getLogger()
    handler = _ToParent(channel)
    handler.addFilter(RedactingFilter())  # what the connector registered (a token it derived) too
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        if "describe" in first:
            channel.send({"described": _describe(_load(first["describe"]["target"]))})
        else:
            await _serve(channel, first)
    except Exception as exc:  # a connector that fails to load or start says why, once
        channel.send({"error": wire.encode_error(exc)})
    with contextlib.suppress(Exception):
        await writer.drain()
        writer.close()


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
