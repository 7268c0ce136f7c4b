"""A sweep run by hand (`butler mail sweep`) feeds data-rights discovery as the daemon's does."""

from __future__ import annotations

from pathlib import Path

import pytest

from butler.rights import counterparties
from butler.rights.database import Database
from butler.vault import Vault
from tests.helpers.vaultkit import PASSPHRASE, passphrase_file, run_main
from tests.rights.brandmail import brand_messages, brands, write_maildir


def test_a_sweep_from_the_command_line_finds_the_companies(vault: Vault, db: Database, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    every = brands(db, known=3, unknown=0)
    maildir = write_maildir(tmp_path / "Maildir", brand_messages(every, 2))
    home = vault.home
    vault.close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret", PASSPHRASE)))
    out = run_main("mail", "sweep", "--maildir", str(maildir))
    assert out.returncode == 0, out.stderr
    with Vault(home, Vault.key_from_passphrase(home, PASSPHRASE)) as reopened:
        found = counterparties.all_counterparties(reopened)
    assert len(found) == len(every), [c.key for c in found]
