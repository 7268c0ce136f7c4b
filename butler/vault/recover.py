"""`butler vault recover`: return a vault whose last write was torn (a power loss, a file cut short) to its last
sound write.

Each file (the records log and the audit log) goes back to its newest commit record that authenticates, as do
all the frames before it; at most the writes after that commit are lost. A change and its audit entry go together:
a change whose entry the audit log lost goes too, and a change whose entry is there but whose vault commit record
tore is committed again (its bytes are on disk). A file that is sound is not touched; one that is changed is first
copied beside itself (`<name>.damaged-<UTC time>`, 0600), so nothing is lost for good. The vault is then opened
as usual and its audit chain verified before this reports success; what recovery changed becomes the vault's
freshness anchor, and the audit log records it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from butler import paths
from butler.atomic import fsync_dir
from butler.errors import VaultCorrupt
from butler.vault import audit, store
from butler.vault.framelog import FrameLog, Recovery
from butler.vault.lock import HomeLock

__all__ = ["RecoverReport", "Recovery", "recover_vault"]


@dataclass(frozen=True)
class RecoverReport:
    files: list[Recovery]  # vault.log, then audit.log
    unaudited: Recovery | None  # vault.log taken back before a change whose audit entry was lost
    recommitted: int  # bytes of changes committed again from their audit entries (a torn vault commit record)


def recover_vault(home: Path, passphrase: str, anchors: store.AnchorFactory | None = None) -> RecoverReport:
    """Recover both logs of the vault in `home` (see the module docstring); raises VaultCorrupt when a log has no
    commit left to trust, and the key file's errors for a wrong passphrase."""
    data_key = store.Vault.key_from_passphrase(home, passphrase)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results: list[Recovery] = []
    unaudited: Recovery | None = None
    lock = HomeLock(paths.lock_path(home))
    try:
        with lock.exclusive():
            for path, magic, purpose in ((paths.vault_log_path(home), store.MAGIC, b"records"),
                                         (paths.audit_path(home), audit.MAGIC, b"audit")):
                log = FrameLog(path, magic, data_key, purpose)
                try:
                    results.append(log.recover(path.with_name(f"{path.name}.damaged-{stamp}")))
                finally:
                    log.close()
            if results[1].recovered:
                unaudited = _drop_unaudited_change(home, data_key, stamp)
            fsync_dir(home)  # the copies' names are on disk before anyone relies on them
    finally:
        lock.close()
    changed = [r for r in (*results, unaudited) if r is not None and r.recovered]
    # Trust what this recovery itself changed (the files are behind their anchor by the writes it dropped);
    # a vault that needed no recovery opens with every check.
    with store.Vault(home, data_key, anchors=anchors, trust_files=bool(changed)) as vault:
        vault.audit.verify()
        recommitted = max(0, vault.committed_length - (unaudited or results[0]).length)
        if changed:
            vault.rebind("vault.recover", "", {"files": sorted({r.path.name for r in changed}),
                                               "kept": sorted({r.kept.name for r in changed if r.kept})})
    return RecoverReport(results, unaudited, recommitted)


def _drop_unaudited_change(home: Path, data_key: bytes, stamp: str) -> Recovery | None:
    """After the audit log lost its last entry: take vault.log back before its last change when that change's
    entry is the one lost (its frame says where the entry goes). Caller holds the lock exclusive."""
    entries = FrameLog(paths.audit_path(home), audit.MAGIC, data_key, b"audit")
    vault_log = FrameLog(paths.vault_log_path(home), store.MAGIC, data_key, b"records")
    try:
        audit_length = entries.committed().length
        last: tuple[int, dict[str, object]] | None = None
        for offset, plaintext in vault_log.follow():
            if offset >= 0:
                try:
                    last = (offset, json.loads(plaintext))
                except ValueError:
                    raise VaultCorrupt(f"{vault_log.path}: unreadable record at byte {offset}") from None
        binding = last[1].get("a") if last else None
        if last is None or not isinstance(binding, dict) or not binding.get("audited"):
            return None
        where = binding.get("len")
        if not isinstance(where, int) or audit_length > where:
            return None  # its entry is there
        path = paths.vault_log_path(home)
        return vault_log.rewind(last[0], path.with_name(f"{path.name}.damaged-{stamp}"))
    finally:
        vault_log.close()
        entries.close()
