"""The daemon's watch on the inbox: IMAP IDLE (`butler.mail.idle`) beside the scheduled mail sweep.

Started once when the daemon starts, in a thread of its own: it reads the mailbox settings and password from the
vault once (unattended; a locked vault or no mailbox set up means no watch, and the schedule alone), then runs
the mail-sweep job through `run_job` (recorded like a scheduled run; one sweep per mailbox at a time) whenever
new mail arrives. It stops with the daemon (`Runtime.stopping`) and reconnects after a lost connection; where the
server offers no IDLE it ends and the scheduled sweep remains.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from butler.daemon.runner import Runtime, run_job
from butler.daemon.specs import JobSpec
from butler.errors import ButlerError
from butler.vault.keys import open_vault

__all__ = ["MAIL_SWEEP", "start_mail_watch", "watch_mail"]

log = logging.getLogger("butler.daemon")

MAIL_SWEEP = "mail-sweep"


def start_mail_watch(runtime: Runtime, specs: Iterable[JobSpec]) -> threading.Thread | None:
    """Start the watch when the schedule has a mail sweep; the thread ends by itself when the daemon stops."""
    spec = next((s for s in specs if s.id == MAIL_SWEEP), None)
    if spec is None:
        return None
    thread = threading.Thread(target=watch_mail, args=(runtime, spec), name="butler-mail-idle", daemon=True)
    thread.start()
    return thread


def watch_mail(runtime: Runtime, spec: JobSpec) -> bool:
    """Watch the configured inbox until the daemon stops; False when there is nothing to watch or no IDLE."""
    from butler.mail.account import load_password, load_settings
    from butler.mail.idle import InboxWatcher
    from butler.mail.unattended import connect_imap

    try:
        unlocked = open_vault(runtime.home, settings=runtime.config.vault, interactive=False, cache=runtime.keys)
    except ButlerError as exc:
        log.info("mail watch not started: %s", exc.message)
        return False
    try:
        settings = load_settings(unlocked.vault)
        if not settings.host or not settings.username:
            return False
        password = load_password(unlocked.vault)
    except ButlerError as exc:
        log.info("mail watch not started: %s", exc.message)
        return False
    finally:
        unlocked.vault.close()
    args = (spec.id, spec.target, spec.needs_vault, spec.every.total_seconds())
    watcher = InboxWatcher(lambda: connect_imap(settings, password), lambda: run_job(*args), runtime.stopping,
                           inbox=settings.inbox)
    log.info("mail watch: new mail in %s starts a sweep (IMAP IDLE)", settings.inbox)
    return watcher.run()
