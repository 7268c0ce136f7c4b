"""Job functions for the daemon tests, importable as `daemon_targets:NAME` (tests/daemon is on sys.path)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from butler.daemon.jobs import JobContext

HERE = Path(__file__).parent
DAEMON = [sys.executable, "-m", "butler.daemon"]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test environment for a daemon subprocess, able to import this module."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _note(ctx: JobContext, name: str, line: str) -> int:
    """Append `line` to BUTLER_HOME/name; return how many lines it has now."""
    ctx.home.mkdir(parents=True, exist_ok=True)
    path = ctx.home / name
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return len(path.read_text(encoding="utf-8").splitlines())


def lines(home: Path, name: str) -> list[str]:
    path = home / name
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def tick(ctx: JobContext) -> str:
    return f"tick {_note(ctx, 'ticks', str(time.time()))}"


def once(ctx: JobContext) -> str:
    _note(ctx, "once", str(time.time()))
    return "once"


def flaky(ctx: JobContext) -> str:
    """Fails on its first two calls, then works."""
    calls = _note(ctx, "flaky-calls", "call")
    if calls <= 2:
        raise RuntimeError(f"flaky broke on call {calls}")
    return f"worked on call {calls}"


def slow_steps(ctx: JobContext) -> str:
    """Three steps; stops between steps when asked to. A step lasts until a stop is asked for (at most
    STEP_SECONDS), then still takes AFTER_STOP_SECONDS to finish: a daemon that did not wait would cut it short."""
    for step in range(3):
        if ctx.stopping.is_set():
            _note(ctx, "steps", f"stopped before {step}")
            return f"stopped after {step} step(s)"
        _note(ctx, "steps", f"start {step} pid {os.getpid()}")
        if ctx.stopping.wait(float(os.environ.get("STEP_SECONDS", "0.8"))):
            time.sleep(float(os.environ.get("AFTER_STOP_SECONDS", "0")))
        _note(ctx, "steps", f"done {step}")
    return "all 3 steps"
