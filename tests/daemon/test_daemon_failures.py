"""A failing job: isolated from the daemon, logged once when it starts failing and once when it recovers."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import pytest
from daemon_targets import lines

from butler.daemon import JobSpec, build_scheduler, sync_jobs
from butler.daemon.runner import backoff_skips, run_job
from butler.daemon.state import DaemonState


def failure_logs(caplog: pytest.LogCaptureFixture, job_id: str) -> tuple[list[str], list[str]]:
    """Failure and recovery lines at INFO or above (what the journal shows; repeats go to DEBUG)."""
    messages = [r.getMessage() for r in caplog.records if r.name == "butler.daemon" and r.levelno >= logging.INFO]
    failed = [m for m in messages if m.startswith(f"{job_id} failed")]
    recovered = [m for m in messages if m.startswith(f"{job_id} recovered")]
    return failed, recovered


def test_backoff_skips_grow_and_are_capped() -> None:
    assert [backoff_skips(n, 900) for n in range(1, 8)] == [0, 1, 3, 7, 15, 24, 24]  # 15 min job: ≤ 6 h
    assert backoff_skips(5, 86400) == 0  # a daily job is never held back further


def test_failures_are_logged_once_backed_off_and_recovery_logged_once(
        butler_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    every = 900.0
    with caplog.at_level(logging.DEBUG, logger="butler.daemon"):
        results = [run_job("flaky", "daemon_targets:flaky", False, every) for _ in range(4)]
    assert results[0].startswith("failed: RuntimeError: flaky broke on call 1")
    assert results[1].startswith("failed: RuntimeError: flaky broke on call 2")
    assert results[2] == "skipped: backing off after 2 failure(s)"  # the second failure skips one run
    assert results[3] == "ok: worked on call 3"
    assert len(lines(butler_env, "flaky-calls")) == 3
    failed, recovered = failure_logs(caplog, "flaky")
    assert len(failed) == 1 and "flaky broke on call 1" in failed[0]
    assert recovered == ["flaky recovered after 2 failed run(s)"]
    job = DaemonState.load(butler_env).job("flaky")
    assert job.consecutive_failures == 0 and job.failing_since is None and job.last_result == results[3]


def test_a_raising_job_keeps_the_scheduler_alive(butler_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    spec = JobSpec("flaky", "daemon_targets:flaky", dt.timedelta(seconds=0.25), needs_vault=False)
    sync_jobs(butler_env, [spec])
    scheduler = build_scheduler(butler_env)
    with caplog.at_level(logging.INFO, logger="butler.daemon"):
        scheduler.start()
        try:
            deadline = time.monotonic() + 60  # a hang guard: the test counts calls, it does not time them
            while len(lines(butler_env, "flaky-calls")) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert scheduler.running  # two failures later, the schedule still runs
        finally:
            scheduler.shutdown(wait=True)
    assert len(lines(butler_env, "flaky-calls")) >= 4  # it kept being called after recovering
    failed, recovered = failure_logs(caplog, "flaky")
    assert len(failed) == 1 and len(recovered) == 1
    assert DaemonState.load(butler_env).job("flaky").consecutive_failures == 0
