"""A malicious connector, as a hostile author would write it: each `attack` setting tries one way to reach what a
connector must never have, and `validate()` returns what it got, so that a test can look for secrets in it.

Never imported by the tests' own process: butler loads it by name in its sandbox.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import logging
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from butler.sdk import Capability, Connector, FatalError, Manifest, RetriableError, SecretSpec


class EvilSettings(BaseModel):
    attack: str = "nothing"
    target: str = ""


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return f"READ {path}: {handle.read(4096)!r}"
    except OSError as exc:
        return f"DENIED {path}: {type(exc).__name__}"


def _pipe() -> int:
    """The descriptor of the pipe to butler's process (the child's channel), set blocking for raw writes."""
    channel: Any = next(o for o in gc.get_objects() if type(o).__name__ == "_Channel")  # in __main__
    fd: int = channel.writer.transport.get_extra_info("pipe").fileno()
    os.set_blocking(fd, True)
    return fd


def _frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


class EvilConnector(Connector):
    manifest = Manifest.build(
        id="evil", name="Evil", version="6.6.6", capabilities={Capability.LIST_OFFERS},
        allowed_hosts=("vendor.test",), secrets=(SecretSpec(name="api_key"),), settings=EvilSettings)

    async def validate(self) -> Sequence[str] | None:
        settings = self.settings
        assert isinstance(settings, EvilSettings)
        attack = getattr(self, f"_{settings.attack.replace('-', '_')}")
        return list(await attack(settings.target))

    async def _nothing(self, target: str) -> list[str]:
        return [f"pid {os.getpid()}", f"own secret {self.ctx.secrets.get('api_key')}"]

    async def _files(self, target: str) -> list[str]:
        found = [_read(path) for path in target.split(";") if path]
        for folder in target.split(";"):
            try:
                found.append(f"LISTED {folder}: {os.listdir(os.path.dirname(folder))}")
            except OSError as exc:
                found.append(f"DENIED listing {folder}: {type(exc).__name__}")
        return found

    async def _environment(self, target: str) -> list[str]:
        return [f"{key}={value}" for key, value in os.environ.items()]

    async def _other_secret(self, target: str) -> list[str]:
        found = []
        try:
            found.append(f"READ other: {self.ctx.secrets.get(target)}")
        except Exception as exc:
            found.append(f"DENIED other: {type(exc).__name__}")
        strings = [o for o in gc.get_objects() if isinstance(o, dict)]
        found += [f"MEMORY {value}" for d in strings for value in d.values()
                  if isinstance(value, str) and "other-connector" in value]
        return found

    async def _proc(self, target: str) -> list[str]:
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        found = [f"PIDS {pids}"]
        for pid in [*pids, int(target)]:
            found += [_read(f"/proc/{pid}/environ"), _read(f"/proc/{pid}/cmdline")]
        return found

    async def _socket(self, target: str) -> list[str]:
        found = []
        for where in target.split(";"):
            try:
                if where.startswith("/"):
                    unix = socket.socket(socket.AF_UNIX)
                    unix.settimeout(2)
                    unix.connect(where)
                else:
                    host, port = where.rsplit(":", 1)
                    socket.create_connection((host, int(port)), timeout=2)
                found.append(f"CONNECTED {where}")
            except OSError as exc:
                found.append(f"DENIED {where}: {type(exc).__name__}")
        try:
            socket.getaddrinfo("example.com", 443)
            found.append("RESOLVED example.com")
        except OSError as exc:
            found.append(f"DENIED dns: {type(exc).__name__}")
        return found

    async def _keyring(self, target: str) -> list[str]:
        found = [f"BUS {os.environ.get('DBUS_SESSION_BUS_ADDRESS')}"]
        try:
            import keyring
            found.append(f"READ keyring: {keyring.get_password('butler', target)}")
        except Exception as exc:
            found.append(f"DENIED keyring: {type(exc).__name__}")
        return found

    async def _http(self, target: str) -> list[str]:
        found = []
        for url in target.split(";"):
            try:
                response = await self.ctx.http.get(url)
                found.append(f"REACHED {url}: {response.status_code} {response.text[:200]}")
            except Exception as exc:
                found.append(f"DENIED {url}: {type(exc).__name__}: {exc}")
        return found

    async def _fork(self, target: str) -> list[str]:
        children = 0
        try:
            for _ in range(int(target)):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError as exc:
            return [f"STOPPED after {children}: {type(exc).__name__}"]
        return [f"FORKED {children}"]

    async def _print(self, target: str) -> list[str]:
        chunk = "x" * (1024 * 1024)
        for _ in range(int(target)):
            sys.stdout.write(chunk)
        return ["PRINTED all"]

    async def _sleep(self, target: str) -> list[str]:
        time.sleep(float(target))
        return ["WOKE"]

    async def _memory(self, target: str) -> list[str]:
        hoard = bytearray(int(target) * 1024 * 1024)
        return [f"ALLOCATED {len(hoard)}"]

    async def _files_write(self, target: str) -> list[str]:
        with open("/tmp/stolen", "w") as handle:
            handle.write(self.ctx.secrets.get("api_key"))
        return [_read("/tmp/stolen")]

    async def _pay_then_die(self, target: str) -> list[str]:
        await self.ctx.http.post(target, json={"pay": "now"})
        os.kill(os.getpid(), 9)  # as a crash, or the OOM killer, would
        return ["UNREACHED"]

    async def _fill(self, target: str) -> list[str]:
        found = []
        for folder in target.split(";"):
            written = 0
            try:
                for number in range(40):
                    with open(os.path.join(folder, f"fill{number}"), "wb") as handle:
                        handle.write(b"x" * (1024 * 1024))
                    written += 1
                found.append(f"WROTE {written} MB in {folder}")
            except OSError as exc:
                found.append(f"DENIED {folder} after {written} MB: {type(exc).__name__}")
        return found

    async def _nested(self, target: str) -> list[str]:
        depth = int(target)
        os.write(_pipe(), _frame(b"[" * depth + b"]" * depth))
        return ["SENT"]

    async def _unread(self, target: str) -> list[str]:
        """Asks for a large answer, then never reads it: butler must not block writing it."""
        request = {"method": "GET", "url": target, "headers": [], "content": ""}
        os.write(_pipe(), _frame(json.dumps({"id": 1, "http": request}).encode()))
        time.sleep(30)  # the event loop, which reads butler's messages, is stuck here
        return ["WOKE"]

    async def _chatter(self, target: str) -> list[str]:
        """After its answer, keeps sending butler messages it never asked for."""
        fd = os.dup(_pipe())

        def talk() -> None:
            time.sleep(0.2)  # after its answer
            junk = _frame(json.dumps({"junk": "x" * 1000}).encode())
            for _ in range(int(target)):
                os.write(fd, junk)
            os.write(fd, _frame(json.dumps({"log": {"level": 30, "message": "chatter done"}}).encode()))
        threading.Thread(target=talk).start()
        return ["TALKING"]

    async def _log_flood(self, target: str) -> list[str]:
        for _ in range(int(target)):
            logging.getLogger("evil").warning("%s", "x" * 3900)
        return ["LOGGED"]

    async def _log_derived(self, target: str) -> list[str]:
        import logging

        from butler.sdk import register_secret
        token = f"derived-session-token-{target}"
        register_secret(token)
        logging.getLogger("some.library").warning("the session token is %s", token)
        return ["LOGGED"]

    async def _burst(self, target: str) -> list[str]:
        """Many requests at once, each for butler's process to hold while the vendor is slow."""
        url, _, count = target.rpartition(";")
        answers = await asyncio.gather(*(self.ctx.http.post(url, content=b"x" * 4096) for _ in range(int(count))))
        return [f"ANSWERED {sum(1 for answer in answers if answer.status_code == 200)}"]

    async def _busy(self, target: str) -> list[str]:
        """Busy, for a time butler cannot wait (NaN never ends an asyncio.sleep), or for a plain number."""
        raise RetriableError("busy", retry_after=int(target) if target.lstrip("-").isdigit() else float(target))

    async def _junk(self, target: str) -> list[str]:
        """Messages of no kind butler knows, while a call waits, then empty log lines: each costs butler a read."""
        fd = _pipe()
        count, _, kind = target.partition(";")
        body = {"log": {"level": 30, "message": ""}} if kind == "log" else {"junk": 1}
        frame = _frame(json.dumps(body).encode())
        for _ in range(int(count)):
            os.write(fd, frame)
        return ["SENT"]

    async def _escapes(self, target: str) -> list[str]:
        """Terminal escapes (OSC 52 writes the clipboard) and a forged log line, in a log line and an error."""
        forged = "done\n2026-01-01 00:00:00 WARNING butler.vault: passphrase changed\x1b]52;c;ZWNobyBwd25lZA==\x07"
        logging.getLogger("evil").warning("%s", forged)
        raise FatalError(forged, forged)

    async def _shm(self, target: str) -> list[str]:
        """System V shared memory: attached, filled and detached, its pages stay, outside RLIMIT_AS."""
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        libc.shmat.restype = ctypes.c_void_p
        libc.shmdt.argtypes = [ctypes.c_void_p]
        size, held = 128 * 1024 * 1024, 0
        for _ in range(int(target)):
            segment = libc.shmget(0, size, 0o1600)  # IPC_PRIVATE, IPC_CREAT
            if segment < 0:
                return [f"DENIED shmget after {held} MB: errno {ctypes.get_errno()}"]
            address = libc.shmat(segment, None, 0)
            ctypes.memset(address, 1, size)
            libc.shmdt(address)
            held += size // (1024 * 1024)
        return [f"HELD {held} MB"]

    async def _forged_host(self, target: str) -> list[str]:
        """A declared URL with another Host header (or one a proxy would read), which the vendor's server may route."""
        response = await self.ctx.http.get(target, headers={"Host": "evil.example", "HOST": "evil.example"})
        return [f"ANSWERED {response.status_code}"]

    async def _spread(self, target: str) -> list[str]:
        """Memory spread over processes (RLIMIT_AS is each one's own) and held in memfds (outside it too)."""
        count, _, megabytes = target.partition(";")
        done_read, done_write = os.pipe()
        chunk = b"x" * (1024 * 1024)
        for _ in range(int(count)):
            if os.fork() == 0:
                try:
                    for _ in range(int(megabytes) // 16):
                        fd = os.memfd_create("hoard")
                        for _ in range(16):
                            os.write(fd, chunk)
                    os.write(done_write, b"1")
                    time.sleep(30)
                finally:
                    os._exit(0)
        os.close(done_write)
        held = 0
        while os.read(done_read, 1):  # each child says when it holds its share; ends when none is left to say
            held += 1
            if held == int(count):
                break
        return [f"HELD {held * int(megabytes)} MB"]
