"""The daemon's jobs. Each is `job(ctx) -> str`: it does one round of work and returns a one-line summary.

Jobs are referenced by `module:function` in the persistent schedule (see `JobSpec.target`), so they must stay
importable under their names. A job with several steps checks `ctx.stopping` between steps, so SIGTERM waits
for the current step only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from butler.approvals import COLLECTION as APPROVALS
from butler.approvals import submit
from butler.config import Config
from butler.daemon.specs import SWEEP_GRACE, JobSpec, default_specs
from butler.negotiate import contracts
from butler.negotiate.renewal_approvals import REMINDER as RENEWAL_KIND
from butler.negotiate.renewal_approvals import ReminderItem, reminder_id
from butler.vault import Vault, export_backup

__all__ = [
    "APPROVALS",
    "BACKUPS_KEPT",
    "RENEWAL_KIND",
    "RENEWAL_WINDOW_DAYS",
    "SWEEP_GRACE",
    "JobContext",
    "JobSpec",
    "audit_verify",
    "default_specs",
    "intent_watch",
    "mail_sweep",
    "renewal_sweep",
    "vault_backup",
]

log = logging.getLogger(__name__)

RENEWAL_WINDOW_DAYS = 30
BACKUPS_KEPT = 4
_BACKUP_NAME = re.compile(r"^backup-\d{4}-\d{2}-\d{2}\.bin$")
_OPEN_INTENT = ("open", "negotiating")


@dataclass
class JobContext:
    """What a job gets: the home, the open vault (None for jobs that need none), config and a stop flag."""

    home: Path
    vault: Vault | None = None
    config: Config = field(default_factory=Config)
    stopping: threading.Event = field(default_factory=threading.Event)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def today(self) -> dt.date:
        return self.now.astimezone().date()

    def need_vault(self) -> Vault:
        if self.vault is None:
            raise RuntimeError("this job needs the vault; schedule it with needs_vault=True")
        return self.vault


Job = Callable[[JobContext], str]


# -- jobs --------------------------------------------------------------------------------------------------
def mail_sweep(ctx: JobContext) -> str:
    """Sweep the mailbox set up with `butler mail setup` (`butler.mail.unattended.run_unattended`)."""
    try:
        module = importlib.import_module("butler.mail.unattended")
    except ModuleNotFoundError as exc:
        if exc.name in ("butler.mail", "butler.mail.unattended"):
            log.info("mail sweep: butler.mail is not installed, nothing to do")
            return "skipped: mail is not installed"
        raise
    from butler.wiring import mail_readers

    sweep: Callable[..., object] = module.run_unattended
    vault = ctx.need_vault()
    return str(sweep(vault, readers=mail_readers(vault)) or "done")


def _policies(ctx: JobContext) -> Any:
    from butler.policy import load_home_policies

    return load_home_policies(ctx.home)


def _negotiate_renewals(ctx: JobContext) -> str:
    """Ask the enabled vendors for retention and switch offers on the contracts due (butler.negotiate.renewal)."""
    from butler.negotiate import renewal
    from butler.registry import enabled_ids

    vault = ctx.need_vault()
    if not enabled_ids(vault):
        return "no vendor connectors enabled"
    proposals = renewal.sweep(vault, _policies(ctx), today=ctx.today)
    return f"{len(proposals)} renewal proposal(s)"


def renewal_sweep(ctx: JobContext) -> str:
    """Queue one `renewal-reminder` approval per contract and renewal date within the next 30 days."""
    vault = ctx.need_vault()
    horizon = ctx.today + dt.timedelta(days=RENEWAL_WINDOW_DAYS)
    due = created = 0
    for record in contracts.all_records(vault):
        if ctx.stopping.is_set():
            break
        raw = record.data.get("renewal_date")
        try:
            renewal = dt.date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            renewal = None
        if renewal is None:
            if raw is not None:
                log.debug("contract %s: unreadable renewal_date %r", record.id, raw)
            continue
        if not ctx.today <= renewal <= horizon:
            continue
        due += 1
        item = ReminderItem(id=reminder_id(record.id, renewal.isoformat()), contract_id=record.id,
                            renewal_date=renewal.isoformat(), vendor_id=record.data.get("vendor_id"),
                            product=record.data.get("product"),
                            auto_renew=bool(record.data.get("auto_renew", False)),
                            created=ctx.now.isoformat(timespec="seconds"))
        if submit(vault, item):  # only if it is not there yet
            created += 1
    negotiated = _negotiate_renewals(ctx) if due and not ctx.stopping.is_set() else "nothing to negotiate"
    return f"{due} contract(s) renew within {RENEWAL_WINDOW_DAYS} days; {created} new reminder(s); {negotiated}"


def intent_watch(ctx: JobContext) -> str:
    """Settle items a crash left executing, then cast each open intent to the enabled vendors; the best result
    waits for the person (or a mandate)."""
    import asyncio

    from butler.negotiate import intents
    from butler.negotiate.fanout import negotiate_intent
    from butler.negotiate.vendors import entered, open_enabled
    from butler.wiring import desk

    vault = ctx.need_vault()
    settled = desk().reconcile(vault)  # purchases a crash interrupted: ask their vendors what became of them
    said = f"{len(settled)} interrupted item(s) looked at; " if settled else ""
    waiting = [i for i in intents.all_intents(vault) if i.status.value == "open"]
    if not waiting:
        return f"{said}no open intents"
    opened = open_enabled(vault)
    if not opened:
        return f"{said}{len(waiting)} open intent(s); no vendor connectors enabled"
    policies = _policies(ctx)

    async def cast() -> int:
        async with entered(opened):
            done = 0
            for intent in waiting:
                if ctx.stopping.is_set():
                    break
                await negotiate_intent(vault, intent, policies, opened)
                done += 1
            return done

    return f"{said}{asyncio.run(cast())} open intent(s) cast to {len(opened)} vendor(s)"


def audit_verify(ctx: JobContext) -> str:
    """Recompute the audit hash chain; a break raises AuditError, which the runner logs as a failure."""
    report = ctx.need_vault().audit.verify()
    return f"audit log OK: {report.entries} entries"


def vault_backup(ctx: JobContext, keep: int = BACKUPS_KEPT) -> str:
    """Write `backups/backup-<date>.bin` and keep only the newest `keep` backups."""
    vault = ctx.need_vault()
    directory = ctx.home / "backups"
    directory.mkdir(mode=0o700, exist_ok=True)
    target = directory / f"backup-{ctx.today.isoformat()}.bin"
    size = export_backup(vault, target)
    backups = sorted(p for p in directory.iterdir() if _BACKUP_NAME.match(p.name))
    removed = backups[:-keep] if keep > 0 else []
    for old in removed:
        if ctx.stopping.is_set():
            break
        old.unlink(missing_ok=True)
    return f"wrote {target.name} ({size} bytes); removed {len(removed)} old backup(s)"
