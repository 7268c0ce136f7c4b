"""The one egress: every HTTP client butler builds, for connectors, MyTerms and unsubscribes alike.

`async_client(policy, …)` and `sync_client(policy, …)` build an httpx client over two layers, above the
network (or above `inner`, a transport that stands in for it in tests, such as httpx.MockTransport):

    BoundedTransport   a deadline for the whole exchange, from the first lookup to the last byte; asks only for
                       gzip and deflate, decodes them itself DECODE_CHUNK bytes at a time, and refuses an answer
                       whose size on the wire or decoded passes `max_bytes` (ResponseTooLarge), holding at most
                       one chunk more; what it returns is already decoded
    PinnedTransport    the host policy, on every request the client sends (so on every redirect it follows); a
                       name is resolved once, every address it resolves to is checked, and the request goes to
                       the first of them: the Host header and TLS SNI keep the name and nothing resolves it
                       again, so DNS cannot point it elsewhere after the check; `Sec-GPC: 1` on every request

`HostPolicy` says which hosts a client may reach:

    HostPolicy.allowlist(hosts)   a connector's manifest. Hosts are compared as written in the URL (`localhost`
                                  is not `127.0.0.1`); a declared address is reached as declared, a declared
                                  name only while it resolves to public addresses
    HostPolicy.public()           URLs found in mail or typed by the person: public addresses only, by name or
                                  written out; `allow_loopback=True` (tests and local setups) lets a loopback
                                  address written in the URL through, never a name that resolves to one

Refusals are butler errors, raised before anything is sent: HostNotAllowed for the host, ResponseTooLarge or
UndecodableResponse for the answer (all FatalError). A name that does not resolve is httpx.ConnectError, and
the deadline passing httpx.ReadTimeout, like the network failures they are.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import httpx

from butler.sdk._errors import FatalError, HostNotAllowed
from butler.sdk._manifest import parse_host_entry

__all__ = [
    "ACCEPTED_ENCODINGS",
    "DECODE_CHUNK",
    "DEFAULT_DEADLINE",
    "DEFAULT_TIMEOUT",
    "MAX_ENCODINGS",
    "MAX_RESPONSE_BYTES",
    "PRIVACY_HEADERS",
    "AllowlistTransport",
    "BlockingResolver",
    "BoundedTransport",
    "HostPolicy",
    "PinnedTransport",
    "Resolver",
    "ResponseTooLarge",
    "SyncBoundedTransport",
    "SyncPinnedTransport",
    "UndecodableResponse",
    "async_client",
    "blocking_system_resolver",
    "host_allowed",
    "relay_client",
    "sync_client",
    "system_resolver",
]

PRIVACY_HEADERS: dict[str, str] = {"Sec-GPC": "1"}
"""Sent on every request butler makes (Global Privacy Control)."""
MAX_RESPONSE_BYTES = 2 * 1024 * 1024
DECODE_CHUNK = 64 * 1024
"""The most one decoding step produces: what the transport may hold beyond the cap before it refuses."""
MAX_ENCODINGS = 3
"""The most encodings one answer may be wrapped in (`gzip, gzip` is two)."""
ACCEPTED_ENCODINGS = "gzip, deflate"
"""Sent as Accept-Encoding: only what the transport decodes with a bound."""
DEFAULT_DEADLINE = 30.0
"""Seconds one exchange may take, from resolving the name to the answer's last byte."""
DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""(host, port) → the IP addresses the host resolves to."""
BlockingResolver = Callable[[str, int], Sequence[str]]
"""The same, for the sync client."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ZLIB_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ResponseTooLarge(FatalError):
    default_hint = "The vendor sent far more than any answer needs; butler stopped reading and skipped it."


class UndecodableResponse(FatalError):
    default_hint = "The vendor encoded its answer in a way butler does not read, or damaged it; butler skipped it."


async def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def blocking_system_resolver(host: str, port: int) -> Sequence[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _ip(text: str) -> _Address | None:
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def _public(address: _Address) -> bool:
    return address.is_global and not address.is_multicast


def host_allowed(host: str, port: int, allowed_hosts: Sequence[str]) -> bool:
    """Whether `host:port` (as written in a URL) matches an entry of a manifest's `allowed_hosts`."""
    host = host.lower().rstrip(".")
    for entry in allowed_hosts:
        name, entry_port = parse_host_entry(entry)
        if entry_port is not None and entry_port != port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]) and host != name[2:]:
                return True
        elif host == name:
            return True
    return False


