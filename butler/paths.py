"""Where butler keeps things: one user directory, `BUTLER_HOME`, overridable by the environment.

Everything butler creates there is private whatever the umask: directories 0700 (`private_dir`), files 0600
(created with an explicit mode, and `private_umask` at the command line's start for files others create).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import platformdirs

__all__ = [
    "PRIVATE_UMASK",
    "audit_path",
    "butler_home",
    "config_path",
    "ensure_home",
    "lock_path",
    "policies_dir",
    "private_dir",
    "private_umask",
    "state_dir",
    "vault_key_path",
    "vault_log_path",
]

ENV_HOME = "BUTLER_HOME"


def butler_home() -> Path:
    """The user directory: `$BUTLER_HOME`, else the platform's user data directory for butler."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir("butler", appauthor=False))


PRIVATE_UMASK = 0o077


def private_umask() -> int:
    """Make files and directories this process creates private to its user; returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(directory: Path) -> Path:
    """Create `directory` and any missing parent with mode 0700, whatever the umask; tighten `directory` itself
    when it exists with a looser mode. Parents that already exist are left as they are."""
    missing = []
    at = directory
    while not at.exists():
        missing.append(at)
        if at.parent == at:
            break
        at = at.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile: tightened all the same
            path.mkdir(mode=0o700)
        path.chmod(0o700)  # mkdir's mode passes through the umask
    if stat.S_IMODE(directory.stat().st_mode) & 0o077:
        directory.chmod(0o700)
    return directory


def ensure_home(home: Path | None = None) -> Path:
    """Create the user directory (and missing parents) with mode 0700, and tighten it if it is looser."""
    return private_dir(home or butler_home())


def state_dir() -> Path:
    """The platform's per-user state directory for butler, outside BUTLER_HOME (created 0700 on demand by callers):
    `$XDG_STATE_HOME/butler` or `~/.local/state/butler` on Linux."""
    return Path(platformdirs.user_state_dir("butler", appauthor=False))


def config_path(home: Path | None = None) -> Path:
    return (home or butler_home()) / "config.toml"


def policies_dir(home: Path | None = None) -> Path:
    return (home or butler_home()) / "policies"


def vault_key_path(home: Path | None = None) -> Path:
    return (home or butler_home()) / "vault.key"


def vault_log_path(home: Path | None = None) -> Path:
    return (home or butler_home()) / "vault.log"


def audit_path(home: Path | None = None) -> Path:
    return (home or butler_home()) / "audit.log"


def lock_path(home: Path | None = None) -> Path:
    return (home or butler_home()) / "vault.lock"
