"""Serve an ASGI app (an example vendor, a fake for tests) for real on loopback, in a thread, on a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["live_server"]


@contextmanager
def live_server(app: Any, *, host: str = "127.0.0.1", startup_timeout: float = 10.0) -> Iterator[str]:
    """Run `app` with uvicorn on `host` and a free port; yields its base URL, stops it on exit."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    # answers go out at once: uvicorn writes the head and the body apart, and Nagle's algorithm held the body
    # back until the client's delayed ACK, 40 ms on every request (connections inherit this from the listener)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"the test server on {host}:{port} did not start")
        time.sleep(0.005)
    try:
        yield f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
