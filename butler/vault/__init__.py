"""The encrypted personal-data vault: records, audit log, keys, backups."""

from butler.vault.audit import AuditEntry, AuditLog, VerifyReport
from butler.vault.backup import export_backup, import_backup
from butler.vault.crypto import KdfParams
from butler.vault.keys import KeyCache, KeyringStore, Unlocked, keyring_store, open_vault, read_passphrase_file
from butler.vault.rekey import change_passphrase, rotate_data_key
from butler.vault.store import Record, Vault, VaultStatus

__all__ = [
    "AuditEntry",
    "AuditLog",
    "KdfParams",
    "KeyCache",
    "KeyringStore",
    "Record",
    "Unlocked",
    "Vault",
    "VaultStatus",
    "VerifyReport",
    "change_passphrase",
    "export_backup",
    "import_backup",
    "keyring_store",
    "open_vault",
    "read_passphrase_file",
    "rotate_data_key",
]
