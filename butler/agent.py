"""The unlock agent: a per-user process that keeps vault keys in memory for a while, in the spirit of ssh-agent.

`butler unlock [--for 15m]` asks for the passphrase once, derives the key and hands it to the agent; until the
time is up (or `butler lock`), every butler command of this user gets the key from the agent in about a
millisecond instead of deriving it again (≈0.4 s of Argon2id, several seconds on a busy machine). The agent
exits as soon as it holds no key.

Who can ask: the socket is `$XDG_RUNTIME_DIR/butler/agent.sock` (else `/tmp/butler-<uid>/agent.sock`), mode 0600
in a 0700 directory that must belong to the user; on Linux the agent also checks each caller's uid (SO_PEERCRED)
and makes itself undumpable, so other users cannot read its memory; the keys never touch the disk. Whoever runs
as the same user can ask for a key while it is unlocked — as with ssh-agent, that is the point.

The time counts while the machine sleeps (CLOCK_BOOTTIME on Linux). Protocol: one JSON object per line, one
request per connection: {"op": "add", "vault": hex, "key": b64, "seconds": n}, {"op": "get", "vault": hex},
{"op": "status"}, {"op": "lock"}.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import fcntl
import json
import os
import resource
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler import paths
from butler.errors import AgentError

__all__ = ["AgentClient", "AgentError", "agent_socket_path", "parse_duration", "serve", "start_agent"]

DEFAULT_SECONDS = 15 * 60
MAX_SECONDS = 7 * 24 * 3600
MAX_REQUEST = 4096
CLIENT_TIMEOUT = 5.0  # a caller that sends nothing for this long is dropped, so it cannot stall the agent
START_TIMEOUT = 30.0  # how long `butler unlock` waits for a new agent to say it listens (a guard, not a pace)
FIRST_KEY_WITHIN = 60.0  # an agent that got no key this long after it started was left by a failed unlock
_PR_SET_DUMPABLE = 4


def _now() -> float:
    """Seconds on a clock that also runs while the machine sleeps, so `--for 15m` means fifteen minutes."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.time()


def agent_socket_path() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "butler" if runtime else Path(tempfile.gettempdir()) / f"butler-{os.getuid()}"
    return base / "agent.sock"


