"""An unsubscribe goes out through the one egress: the address checked is the address reached, and the sender's
answer is read only up to a cap. Real peers on loopback; DNS is the test's own, through socket.getaddrinfo."""

from __future__ import annotations

import socket
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from butler.mail.unsubscribe import propose, send_approved
from butler.testing import live_server
from butler.vault import Vault

PUBLIC = "93.184.216.34"
MiB = 1 << 20


def _headers(uri: str) -> dict[str, str]:
    return {"list-unsubscribe": f"<{uri}>", "list-unsubscribe-post": "List-Unsubscribe=One-Click"}


@contextmanager
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP peer on 127.0.0.1 that remembers the first bytes of every connection it accepts."""
    accepted: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    accepted.append(conn.recv(4096))
                except OSError:
                    accepted.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(5)
        server.close()


class RebindingDNS:
    """`rebind.example` answers PUBLIC until `answer()` is told otherwise: each lookup takes the next address
    given, and the last one repeats. PUBLIC itself is never reached from a test: a lookup of it (the connection
    to the checked address) fails."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self._answers: list[str] = [PUBLIC]
        self._real = socket.getaddrinfo

    def answer(self, *addresses: str) -> None:
        """From now on answer `addresses` in turn; forget the lookups so far."""
        self.lookups.clear()
        self._answers = list(addresses)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        host = host.decode() if isinstance(host, bytes) else host
        if host == "rebind.example":
            self.lookups.append(host)
            address = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]
        if host == PUBLIC:
            self.lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "the test does not reach the internet")
        return self._real(host, port, *args, **kwargs)


def test_a_name_rebound_to_loopback_after_the_check_is_not_reached_there(vault: Vault,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    dns = RebindingDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    with listener() as (port, accepted):
        item = propose(vault, "news@rebind.example", _headers(f"https://rebind.example:{port}/u/1"),
                       standing_rule=True)
        assert item is not None and item["state"] == "approved"
        dns.answer(PUBLIC, "127.0.0.1")  # public for the check, loopback for whoever asks next
        [result] = send_approved(vault)
    assert accepted == [], "the request went to 127.0.0.1, not to the address that was checked"
    assert dns.lookups == ["rebind.example", PUBLIC]  # resolved once, then connected to what was checked
    assert result["error"] == "ConnectError"


def test_a_name_that_turns_private_before_the_send_is_refused(vault: Vault,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    dns = RebindingDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    with listener() as (port, accepted):
        item = propose(vault, "news@rebind.example", _headers(f"https://rebind.example:{port}/u/2"),
                       standing_rule=True)
        assert item is not None
        dns.answer("127.0.0.1")  # the name now points home
        assert send_approved(vault) == []
    assert accepted == []
    assert dns.lookups == ["rebind.example"]
    refused = [e for e in vault.audit.entries() if e.action == "mail.unsubscribe.refused"]
    assert refused and "127.0.0.1" in refused[-1].details["why"]


async def _huge(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every request with 32 MiB, 64 KiB at a time."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    chunk = b"x" * (64 << 10)
    for _ in range(512):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_a_huge_answer_is_refused_once_past_the_cap(vault: Vault) -> None:
    with live_server(_huge) as url:
        item = propose(vault, "big@shop.example", _headers(f"{url}/u/3"), allow_loopback=True, standing_rule=True)
        assert item is not None
        tracemalloc.start()
        try:
            [result] = send_approved(vault, allow_loopback=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert result.get("error") == "ResponseTooLarge", result
    assert peak < 4 * MiB, f"held {peak / MiB:.1f} MiB of the answer"
