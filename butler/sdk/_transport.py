"""The only way out for a connector: an httpx transport that sends nothing to a host the manifest did not declare.

Checked on every request the client sends, so redirects and absolute URLs found in a vendor's answer are
checked too. Hosts are compared as written in the URL, never after DNS: `localhost` is not `127.0.0.1`. A
declared *name* is resolved once per request and must resolve only to public addresses (a name that points at
loopback, a private network or link-local is refused: DNS rebinding); the request is then sent to the address
that was checked, not resolved again. Every request carries `Sec-GPC: 1`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

import httpx

from butler.sdk._errors import HostNotAllowed
from butler.sdk._manifest import parse_host_entry

__all__ = ["PRIVACY_HEADERS", "AllowlistTransport", "Resolver", "host_allowed", "system_resolver"]

PRIVACY_HEADERS: dict[str, str] = {"Sec-GPC": "1"}
"""Sent on every request a connector makes (Global Privacy Control)."""

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""(host, port) → the IP addresses the host resolves to."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


async def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


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


class AllowlistTransport(httpx.AsyncBaseTransport):
    """Wraps `inner` (the real network, or a MockTransport in tests) and enforces `allowed_hosts`."""

    def __init__(self, allowed_hosts: Sequence[str], inner: httpx.AsyncBaseTransport | None = None, *,
                 resolver: Resolver | None = None, connector_id: str = "connector") -> None:
        self.allowed_hosts = tuple(allowed_hosts)
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self._resolver = resolver or system_resolver
        self._who = connector_id

    def _refuse(self, request: httpx.Request, why: str) -> HostNotAllowed:
        return HostNotAllowed(f"{self._who} may not reach {request.url.scheme}://{request.url.netloc.decode()}: "
                              f"{why}; allowed: {', '.join(self.allowed_hosts)}")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise self._refuse(request, f"scheme {url.scheme!r} is not http(s)")
        host = url.host.lower()
        port = url.port or _DEFAULT_PORTS[url.scheme]
        if not host_allowed(host, port, self.allowed_hosts):
            raise self._refuse(request, "the host is not in the manifest")
        if _ip(host) is None:
            await self._pin(request, host, port)
        for name, value in PRIVACY_HEADERS.items():
            request.headers[name] = value
        return await self._inner.handle_async_request(request)

    async def _pin(self, request: httpx.Request, host: str, port: int) -> None:
        try:
            addresses = list(await self._resolver(host, port))
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from None
        parsed = [_ip(a.split("%")[0]) for a in addresses]
        if not parsed:
            raise httpx.ConnectError(f"{host} resolves to no address", request=request)
        for text, address in zip(addresses, parsed, strict=True):
            if address is None or not address.is_global:
                raise self._refuse(request, f"the name resolves to {text}, which is not a public address "
                                            "(declare the address itself to reach it)")
        first = parsed[0]
        assert first is not None
        # send to the address just checked; Host header and TLS SNI keep the name
        request.headers.setdefault("Host", request.url.netloc.decode())
        request.extensions = {**request.extensions, "sni_hostname": host}
        request.url = request.url.copy_with(host=str(first))

    async def aclose(self) -> None:
        await self._inner.aclose()
