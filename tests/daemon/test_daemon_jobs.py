"""The job functions, called directly, and run_job's handling of a locked vault."""

from __future__ import annotations

import datetime as dt
import json
import logging
import pkgutil
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers.vaultkit import make_vault

from butler.daemon import jobs
from butler.daemon.jobs import JobContext, default_specs
from butler.daemon.runner import run_job
from butler.daemon.state import DaemonState
from butler.vault import Vault

TODAY = dt.date.today()


def ctx_for(vault: Vault, now: dt.datetime | None = None) -> JobContext:
    return JobContext(vault.home, vault, now=now or dt.datetime.now(dt.UTC))


def contract(vault: Vault, cid: str, renewal: object) -> None:
    data = {"id": cid, "vendor_id": "coalco", "product": "Fixed 24", "start": "2025-01-01"}
    if renewal is not None:
        data["renewal_date"] = renewal
    vault.put("contracts", cid, data)


def reminders(vault: Vault) -> dict[str, dict[str, object]]:
    return {r.id: r.data for r in vault.records("approvals") if r.data.get("kind") == "renewal-reminder"}


def test_renewal_reminder_is_created_once_per_contract_and_date(open_vault_at: Vault) -> None:
    vault = open_vault_at
    contract(vault, "energy", (TODAY + dt.timedelta(days=10)).isoformat())
    contract(vault, "mobile", (TODAY + dt.timedelta(days=45)).isoformat())  # too far ahead
    contract(vault, "old", (TODAY - dt.timedelta(days=1)).isoformat())  # already renewed
    contract(vault, "open-ended", None)
    contract(vault, "garbled", "next spring")

    assert "; 1 new reminder(s); no vendor connectors enabled" in jobs.renewal_sweep(ctx_for(vault))
    assert "; 0 new reminder(s); " in jobs.renewal_sweep(ctx_for(vault))
    found = reminders(vault)
    assert list(found) == [f"renewal-reminder:energy@{TODAY + dt.timedelta(days=10)}"]
    item = next(iter(found.values()))
    assert item["contract_id"] == "energy" and item["state"] == "pending"
    assert item["renewal_date"] == (TODAY + dt.timedelta(days=10)).isoformat()

    # the person dealt with it: it is not raised again for the same date
    item_id = next(iter(found))
    vault.update("approvals", item_id, lambda d: {**(d or {}), "state": "approved"})
    jobs.renewal_sweep(ctx_for(vault))
    assert reminders(vault)[item_id]["state"] == "approved"

    # a year later the same contract comes up for renewal again: a new reminder for the new date
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    contract(vault, "energy", (TODAY + dt.timedelta(days=370)).isoformat())
    assert "; 1 new reminder(s); " in jobs.renewal_sweep(ctx_for(vault, now=later))
    assert len(reminders(vault)) == 2


def test_audit_verify_reports_the_chain(open_vault_at: Vault) -> None:
    open_vault_at.put("profile", "me", {"name": "A"})
    result = jobs.audit_verify(ctx_for(open_vault_at))
    assert result == f"audit log OK: {len(open_vault_at.audit.entries())} entries"


def test_backup_keeps_the_newest_n(open_vault_at: Vault, vault_home: Path) -> None:
    backups = vault_home / "backups"
    backups.mkdir(mode=0o700)
    for day in range(1, 6):
        (backups / f"backup-2020-01-0{day}.bin").write_bytes(b"old")
    (backups / "notes.txt").write_text("mine")

    result = jobs.vault_backup(ctx_for(open_vault_at), keep=3)

    today = f"backup-{TODAY.isoformat()}.bin"
    assert sorted(p.name for p in backups.iterdir()) == [
        "backup-2020-01-04.bin", "backup-2020-01-05.bin", today, "notes.txt"]
    assert (backups / today).read_bytes().startswith(b"BTLRBAK\x00")
    assert (backups / today).stat().st_mode & 0o777 == 0o600
    assert "removed 3 old backup(s)" in result


