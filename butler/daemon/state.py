"""What the daemon remembers about each job, in memory and in `daemon-state.json` (0600) for `butler status`.

Per job: when it last ran and with what result, how many runs in a row failed (for logging once and backing
off), how many runs it still skips while backing off, and when it runs next.
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

__all__ = ["DaemonState", "JobState", "state_path"]

log = logging.getLogger(__name__)


def state_path(home: Path | None = None) -> Path:
    return (home or paths.butler_home()) / "daemon-state.json"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class JobState:
    last_run: str | None = None
    last_result: str | None = None
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
