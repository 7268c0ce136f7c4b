"""`butler daemon install [--print]` and `butler status`."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path

import pytest

from butler import cli
from butler.daemon import DaemonLock, sync_jobs
from butler.daemon.jobs import default_specs
from butler.daemon.runner import run_job
from butler.daemon.systemd import service_file
from butler.vault import Vault


@pytest.mark.usefixtures("daemon_cli")
def test_install_writes_the_user_unit_and_only_prints_how_to_enable(butler_env: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["daemon", "install"]) == 0
    out = capsys.readouterr().out
    unit = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / "butler.service"
    text = unit.read_text()
    assert "ExecStart=" in text and "-m butler.daemon run" in text
    assert f"Environment=BUTLER_HOME={butler_env}" in text
    assert "WantedBy=default.target" in text
    assert str(unit) in out and "systemctl --user enable --now butler" in out

    assert cli.main(["daemon", "install"]) == 0
    assert "up to date" in capsys.readouterr().out

    assert cli.main(["daemon", "install", "--print"]) == 0
    assert capsys.readouterr().out == text


def test_macos_gets_a_launchd_agent(butler_env: Path) -> None:
    target = service_file(platform="darwin")
    plist = plistlib.loads(target.text.encode())
    assert target.path.name == "org.butler.daemon.plist" and "LaunchAgents" in str(target.path)
    assert plist["ProgramArguments"][-3:] == ["-m", "butler.daemon", "run"]
    assert plist["EnvironmentVariables"]["BUTLER_HOME"] == str(butler_env)
    assert plist["RunAtLoad"] is True
    assert target.enable.startswith("launchctl bootstrap gui/")


@pytest.mark.usefixtures("daemon_cli")
def test_status_shows_daemon_jobs_and_pending_approvals(open_vault_at: Vault, vault_home: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for item_id, kind, state in (("a", "renewal-reminder", "pending"), ("b", "renewal-reminder", "pending"),
                                 ("c", "myterms-counter-offer", "pending"), ("d", "renewal-reminder", "approved")):
        open_vault_at.put("approvals", item_id, {"kind": kind, "state": state})
    sync_jobs(vault_home, default_specs())
    run_job("audit-verify", "butler.daemon.jobs:audit_verify")

    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "daemon: not running" in out
    assert "approvals waiting: 3 (1 myterms-counter-offer, 2 renewal-reminder)" in out
    audit_line = next(line for line in out.splitlines() if "audit-verify" in line)
    assert "ok: audit log OK" in audit_line and " - " not in audit_line  # last and next run both known
    assert "never ran" in next(line for line in out.splitlines() if "mail-sweep" in line)

    with DaemonLock(vault_home):
        assert cli.main(["daemon", "status"]) == 0
        assert f"daemon: running, pid {os.getpid()}" in capsys.readouterr().out


@pytest.mark.usefixtures("daemon_cli")
def test_status_says_when_the_vault_is_locked(vault_home: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BUTLER_PASSPHRASE_FILE")
    assert cli.main(["status"]) == 0
    assert "approvals: vault locked" in capsys.readouterr().out


@pytest.mark.usefixtures("daemon_cli")
def test_status_shows_a_failing_jobs_error_text_and_duration(vault_home: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from butler.daemon.state import job_records

    run_job("flaky", "daemon_targets:flaky", False, 60.0)
    assert cli.main(["status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("flaky"))
    assert "failed: RuntimeError: flaky broke on call 1" in line and " s " in line  # the run's duration
    run_job("flaky", "daemon_targets:flaky", False, 60.0)  # fails again: the next run is skipped (back-off)
    run_job("flaky", "daemon_targets:flaky", False, 60.0)
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "skipped: backing off after 2 failure(s)" in out
    assert "error: RuntimeError: flaky broke on call 2" in out  # the error text stays in sight while skipping
    record = next(r for r in job_records(vault_home) if r.id == "flaky")
    assert record.failing and record.error == "RuntimeError: flaky broke on call 2"


@pytest.mark.usefixtures("daemon_cli")
def test_status_counts_only_what_waits(open_vault_at: Vault, vault_home: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for item_id, state in (("a", "pending"), ("b", "done"), ("c", "rejected"), ("d", "failed")):
        open_vault_at.put("approvals", item_id, {"kind": "renewal-reminder", "state": state})
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "approvals waiting: 1 (1 renewal-reminder)" in out


def test_status_imports_neither_the_scheduler_nor_the_jobs_features(vault_home: Path) -> None:
    """`butler status` stays quick: no APScheduler, SQLAlchemy, job code or vendor machinery is imported while
    nothing waits mid-execution (counted, not timed)."""
    import subprocess
    import sys

    probe = ("import sys\nfrom butler.cli import main\nassert main(['status']) == 0\n"
             "heavy = ('apscheduler', 'sqlalchemy', 'butler.daemon.jobs', 'butler.daemon.schedule', "
             "'butler.negotiate', 'butler.mail', 'butler.wiring', 'httpx')\n"
             "print('IMPORTED', sorted(m for m in heavy if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "approvals waiting: 0" in done.stdout
    assert "IMPORTED []" in done.stdout
