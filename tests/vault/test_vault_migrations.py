"""Named, append-only schema migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file, run_main

from butler.errors import VaultVersionError
from butler.models import SCHEMA_VERSION
from butler.vault import Vault
from butler.vault.migrations import META, MIGRATIONS, SCHEMA, apply_migrations

# Append-only: a new migration adds a name at the end of this list; none is ever renamed, removed or moved.
PINNED = [
    "0001_initial",
    "0002_money_amounts_as_strings",
    "0003_approval_desk_ids_and_states",
    "0004_audit_signing_key",
]


def test_names_are_unique_and_ordered() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert len(names) == len(set(names))
    assert names == sorted(names)
    assert all(callable(migrate) for _, migrate in MIGRATIONS)


def test_names_so_far_are_pinned() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert names[: len(PINNED)] == PINNED, "a released migration was renamed, removed or reordered"
    assert names == PINNED, "a migration was added: append its name to PINNED"


def test_a_new_vault_has_every_migration_applied(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        schema = vault.get(META, SCHEMA)
        assert schema.data == {"applied": PINNED, "schema_version": SCHEMA_VERSION}
        assert apply_migrations(vault) == []
        assert vault.get(META, SCHEMA).version == schema.version  # nothing rewritten on reopen


def test_an_unknown_migration_is_refused(butler_env: Path, tmp_path: Path) -> None:
    with make_vault(butler_env) as vault:
        data_key = vault.data_key
        vault.put(META, SCHEMA, {"applied": [*PINNED, "0099_from_the_future"], "schema_version": 2}, audit=False)
    before = (butler_env / "vault.log").read_bytes()
    with pytest.raises(VaultVersionError, match="0099_from_the_future"):
        Vault(butler_env, data_key)
    assert (butler_env / "vault.log").read_bytes() == before
    result = run_main("vault", "status", env={"BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "s"))})
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: this vault has schema migrations this butler does not know")
    assert lines[1].startswith("hint: ") and "upgrade" in lines[1]


def test_a_missing_migration_is_applied_on_open(butler_env: Path) -> None:
    with make_vault(butler_env) as vault:
        data_key = vault.data_key
        vault.put("contracts", "c1", {"price": {"amount": 9.5, "currency": "EUR"},
                                      "lines": [{"amount": 3, "currency": "USD"}], "note": {"amount": 1}})
        vault.put(META, SCHEMA, {"applied": PINNED[:1], "schema_version": SCHEMA_VERSION}, audit=False)
    with Vault(butler_env, data_key) as vault:
        assert vault.get("contracts", "c1").data == {"price": {"amount": "9.5", "currency": "EUR"},
                                                     "lines": [{"amount": "3", "currency": "USD"}],
                                                     "note": {"amount": 1}}
        assert vault.get(META, SCHEMA).data["applied"] == PINNED
        migrate = [e for e in vault.audit.entries() if e.action == "vault.migrate"]
        assert migrate[-1].details == {"applied": PINNED[1:]}
