"""How the daemon starts with the session: a systemd user unit on Linux, a launchd agent on macOS.

`butler daemon install` writes the file and prints the command that enables it; it never enables anything
by itself.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from butler import paths
from butler.atomic import atomic_write

__all__ = ["LAUNCHD_LABEL", "ServiceFile", "launchd_plist", "service_file", "systemd_unit"]

LAUNCHD_LABEL = "org.butler.daemon"
UNIT_NAME = "butler.service"
# environment the daemon needs to find the same home and key as the person who installs it
_PASSED_ENV = ("BUTLER_PASSPHRASE_FILE", "BUTLER_KEYRING")


def _command() -> list[str]:
    return [sys.executable, "-m", "butler.daemon", "run"]


def _environment(home: Path) -> dict[str, str]:
    env = {"BUTLER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.update({name: os.environ[name] for name in _PASSED_ENV if os.environ.get(name)})
    return env


def _systemd_quote(value: str) -> str:
    value = value.replace("%", "%%")  # systemd expands %-specifiers in both places
    if value and all(c.isalnum() or c in "/._-+=:@," for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_unit(home: Path | None = None) -> str:
    """The text of `butler.service`, a systemd user unit running the daemon in the foreground."""
    home = home or paths.butler_home()
    env_lines = "".join(f"Environment={_systemd_quote(f'{k}={v}')}\n" for k, v in _environment(home).items())
    return (
        "[Unit]\n"
        "Description=butler, your personal agent: background sweeps and reminders\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={' '.join(_systemd_quote(part) for part in _command())}\n"
        f"{env_lines}"
        "Restart=on-failure\n"
        "RestartSec=60\n"
        "# SIGTERM lets the running job finish its current step\n"
        "TimeoutStopSec=120\n"
        "UMask=0077\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def launchd_plist(home: Path | None = None) -> str:
    """The text of the launchd agent that runs the daemon at login and keeps it running."""
    home = home or paths.butler_home()
    logs = home / "daemon.log"
    plist = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": _command(),
        "EnvironmentVariables": _environment(home),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background",
        "ExitTimeOut": 120,
        "Umask": 0o077,
        "StandardOutPath": str(logs),
        "StandardErrorPath": str(logs),
    }
    return plistlib.dumps(plist, sort_keys=False).decode()


@dataclass(frozen=True)
class ServiceFile:
    path: Path
    text: str
    enable: str  # the command the person runs to enable and start it

    def write(self) -> bool:
        """Write the file (0644: it holds no secret); False when it was already up to date."""
        if self.path.exists() and self.path.read_text(encoding="utf-8") == self.text:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, self.text.encode(), mode=0o644)
        return True


def service_file(home: Path | None = None, platform: str = sys.platform) -> ServiceFile:
    """Where and what to install on this platform."""
    if platform == "darwin":
        path = Path.home() / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
        return ServiceFile(path, launchd_plist(home), f"launchctl bootstrap gui/$(id -u) {shlex.quote(str(path))}")
    path = Path(platformdirs.user_config_dir(appauthor=False)) / "systemd" / "user" / UNIT_NAME
    return ServiceFile(path, systemd_unit(home),
                       "systemctl --user daemon-reload && systemctl --user enable --now butler")
