"""The background daemon: a persistent schedule of unattended jobs, one daemon per BUTLER_HOME.

    lock      -- single instance (flock on daemon.lock)
    jobs      -- the job functions and their specs (intervals from config.toml [daemon])
    runner    -- run_job: vault opened unattended, failures isolated, logged once, backed off
    state     -- daemon-state.json: last run, result, failures, next run per job
    schedule  -- APScheduler + SQLite job store; the Daemon (foreground, clean SIGTERM)
    systemd   -- systemd user unit / launchd agent text
    commands  -- `butler daemon [run|install|status]`, `butler status`
"""

from butler.daemon.jobs import JobContext, JobSpec, default_specs
from butler.daemon.lock import DaemonAlreadyRunning, DaemonLock, lock_holder
from butler.daemon.runner import run_job
from butler.daemon.schedule import Daemon, add_one_shot, build_scheduler, stored_next_runs, sync_jobs
from butler.daemon.state import DaemonState, JobState

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
