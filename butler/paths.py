"""Where butler keeps things: one user directory, `BUTLER_HOME`, overridable by the environment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

__all__ = [
    "audit_path",
    "butler_home",
    "config_path",
    "ensure_home",
    "lock_path",
    "policies_dir",
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


def ensure_home(home: Path | None = None) -> Path:
    """Create the user directory with mode 0700 (and tighten it if it is looser)."""
    home = home or butler_home()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        home.chmod(0o700)
    return home


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
