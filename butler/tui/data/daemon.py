"""The daemon as the TUI sees it: its state file, and whether its process is alive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from butler.pids import pid_alive
from butler.tui.data.values import short_time

if TYPE_CHECKING:
    pass


DAEMON_STATE_FILE = "daemon-state.json"


# -- the daemon -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaemonJob:
    name: str
    last_run: str
    next_run: str
    result: str


@dataclass(frozen=True)
class DaemonView:
    running: bool
    headline: str
    jobs: tuple[DaemonJob, ...] = ()


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # the file does not say: trust it
    return pid_alive(pid)


def daemon_state(home: Path) -> DaemonView:
    """The daemon's per-job last and next runs from `daemon-state.json`, or "daemon not running"."""
    path = home / DAEMON_STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DaemonView(False, "daemon not running")
    except (OSError, ValueError):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    if not isinstance(data, dict):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    raw_jobs = data.get("jobs", {})
    items: list[tuple[str, dict[str, Any]]] = []
    if isinstance(raw_jobs, dict):
        items = [(str(k), v) for k, v in raw_jobs.items() if isinstance(v, dict)]
    elif isinstance(raw_jobs, list):
        items = [(str(j.get("name") or j.get("id") or "job"), j) for j in raw_jobs if isinstance(j, dict)]
    jobs = tuple(
        DaemonJob(name, short_time(j.get("last_run") or j.get("last")),
                  short_time(j.get("next_run") or j.get("next")),
                  str(j.get("last_result") or j.get("result") or j.get("status") or ""))
        for name, j in sorted(items, key=lambda kv: kv[0]))
    running = _pid_alive(data.get("pid")) and data.get("running", True) is not False
    headline = "daemon running" if running else "daemon not running"
    if not running and data.get("updated"):
        headline += f" (last seen {short_time(data.get('updated'))})"
    return DaemonView(running, headline, jobs)