@dataclass(frozen=True)
class HostPolicy:
    """Which hosts a client may reach; build one with `allowlist()` or `public()`."""

    allowed_hosts: tuple[str, ...] | None
    """A manifest's entries; None: any host whose addresses are public."""
    allow_loopback: bool = False
    who: str = "butler"
    """Who is refused, in the error message: a connector's id, "MyTerms", "unsubscribe"."""

    @classmethod
    def allowlist(cls, hosts: Iterable[str], *, who: str = "connector") -> HostPolicy:
        return cls(tuple(hosts), who=who)

    @classmethod
    def public(cls, *, allow_loopback: bool = False, who: str = "butler") -> HostPolicy:
        return cls(None, allow_loopback=allow_loopback, who=who)

    def _refuse(self, url: httpx.URL, why: str) -> HostNotAllowed:
        where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
        if self.allowed_hosts is not None:
            return HostNotAllowed(f"{self.who} may not reach {where}: {why}; allowed: {', '.join(self.allowed_hosts)}")
        return HostNotAllowed(f"{self.who} may not reach {where}: {why}",
                              "Butler reaches only public addresses for links found in mail or given to it; "
                              "nothing was sent.")

    def target(self, url: httpx.URL) -> tuple[str, int, bool]:
        """(host as resolved and sent in SNI, port, whether it must be resolved) for a request to `url`.

        Raises HostNotAllowed for a scheme other than http(s), a host outside the allowlist, or an address
        written in the URL that the policy does not reach.
        """
        if url.scheme not in _DEFAULT_PORTS:
            raise self._refuse(url, f"scheme {url.scheme!r} is not http(s)")
        host = url.raw_host.decode("ascii").lower()
        port = url.port or _DEFAULT_PORTS[url.scheme]
        if self.allowed_hosts is not None and not host_allowed(url.host, port, self.allowed_hosts):
            raise self._refuse(url, "the host is not in the manifest")
        written = _ip(host)
        if written is None:
            return host, port, True
        if self.allowed_hosts is None and not _public(written) and not (self.allow_loopback and written.is_loopback):
            raise self._refuse(url, f"{written} is not a public address")
        return str(written), port, False

    def pick(self, url: httpx.URL, addresses: Sequence[str]) -> str:
        """The address to connect to, once every address the name resolved to is found public."""
        if not addresses:
            raise httpx.ConnectError(f"{url.host} resolves to no address")
        for text in addresses:
            address = _ip(text)
            if address is None or not _public(address):
                declare = " (declare the address itself to reach it)" if self.allowed_hosts is not None else ""
                raise self._refuse(url, f"the name resolves to {text}, which is not a public address{declare}")
        first = _ip(addresses[0])
        assert first is not None
        return str(first)


def _pinned(request: httpx.Request, host: str, address: str | None) -> httpx.Request:
    """A copy of `request` sent to `address` (when given): the Host header and TLS SNI keep the name."""
    url = request.url if address is None else request.url.copy_with(host=address)
    headers = httpx.Headers(request.headers)
    headers.update(PRIVACY_HEADERS)
    extensions = dict(request.extensions)
    if address is not None:
        headers.setdefault("Host", request.url.netloc.decode("ascii"))
        extensions["sni_hostname"] = host
    return httpx.Request(request.method, url, headers=headers, stream=request.stream, extensions=extensions)


