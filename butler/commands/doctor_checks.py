"""The checks of `butler doctor`: each looks at one part of the butler and adds findings to a `Checkup`.

A finding has a severity (ok, warning, error), a sentence in plain language and, unless it is ok, a fix. The
checks change nothing: the vault is opened only with a key found without asking and no key is stored; the mail
server and the vendors are contacted only to log in or validate, each within a short deadline.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from butler import paths
from butler.errors import ButlerError

__all__ = ["EXIT_CODES", "FILE_CHECKS", "HOME_CHECKS", "Checkup", "Finding", "Severity", "exit_code"]

Severity = Literal["ok", "warning", "error"]
EXIT_CODES: dict[Severity, int] = {"ok": 0, "warning": 1, "error": 2}

DISK_ERROR_BYTES = 64 * 1024 * 1024  # below this, a write of the vault or a backup may fail
DISK_WARNING_BYTES = 512 * 1024 * 1024
_MAX_LISTED = 5  # paths named one by one in a finding; past this they are counted


@dataclass(frozen=True)
class Finding:
    check: str  # keyring, agent, permissions, vault, config, daemon, job:<id>, mail, connector:<id>, policies, disk
    severity: Severity
    text: str
    fix: str | None = None


def exit_code(findings: list[Finding]) -> int:
    """0 when every finding is ok, 1 when the worst is a warning, 2 when any is an error."""
    return max((EXIT_CODES[f.severity] for f in findings), default=0)


@dataclass
class Checkup:
    """What the checks share: the home, the config and the vault once opened, and the findings so far."""

    home: Path
    offline: bool = False
    vault: Any = None  # the open vault, when a key was found without asking
    key_source: str | None = None
    config: Any = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, check: str, severity: Severity, text: str, fix: str | None = None) -> None:
        self.findings.append(Finding(check, severity, text, fix))


def _check_config(ctx: Checkup) -> None:
    from butler.config import Config, load_config

    try:
        ctx.config = load_config(paths.config_path(ctx.home))
    except ButlerError as exc:
        ctx.config = Config()
        ctx.add("config", "error", f"config.toml is wrong: {exc.message}",
                exc.hint or "Fix the line it names, or `butler config set KEY VALUE`.")
        return
    where = paths.config_path(ctx.home)
    ctx.add("config", "ok", f"config.toml is valid ({'every default' if not where.exists() else where})")


def _mode_problems(home: Path) -> tuple[list[str], list[str], list[str]]:
    """Files and directories under `home` that others may read or enter, and those owned by someone else."""
    loose_files: list[str] = []
    loose_dirs: list[str] = []
    foreign: list[str] = []
    uid = os.getuid()

    def visit(path: Path) -> None:
        try:
            info = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode):
            return
        if info.st_uid != uid:
            foreign.append(str(path))
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISDIR(info.st_mode):
            if mode & 0o077:
                loose_dirs.append(f"{path} ({mode:04o})")
            try:
                children = sorted(path.iterdir())
            except OSError:
                return
            for child in children:
                visit(child)
        elif mode & 0o077:
            loose_files.append(f"{path} ({mode:04o})")

    visit(home)
    return loose_files, loose_dirs, foreign


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def _check_permissions(ctx: Checkup) -> None:
    files, dirs, foreign = _mode_problems(ctx.home)
    if files:
        ctx.add("permissions", "error", f"files others may read: {_listed(files)}",
                f"chmod 600 each of them, or all at once: find {ctx.home} -type f -exec chmod 600 {{}} +")
    if dirs:
        ctx.add("permissions", "error", f"folders others may open: {_listed(dirs)}",
                f"chmod 700 each of them, or all at once: find {ctx.home} -type d -exec chmod 700 {{}} +")
    if foreign:
        ctx.add("permissions", "error", f"owned by another user: {_listed(foreign)}",
                f"chown them back to yourself: chown -R {os.getuid()} {ctx.home}")
    if not (files or dirs or foreign):
        ctx.add("permissions", "ok", f"everything in {ctx.home} is yours alone (files 0600, folders 0700)")


def _check_keyring(ctx: Checkup) -> Any:
    from butler.errors import KeyringError
    from butler.vault.keys import ENV_KEYRING, keyring_store

    try:
        store = keyring_store(ctx.home, ctx.config.vault)
    except KeyringError as exc:
        ctx.add("keyring", "warning", f"the OS keyring does not answer: {exc.message}",
                exc.hint or "Unlock your desktop session's keyring, or set [vault] keyring = \"none\" and use "
                            "`butler unlock` for unattended runs.")
        return None
    if store is None:
        chosen = os.environ.get(ENV_KEYRING) or ctx.config.vault.keyring
        why = "turned off (keyring = none)" if chosen.strip().lower() == "none" else "none on this machine"
        ctx.add("keyring", "ok", f"OS keyring: {why}; butler needs the passphrase, `butler unlock` or "
                                 "BUTLER_PASSPHRASE_FILE to open the vault")
        return None
    return store


def _check_agent(ctx: Checkup, vault_id: bytes | None) -> bool:
    """Whether the unlock agent holds this vault's key."""
    from butler.agent import AgentClient
    from butler.errors import AgentError

    try:
        answer = AgentClient().status()
    except AgentError as exc:
        ctx.add("agent", "warning", f"the unlock agent is not right: {exc.message}",
                "Run `butler lock`, then `butler unlock` again.")
        return False
    if answer is None:
        ctx.add("agent", "ok", "no unlock agent runs (start one with `butler unlock --for 8h`)")
        return False
    held = answer.get("vaults") or {}
    seconds = held.get(vault_id.hex()) if vault_id is not None else None
    if isinstance(seconds, int):
        ctx.add("agent", "ok", f"the unlock agent holds this vault's key for {_span(seconds)} more")
        return True
    ctx.add("agent", "ok", "an unlock agent runs, without this vault's key")
    return False


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _check_vault(ctx: Checkup) -> None:
    from butler.errors import VaultCorrupt, VaultLocked, VaultRolledBack
    from butler.vault.keyfile import KeyFile
    from butler.vault.keys import ENV_PASSPHRASE_FILE, open_vault

    key_path = paths.vault_key_path(ctx.home)
    if not ctx.home.exists() or not key_path.exists():
        others = [p.name for p in (paths.vault_log_path(ctx.home), paths.audit_path(ctx.home)) if p.exists()]
        if others:
            ctx.add("vault", "error", f"vault.key is missing but {' and '.join(others)} are there: the vault cannot "
                                      "be opened without it",
                    "Put vault.key back from a backup (`butler vault import` restores a whole backup).")
        else:
            ctx.add("vault", "error", f"no vault in {ctx.home}", "Run `butler init`.")
        return
    try:
        vault_id = KeyFile.read(key_path).vault_id
    except ButlerError as exc:
        ctx.add("vault", "error", f"vault.key cannot be read: {exc.message}",
                exc.hint or "Restore vault.key from a backup.")
        return
    store = _check_keyring(ctx)
    in_agent = _check_agent(ctx, vault_id)
    in_keyring = False
    if store is not None:
        try:
            in_keyring = store.get(vault_id) is not None
        except ButlerError as exc:
            ctx.add("keyring", "warning", f"the OS keyring ({store.name}) does not answer: {exc.message}",
                    "Unlock the keyring; until then unattended runs need `butler unlock`.")
        else:
            if in_keyring:
                ctx.add("keyring", "ok", f"the vault key is in the OS keyring ({store.name}): the daemon opens the "
                                         "vault unattended")
            else:
                ctx.add("keyring", "warning", f"the OS keyring ({store.name}) does not hold the vault key",
                        "Open the vault once with the passphrase (e.g. `butler vault status`): butler stores the "
                        "key there.")
    by_file = bool(os.environ.get(ENV_PASSPHRASE_FILE))
    try:
        unlocked = open_vault(ctx.home, settings=ctx.config.vault, interactive=False, remember=False)
    except VaultRolledBack as exc:
        ctx.add("vault", "error", f"an older copy of the vault was put back: {exc.message}",
                exc.hint or "Put the newest files back, or `butler vault accept-rollback`.")
        return
    except VaultCorrupt as exc:
        ctx.add("vault", "error", f"the vault is damaged: {exc.message}",
                exc.hint or "`butler vault recover`, or restore a backup.")
        return
    except VaultLocked as exc:
        ctx.add("unattended", "warning", "no key is at hand for unattended runs (" + exc.message.removeprefix(
            "the vault is locked: ") + "): the daemon skips every job that needs the vault, and the vault's "
                                       "freshness was not checked",
                "Run `butler unlock --for 8h`, keep the key in the OS keyring (`butler init` offers it), or give "
                f"the daemon {ENV_PASSPHRASE_FILE}.")
        return
    except ButlerError as exc:
        ctx.add("vault", "error", f"the vault does not open: {exc.message}", exc.hint)
        return
    ctx.vault, ctx.key_source = unlocked.vault, unlocked.source
    if not (in_agent or in_keyring or by_file):
        ctx.add("unattended", "warning", "the daemon would find no key", "Run `butler unlock --for 8h`.")
    else:
        ctx.add("unattended", "ok", f"unattended runs find the key (now from the {unlocked.source})")
    try:
        report = ctx.vault.audit.verify()
    except ButlerError as exc:
        ctx.add("vault", "error", f"the audit log does not verify: {exc.message}",
                exc.hint or "Compare with a backup; `butler audit verify` says where it breaks.")
        return
    ctx.add("vault", "ok", f"the vault opens, no older copy was put back (its files and the freshness anchor agree), "
                           f"and its audit log of {report.entries} entries verifies")
    _check_backups(ctx)


