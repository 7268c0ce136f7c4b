"""The daemon's mail job: the mailbox set up in the vault is swept unattended, against a real Dovecot."""

from __future__ import annotations

from pathlib import Path

from butler.daemon import jobs
from butler.mail.account import save_password, save_settings
from butler.vault import KdfParams, Vault
from tests.mail.conftest import IMAP_PASS, Dovecot
from tests.mail.mailfactory import personal, promotion


def test_daemon_job_sweeps_the_configured_mailbox(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.new_user()
    dovecot.append(promotion("shoply.example", subject="48 hours only: 30% off everything"), personal())
    home = tmp_path / "home"
    with Vault.create(home, "pw", KdfParams.fast_for_tests()) as vault:
        assert jobs.mail_sweep(jobs.JobContext(home=home, vault=vault)).startswith("skipped: no mailbox set up")
        save_settings(vault, dovecot.settings())
        save_password(vault, IMAP_PASS)
        summary = jobs.mail_sweep(jobs.JobContext(home=home, vault=vault))
        assert summary.startswith("examined 2 new message(s)") and "moved 1 to Promotions" in summary
        entry = [e for e in vault.audit.entries() if e.action == "mail.sweep"][-1]
        assert entry.details["examined"] == 2 and entry.details["moved"] == 1
        again = jobs.mail_sweep(jobs.JobContext(home=home, vault=vault))
        assert "moved nothing" in again
    with dovecot.client() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 1
        assert client.select_folder("Promotions")[b"EXISTS"] == 1
