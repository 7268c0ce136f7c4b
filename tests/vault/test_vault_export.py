"""`butler vault export` carries everything the person made in BUTLER_HOME — the vault, config.toml, policies,
mail state and journals, the daemon's job store and state — encrypted; an import into a fresh home restores a
working butler whose policies judge the demo's offers exactly as before. Locks, earlier backups and copies kept
aside stay out."""

from __future__ import annotations

import hashlib
import shutil
import struct
from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_main

from butler.daemon.jobs import default_specs
from butler.daemon.schedule import stored_next_runs, sync_jobs
from butler.daemon.state import DaemonState
from butler.demo.run import _sample_offers
from butler.errors import VaultCorrupt
from butler.mail.state import Journal, MailboxState, account_dir
from butler.policy import evaluate, load_home_policies
from butler.policy.packs import pack_dir
from butler.tui.data.activity import write_seen
from butler.vault import Vault, export_backup, import_backup
from butler.vault.backup import MAGIC, home_files

REPO_POLICIES = pack_dir()
CONFIG = b'[terms]\nallow_loopback = true\n# a-distinctive-config-line\n'
LEFT_OUT = ["vault.lock", "keyring.lock", "daemon.lock", "backups/backup-2024-01-01.bin", "replaced-1/vault.key",
            "vault.log.damaged-20240101T000000Z", ".config.toml.123.tmp", "vault.log.new", "daemon.log"]


def _person_made(home: Path) -> Path:
    """A home with what a person's butler makes over time, plus the things a backup leaves out."""
    with make_vault(home) as vault:
        vault.put("notes", "n1", {"text": "call the energy company"})
    (home / "config.toml").write_bytes(CONFIG)
    (home / "policies").mkdir(mode=0o700)
    for pack in sorted(REPO_POLICIES.glob("*.toml")):
        shutil.copy(pack, home / "policies" / pack.name)
    mailbox = account_dir("me@example.org", home)
    state = MailboxState.load(mailbox)
    state.folder("INBOX")["last_uid"] = 42
    state.save()
    Journal(mailbox).append([{"key": "m1", "op": "planned", "to": "Promotions"}])
    sync_jobs(home, default_specs())
    daemon_state = DaemonState.load(home)
    daemon_state.job("mail-sweep").last_result = "ok: 3 moved"
    daemon_state.save()
    write_seen(home, 7)
    for name in LEFT_OUT:
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_bytes(b"left out")
    return home


def _files(home: Path) -> dict[str, str]:
    return {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in home_files(home)
            if name != "schedule.sqlite"}


def _judged(home: Path) -> list[tuple[str, str, list[str]]]:
    policies = load_home_policies(home)
    out = []
    for offer in _sample_offers():
        decision = evaluate(offer, policies)
        reasons = [f"{r.rule_id} {r.location}: {r.text}".replace(str(home), "HOME") for r in decision.fired]
        out.append((offer.id, str(decision.verdict), reasons))
    return out


def test_export_then_import_into_a_fresh_home_restores_a_working_butler(butler_env: Path, tmp_path: Path) -> None:
    source = _person_made(butler_env)
    backup = tmp_path / "everything.bak"
    with Vault(source, Vault.key_from_passphrase(source, PASSPHRASE)) as vault:
        export_backup(vault, backup)
        exported = vault.audit.entries()[-1]
    assert exported.action == "vault.export"
    carried = set(exported.details["files"])
    assert {"config.toml", "schedule.sqlite", "daemon-state.json", "tui-seen.json"} <= carried
    assert {f"policies/{p.name}" for p in REPO_POLICIES.glob("*.toml")} <= carried
    assert any(name.startswith("mail/") and name.endswith("/state.json") for name in carried)
    assert any(name.startswith("mail/") and name.endswith("/journal.jsonl") for name in carried)
    assert not carried & set(LEFT_OUT)
    data = backup.read_bytes()
    assert b"a-distinctive-config-line" not in data and b"call the energy company" not in data
    assert b"[[rules]]" not in data  # the policies are sealed too

    fresh = tmp_path / "fresh"
    assert import_backup(backup, fresh, PASSPHRASE) is None
    assert _files(fresh) == _files(source)
    assert not [name for name in LEFT_OUT if (fresh / name).exists() and (fresh / name).read_bytes() == b"left out"]
    assert set(stored_next_runs(fresh)) == {spec.id for spec in default_specs()}
    assert DaemonState.load(fresh).job("mail-sweep").last_result == "ok: 3 moved"
    assert _judged(fresh) == _judged(source)
    assert len(_judged(fresh)) >= 4 and any(verdict != "allow" for _, verdict, _ in _judged(fresh))

    env = {"BUTLER_HOME": str(fresh), "BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pw"))}
    got = run_main("vault", "get", "notes", "n1", env=env)
    assert got.returncode == 0 and "call the energy company" in got.stdout
    assert run_main("audit", "verify", env=env).returncode == 0


def test_import_over_a_home_moves_what_it_replaces_aside(butler_env: Path, tmp_path: Path) -> None:
    source = _person_made(butler_env)
    backup = tmp_path / "b.bak"
    with Vault(source, Vault.key_from_passphrase(source, PASSPHRASE)) as vault:
        export_backup(vault, backup)
    (source / "config.toml").write_bytes(b"# changed after the backup\n")
    moved = import_backup(backup, source, PASSPHRASE, replace=True)
    assert moved is not None
    assert (source / "config.toml").read_bytes() == CONFIG
    assert (moved / "config.toml").read_bytes() == b"# changed after the backup\n"
    assert (moved / "vault.key").exists() and (moved / "policies").is_dir()


def test_a_version_1_backup_still_imports(butler_env: Path, tmp_path: Path) -> None:
    with make_vault(butler_env) as vault:
        vault.put("notes", "n1", {"text": "old backup"})
    parts = [(butler_env / name).read_bytes() for name in ("vault.key", "vault.log", "audit.log")]
    body = MAGIC + struct.pack(">H", 1) + b"".join(struct.pack(">I", len(p)) + p for p in parts)
    old = tmp_path / "v1.bak"
    old.write_bytes(body + hashlib.sha256(body).digest())
    import_backup(old, tmp_path / "fresh", PASSPHRASE)
    with Vault(tmp_path / "fresh", Vault.key_from_passphrase(tmp_path / "fresh", PASSPHRASE)) as vault:
        assert vault.get("notes", "n1").data == {"text": "old backup"}


def test_a_backup_naming_a_file_outside_the_home_is_refused(butler_env: Path, tmp_path: Path) -> None:
    from butler.vault import backup as backup_module

    with make_vault(butler_env) as vault:
        key, vault_id = vault.data_key, vault.vault_id
        parts = [(butler_env / name).read_bytes() for name in ("vault.key", "vault.log", "audit.log")]
    for evil in ("../escape", "/etc/passwd", "vault.key", "backups/x", "a/../../b"):
        sealed = backup_module._seal_files(key, vault_id, backup_module._pack_files([(evil, b"x")]))
        body = MAGIC + struct.pack(">H", 2) + b"".join(struct.pack(">I", len(p)) + p for p in [*parts, sealed])
        bad = tmp_path / "bad.bak"
        bad.write_bytes(body + hashlib.sha256(body).digest())
        with pytest.raises(VaultCorrupt, match="never backs up"):
            import_backup(bad, tmp_path / "target", PASSPHRASE)
        assert not (tmp_path / "target" / "vault.key").exists()
