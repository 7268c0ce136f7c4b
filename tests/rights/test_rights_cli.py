"""`butler rights …` end to end in one home: discover a Maildir, list, request, approve, status, match, update."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.vaultkit import make_vault, passphrase_file, run_main

from butler import profile
from butler.rights.database import Database
from tests.rights.brandmail import brand_messages, brands, write_maildir
from tests.rights.conftest import ME


@pytest.fixture
def home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    vault = make_vault(butler_env)
    profile.save(vault, ME)
    vault.close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    return butler_env


def test_the_rights_commands_from_discovery_to_a_letter(home: Path, db: Database, tmp_path: Path) -> None:
    every = brands(db, known=2, unknown=1)
    maildir = write_maildir(tmp_path / "Maildir", brand_messages(every, per_brand=3))
    out = run_main("rights", "discover", "--maildir", str(maildir))
    assert out.returncode == 0 and "read 9 message(s): 3 counterparties (3 new)" in out.stdout
    listed = run_main("rights", "list").stdout
    line = next(row for row in listed.splitlines() if row.startswith(every[0].domain))
    assert f"[{every[0].slug}] by " in line and "web domain" in line and line.endswith("(certain)")
    assert "kettle-shop-0.example" in listed and "no record" in listed

    out = run_main("rights", "match", "kettle-shop-0.example", "skillshare")
    assert out.returncode == 0 and "skillshare" in run_main("rights", "list").stdout

    out = run_main("rights", "request", "4wmarketplace", "--kind", "access", "--with", "name")
    assert out.returncode == 0 and "as a letter" in out.stdout
    reference = out.stdout.split(":", 1)[0]
    approval = out.stdout.rsplit("butler approvals approve ", 1)[1].split("`")[0]
    assert run_main("approvals", "approve", approval).returncode == 0
    status = run_main("rights", "status", reference).stdout
    assert "records verify" in status and "letter" in status and "due " in status

    assert run_main("rights", "extended", reference).returncode == 0
    assert "(extended)" in run_main("rights", "status", reference).stdout
    assert run_main("rights", "close", reference).returncode == 0
    assert "closed by you" in run_main("rights", "status", reference).stdout
    out = run_main("rights", "request", "skillshare", "--kind", "rectification")
    assert out.returncode == 11 and "--change" in out.stderr
    out = run_main("rights", "request", "skillshare", "--kind", "rectification", "--change", "Name: Ada King")
    assert out.returncode == 0 and "Name: Ada King" in out.stdout and "Article 16 GDPR" in out.stdout

    bad = tmp_path / "not-a-database.json"
    bad.write_text("{}")
    out = run_main("rights", "update", str(bad))
    assert out.returncode == 11 and "not a company database snapshot" in out.stderr
    out = run_main("rights", "request", "no-such-company.example")
    assert out.returncode == 11 and "no company" in out.stderr
