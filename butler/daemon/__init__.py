"""The background daemon: a persistent schedule of unattended jobs, one daemon per BUTLER_HOME.

    lock      -- single instance (flock on daemon.lock)
    jobs      -- the job functions and their specs (intervals from config.toml [daemon])
    runner    -- run_job: vault opened unattended, failures isolated, logged once, backed off
    state     -- daemon-state.json: last run, result, failures, next run per job
    specs     -- which jobs run how often (light: no job code)
    store     -- where the schedule lives; next run times read straight from it
    schedule  -- APScheduler + SQLite job store; the Daemon (foreground, clean SIGTERM)
    systemd   -- systemd user unit / launchd agent text
    commands  -- `butler daemon [run|install|status]`, `butler status`
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from butler.daemon.jobs import JobContext
    from butler.daemon.lock import DaemonAlreadyRunning, DaemonLock, lock_holder
    from butler.daemon.runner import run_job
    from butler.daemon.schedule import Daemon, add_one_shot, build_scheduler, sync_jobs
    from butler.daemon.specs import JobSpec, default_specs
    from butler.daemon.state import DaemonState, JobState
    from butler.daemon.store import stored_next_runs

# Each name is imported from its module when first used: `butler status` needs the light ones only, not
# APScheduler, SQLAlchemy and every job's feature.
_HOMES = {
    "Daemon": "schedule", "add_one_shot": "schedule", "build_scheduler": "schedule", "sync_jobs": "schedule",
    "DaemonAlreadyRunning": "lock", "DaemonLock": "lock", "lock_holder": "lock",
    "DaemonState": "state", "JobState": "state", "JobContext": "jobs", "JobSpec": "specs",
    "default_specs": "specs", "run_job": "runner", "stored_next_runs": "store",
}


def __getattr__(name: str) -> object:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Daemon",
    "DaemonAlreadyRunning",
    "DaemonLock",
    "DaemonState",
    "JobContext",
    "JobSpec",
    "JobState",
    "add_one_shot",
    "build_scheduler",
    "default_specs",
    "lock_holder",
    "run_job",
    "stored_next_runs",
    "sync_jobs",
]
