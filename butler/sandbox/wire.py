"""What butler and a sandboxed connector say to each other: framed JSON messages and how values cross.

Each message is a 4-byte big-endian length and that many bytes of JSON (an object). The parent sends `init`,
then one `call` at a time; the child answers each with `result` or `error`, and while a call runs it may send
`http` (a request for the parent's egress to make, answered by `response` or `failure`) and `log` messages.

    parent → child   {"init": {"target", "settings", "secrets", "person"}}       child → {"ready": {...}}
                     {"describe": {"target"}}                                      child → {"described": {...}}
                     {"call": name, "args": {...}}                                 child → {"result": v} | {"error": e}
                     {"id": n, "response": {...}} | {"id": n, "failure": {...}}    (answers to the child's `http`)
                     {"close": true}
    child → parent   {"id": n, "http": {"method", "url", "headers", "content"}}
                     {"log": {"level", "message"}}

Arguments and results cross as JSON through pydantic TypeAdapters built from `butler.sdk.Connector`'s own
method signatures, so a result the parent cannot validate is the connector's error, never butler's crash.
Errors cross by class name, among the SDK's (an unknown name becomes FatalError).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import math
import struct
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from butler.sdk import _errors as sdk_errors
from butler.sdk import egress
from butler.sdk._connector import METHODS, Connector
from butler.sdk._errors import ConnectorError, FatalError

__all__ = [
    "CALLS",
    "MAX_MESSAGE",
    "MessageTooLarge",
    "decode_error",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_response",
    "pack",
    "printable",
    "read_message",
    "signature",
]

MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message either side accepts (an HTTP answer is capped at 2 MB before it is encoded)."""
_HEADER = struct.Struct(">I")

CALLS: tuple[str, ...] = ("validate", *sorted({name for names in METHODS.values() for name in names}),
                          "abandon_checkout", "find_order")
"""The connector methods a child serves."""

_ERRORS: dict[str, type[ConnectorError]] = {
    name: cls for name in sdk_errors.__all__
    if isinstance(cls := getattr(sdk_errors, name), type) and issubclass(cls, ConnectorError)}
_ERRORS.update({"ResponseTooLarge": egress.ResponseTooLarge, "UndecodableResponse": egress.UndecodableResponse})
_HOP_BY_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection", "accept-encoding", "keep-alive"})


class MessageTooLarge(Exception):
    """The other side announced a message larger than MAX_MESSAGE."""


def pack(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    if len(body) > MAX_MESSAGE:
        raise MessageTooLarge(f"a message of {len(body)} bytes is larger than {MAX_MESSAGE}")
    return _HEADER.pack(len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None at the end of the stream. Raises MessageTooLarge or ValueError (not JSON)."""
    try:
        head = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError:
        return None
    (size,) = _HEADER.unpack(head)
    if size > MAX_MESSAGE:
        raise MessageTooLarge(f"the other side announced a message of {size} bytes")
    try:
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        return None
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a message is not a JSON object")
    return message


# -- calls ------------------------------------------------------------------------------------------------

@cache
def signature(name: str) -> tuple[dict[str, TypeAdapter[Any]], TypeAdapter[Any]]:
    """The adapters for `Connector.<name>`'s keyword arguments and its result."""
    if name not in CALLS:
        raise ValueError(f"{name!r} is not a connector method")
    method: Callable[..., Any] = getattr(Connector, name)
    hints = typing.get_type_hints(method)
    params = [p for p in inspect.signature(method).parameters if p != "self"]
    return {p: TypeAdapter(hints.get(p, Any)) for p in params}, TypeAdapter(hints.get("return", Any))


def encode_args(name: str, args: dict[str, Any]) -> dict[str, Any]:
    adapters, _ = signature(name)
    return {key: adapters[key].dump_python(value, mode="json") for key, value in args.items()}


def decode_args(name: str, data: dict[str, Any]) -> dict[str, Any]:
    adapters, _ = signature(name)
    unknown = set(data) - set(adapters)
    if unknown:
        raise ValueError(f"{name} takes no {', '.join(sorted(unknown))}")
    return {key: adapters[key].validate_python(value) for key, value in data.items()}


def encode_result(name: str, value: Any) -> Any:
    return signature(name)[1].dump_python(value, mode="json")


def decode_result(name: str, data: Any, *, who: str) -> Any:
    """The child's result as the method's type; FatalError when it is not one."""
    try:
        return signature(name)[1].validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                             for e in exc.errors()[:3])
        raise FatalError(f"connector {who!r} answered {name} with something butler cannot read: {problems}") from None


# -- errors -----------------------------------------------------------------------------------------------

def encode_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ConnectorError):
        fields = {key: getattr(exc, key) for key in ("status", "code", "retry_after", "secret")
                  if getattr(exc, key, None) is not None}
        return {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint, **fields}
    return {"type": "FatalError", "message": f"{type(exc).__name__}: {exc}"[:2000]}


