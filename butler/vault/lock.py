"""One lock per BUTLER_HOME, shared between processes (flock) and threads (RLock).

Readers take it shared, writers exclusive. A writer that cannot get it within `timeout` raises VaultBusy rather
than waiting forever. Re-entrant inside a process so that a vault write may append to the audit log.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
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

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _acquire(self, mode: int) -> None:
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(self._fd, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise VaultBusy(f"the vault at {self.path.parent} is busy (locked by another process)") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    @contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise VaultBusy("the vault is busy in another thread of this process")
        try:
            wanted = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            if self._depth == 0:
                self._acquire(wanted)
                self._mode = wanted
            elif exclusive and self._mode != fcntl.LOCK_EX:
                raise RuntimeError("cannot upgrade a shared vault lock to exclusive")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    self._mode = 0
        finally:
            self._thread_lock.release()

    def shared(self) -> AbstractContextManager[None]:
        return self.hold(exclusive=False)

    def exclusive(self) -> AbstractContextManager[None]:
        return self.hold(exclusive=True)
