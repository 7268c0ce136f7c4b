"""One lock per BUTLER_HOME, shared between processes (flock) and threads (RLock).

Readers take it shared, writers exclusive. One that cannot get it within `timeout` raises VaultBusy rather than
waiting forever. Re-entrant inside a process so that a vault write may append to the audit log.

A contended lock is waited for in the kernel's queue (a blocking flock in a helper thread), not by polling: a
poller seldom catches the instant a busy writer lets go between two writes, and timed out under load.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from butler.errors import VaultBusy

__all__ = ["HomeLock"]


class HomeLock:
    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._mode = 0
        self._held = -1  # the descriptor holding the flock while depth > 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _acquire(self, mode: int) -> int:
        """Take the flock in `mode`; returns the descriptor that holds it."""
        try:
            fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
            return self._fd
        except BlockingIOError:
            pass
        waiter = _Waiter(self.path, mode)
        if not waiter.wait(self.timeout):
            raise VaultBusy(f"the vault at {self.path.parent} is busy (locked by another process)")
        return waiter.fd

    @contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise VaultBusy("the vault is busy in another thread of this process")
        try:
            wanted = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            if self._depth == 0:
                self._held = self._acquire(wanted)
                self._mode = wanted
            elif exclusive and self._mode != fcntl.LOCK_EX:
                raise RuntimeError("cannot upgrade a shared vault lock to exclusive")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._held, fcntl.LOCK_UN)
                    if self._held != self._fd:
                        os.close(self._held)
                    self._held, self._mode = -1, 0
        finally:
            self._thread_lock.release()

    def shared(self) -> AbstractContextManager[None]:
        return self.hold(exclusive=False)

    def exclusive(self) -> AbstractContextManager[None]:
        return self.hold(exclusive=True)


class _Waiter:
    """A blocking flock on a descriptor of its own, in a daemon thread. If the caller gives up first, the thread
    lets go of the lock as soon as it gets it, so an abandoned wait never holds the home."""

    def __init__(self, path: Path, mode: int) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._mode = mode
        self._state = threading.Lock()
        self._done = threading.Event()
        self._held = False
        self._abandoned = False
        threading.Thread(target=self._run, name="butler-vault-lock", daemon=True).start()

    def _run(self) -> None:
        try:
            fcntl.flock(self.fd, self._mode)
            got = True
        except OSError:
            got = False
        with self._state:
            self._held = got and not self._abandoned
            if not self._held:
                os.close(self.fd)  # releases the lock if it was taken after all
            self._done.set()

    def wait(self, timeout: float) -> bool:
        """True once the lock is held on `fd`; False (and the wait abandoned) after `timeout` seconds."""
        self._done.wait(timeout)
        with self._state:
            self._abandoned = not self._done.is_set()
            return self._held