def printable(text: str) -> str:
    """`text` as one line a terminal shows as it is: every character that is not printable (line breaks, escape
    sequences) a space."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def decode_error(data: Any, *, who: str) -> ConnectorError:
    if not isinstance(data, dict):
        return FatalError(f"connector {who!r} failed and said nothing butler can read")
    cls = _ERRORS.get(str(data.get("type")), FatalError)
    message = printable(str(data.get("message", ""))[:2000]) or f"connector {who!r} failed"
    hint = printable(data["hint"][:2000]) if isinstance(data.get("hint"), str) else None
    kwargs: dict[str, Any] = {}
    for key, kind in (("status", int), ("code", str), ("retry_after", float), ("secret", str)):
        value = data.get(key)
        if key == "retry_after" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value) if abs(value) < 2**53 else math.inf  # whole seconds, as a connector may give
        if kind is float and not (isinstance(value, float) and math.isfinite(value) and value >= 0):
            continue  # NaN (which JSON lets through) would have butler wait forever
        if isinstance(value, kind) and key in inspect.signature(cls.__init__).parameters:
            kwargs[key] = printable(value[:200]) if isinstance(value, str) else value
    try:
        return cls(message, hint, **kwargs)
    except TypeError:
        return FatalError(message, hint)


# -- HTTP through the parent ------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_request(request: httpx.Request, content: bytes) -> dict[str, Any]:
    headers = [[k, v] for k, v in request.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
    return {"method": request.method, "url": str(request.url), "headers": headers, "content": _b64(content)}


def decode_request(data: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """(method, url, headers, content) of a request the child asks for. Raises ValueError when malformed."""
    method, url, headers = data.get("method"), data.get("url"), data.get("headers", [])
    if not (isinstance(method, str) and method.isalpha() and len(method) <= 16 and isinstance(url, str)):
        raise ValueError("a request needs a method and a URL")
    if not isinstance(headers, list) or len(headers) > 200:
        raise ValueError("a request's headers must be a list of at most 200 pairs")
    pairs = []
    for item in headers:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ValueError("a header must be a [name, value] pair")
        if item[0].lower() not in _HOP_BY_HOP:
            pairs.append((item[0], item[1]))
    return method.upper(), url, pairs, base64.b64decode(str(data.get("content", "")), validate=True)


def encode_response(response: httpx.Response) -> dict[str, Any]:
    headers = [[k, v] for k, v in response.headers.multi_items()
               if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")]
    return {"status": response.status_code, "headers": headers, "content": _b64(response.content),
            "url": str(response.url)}


def decode_response(data: dict[str, Any], request: httpx.Request) -> httpx.Response:
    headers = [(str(k), str(v)) for k, v in data.get("headers", [])]
    return httpx.Response(int(data["status"]), headers=headers, content=base64.b64decode(data.get("content", "")),
                          request=request)
