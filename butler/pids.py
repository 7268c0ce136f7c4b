"""Whether a process is alive, by its pid: the one check behind "is the daemon running" and "is anyone still
carrying out this approval"."""

from __future__ import annotations

import os

__all__ = ["pid_alive"]


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (also one of another user's, which signal 0 may not reach)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
