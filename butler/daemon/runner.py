"""`run_job`: the one callable the persistent schedule stores; it runs a job function safely.

It opens the vault unattended with the key the daemon found once (the runtime's `KeyCache`: the unlock agent,
the keyring or a passphrase file; a locked vault skips the run, never prompts), turns any exception into a
recorded failure (the daemon lives on), logs once when a job starts failing and once when it recovers,
backs off while it keeps failing, and records every run in the daemon state.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from apscheduler.util import ref_to_obj  # type: ignore[import-untyped]

from butler import paths
from butler.config import Config, load_config
from butler.daemon.jobs import JobContext
from butler.daemon.state import DaemonState, JobState, now_iso
from butler.errors import ButlerError, VaultLocked, VaultNotFound
from butler.log import redact
from butler.vault.keys import KeyCache, open_vault

__all__ = ["MAX_BACKOFF", "Runtime", "backoff_skips", "current_runtime", "install_runtime", "run_job"]

log = logging.getLogger("butler.daemon")

MAX_BACKOFF = dt.timedelta(hours=6)  # a failing job is retried at least this often
_MAX_SKIPS = 64


@dataclass
class Runtime:
    """What the running daemon shares with its jobs: home, config, state, the stop flag and the vault key, found
    once for the whole process."""

    home: Path
    config: Config = field(default_factory=Config)
    state: DaemonState | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    keys: KeyCache = field(default_factory=KeyCache)

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = DaemonState.load(self.home)

    @property
    def daemon_state(self) -> DaemonState:
        return cast(DaemonState, self.state)


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def install_runtime(runtime: Runtime | None) -> None:
    """Make `runtime` the one jobs use (the daemon installs its own; None uninstalls)."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime


def current_runtime() -> Runtime:
    """The installed runtime, else a fresh one for BUTLER_HOME (a job run outside the daemon)."""
    with _runtime_lock:
        if _runtime is not None:
            return _runtime
    return Runtime(paths.butler_home(), load_config())


def backoff_skips(failures: int, every_seconds: float) -> int:
    """Runs to skip after `failures` failures in a row: 0, 1, 3, 7, … but never longer than MAX_BACKOFF."""
    if failures <= 1 or every_seconds <= 0:
        return 0
    cap = int(MAX_BACKOFF.total_seconds() // every_seconds)
    skips: int = 2 ** min(failures - 1, 16) - 1
    return max(0, min(skips, cap, _MAX_SKIPS))


def _describe(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, ButlerError) else str(exc)
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def run_job(job_id: str, target: str, needs_vault: bool = True, every_seconds: float = 0.0) -> str:
    """Run the job function `target` ("module:function") once; never raises. Returns the recorded result."""
    runtime = current_runtime()
    state = runtime.daemon_state
    job = state.job(job_id)
    started = now_iso()
    if job.skips_left > 0:
        with state.lock:
            job.skips_left -= 1
            job.last_result = f"skipped: backing off after {job.consecutive_failures} failure(s)"
        log.debug("%s: backing off, %d more run(s) skipped", job_id, job.skips_left)
        state.save()
        return job.last_result
    ctx = JobContext(runtime.home, config=runtime.config, stopping=runtime.stopping)
    clock = time.monotonic()
    try:
        if needs_vault:
            ctx.vault = open_vault(runtime.home, settings=runtime.config.vault, interactive=False,
                                   cache=runtime.keys).vault
        function = cast(Callable[[JobContext], object], ref_to_obj(target))
        result = f"ok: {function(ctx)}"
    except (VaultLocked, VaultNotFound) as exc:
        result = _skipped(job_id, job, exc)
    except Exception as exc:
        result = _failed(state, job_id, job, exc, every_seconds)
    else:
        _succeeded(state, job_id, job)
    finally:
        if ctx.vault is not None:
            ctx.vault.close()
    with state.lock:
        job.last_run = started
        job.last_result = result
        job.last_duration = round(time.monotonic() - clock, 3)
    state.save()
    return result


def _skipped(job_id: str, job: JobState, exc: ButlerError) -> str:
    what = "vault locked" if isinstance(exc, VaultLocked) else "no vault"
    result = f"skipped: {what}"
    # say it loudly when it starts, quietly while it lasts
    level = logging.INFO if job.last_result == result else logging.WARNING
    log.log(level, "%s: %s, skipped (%s)", job_id, what, exc.message)
    return result


def _failed(state: DaemonState, job_id: str, job: JobState, exc: Exception, every_seconds: float) -> str:
    description = _describe(exc)
    with state.lock:
        job.consecutive_failures += 1
        failures = job.consecutive_failures
        if failures == 1:
            job.failing_since = now_iso()
        job.last_error, job.last_error_at = description, now_iso()
        job.skips_left = backoff_skips(failures, every_seconds)
    if failures == 1:
        log.error("%s failed: %s (logged once; retried with back-off until it recovers)", job_id, description,
                  exc_info=not isinstance(exc, ButlerError))
    else:
        log.debug("%s failed again (%d in a row): %s", job_id, failures, description)
    return f"failed: {description}"


def _succeeded(state: DaemonState, job_id: str, job: JobState) -> None:
    with state.lock:
        failures, job.consecutive_failures, job.failing_since, job.skips_left = job.consecutive_failures, 0, None, 0
    if failures:
        log.warning("%s recovered after %d failed run(s)", job_id, failures)

