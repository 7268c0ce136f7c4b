"""The daemon's job specs: which jobs run how often. Light on purpose (no job code imported), so that
`butler status` and `butler doctor` know the jobs without importing what they do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from butler.config import DaemonConfig

__all__ = ["SWEEP_GRACE", "JobSpec", "default_specs"]

SWEEP_GRACE = dt.timedelta(hours=6)


@dataclass(frozen=True)
class JobSpec:
    """A periodic job: `target` is `module:function` taking a JobContext."""

    id: str
    target: str
    every: dt.timedelta
    needs_vault: bool = True

    @property
    def grace(self) -> dt.timedelta:
        # Large on purpose: after sleep or downtime a coalesced job still runs once instead of being dropped.
        return max(SWEEP_GRACE, self.every)


def default_specs(daemon: DaemonConfig | None = None) -> list[JobSpec]:
    """The daemon's jobs with the intervals from config.toml's `[daemon]` section."""
    c = daemon or DaemonConfig()
    here = "butler.daemon.jobs"  # where the job functions live (importing them here would be slow)
    return [
        JobSpec("mail-sweep", f"{here}:mail_sweep", dt.timedelta(minutes=c.mail_sweep_minutes)),
        JobSpec("renewal-sweep", f"{here}:renewal_sweep", dt.timedelta(hours=c.renewal_sweep_hours)),
        JobSpec("intent-watch", f"{here}:intent_watch", dt.timedelta(minutes=c.intent_watch_minutes)),
        JobSpec("audit-verify", f"{here}:audit_verify", dt.timedelta(hours=c.audit_verify_hours)),
        JobSpec("vault-backup", f"{here}:vault_backup", dt.timedelta(days=c.backup_days)),
    ]
