"""`butler doctor`: a healthy home exits 0; each broken home is named by its own finding, with a fix, and the
exit code follows the worst severity (1 warnings, 2 errors)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from butler.daemon import DaemonLock
from butler.daemon.runner import install_runtime, run_job
from butler.policy.packs import pack_dir
from tests.helpers.vaultkit import BUTLER, make_vault, passphrase_file, run_main


@pytest.fixture
def healthy(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home as a person who followed `butler init` has it: a vault whose key the daemon finds (a passphrase
    file here), the policy packs, a daemon holding its lock, a backup and a verified audit log."""
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret")))
    (butler_env / "policies").mkdir(mode=0o700)
    for pack in ("ethical-purchasing", "household-budget"):
        target = butler_env / "policies" / f"{pack}.toml"
        shutil.copyfile(pack_dir() / f"{pack}.toml", target)
        target.chmod(0o600)
    run_job("audit-verify", "butler.daemon.jobs:audit_verify")
    run_job("vault-backup", "butler.daemon.jobs:vault_backup")
    install_runtime(None)
    with DaemonLock(butler_env):
        yield butler_env


def doctor(*args: str) -> tuple[int, list[dict[str, Any]]]:
    out = run_main("doctor", "--json", *args)
    assert "Traceback" not in out.stderr, out.stderr
    report = json.loads(out.stdout)
    assert report["exit_code"] == out.returncode
    return out.returncode, report["findings"]


def named(findings: list[dict[str, Any]], severity: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["severity"] == severity]


def test_a_healthy_home_is_all_ok(healthy: Path) -> None:
    code, findings = doctor()
    assert named(findings, "warning") == [] and named(findings, "error") == []
    assert code == 0
    checks = {f["check"] for f in findings}
    assert {"config", "permissions", "vault", "unattended", "daemon", "job:audit-verify", "job:vault-backup",
            "mail", "connectors", "policies", "disk", "backups"} <= checks
    text = run_main("doctor")
    assert text.returncode == 0 and text.stdout.rstrip().endswith("all is well")


def only_error(findings: list[dict[str, Any]]) -> dict[str, Any]:
    errors = named(findings, "error")
    assert len(errors) == 1, errors
    assert errors[0]["fix"]
    return errors[0]


def test_a_vault_file_others_can_read(healthy: Path) -> None:
    (healthy / "vault.log").chmod(0o644)
    (healthy / "policies").chmod(0o755)
    code, findings = doctor()
    assert code == 2
    problems = [f for f in named(findings, "error") if f["check"] == "permissions"]
    assert any("vault.log (0644)" in f["text"] and "chmod 600" in f["fix"] for f in problems)
    assert any("policies (0755)" in f["text"] and "chmod 700" in f["fix"] for f in problems)


def test_a_malformed_policy_file_is_named_with_its_line(healthy: Path) -> None:
    bad = healthy / "policies" / "mine.toml"
    bad.write_text('[[rule]]\nid = "cap"\nkind = "budget"\nmax_per_purchase = "lots"\nreason = "x"\n')
    bad.chmod(0o600)
    code, findings = doctor()
    assert code == 2
    error = only_error(findings)
    assert error["check"] == "policies" and f"{bad}:4" in error["text"]


def test_an_unreachable_mail_server(healthy: Path) -> None:
    from butler.mail.account import save_password, save_settings
    from butler.mail.settings import MailSettings
    from butler.vault.keys import open_vault

    with socket.socket() as probe:  # a port nobody listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open_vault(healthy, interactive=False).vault as vault:
        save_settings(vault, MailSettings(host="127.0.0.1", port=port, username="me", tls=False))
        save_password(vault, "imap-secret")
    code, findings = doctor()
    assert code == 2
    error = only_error(findings)
    assert error["check"] == "mail" and f"cannot reach 127.0.0.1:{port}" in error["text"]
    assert "imap-secret" not in json.dumps(findings)
    _, offline = doctor("--offline")
    assert named(offline, "error") == []


def test_a_rolled_back_vault(healthy: Path) -> None:
    from butler.vault.keys import open_vault

    older = (healthy / "vault.log").read_bytes()
    with open_vault(healthy, interactive=False).vault as vault:
        vault.put("mandates", "m", {"revoked": True})
    (healthy / "vault.log").write_bytes(older)
    code, findings = doctor()
    assert code == 2
    error = only_error(findings)
    assert error["check"] == "vault" and "older copy" in error["text"] and "accept-rollback" in error["fix"]


def test_a_missing_vault_key(healthy: Path) -> None:
    (healthy / "vault.key").unlink()
    code, findings = doctor()
    assert code == 2
    error = only_error(findings)
    assert error["check"] == "vault" and "vault.key is missing" in error["text"] and "backup" in error["fix"]


def test_a_daemon_job_that_failed(healthy: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "daemon"))
    try:
        run_job("flaky", "daemon_targets:flaky", False, 60.0)
    finally:
        sys.path.pop(0)
        install_runtime(None)
    (healthy / "flaky-calls").chmod(0o600)  # the test job's own note, written outside butler's private umask
    code, findings = doctor()
    assert code == 2
    error = only_error(findings)
    assert error["check"] == "job:flaky" and "RuntimeError: flaky broke on call 1" in error["text"]


def test_a_bad_config_file(healthy: Path) -> None:
    (healthy / "config.toml").write_text("[daemon]\nbackup_days = 0\n")
    (healthy / "config.toml").chmod(0o600)
    code, findings = doctor()
    assert code == 2
    error = only_error(findings)
    assert error["check"] == "config" and f"{healthy / 'config.toml'}:2" in error["text"]


def test_no_key_for_unattended_runs_is_a_warning(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUTLER_PASSPHRASE_FILE")
    code, findings = doctor()
    assert code == 1
    warning = next(f for f in named(findings, "warning") if f["check"] == "unattended")
    assert "daemon skips" in warning["text"] and "butler unlock" in warning["fix"]


def test_no_daemon_is_a_warning(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret")))
    code, findings = doctor()
    assert code == 1
    assert {f["check"] for f in named(findings, "warning")} == {"daemon", "policies", "backups"}
    assert named(findings, "error") == []


def test_a_disk_nearly_full(healthy: Path, tmp_path: Path) -> None:
    """The home copied onto a real 2 MiB file system (tmpfs in a private mount namespace)."""
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is missing")
    small = tmp_path / "small"
    small.mkdir()
    script = ('mount -t tmpfs -o size=2m,mode=0700 tmpfs "$SMALL" && cp -a "$HOME_SRC" "$SMALL/butler" && '
              'BUTLER_HOME="$SMALL/butler" exec "$BUTLER" doctor --json --offline')
    env = {**os.environ, "SMALL": str(small), "HOME_SRC": str(healthy), "BUTLER": BUTLER}
    args = ["unshare", "--mount", "--propagation", "private"]
    if os.getuid() != 0:
        args.append("--map-root-user")
    done = subprocess.run([*args, "sh", "-c", script], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    if "Operation not permitted" in done.stderr and "mount" in done.stderr:
        pytest.fail(f"no private mounts here (CI has them): {done.stderr.strip()}")
    report = json.loads(done.stdout)
    error = only_error(report["findings"])
    assert error["check"] == "disk" and "nearly full" in error["text"] and done.returncode == 2
