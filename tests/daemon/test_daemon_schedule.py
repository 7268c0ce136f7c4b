"""The persistent schedule: missed runs coalesce across a restart, one-shot jobs are never dropped."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

from daemon_targets import lines

from butler.daemon import Daemon, DaemonState, JobSpec, add_one_shot, build_scheduler, stored_next_runs, sync_jobs
from butler.daemon.schedule import schedule_path
from butler.daemon.state import job_records

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


def _ran(home: Path, job_id: str, ago: dt.timedelta) -> dt.datetime:
    """Record in the daemon state that `job_id` last ran `ago` ago; returns that moment."""
    at = (dt.datetime.now(dt.UTC) - ago).replace(microsecond=0)
    state = DaemonState.load(home)
    state.job(job_id).last_run = at.isoformat()
    state.save()
    return at


def test_sync_keeps_the_next_run_and_follows_a_changed_interval(butler_env: Path) -> None:
    last = _ran(butler_env, "tick", dt.timedelta(seconds=10))
    sync_jobs(butler_env, [tick_spec(3600)])
    before = stored_next_runs(butler_env)["tick"]
    assert before == last + dt.timedelta(seconds=3600)  # one interval after the recorded last run
    time.sleep(0.05)
    sync_jobs(butler_env, [tick_spec(3600)])
    assert stored_next_runs(butler_env)["tick"] == before

    sync_jobs(butler_env, [tick_spec(60)])
    after = stored_next_runs(butler_env)["tick"]
    assert after == last + dt.timedelta(seconds=60)  # the new interval counts from the last run too
    assert schedule_path(butler_env).stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(schedule_path(butler_env)) as db:
        assert db.execute("SELECT count(*) FROM apscheduler_jobs").fetchone() == (1,)


def test_a_job_that_never_ran_or_is_overdue_is_due_at_start_and_a_recent_one_is_not(butler_env: Path) -> None:
    started = dt.datetime.now(dt.UTC)
    _ran(butler_env, "overdue", dt.timedelta(hours=3))
    recent = _ran(butler_env, "recent", dt.timedelta(minutes=10))
    specs = [JobSpec(name, "daemon_targets:tick", dt.timedelta(hours=1), needs_vault=False)
             for name in ("never", "overdue", "recent")]
    sync_jobs(butler_env, specs)  # a first start, or a schedule store that was lost
    stored = stored_next_runs(butler_env)
    assert stored["never"] is not None and stored["never"] <= dt.datetime.now(dt.UTC)
    assert stored["overdue"] is not None and started <= stored["overdue"] <= dt.datetime.now(dt.UTC)
    assert stored["recent"] == recent + dt.timedelta(hours=1)


def _run_daemon(home: Path, specs: list[JobSpec], until: object) -> Daemon:
    """Run a daemon in a thread until `until()` holds (or the hang guard passes), then stop it cleanly."""
    daemon = Daemon(home, specs=specs)
    thread = threading.Thread(target=daemon.run, kwargs={"handle_signals": False})
    thread.start()
    try:
        wait_for(until, timeout=HANG_GUARD)
    finally:
        wait_for(lambda: daemon.scheduler is not None, timeout=HANG_GUARD)
        daemon.stop()
        thread.join(HANG_GUARD)
    assert not thread.is_alive()
    return daemon


def test_a_restarted_daemon_runs_an_overdue_job_at_start_once(butler_env: Path) -> None:
    hourly = [JobSpec("tick", "daemon_targets:tick", dt.timedelta(hours=1), needs_vault=False)]
    _run_daemon(butler_env, hourly, lambda: lines(butler_env, "ticks"))  # first start: it never ran, so it runs
    assert len(lines(butler_env, "ticks")) == 1
    assert DaemonState.load(butler_env).job("tick").last_result == "ok: tick 1"

    # the machine is off for three hours and the schedule store is lost: the state still knows the last run
    state = DaemonState.load(butler_env)
    state.job("tick").last_run = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).isoformat()
    state.save()
    schedule_path(butler_env).unlink()
    _run_daemon(butler_env, hourly, lambda: len(lines(butler_env, "ticks")) >= 2)
    assert len(lines(butler_env, "ticks")) == 2  # three missed hours: one run, at start
    record = job_records(butler_env)[0]
    assert record.id == "tick" and record.last_result == "ok: tick 2" and record.duration is not None
    assert stored_next_runs(butler_env)["tick"] > dt.datetime.now(dt.UTC)  # type: ignore[operator]
