"""Changing what unlocks the vault: a new passphrase (re-wrap only) or a new data key (re-encrypt all)."""

from __future__ import annotations

import dataclasses
import os

from butler import paths
from butler.atomic import fsync_dir
from butler.log import register_secret
from butler.vault import crypto
from butler.vault.audit import MAGIC as AUDIT_MAGIC
from butler.vault.framelog import FrameLog, staging_path, write_log
from butler.vault.keyfile import KeyFile
from butler.vault.store import MAGIC as VAULT_MAGIC
from butler.vault.store import Vault

__all__ = ["change_passphrase", "rotate_data_key"]


def change_passphrase(vault: Vault, old: str, new: str, kdf: crypto.KdfParams | None = None) -> None:
    """Re-wrap the data key under `new`; no record is re-encrypted. Raises WrongPassphrase for `old`."""
    register_secret(old)
    register_secret(new)
    key_path = paths.vault_key_path(vault.home)
    with vault.lock.exclusive():
        current = KeyFile.read(key_path)
        data_key = current.unwrap(old)
        fresh_kdf = kdf or _fresh(current.kdf)
        KeyFile.wrap(current.vault_id, data_key, new, fresh_kdf).write(key_path)
        vault.audit.append("vault.passphrase-changed", "", {"kdf": fresh_kdf.describe()})


def _fresh(kdf: crypto.KdfParams) -> crypto.KdfParams:
    """The same key derivation with a new salt."""
    return dataclasses.replace(kdf, salt=os.urandom(16))


def rotate_data_key(vault: Vault, passphrase: str) -> Vault:
    """Re-encrypt every record and audit entry under a new data key; returns the re-opened vault.

    The new key file is the commit point: a crash before it leaves the old vault intact, a crash after it is
    completed the next time the vault opens.
    """
    register_secret(passphrase)
    home = vault.home
    key_path = paths.vault_key_path(home)
    with vault.lock.exclusive():
        current = KeyFile.read(key_path)
        old_key = current.unwrap(passphrase)
        new_key = os.urandom(crypto.KEY_LEN)
        register_secret(new_key.hex())
        vault.settle()  # follow both logs to the end
        live = vault._live_payloads()
        log_new = staging_path(paths.vault_log_path(home))
        audit_new = staging_path(paths.audit_path(home))
        for temp in (log_new, audit_new):
            if temp.exists():
                temp.unlink()
        # commit counters go on from the old files': whoever follows them sees them grow, never go back
        write_log(log_new, VAULT_MAGIC, current.vault_id, new_key, b"records", live,
                  after_seq=vault.commit_seq)
        audit_src = FrameLog(paths.audit_path(home), AUDIT_MAGIC, old_key, b"audit")
        try:
            entries = [p for offset, p in audit_src.follow() if offset >= 0]
            write_log(audit_new, AUDIT_MAGIC, current.vault_id, new_key, b"audit", entries,
                      after_seq=audit_src.commit_seq)
        finally:
            audit_src.close()
        KeyFile.wrap(current.vault_id, new_key, passphrase, _fresh(current.kdf)).write(key_path)
        os.replace(log_new, paths.vault_log_path(home))
        os.replace(audit_new, paths.audit_path(home))
        fsync_dir(home)
    anchors = vault.anchor_factory
    vault.close()
    reopened = Vault(home, new_key, anchors=anchors)
    reopened.mark_head()
    reopened.audit.append("vault.rotate", "", {"records": sum(reopened.collections().values())})
    return reopened
