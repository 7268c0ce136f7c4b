"""`butler vault recover`: return a vault whose last write was torn (a power loss, a file cut short) to its last
sound write.

Each file (the records log and the audit log) goes back to its newest commit record that authenticates, as do
all the frames before it; at most the writes after that commit are lost. A file that is sound is not touched;
one that is changed is first copied beside itself (`<name>.damaged-<UTC time>`, 0600), so nothing is lost for
good. The vault is then opened as usual and its audit chain verified before this reports success.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from butler import paths
from butler.atomic import fsync_dir
from butler.vault import audit, store
from butler.vault.framelog import FrameLog, Recovery
from butler.vault.lock import HomeLock

__all__ = ["Recovery", "recover_vault"]


def recover_vault(home: Path, passphrase: str) -> list[Recovery]:
    """Recover both logs of the vault in `home` (see the module docstring); raises VaultCorrupt when a log has no
    commit left to trust, and the key file's errors for a wrong passphrase."""
    data_key = store.Vault.key_from_passphrase(home, passphrase)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results: list[Recovery] = []
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
            fsync_dir(home)  # the copies' names are on disk before anyone relies on them
    finally:
        lock.close()
    with store.Vault(home, data_key) as vault:  # what a normal open would say, and the audit chain, checked
        vault.audit.verify()
        changed = [r for r in results if r.recovered]
        if changed:
            vault.audit.append("vault.recover", "", {"files": [r.path.name for r in changed],
                                                     "kept": [r.kept.name for r in changed if r.kept]},
                               actor="person")
    return results
