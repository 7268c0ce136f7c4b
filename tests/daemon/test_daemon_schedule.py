"""The persistent schedule: missed runs coalesce across a restart, one-shot jobs are never dropped."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

from daemon_targets import lines

from butler.daemon import JobSpec, add_one_shot, build_scheduler, stored_next_runs, sync_jobs
from butler.daemon.schedule import schedule_path

INTERVAL = 60.0  # long enough that no regular tick comes due while the test runs, however slow the machine
HANG_GUARD = 60.0


def tick_spec(every: float = INTERVAL) -> JobSpec:
    return JobSpec("tick", "daemon_targets:tick", dt.timedelta(seconds=every), needs_vault=False)


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def test_missed_runs_run_once_after_a_restart_and_one_shot_jobs_still_run(butler_env: Path) -> None:
    sync_jobs(butler_env, [tick_spec()])
    first = build_scheduler(butler_env)
    first.start(paused=True)  # the machine goes to sleep before anything ran…
    # …and stays down through three tick times and the one-shot's time: the stored times are that far behind
    now = dt.datetime.now(dt.UTC)
    first.modify_job("tick", next_run_time=now - dt.timedelta(seconds=3 * INTERVAL + 5))
    add_one_shot(first, "once", "daemon_targets:once", now - dt.timedelta(seconds=INTERVAL), needs_vault=False)
    first.shutdown(wait=True)
    assert lines(butler_env, "ticks") == [] and lines(butler_env, "once") == []

    sync_jobs(butler_env, [tick_spec()])  # what the daemon does on start: must keep the stored next run
    assert stored_next_runs(butler_env)["tick"] < now  # type: ignore[operator]
    second = build_scheduler(butler_env)
    second.start()
    try:
        wait_for(lambda: lines(butler_env, "ticks") and lines(butler_env, "once"), timeout=HANG_GUARD)
    finally:
        second.shutdown(wait=True)  # every run it submitted has finished: a replayed backlog would be counted
    assert len(lines(butler_env, "ticks")) == 1  # four missed runs, run once
    assert len(lines(butler_env, "once")) == 1  # ran late rather than never
    assert "once" not in stored_next_runs(butler_env)  # and is gone from the store
    assert stored_next_runs(butler_env)["tick"] > now  # type: ignore[operator]  # the next tick is a regular one


def test_sync_keeps_the_next_run_and_follows_a_changed_interval(butler_env: Path) -> None:
    sync_jobs(butler_env, [tick_spec(3600)])
    before = stored_next_runs(butler_env)["tick"]
    time.sleep(0.05)
    sync_jobs(butler_env, [tick_spec(3600)])
    assert stored_next_runs(butler_env)["tick"] == before

    sync_jobs(butler_env, [tick_spec(60)])
    after = stored_next_runs(butler_env)["tick"]
    assert after is not None and after < before  # type: ignore[operator]
    assert schedule_path(butler_env).stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(schedule_path(butler_env)) as db:
        assert db.execute("SELECT count(*) FROM apscheduler_jobs").fetchone() == (1,)