def _check_backups(ctx: Checkup) -> None:
    directory = ctx.home / "backups"
    backups = sorted(directory.glob("backup-*.bin")) if directory.is_dir() else []
    every = dt.timedelta(days=ctx.config.daemon.backup_days)
    if not backups:
        ctx.add("backups", "warning", "no backup of the vault yet",
                "Let the daemon run (it backs up every "
                f"{every.days} days) or `butler vault export FILE` now.")
        return
    newest = max(backups, key=lambda p: p.stat().st_mtime)
    age = dt.datetime.now() - dt.datetime.fromtimestamp(newest.stat().st_mtime)
    if age > 2 * every:
        ctx.add("backups", "warning", f"the newest backup ({newest.name}) is {age.days} days old",
                "Is the daemon running? `butler status` shows the vault-backup job.")
    else:
        ctx.add("backups", "ok", f"newest backup {newest.name}, {age.days} day(s) old")


def _check_daemon(ctx: Checkup) -> None:
    from butler.daemon.lock import lock_holder
    from butler.daemon.specs import default_specs
    from butler.daemon.state import job_records

    pid = lock_holder(ctx.home)
    if pid:
        ctx.add("daemon", "ok", f"the daemon runs (pid {pid})")
    else:
        ctx.add("daemon", "warning", "the daemon is not running: no mail sweeps, renewal reminders or backups",
                "Run `butler daemon install` (starts it at every login), or `butler daemon` in a terminal.")
    known = {spec.id for spec in default_specs(ctx.config.daemon)}
    for record in job_records(ctx.home):
        if record.id not in known and record.last_run is None:
            continue
        check = f"job:{record.id}"
        if record.failing:
            since = f" since {record.failing_since[:16].replace('T', ' ')}" if record.failing_since else ""
            ctx.add(check, "error", f"{record.id} failed{since} ({record.consecutive_failures} run(s) in a row): "
                                    f"{record.error or record.last_result}",
                    "Fix the cause named, then wait for the next run (`butler status` shows when).")
        elif record.last_result and record.last_result.startswith("skipped: vault locked"):
            ctx.add(check, "warning", f"{record.id} was skipped: the vault was locked",
                    "Run `butler unlock --for 8h` or keep the key in the OS keyring.")
        elif record.last_run is None:
            ctx.add(check, "ok", f"{record.id} has not run yet")
        else:
            ctx.add(check, "ok", f"{record.id}: {record.last_result}")


