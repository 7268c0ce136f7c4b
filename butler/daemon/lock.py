"""One daemon per BUTLER_HOME: an exclusive `flock` on `daemon.lock`, which also holds the owner's pid.

The kernel drops the lock when the process dies, however it dies, so a crashed daemon never blocks the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from butler import paths
from butler.errors import ButlerError

__all__ = ["DaemonAlreadyRunning", "DaemonLock", "daemon_lock_path", "lock_holder"]


class DaemonAlreadyRunning(ButlerError):
    default_hint = "Use the one that runs (`butler status`), or stop it first (`systemctl --user stop butler`)."


def daemon_lock_path(home: Path | None = None) -> Path:
    return (home or paths.butler_home()) / "daemon.lock"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class DaemonLock:
    """Held for the daemon's whole life; `acquire` raises DaemonAlreadyRunning if another process holds it."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or paths.butler_home()
        self.path = daemon_lock_path(self.home)
        self._fd = -1

    def acquire(self) -> None:
        paths.ensure_home(self.home)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            who = f"pid {pid}" if pid else "pid unknown"
            raise DaemonAlreadyRunning(f"the daemon already runs, {who} (BUTLER_HOME {self.home})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # the file stays: unlinking it would race with the next daemon
        os.close(self._fd)
        self._fd = -1

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(home: Path | None = None) -> int | None:
    """The pid of the running daemon (0 if it cannot be read), or None when no daemon holds the lock."""
    try:
        fd = os.open(daemon_lock_path(home), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