def _private_socket_dir(path: Path) -> Path:
    """The socket's directory, created 0700; refused when it belongs to someone else or is a link."""
    directory = path.parent
    paths.private_dir(directory)
    info = directory.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise AgentError(f"{directory} is not a private directory of this user: the agent will not use it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        directory.chmod(0o700)
    return directory


def parse_duration(text: str) -> int:
    """Seconds in "15m", "2h", "1h30m", "90s" or "45" (minutes when no unit is given)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value, total, seen = "", 0, False
    for char in text.strip().lower():
        if char.isdigit():
            value += char
        elif char in units and value:
            total, value, seen = total + int(value) * units[char], "", True
        else:
            raise ValueError(f"not a duration: {text!r} (say 15m, 2h, 1h30m or 90s)")
    if value:
        total += int(value) * (1 if seen else 60)
    if not 0 < total <= MAX_SECONDS:
        raise ValueError(f"a duration from one second to {MAX_SECONDS // 86400} days, not {text!r}")
    return total


def _peer_uid(conn: socket.socket) -> int | None:
    if not hasattr(socket, "SO_PEERCRED"):
        return None  # elsewhere the 0700 directory is the guard
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


# -- the client ------------------------------------------------------------------------------------------------
class AgentClient:
    """Talks to the agent of this user; every call returns quickly when there is none."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or agent_socket_path()

    def request(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The agent's answer, or None when no agent listens."""
        try:
            info = self.path.lstat()
        except FileNotFoundError:
            return None
        if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
            raise AgentError(f"{self.path} is not this user's agent socket")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CLIENT_TIMEOUT)
            try:
                sock.connect(str(self.path))
            except (ConnectionRefusedError, FileNotFoundError):
                return None  # a socket left by an agent that was killed
            peer = _peer_uid(sock)
            if peer is not None and peer != os.getuid():
                raise AgentError(f"the process behind {self.path} runs as another user")
            sock.sendall(json.dumps(message).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n") and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            raise AgentError(f"the agent at {self.path} did not answer: {exc.strerror or exc}") from None
        finally:
            sock.close()
        try:
            answer: dict[str, Any] = json.loads(data)
        except ValueError:
            raise AgentError(f"the agent at {self.path} answered nonsense") from None
        return answer

    def get(self, vault_id: bytes) -> bytes | None:
        answer = self.request({"op": "get", "vault": vault_id.hex()})
        if not answer or not answer.get("ok"):
            return None
        return base64.b64decode(answer["key"])

    def add(self, vault_id: bytes, key: bytes, seconds: int) -> None:
        answer = self.request({"op": "add", "vault": vault_id.hex(), "key": base64.b64encode(key).decode(),
                               "seconds": seconds})
        if not answer or not answer.get("ok"):
            raise AgentError("the agent did not take the key" + (f": {answer['error']}" if answer else ""))

    def status(self) -> dict[str, Any] | None:
        return self.request({"op": "status"})

    def lock(self) -> bool:
        """Tell the agent to forget every key and exit; False when none was running."""
        return self.request({"op": "lock"}) is not None


def start_agent(path: Path | None = None) -> int:
    """Start this user's agent unless one runs; returns its pid. The agent detaches (a session of its own, its
    parent gone), so it outlives the command that started it."""
    path = path or agent_socket_path()
    status = AgentClient(path).status()
    if status:
        return int(status["pid"])
    _private_socket_dir(path)
    try:
        done = subprocess.run([sys.executable, "-m", "butler.agent", "--socket", str(path)],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=START_TIMEOUT, cwd="/",
                              check=False)
    except subprocess.TimeoutExpired:
        raise AgentError("the agent did not start in time") from None
    line = done.stdout.decode(errors="replace").strip()
    if done.returncode != 0 or not line.startswith("ready "):
        raise AgentError(f"the agent did not start ({line or done.stderr.decode(errors='replace').strip()})")
    return int(line.split()[1])


# -- the agent -------------------------------------------------------------------------------------------------
@dataclass
class _Held:
    key: bytearray
    until: float


class _Agent:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: dict[str, _Held] = {}
        self.had_keys = False
        self.stop = False

    def forget(self, vault: str) -> None:
        held = self.keys.pop(vault, None)
        if held is not None:
            held.key[:] = bytes(len(held.key))  # best effort: the bytes do not linger in this process

    def expire(self) -> None:
        now = _now()
        for vault in [v for v, held in self.keys.items() if held.until <= now]:
            self.forget(vault)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        self.expire()
        if op == "get":
            held = self.keys.get(str(request.get("vault")))
            if held is None:
                return {"ok": False, "error": "locked"}
            return {"ok": True, "key": base64.b64encode(bytes(held.key)).decode()}
        if op == "add":
            vault, seconds = str(request.get("vault", "")), request.get("seconds")
            try:
                key = base64.b64decode(str(request.get("key")), validate=True)
            except ValueError:
                return {"ok": False, "error": "not a key"}
            if len(key) != 32 or len(vault) != 32 or not isinstance(seconds, int) or not 0 < seconds <= MAX_SECONDS:
                return {"ok": False, "error": "bad request"}
            self.forget(vault)
            self.keys[vault] = _Held(bytearray(key), _now() + seconds)
            self.had_keys = True
            return {"ok": True}
        if op == "status":
            now = _now()
            return {"ok": True, "pid": os.getpid(),
                    "vaults": {v: int(held.until - now) for v, held in self.keys.items()}}
        if op == "lock":
            for vault in list(self.keys):
                self.forget(vault)
            self.stop = True
            return {"ok": True}
        return {"ok": False, "error": "unknown request"}

    def next_deadline(self) -> float | None:
        if not self.keys:
            return None
        return max(0.0, min(held.until for held in self.keys.values()) - _now())


def _harden() -> None:
    """No core dumps, and on Linux no ptrace or /proc/<pid>/mem reads by other processes of the user."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _handle(agent: _Agent, conn: socket.socket) -> None:
    try:
        conn.settimeout(CLIENT_TIMEOUT)
        peer = _peer_uid(conn)
        if peer is not None and peer != os.getuid():
            return
        data = b""
        while not data.endswith(b"\n") and len(data) <= MAX_REQUEST:
            chunk = conn.recv(MAX_REQUEST)
            if not chunk:
                break
            data += chunk
        try:
            request = json.loads(data)
            reply = agent.answer(request) if isinstance(request, dict) else {"ok": False, "error": "bad request"}
        except ValueError:
            reply = {"ok": False, "error": "bad request"}
        conn.sendall(json.dumps(reply).encode() + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def serve(path: Path, on_ready: Callable[[str], None] | None = None) -> None:
    """Listen on `path` until `lock`, or until no key is held once one came (or none came within a minute);
    `on_ready` gets "ready <pid>" once the socket listens."""
    _harden()
    _private_socket_dir(path)
    guard = os.open(path.parent / "agent.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(guard, fcntl.LOCK_EX)  # one agent starts at a time: the second finds the first listening
    running = AgentClient(path).request({"op": "status"})
    if running is not None:
        os.close(guard)
        if on_ready is not None:
            on_ready(f"ready {running['pid']}")
        return
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # left by an agent that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    listener.listen(16)
    inode = path.stat().st_ino
    os.close(guard)
    agent = _Agent(path)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, lambda *_: setattr(agent, "stop", True))
    if on_ready is not None:
        on_ready(f"ready {os.getpid()}")
    started = _now()
    try:
        while not agent.stop:
            agent.expire()
            wait = agent.next_deadline()
            if wait is None:
                if agent.had_keys or _now() - started > FIRST_KEY_WITHIN:
                    break
                wait = FIRST_KEY_WITHIN
            try:
                readable, _, _ = select.select([listener], [], [], min(wait, 60.0))
            except InterruptedError:
                continue
            if readable:
                conn, _ = listener.accept()
                _handle(agent, conn)
    finally:
        for vault in list(agent.keys):
            agent.forget(vault)
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ino == inode:
                path.unlink()


def main(argv: list[str] | None = None) -> int:
    """Start the agent in the background: fork, let the child detach and listen, relay its "ready <pid>" line on
    stdout and exit, so whoever started it can wait for this process and find the agent running."""
    parser = argparse.ArgumentParser(prog="python -m butler.agent", description="butler's unlock agent")
    parser.add_argument("--socket", type=Path, default=None)
    args = parser.parse_args(argv)
    path = args.socket or agent_socket_path()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the agent
        os.close(read_end)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)

        def ready(line: str) -> None:
            os.write(write_end, line.encode() + b"\n")
            os.close(write_end)

        code = 0
        try:
            serve(path, ready)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        line = pipe.readline().decode(errors="replace").strip()
    if not line.startswith("ready "):
        print("the agent failed to start", file=sys.stderr)
        return 1
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