def _check_policies(ctx: Checkup) -> None:
    from butler.errors import ConfigError
    from butler.policy.loader import PolicyErrors, load_policies, policy_files

    directory = paths.policies_dir(ctx.home)
    files = policy_files(directory) if directory.is_dir() else []
    if not files:
        ctx.add("policies", "warning", f"no policy files in {directory}: butler asks you about every purchase",
                "Start from a pack: `butler init --pack ethical-purchasing` (on an existing home it only adds "
                "the pack), then edit it.")
        return
    broken = 0
    for path in files:
        try:
            load_policies([path])
        except PolicyErrors as exc:
            broken += 1
            more = len(exc.problems) - 1 + exc.more
            ctx.add("policies", "error", f"{exc.problems[0]}" + (f" (and {more} more)" if more else ""),
                    f"Fix it; `butler policy check` lists every problem of {path.name}.")
        except ConfigError as exc:
            broken += 1
            ctx.add("policies", "error", exc.message, "Fix it, then `butler policy check`.")
    if broken:
        return
    try:
        policies = load_policies(files)
    except ConfigError as exc:
        ctx.add("policies", "error", f"the policy files disagree: {exc.message}", "Run `butler policy check`.")
        return
    ctx.add("policies", "ok", f"{len(files)} policy file(s): {len(policies.rules)} rules, "
                              f"{len(policies.preferences)} preferences, all valid")


def _check_disk(ctx: Checkup) -> None:
    at = ctx.home if ctx.home.exists() else next((p for p in ctx.home.parents if p.exists()), Path("/"))
    usage = shutil.disk_usage(at)
    free = _size(usage.free)
    if usage.free < DISK_ERROR_BYTES:
        ctx.add("disk", "error", f"the disk holding {ctx.home} is nearly full: {free} free",
                "Free some space: a vault write or backup may fail. Old backups are in "
                f"{ctx.home / 'backups'}.")
    elif usage.free < DISK_WARNING_BYTES or usage.free < usage.total * 0.02:
        ctx.add("disk", "warning", f"the disk holding {ctx.home} is getting full: {free} free",
                "Free some space before it runs out.")
    else:
        ctx.add("disk", "ok", f"{free} free on the disk holding {ctx.home}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


HOME_CHECKS: list[Callable[[Checkup], None]] = [_check_config, _check_permissions, _check_vault, _check_daemon]
"""The checks of BUTLER_HOME, the keys and the daemon: first. `butler.commands.doctor_remote` has those that reach
out (next), and FILE_CHECKS come last."""
FILE_CHECKS: list[Callable[[Checkup], None]] = [_check_policies, _check_disk]


