"""Freshness: an older but genuine copy of vault.log, of its commit area, of audit.log, or of both, is refused,
so a revoked spending mandate never comes back; what is not caught is what docs/vault.md says is not caught.

Every earlier state of a vault (after each of its writes) is put back in each of those ways, with the anchor and
without it; the counts are asserted exactly.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_main

from butler import paths
from butler.errors import VaultRolledBack
from butler.models import Money
from butler.negotiate import mandate
from butler.vault import Vault
from butler.vault.framelog import DATA_START, HEADER_LEN
from butler.vault.freshness import FileAnchors

FILES = ("vault.key", "vault.log", "audit.log")


def _mandate() -> mandate.Mandate:
    return mandate.Mandate(max_amount=Money.of("50.00", "EUR"), vendors=("acme",), categories=("energy",),
                           expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))


@dataclass(frozen=True)
class Snapshot:
    what: str  # the write after which it was taken
    files: dict[str, bytes]


def _snapshot(home: Path, what: str) -> Snapshot:
    return Snapshot(what, {name: (home / name).read_bytes() for name in FILES})


def _history(home: Path) -> tuple[bytes, list[Snapshot]]:
    """A vault with a mandate set, then revoked, then more writes; a snapshot after each write."""
    snaps = []
    with make_vault(home) as vault:
        key = vault.data_key
        snaps.append(_snapshot(home, "created"))
        vault.put("items", "a", {"n": 1})
        snaps.append(_snapshot(home, "put a"))
        mandate.set_mandate(vault, _mandate())  # a put, then an audit-only entry
        snaps.append(_snapshot(home, "mandate set"))
        assert mandate.revoke(vault)
        snaps.append(_snapshot(home, "mandate revoked"))
        vault.put("items", "b", {"n": 2})
        snaps.append(_snapshot(home, "put b"))
        vault.audit.append("test.note", "an entry with no change")
        snaps.append(_snapshot(home, "audit-only entry"))
    return key, snaps


def _open(home: Path, key: bytes) -> Vault:
    return Vault(home, key)


def _put_back(home: Path, snap: Snapshot, how: str) -> None:
    if how in ("vault.log", "both"):
        (home / "vault.log").write_bytes(snap.files["vault.log"])
    if how in ("audit.log", "both"):
        (home / "audit.log").write_bytes(snap.files["audit.log"])
    if how == "commit area":  # the two commit slots only: 64 bytes
        data = bytearray((home / "vault.log").read_bytes())
        data[HEADER_LEN:DATA_START] = snap.files["vault.log"][HEADER_LEN:DATA_START]
        (home / "vault.log").write_bytes(bytes(data))


def _outcome(home: Path, key: bytes) -> str:
    """"refused", or what the vault says of the mandate when it opens."""
    try:
        with _open(home, key) as vault:
            return "revived" if mandate.current(vault) is not None else "revoked"
    except VaultRolledBack:
        return "refused"


HOWS = ("vault.log", "commit area", "audit.log", "both")


def _run_matrix(tmp_path: Path, *, anchor: bool) -> dict[str, dict[str, int]]:
    """Put back every older state in every way (a way that changes no byte is no rollback and is skipped);
    count the outcomes."""
    source = tmp_path / "source"
    key, snaps = _history(source)
    final = {name: (source / name).read_bytes() for name in FILES}
    anchor_file = FileAnchors(Vault(source, key).vault_id, source).path
    saved_anchor = anchor_file.read_bytes()
    counts: dict[str, dict[str, int]] = {how: {"refused": 0, "revoked": 0, "revived": 0} for how in HOWS}
    for snap in snaps[:-1]:  # every state older than the newest
        for how in HOWS:
            for name, data in final.items():
                (source / name).write_bytes(data)
            anchor_file.write_bytes(saved_anchor)
            if not anchor:
                anchor_file.unlink()
            _put_back(source, snap, how)
            if all((source / name).read_bytes() == data for name, data in final.items()):
                continue  # e.g. vault.log after the last record write: only audit.log moved on since
            counts[how][_outcome(source, key)] += 1
    return counts


def test_every_rollback_is_refused_with_the_anchor(tmp_path: Path) -> None:
    counts = _run_matrix(tmp_path, anchor=True)
    assert counts == {"vault.log": {"refused": 4, "revoked": 0, "revived": 0},
                      "commit area": {"refused": 4, "revoked": 0, "revived": 0},
                      "audit.log": {"refused": 5, "revoked": 0, "revived": 0},
                      "both": {"refused": 5, "revoked": 0, "revived": 0}}


def test_without_the_anchor_the_files_still_bind_each_other(tmp_path: Path) -> None:
    """The anchor removed as well: one file put back is still refused (the other names it), except audit.log
    losing only entries that changed no record; both put back together, consistent with each other, is what only
    the anchor catches (docs/vault.md)."""
    counts = _run_matrix(tmp_path, anchor=False)
    assert counts == {"vault.log": {"refused": 4, "revoked": 0, "revived": 0},
                      "commit area": {"refused": 4, "revoked": 0, "revived": 0},
                      "audit.log": {"refused": 4, "revoked": 1, "revived": 0},
                      "both": {"refused": 0, "revoked": 4, "revived": 1}}


def test_the_revoked_mandate_stays_revoked_and_the_error_says_what_to_do(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key, snaps = _history(home)
    before_revocation = next(s for s in snaps if s.what == "mandate set")
    (home / "vault.log").write_bytes(before_revocation.files["vault.log"])
    with pytest.raises(VaultRolledBack) as caught:
        _open(home, key)
    assert "vault.log is older than" in caught.value.message
    assert "butler vault accept-rollback" in caught.value.hint
    pw = passphrase_file(tmp_path / "pw")
    shown = run_main("vault", "status", env={"BUTLER_HOME": str(home), "BUTLER_PASSPHRASE_FILE": str(pw)})
    assert shown.returncode == 4 and "older than" in shown.stderr and "accept-rollback" in shown.stderr


def test_a_rechained_audit_log_is_refused(tmp_path: Path) -> None:
    """Whoever holds the key rewrites audit.log without its last entries, chain and signatures recomputed: the
    anchor names an entry the new log does not hold."""
    home = tmp_path / "home"
    key, snaps = _history(home)
    with _open(home, key) as vault:
        entries = vault.audit.entries()
        signing_key = vault._signing_key()
    assert signing_key is not None and all(e.sig for e in entries[2:])
    older = snaps[2].files  # keep vault.log, rewrite audit.log from an older copy plus forged entries
    (home / "audit.log").write_bytes(older["audit.log"])
    with Vault(home, key, anchors=lambda vault_id: [], trust_files=True) as forger:
        for _ in range(len(entries)):  # as long as before, so its length alone does not give it away
            forger.audit.append("forged", "entry")
    with pytest.raises(VaultRolledBack, match=r"not the one|rewritten|older"):
        _open(home, key)


def test_accepting_a_rollback_on_purpose(tmp_path: Path) -> None:
    home = tmp_path / "home"
    key, snaps = _history(home)
    for name in ("vault.log", "audit.log"):
        (home / name).write_bytes(snaps[1].files[name])
    pw = passphrase_file(tmp_path / "pw")
    env = {"BUTLER_HOME": str(home), "BUTLER_PASSPHRASE_FILE": str(pw)}
    refused = run_main("vault", "accept-rollback", env=env)  # no terminal, no --yes: nothing changes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    with pytest.raises(VaultRolledBack):
        _open(home, key)
    accepted = run_main("vault", "accept-rollback", "--yes", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted: the vault now stands at" in accepted.stdout
    with _open(home, key) as vault:
        assert vault.get("items", "a") is not None and vault.get("items", "b") is None
        last = vault.audit.entries()[-1]
        assert last.action == "vault.rollback-accepted" and last.actor == "person"
        vault.put("items", "c", {"n": 3})
    with _open(home, key) as vault:
        assert vault.get("items", "c") is not None
    again = run_main("vault", "accept-rollback", "--yes", env=env)
    assert again.returncode == 0 and "nothing to accept" in again.stdout


def test_an_import_of_an_older_backup_is_not_a_rollback(tmp_path: Path) -> None:
    from butler.vault import export_backup, import_backup

    home = tmp_path / "home"
    with make_vault(home) as vault:
        vault.put("items", "a", {"n": 1})
        export_backup(vault, tmp_path / "b.bak")
        vault.put("items", "b", {"n": 2})
        key = vault.data_key
    import_backup(tmp_path / "b.bak", home, PASSPHRASE, replace=True)
    with _open(home, key) as vault:
        assert vault.get("items", "b") is None and vault.get("items", "a") is not None


def test_a_copy_elsewhere_has_its_own_anchor(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with make_vault(home) as vault:
        vault.put("items", "a", {"n": 1})
        key = vault.data_key
    shutil.copytree(home, tmp_path / "copy")
    with _open(tmp_path / "copy", key) as copy:
        copy.put("items", "only-in-the-copy", {"n": 2})
    with _open(home, key) as vault:  # the original is not "older" than its copy
        assert vault.get("items", "only-in-the-copy") is None


def test_the_anchor_lives_outside_the_home_and_follows_every_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with make_vault(home) as vault:
        store = FileAnchors(vault.vault_id, home)
        assert not store.path.is_relative_to(home) and store.path.is_relative_to(paths.state_dir())
        first = store.load()
        vault.put("items", "a", {"n": 1})
        after_put = store.load()
        vault.audit.append("test.note")
        after_note = store.load()
    assert first is not None and after_put is not None and after_note is not None
    assert after_put.head.vault_seq > first.head.vault_seq
    assert after_note.head.audit_length > after_put.head.audit_length
    assert after_note.head.vault_seq == after_put.head.vault_seq
    assert store.path.stat().st_mode & 0o777 == 0o600


def test_with_a_keyring_the_anchor_lives_beside_the_key(secret_service: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both files put back and the state-directory anchor removed: the keyring's anchor still refuses them."""
    from butler.vault import keyring_store, open_vault

    home = tmp_path / "home"
    with make_vault(home) as vault:
        vault_id = vault.vault_id
        store = keyring_store(home)
        assert store is not None
        store.remember(vault)
    with open_vault(home, interactive=False).vault as vault:
        mandate.set_mandate(vault, _mandate())
    old = {name: (home / name).read_bytes() for name in ("vault.log", "audit.log")}
    with open_vault(home, interactive=False).vault as vault:
        assert mandate.revoke(vault)
    assert store.get_text(f"{FileAnchors(vault_id, home).path.stem}.anchor") is not None
    for name, data in old.items():
        (home / name).write_bytes(data)
    FileAnchors(vault_id, home).path.unlink()
    with pytest.raises(VaultRolledBack, match="OS keyring"):
        open_vault(home, interactive=False)