def test_intent_watch_casts_only_open_intents(open_vault_at: Vault) -> None:
    from butler.models import Money
    from butler.negotiate import intents

    assert jobs.intent_watch(ctx_for(open_vault_at)) == "no open intents"
    laptop = intents.add(open_vault_at, "a laptop", "electronics", Money.of("900", "EUR"))
    phone = intents.add(open_vault_at, "a phone", "mobile", Money.of("300", "EUR"))
    intents.cancel(open_vault_at, phone.id)
    assert laptop.status.value == "open"
    assert jobs.intent_watch(ctx_for(open_vault_at)) == "1 open intent(s); no vendor connectors enabled"


def test_mail_sweep_is_a_no_op_without_mail(open_vault_at: Vault, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "butler.mail.unattended", None)  # import raises ModuleNotFoundError
    with caplog.at_level(logging.INFO, logger="butler.daemon"):
        assert jobs.mail_sweep(ctx_for(open_vault_at)) == "skipped: mail is not installed"
    assert "butler.mail is not installed" in caplog.text


def test_mail_sweep_calls_the_unattended_entry_point(open_vault_at: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Vault, list[str]]] = []

    def run_unattended(vault: Vault, readers: Sequence[object] = ()) -> str:
        seen.append((vault, [type(r).__module__ for r in readers]))
        return "examined 3"

    monkeypatch.setitem(sys.modules, "butler.mail.unattended", types.SimpleNamespace(run_unattended=run_unattended))
    assert jobs.mail_sweep(ctx_for(open_vault_at)) == "examined 3"
    assert seen == [(open_vault_at, ["butler.rights.discover"])]  # the sweep feeds data-rights discovery


def test_locked_vault_skips_the_job_without_waiting(butler_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_vault(butler_env).close()  # no BUTLER_PASSPHRASE_FILE, no keyring: locked
    target = "butler.daemon.jobs:renewal_sweep"
    with caplog.at_level(logging.INFO, logger="butler.daemon"):
        assert run_job("renewal-sweep", target) == "skipped: vault locked"
        assert run_job("renewal-sweep", target) == "skipped: vault locked"
    skipped = [r for r in caplog.records if "vault locked, skipped" in r.getMessage()]
    assert [r.levelno for r in skipped] == [logging.WARNING, logging.INFO]  # loud once, then quiet
    job = DaemonState.load(butler_env).job("renewal-sweep")
    assert job.last_result == "skipped: vault locked" and job.consecutive_failures == 0 and job.last_run


def test_run_job_runs_a_job_with_the_vault(vault_home: Path) -> None:
    result = run_job("audit-verify", "butler.daemon.jobs:audit_verify")
    assert result.startswith("ok: audit log OK")
    saved = json.loads((vault_home / "daemon-state.json").read_text())
    assert saved["jobs"]["audit-verify"]["last_result"] == result
    assert (vault_home / "daemon-state.json").stat().st_mode & 0o777 == 0o600


def test_default_specs_follow_the_config() -> None:
    from butler.config import DaemonConfig

    specs = {s.id: s for s in default_specs(DaemonConfig(mail_sweep_minutes=5, backup_days=2))}
    assert specs["mail-sweep"].every == dt.timedelta(minutes=5)
    assert specs["vault-backup"].every == dt.timedelta(days=2)
    assert specs["mail-sweep"].grace == dt.timedelta(hours=6)  # generous: one late run beats none
    assert specs["vault-backup"].grace == dt.timedelta(days=2)
    assert set(specs) == {"mail-sweep", "renewal-sweep", "intent-watch", "audit-verify", "vault-backup"}


def test_public_surface_is_declared() -> None:
    import butler.daemon

    # identifiers only: pytest's assertion rewriting adds "@py_builtins" to modules it rewrites
    for name in butler.daemon.__all__:  # the names load on first use; each must exist
        getattr(butler.daemon, name)
    public = {name for name in vars(butler.daemon) if name.isidentifier() and not name.startswith("_")}
    submodules = {info.name for info in pkgutil.iter_modules(butler.daemon.__path__)}
    assert set(butler.daemon.__all__) == public - submodules - {"annotations", "TYPE_CHECKING"}
