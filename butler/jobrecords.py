"""What the daemon remembers about each job, in memory and in `daemon-state.json` (0600), and what `butler status`,
`butler doctor` and the TUI read back (`job_records`).

Per job: when it last ran, for how long and with what result, the error text of the last failure, how many runs
in a row failed (for logging once and backing off), how many runs it still skips while backing off, and when it
runs next. The daemon also starts an overdue job from its last run here when the schedule has lost it.

It sits in the core, below the daemon, so that every shell (the TUI too) reads the same records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from butler import paths
from butler.atomic import atomic_write

__all__ = ["DaemonState", "JobRecord", "JobState", "job_records", "now_iso", "state_path"]

log = logging.getLogger(__name__)


def state_path(home: Path | None = None) -> Path:
    return (home or paths.butler_home()) / "daemon-state.json"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class JobState:
    last_run: str | None = None
    last_result: str | None = None
    last_duration: float | None = None  # seconds the last run took
    last_error: str | None = None  # the error text of the last failed run (kept after a recovery)
    last_error_at: str | None = None
    consecutive_failures: int = 0
    failing_since: str | None = None
    skips_left: int = 0
    next_run: str | None = None

    @classmethod
    def from_json(cls, raw: object) -> JobState:
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError:
            return cls()


@dataclass
class DaemonState:
    """Thread-safe: jobs run in worker threads, the scheduler records next runs from its own thread."""

    path: Path
    pid: int | None = None
    started: str | None = None
    stopped: str | None = None
    jobs: dict[str, JobState] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @classmethod
    def load(cls, home: Path | None = None) -> DaemonState:
        """The saved state; a missing or unreadable file gives an empty state (it is only a record)."""
        path = state_path(home)
        try:
            raw: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            return cls(path)
        if not isinstance(raw, dict):
            return cls(path)
        jobs = raw.get("jobs") if isinstance(raw.get("jobs"), dict) else {}
        pid = raw.get("pid")
        return cls(path, pid=pid if isinstance(pid, int) else None,
                   started=_str_or_none(raw.get("started")), stopped=_str_or_none(raw.get("stopped")),
                   jobs={str(k): JobState.from_json(v) for k, v in (jobs or {}).items()})

    def job(self, job_id: str) -> JobState:
        with self.lock:
            return self.jobs.setdefault(job_id, JobState())

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {"pid": self.pid, "started": self.started, "stopped": self.stopped,
                    "jobs": {k: asdict(v) for k, v in sorted(self.jobs.items())}}

    def save(self) -> None:
        with self.lock:
            data = json.dumps(self.to_json(), indent=2, ensure_ascii=False).encode() + b"\n"
            paths.ensure_home(self.path.parent)
            atomic_write(self.path, data)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class JobRecord:
    """One job as the shells show it."""

    id: str
    last_run: str | None
    last_result: str | None
    duration: float | None
    error: str | None  # the last failure's text, while the job is failing; else None
    last_error: str | None  # the last failure's text, even after a recovery
    last_error_at: str | None
    consecutive_failures: int
    failing_since: str | None
    next_run: str | None

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0

    @property
    def outcome(self) -> str:
        """"ok", "failed", "skipped" or "never ran"."""
        if not self.last_result:
            return "never ran"
        return self.last_result.split(":", 1)[0]


def job_records(home: Path | None = None, state: DaemonState | None = None) -> list[JobRecord]:
    """Every job the daemon has a record of, by id: last run, its duration and result, the error text."""
    state = state or DaemonState.load(home)
    with state.lock:
        return [JobRecord(job_id, job.last_run, job.last_result, job.last_duration,
                          job.last_error if job.consecutive_failures else None, job.last_error, job.last_error_at,
                          job.consecutive_failures, job.failing_since, job.next_run)
                for job_id, job in sorted(state.jobs.items())]
