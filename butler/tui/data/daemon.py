"""The daemon as the TUI sees it: its state file, and whether its process is alive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from butler.jobrecords import job_records
from butler.pids import pid_alive
from butler.tui.data.values import short_time

__all__ = ["DAEMON_STATE_FILE", "DaemonJob", "DaemonView", "daemon_state"]

DAEMON_STATE_FILE = "daemon-state.json"


# -- the daemon -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaemonJob:
    name: str
    last_run: str
    next_run: str
    result: str
    duration: str = ""  # "0.4 s", or "" when not recorded
    error: str = ""  # the error text while the job is failing
    failures: int = 0  # runs in a row that failed
    failing_since: str = ""


@dataclass(frozen=True)
class DaemonView:
    running: bool
    headline: str
    jobs: tuple[DaemonJob, ...] = ()

    @property
    def failing(self) -> tuple[DaemonJob, ...]:
        return tuple(j for j in self.jobs if j.failures)


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # the file does not say: trust it
    return pid_alive(pid)


def daemon_state(home: Path) -> DaemonView:
    """The daemon's per-job runs (last, next, how long, the error while failing) from `daemon-state.json`, or
    "daemon not running"."""
    from butler.jobrecords import DaemonState

    path = home / DAEMON_STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DaemonView(False, "daemon not running")
    except (OSError, ValueError):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    if not isinstance(data, dict):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    jobs = tuple(
        DaemonJob(r.id, short_time(r.last_run), short_time(r.next_run), r.last_result or "",
                  f"{r.duration:.1f} s" if r.duration is not None else "", r.error or "", r.consecutive_failures,
                  short_time(r.failing_since) if r.failing_since else "")
        for r in job_records(home, DaemonState.load(home)))
    running = _pid_alive(data.get("pid")) and data.get("running", True) is not False and not data.get("stopped")
    headline = "daemon running" if running else "daemon not running"
    if not running and (data.get("stopped") or data.get("updated")):
        headline += f" (stopped {short_time(data.get('stopped') or data.get('updated'))})"
    return DaemonView(running, headline, jobs)
