"""The daemon as the TUI sees it: its state file, and whether its process is alive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from butler.jobrecords import JobRecord, job_records
from butler.pids import pid_alive
from butler.tui.data.values import short_time

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
    """The daemon's per-job last and next runs, durations and errors (`butler.jobrecords`), or "daemon not
    running"."""
    path = home / DAEMON_STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DaemonView(False, "daemon not running")
    except (OSError, ValueError):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    if not isinstance(data, dict):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    jobs = tuple(DaemonJob(r.id, short_time(r.last_run), short_time(r.next_run), _result(r))
                 for r in job_records(home))
    running = _pid_alive(data.get("pid")) and data.get("running", True) is not False and not data.get("stopped")
    headline = "daemon running" if running else "daemon not running"
    if not running and data.get("stopped"):
        headline += f" (stopped {short_time(data.get('stopped'))})"
    return DaemonView(running, headline, jobs)


def _result(record: JobRecord) -> str:
    text = record.last_result or "never ran"
    if record.duration is not None:
        text += f" in {record.duration:.1f} s"
    if record.error and record.error not in text:
        text += f"; failing: {record.error}"
    return text