class PinnedTransport(httpx.AsyncBaseTransport):
    """Wraps `inner` (the network by default) and sends only what `policy` allows, to the address it checked."""

    def __init__(self, policy: HostPolicy, inner: httpx.AsyncBaseTransport | None = None, *,
                 resolver: Resolver | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self._resolver = resolver or system_resolver

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host, port, resolve = self.policy.target(request.url)
        address = None
        if resolve:
            try:
                addresses = list(await self._resolver(host, port))
            except (OSError, UnicodeError) as exc:
                raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from None
            address = self.policy.pick(request.url, addresses)
        return await self._inner.handle_async_request(_pinned(request, host, address))

    async def aclose(self) -> None:
        await self._inner.aclose()


class SyncPinnedTransport(httpx.BaseTransport):
    """PinnedTransport for the sync client."""

    def __init__(self, policy: HostPolicy, inner: httpx.BaseTransport | None = None, *,
                 resolver: BlockingResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self._resolver = resolver or blocking_system_resolver

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host, port, resolve = self.policy.target(request.url)
        address = None
        if resolve:
            try:
                addresses = list(self._resolver(host, port))
            except (OSError, UnicodeError) as exc:
                raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from None
            address = self.policy.pick(request.url, addresses)
        return self._inner.handle_request(_pinned(request, host, address))

    def close(self) -> None:
        self._inner.close()


class AllowlistTransport(PinnedTransport):
    """PinnedTransport for a connector's manifest: `allowed_hosts` as declared, refusals named `connector_id`."""

    def __init__(self, allowed_hosts: Sequence[str], inner: httpx.AsyncBaseTransport | None = None, *,
                 resolver: Resolver | None = None, connector_id: str = "connector") -> None:
        super().__init__(HostPolicy.allowlist(allowed_hosts, who=connector_id), inner, resolver=resolver)
        self.allowed_hosts = tuple(allowed_hosts)


class _Inflater:
    """Undoes one zlib encoding (gzip or deflate), never more than DECODE_CHUNK bytes per step."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib = zlib.decompressobj(_ZLIB_WBITS[coding])
        self._fed = False

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of `data`, a chunk at a time; the next is decoded only when it is asked for."""
        pending = data
        while not self._zlib.eof:  # bytes after the end of the stream are ignored, as httpx does
            try:
                out = self._zlib.decompress(pending, DECODE_CHUNK)
            except zlib.error:
                if self.coding != "deflate" or self._fed:
                    raise
                # "deflate" is often sent raw, without its zlib header (httpx tries both the same way)
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._zlib.decompress(pending, DECODE_CHUNK)
            self._fed = True
            pending = self._zlib.unconsumed_tail
            if out:
                yield out
            if not pending and len(out) < DECODE_CHUNK:
                return


class _Reading:
    """One answer's body, decoded and counted as its raw chunks arrive; refused once past `max_bytes`."""

    def __init__(self, where: str, response: httpx.Response, max_bytes: int) -> None:
        self.where = where
        self.max_bytes = max_bytes
        self.body = bytearray()
        self.peak = 0
        self._raw = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise self._refuse(int(declared))
        codings = [c.lower() for c in response.headers.get_list("content-encoding", split_commas=True)]
        codings = [c for c in codings if c not in ("", "identity")]
        unknown = [c for c in codings if c not in _ZLIB_WBITS]
        if unknown:
            raise UndecodableResponse(f"{where}: the answer is encoded as {', '.join(unknown)}, which butler does "
                                      f"not decode (it asks for {ACCEPTED_ENCODINGS})")
        if len(codings) > MAX_ENCODINGS:
            raise UndecodableResponse(f"{where}: the answer is encoded {len(codings)} times over "
                                      f"({', '.join(codings)}); butler undoes at most {MAX_ENCODINGS}")
        self._decoders = [_Inflater(c) for c in reversed(codings)]  # the last applied is undone first
        # a stage's output (the next encoding's input) may be a little larger than the decoded answer, never more
        self._produced = [0] * len(self._decoders)

    def _refuse(self, size: int, what: str = "answer") -> ResponseTooLarge:
        return ResponseTooLarge(f"{self.where}: the {what} is larger than {self.max_bytes} bytes ({size} or more)")

    def feed(self, chunk: bytes) -> None:
        self._raw += len(chunk)
        if self._raw > self.max_bytes:
            raise self._refuse(self._raw)
        try:
            self._take(0, chunk)
        except zlib.error as exc:
            raise UndecodableResponse(f"{self.where}: the answer's encoding is damaged ({exc})") from None

    def _take(self, level: int, data: bytes) -> None:
        if level == len(self._decoders):
            size = len(self.body) + len(data)
            self.peak = max(self.peak, size)
            if size > self.max_bytes:
                raise self._refuse(size, "decoded answer")
            self.body.extend(data)
            return
        for piece in self._decoders[level].pieces(data):
            self._produced[level] += len(piece)
            if self._produced[level] > 2 * self.max_bytes:
                raise self._refuse(self._produced[level], f"{self._decoders[level].coding}-decoded answer")
            self._take(level + 1, piece)

    def response(self, request: httpx.Request, raw: httpx.Response) -> httpx.Response:
        headers = [(k, v) for k, v in raw.headers.multi_items()
                   if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")]
        return httpx.Response(raw.status_code, headers=headers, content=bytes(self.body),
                              extensions=raw.extensions, request=request)


def _where(request: httpx.Request) -> str:
    return f"{request.method} {request.url.copy_with(query=None)}"


def _check_deadline(seconds: float) -> float:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"a deadline must be finite and more than 0 seconds, got {seconds}")
    return seconds


class BoundedTransport(httpx.AsyncBaseTransport):
    """Refuses (ResponseTooLarge) any answer whose body, on the wire or decoded, exceeds `max_bytes`, and ends
    (httpx.ReadTimeout) an exchange that lasts longer than `deadline` seconds.

    Holds at most `max_bytes` plus one DECODE_CHUNK of decoded data per answer; `peak_decoded_bytes` is the
    most it held for any answer so far.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, *, max_bytes: int = MAX_RESPONSE_BYTES,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self.max_bytes = max_bytes
        self.deadline = _check_deadline(deadline)
        self.peak_decoded_bytes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scope = asyncio.timeout(self.deadline)
        try:
            async with scope:
                return await self._exchange(request)
        except TimeoutError:
            if not scope.expired():
                raise
            raise httpx.ReadTimeout(f"{_where(request)}: no complete answer within {self.deadline:g} s",
                                    request=request) from None

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        raw = await self._inner.handle_async_request(request)
        try:
            reading = _Reading(_where(request), raw, self.max_bytes)
            try:
                # the stream itself, not aiter_raw(): an answer built in a test arrives already read
                assert isinstance(raw.stream, httpx.AsyncByteStream)
                async for chunk in raw.stream:
                    reading.feed(chunk)
            finally:
                self.peak_decoded_bytes = max(self.peak_decoded_bytes, reading.peak)
        finally:
            await raw.aclose()
        return reading.response(request, raw)

    async def aclose(self) -> None:
        await self._inner.aclose()


class SyncBoundedTransport(httpx.BaseTransport):
    """BoundedTransport for the sync client. No single wait lasts longer than the deadline, and the deadline
    is checked between chunks, so an exchange ends at most one wait after it."""

    def __init__(self, inner: httpx.BaseTransport | None = None, *, max_bytes: int = MAX_RESPONSE_BYTES,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self.max_bytes = max_bytes
        self.deadline = _check_deadline(deadline)
        self.peak_decoded_bytes = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        waits = request.extensions.get("timeout", {})
        shortened = {phase: min(self.deadline, waits.get(phase) or self.deadline)
                     for phase in ("connect", "read", "write", "pool")}
        request.extensions = {**request.extensions, "timeout": shortened}
        raw = self._inner.handle_request(request)
        try:
            reading = _Reading(_where(request), raw, self.max_bytes)
            try:
                assert isinstance(raw.stream, httpx.SyncByteStream)
                for chunk in raw.stream:
                    if time.monotonic() - started > self.deadline:
                        raise httpx.ReadTimeout(f"{_where(request)}: no complete answer within {self.deadline:g} s",
                                                request=request)
                    reading.feed(chunk)
            finally:
                self.peak_decoded_bytes = max(self.peak_decoded_bytes, reading.peak)
        finally:
            raw.close()
        return reading.response(request, raw)

    def close(self) -> None:
        self._inner.close()


def async_client(policy: HostPolicy, *, inner: httpx.AsyncBaseTransport | None = None,
                 resolver: Resolver | None = None, max_bytes: int = MAX_RESPONSE_BYTES,
                 deadline: float = DEFAULT_DEADLINE, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 follow_redirects: bool = False, max_redirects: int = 5, base_url: str = "") -> httpx.AsyncClient:
    """An AsyncClient that reaches only what `policy` allows, at the address it checked, with `Sec-GPC: 1`,
    answers capped at `max_bytes` decoded and each exchange ended after `deadline` seconds.

    `inner` stands in for the network (tests: httpx.MockTransport); names are still resolved, by `resolver`
    (the system's by default). Redirects, when followed, are checked like any other request. The caller closes
    the client.
    """
    transport = BoundedTransport(PinnedTransport(policy, inner, resolver=resolver), max_bytes=max_bytes,
                                 deadline=deadline)
    return httpx.AsyncClient(transport=transport, headers=PRIVACY_HEADERS, timeout=timeout, trust_env=False,
                             follow_redirects=follow_redirects, max_redirects=max_redirects, base_url=base_url)


def relay_client(relay: httpx.AsyncBaseTransport, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 base_url: str = "") -> httpx.AsyncClient:
    """A sandboxed connector's client: `relay` hands every request to butler's process, where a client from
    `async_client` checks the host, follows redirects, caps the answer and bounds the time; nothing here
    reaches the network (a sandbox has none)."""
    return httpx.AsyncClient(transport=relay, headers=PRIVACY_HEADERS, timeout=timeout, trust_env=False,
                             follow_redirects=False, base_url=base_url)


def sync_client(policy: HostPolicy, *, inner: httpx.BaseTransport | None = None,
                resolver: BlockingResolver | None = None, max_bytes: int = MAX_RESPONSE_BYTES,
                deadline: float = DEFAULT_DEADLINE, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                follow_redirects: bool = False, max_redirects: int = 5) -> httpx.Client:
    """`async_client` for sync callers (an unsubscribe sent from a sweep)."""
    transport = SyncBoundedTransport(SyncPinnedTransport(policy, inner, resolver=resolver), max_bytes=max_bytes,
                                     deadline=deadline)
    return httpx.Client(transport=transport, headers=PRIVACY_HEADERS, timeout=timeout, trust_env=False,
                        follow_redirects=follow_redirects, max_redirects=max_redirects)
