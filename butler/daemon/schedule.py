"""The persistent schedule (APScheduler 3 + SQLAlchemyJobStore on `BUTLER_HOME/schedule.sqlite`) and the daemon.

Jobs keep their next run time across restarts: `sync_jobs` only changes what the config changed, so a job
missed while the machine slept runs once on wake-up (coalesce), and a one-shot job runs late rather than never
(generous misfire grace). A job the store does not have yet (a first start, a new job, a lost store) or whose
interval changed is due one interval after its last run as the daemon state records it: at once when that is
past or it never ran, so nothing waits a whole interval after a start. Only the daemon, which holds the
single-instance lock, runs a scheduler on the store.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.schedulers.blocking import BlockingScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from butler import paths
from butler.config import Config, load_config
from butler.daemon.lock import DaemonLock
from butler.daemon.mail_watch import start_mail_watch
from butler.daemon.runner import Runtime, install_runtime, run_job
from butler.daemon.specs import JobSpec, default_specs
from butler.daemon.state import DaemonState, now_iso
from butler.daemon.store import schedule_path, stored_next_runs
from butler.errors import ButlerError, VaultLocked, VaultNotFound
from butler.vault.keys import open_vault

__all__ = ["Daemon", "add_one_shot", "build_scheduler", "first_run", "schedule_path", "stored_next_runs", "sync_jobs"]

log = logging.getLogger("butler.daemon")

RUN_JOB = f"{run_job.__module__}:{run_job.__name__}"
WORKERS = 4


def _store_url(home: Path) -> str:
    path = schedule_path(paths.ensure_home(home))
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # create it private before SQLite does
    path.chmod(0o600)
    return f"sqlite:///{path}"


class _StopSafe:
    """APScheduler 3 makes one more pass over due jobs after `shutdown()`, with the executor already gone: it logs
    "cannot schedule new futures", advances due interval jobs (the missed run is lost) and deletes due one-shot
    jobs. Here no pass starts once shutdown began, and shutdown waits for a pass under way."""

    _jobstores_lock: Any
    _shutting_down = False

    def shutdown(self, wait: bool = True) -> None:
        with self._jobstores_lock:
            self._shutting_down = True
        super().shutdown(wait)  # type: ignore[misc]

    def _process_jobs(self) -> float | None:
        with self._jobstores_lock:
            if self._shutting_down:
                return None
            wait: float | None = super()._process_jobs()  # type: ignore[misc]
            return wait


class _Background(_StopSafe, BackgroundScheduler):  # type: ignore[misc]
    pass


class _Blocking(_StopSafe, BlockingScheduler):  # type: ignore[misc]
    pass


def build_scheduler(home: Path, *, blocking: bool = False) -> Any:
    """A scheduler on the home's job store: coalescing, one instance per job, one-shots never dropped."""
    cls = _Blocking if blocking else _Background
    return cls(jobstores={"default": SQLAlchemyJobStore(url=_store_url(home))},
               executors={"default": ThreadPoolExecutor(WORKERS)},
               job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
               timezone=dt.UTC)


def _spec_args(spec: JobSpec) -> tuple[str, str, bool, float]:
    return (spec.id, spec.target, spec.needs_vault, spec.every.total_seconds())


