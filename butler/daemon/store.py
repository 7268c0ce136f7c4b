"""Where the daemon's schedule lives, and its next run times read straight from the SQLite job store (no
APScheduler, no SQLAlchemy: `butler status` stays quick)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from butler import paths

__all__ = ["schedule_path", "stored_next_runs"]


def schedule_path(home: Path | None = None) -> Path:
    return (home or paths.butler_home()) / "schedule.sqlite"


def stored_next_runs(home: Path | None = None) -> dict[str, dt.datetime | None]:
    """Next run time of every stored job, read straight from the job store (no scheduler, no unpickling)."""
    path = schedule_path(home)
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2) as db:
            rows = db.execute("SELECT id, next_run_time FROM apscheduler_jobs").fetchall()
    except sqlite3.Error:
        return {}
    return {str(job_id): dt.datetime.fromtimestamp(ts, dt.UTC) if ts is not None else None for job_id, ts in rows}
