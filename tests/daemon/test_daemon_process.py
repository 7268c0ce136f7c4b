"""The daemon as a process: one per BUTLER_HOME, and a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_targets import DAEMON, lines, subprocess_env

from butler.daemon import lock_holder


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[str]]]:
    """Started daemons; any still running at the end are killed (by their own pid)."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def start(spawn: list[subprocess.Popen[str]], args: list[str], home: Path, **env: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(args, env=subprocess_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    spawn.append(proc)
    deadline = time.monotonic() + 60  # a hang guard: a loaded machine starts it late, never wrongly
    while lock_holder(home) != proc.pid:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the daemon did not start: {proc.communicate(timeout=10)}")
        time.sleep(0.02)
    return proc


def test_a_second_daemon_on_the_same_home_refuses_clearly(butler_env: Path,
                                                          spawn: list[subprocess.Popen[str]]) -> None:
    first = start(spawn, DAEMON, butler_env)
    second = subprocess.run(DAEMON, env=subprocess_env(), capture_output=True, text=True, timeout=30,
                            stdin=subprocess.DEVNULL, check=False)
    assert second.returncode != 0
    assert f"error: the daemon already runs, pid {first.pid}" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.poll() is None  # the first one is untouched
    assert lock_holder(butler_env) == first.pid


def test_sigterm_stops_the_daemon_cleanly(butler_env: Path, spawn: list[subprocess.Popen[str]]) -> None:
    proc = start(spawn, DAEMON, butler_env)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "daemon stopped" in stderr and "Traceback" not in stderr
    state = json.loads((butler_env / "daemon-state.json").read_text())
    assert state["pid"] == proc.pid and state["stopped"]
    assert set(state["jobs"]) == {"mail-sweep", "renewal-sweep", "intent-watch", "audit-verify", "vault-backup"}
    assert all(job["next_run"] for job in state["jobs"].values())
    assert (butler_env / "daemon-state.json").stat().st_mode & 0o777 == 0o600
    assert lock_holder(butler_env) is None


SLOW_DAEMON = """
import datetime as dt
from butler.daemon import Daemon, JobSpec
Daemon(specs=[JobSpec("slow", "daemon_targets:slow_steps", dt.timedelta(seconds=0.2), needs_vault=False)]).run()
"""


def test_sigterm_lets_the_running_job_finish_its_step(butler_env: Path, spawn: list[subprocess.Popen[str]]) -> None:
    # step 0 lasts until the stop arrives (a minute at most), then takes 0.3 s more to finish
    proc = start(spawn, [sys.executable, "-c", SLOW_DAEMON], butler_env, STEP_SECONDS="60", AFTER_STOP_SECONDS="0.3")
    deadline = time.monotonic() + 60
    while not lines(butler_env, "steps") and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGTERM)  # mid-way through step 0, whenever it started
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert lines(butler_env, "steps") == [f"start 0 pid {proc.pid}", "done 0", "stopped before 1"]
    state = json.loads((butler_env / "daemon-state.json").read_text())
    assert state["jobs"]["slow"]["last_result"] == "ok: stopped after 1 step(s)"