def first_run(spec: JobSpec, last_run: str | None, now: dt.datetime | None = None) -> dt.datetime:
    """When a job the store does not know yet runs first: one interval after its recorded last run, or now when
    that is past (it is overdue) or it never ran."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        last = dt.datetime.fromisoformat(last_run) if last_run else None
    except ValueError:
        last = None
    if last is None:
        return now
    if last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return max(now, min(last + spec.every, now + spec.every))  # a last run in the future (clock change) waits once


def _install(scheduler: Any, specs: Iterable[JobSpec], last_runs: Mapping[str, str | None]) -> None:
    for spec in specs:
        args, grace = _spec_args(spec), int(spec.grace.total_seconds())
        job = scheduler.get_job(spec.id)
        trigger = IntervalTrigger(seconds=spec.every.total_seconds(), timezone=dt.UTC)
        if job is None:
            at = first_run(spec, last_runs.get(spec.id))
            scheduler.add_job(RUN_JOB, trigger, args=args, id=spec.id, name=spec.id, misfire_grace_time=grace,
                              coalesce=True, max_instances=1, next_run_time=at)
            log.debug("scheduled %s every %s, first at %s", spec.id, spec.every, at.isoformat(timespec="seconds"))
            continue
        # keep the stored next run time unless the interval changed: that is what makes missed runs run
        if not (isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == spec.every):
            job.modify(trigger=trigger, next_run_time=first_run(spec, last_runs.get(spec.id)))
            log.info("%s now runs every %s", spec.id, spec.every)
        if tuple(job.args) != args or job.misfire_grace_time != grace or job.func_ref != RUN_JOB:
            job.modify(func=RUN_JOB, args=args, misfire_grace_time=grace)


def sync_jobs(home: Path, specs: Iterable[JobSpec], state: DaemonState | None = None) -> None:
    """Bring the stored schedule in line with `specs` without losing stored next run times; a job new to the
    store (or with a new interval) is due one interval after its last run in `state` (read from the home when not
    given), at once when that is past.

    Runs a paused scheduler briefly, so call it only while no other scheduler uses the store.
    """
    state = state or DaemonState.load(home)
    with state.lock:
        last_runs = {job_id: job.last_run for job_id, job in state.jobs.items()}
    scheduler = build_scheduler(home)
    scheduler.start(paused=True)
    try:
        _install(scheduler, specs, last_runs)
    finally:
        scheduler.shutdown(wait=False)


def add_one_shot(scheduler: Any, job_id: str, target: str, at: dt.datetime, *, needs_vault: bool = True) -> None:
    """Run `target` once at `at` (late if the daemon was down then; never skipped)."""
    scheduler.add_job(RUN_JOB, DateTrigger(run_date=at, timezone=dt.UTC), args=(job_id, target, needs_vault, 0.0),
                      id=job_id, name=job_id, replace_existing=True, misfire_grace_time=None)


def _human(span: dt.timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


class Daemon:
    """The foreground daemon: the lock, the schedule, the state, and a clean stop on SIGTERM/SIGINT."""

    def __init__(self, home: Path | None = None, config: Config | None = None,
                 specs: list[JobSpec] | None = None) -> None:
        self.home = home or paths.butler_home()
        self.config = config or load_config(paths.config_path(self.home))
        self.specs = specs if specs is not None else default_specs(self.config.daemon)
        self.state = DaemonState.load(self.home)
        self.runtime = Runtime(self.home, self.config, self.state)
        self.scheduler: Any = None
        self._stopper: threading.Thread | None = None
        self._stop_lock = threading.RLock()  # re-entrant: a signal may arrive while this thread holds it
        self._finished = threading.Event()

    def run(self, *, handle_signals: bool = True) -> None:
        """Run until stopped. Raises DaemonAlreadyRunning when another daemon has this home."""
        previous = self._handle_signals() if handle_signals else {}  # first: a stop during start-up is clean too
        try:
            with DaemonLock(self.home):
                self._serve()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _serve(self) -> None:
        sync_jobs(self.home, self.specs, self.state)
        scheduler = build_scheduler(self.home, blocking=True)
        scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        install_runtime(self.runtime)
        self._unlock_once()
        start_mail_watch(self.runtime, self.specs)  # where IMAP IDLE is offered, new mail is swept at once
        with self.state.lock:
            self.state.pid, self.state.started, self.state.stopped = os.getpid(), now_iso(), None
        self._record_next_runs()
        log.info("daemon started (pid %d, home %s): %s", os.getpid(), self.home,
                 ", ".join(f"{s.id} every {_human(s.every)}" for s in self.specs))
        with self._stop_lock:
            self.scheduler = scheduler
        try:
            if not self.runtime.stopping.is_set():  # a signal may have come during start-up
                scheduler.start()  # blocks until stop()
        finally:
            self._finished.set()
            if self._stopper is not None:
                self._stopper.join()
            install_runtime(None)
            self._record_next_runs()
            with self.state.lock:
                self.state.stopped = now_iso()
            self.state.save()
            log.info("daemon stopped")

    def _unlock_once(self) -> None:
        """Find the vault key now, once for the whole run (the unlock agent, the keyring or a passphrase file):
        jobs then open the vault with it, and two jobs starting together never both derive a key."""
        try:
            unlocked = open_vault(self.home, settings=self.config.vault, interactive=False,
                                  cache=self.runtime.keys)
        except VaultNotFound:
            log.info("no vault yet: jobs that need it are skipped until `butler init`")
            return
        except VaultLocked as exc:
            log.warning("vault locked (%s): jobs that need it are skipped until `butler unlock`, the keyring or "
                        "BUTLER_PASSPHRASE_FILE gives the key", exc.message)
            return
        except ButlerError as exc:
            log.error("the vault does not open: %s", exc.message)
            return
        unlocked.vault.close()
        log.info("vault unlocked once for this run (%s)", unlocked.source)

    def stop(self) -> None:
        """Ask the daemon to stop: no new runs; the running job finishes its current step. Safe from a signal."""
        self.runtime.stopping.set()
        with self._stop_lock:
            if self._stopper is not None or self.scheduler is None:
                return
            # not in the signal handler itself: that would wait for workers while holding whatever it interrupted
            self._stopper = threading.Thread(target=self._shutdown, name="butler-daemon-stop")
            self._stopper.start()

    def _shutdown(self) -> None:
        log.info("stopping: letting the running job finish its current step")
        deadline = time.monotonic() + 5
        # stop() may come just before start(): wait until it runs, unless the daemon is already done
        while not self.scheduler.running and not self._finished.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            self.scheduler.shutdown(wait=True)
        except Exception as exc:  # already stopped: nothing left to do
            log.debug("scheduler shutdown: %s", exc)

    def _handle_signals(self) -> dict[int, Any]:
        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self.stop()

        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, handler)
        return previous

    def _record_next_runs(self) -> None:
        stored = stored_next_runs(self.home)
        with self.state.lock:
            for job_id, next_run in stored.items():
                self.state.job(job_id).next_run = next_run.isoformat(timespec="seconds") if next_run else None
            for job_id, job in self.state.jobs.items():
                if job_id not in stored:
                    job.next_run = None
        self.state.save()

    def _on_submitted(self, event: JobEvent) -> None:
        job = self.scheduler.get_job(event.job_id)
        with self.state.lock:
            self.state.job(event.job_id).next_run = (
                job.next_run_time.isoformat(timespec="seconds") if job is not None and job.next_run_time else None)
        self.state.save()

    def _on_missed(self, event: JobEvent) -> None:
        log.warning("%s missed its run at %s (the daemon was down too long)", event.job_id,
                    event.scheduled_run_time)
