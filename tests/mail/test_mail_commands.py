"""The mail commands with a vault: `sweep --maildir` uses the person's intents and settings, `setup` names folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from butler.mail.account import load_settings, save_settings
from butler.mail.settings import MailSettings
from butler.models import Money
from butler.negotiate import intents
from tests.helpers.vaultkit import make_vault, passphrase_file, run_main
from tests.mail.mailfactory import promotion


def _maildir(root: Path, *raws: bytes) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i, raw in enumerate(raws):
        (root / "new" / f"1700000{i}.M{i}P1.host").write_bytes(raw)
    return root


def _inbox_senders(root: Path) -> set[str]:
    return {line.split(b"<")[1].split(b">")[0].decode() for p in (root / "new").iterdir()
            for line in p.read_bytes().splitlines() if line.startswith(b"From:")}


def test_a_promotion_for_an_open_intent_and_a_kept_sender_stay_in_the_inbox(butler_env: Path, tmp_path: Path) -> None:
    vault = make_vault(butler_env)
    intents.add(vault, "a quiet electric kettle", "home", Money.of("80", "EUR"), keywords=("kettle",))
    save_settings(vault, MailSettings(keep_senders=("@keep.example",)))
    vault.close()
    root = _maildir(tmp_path / "Maildir", promotion("kettles.example", subject="Our best kettle: 30% off"),
                    promotion("keep.example"), promotion("other.example"))
    env = {"BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pp"))}
    out = run_main("mail", "sweep", "--maildir", str(root), env=env)
    assert out.returncode == 0, out.stderr
    assert _inbox_senders(root) == {"news@kettles.example", "news@keep.example"}
    assert len(list((root / ".Promotions" / "new").iterdir())) == 1


def test_without_a_vault_the_defaults_apply(tmp_path: Path) -> None:
    root = _maildir(tmp_path / "Maildir", promotion("kettles.example", subject="Our best kettle: 30% off"))
    out = run_main("mail", "sweep", "--maildir", str(root))
    assert out.returncode == 0, out.stderr
    assert _inbox_senders(root) == set()


def test_setup_names_the_folders(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_vault(butler_env).close()
    password = tmp_path / "imap-password"
    password.write_text("secret\n")
    env = {"BUTLER_PASSPHRASE_FILE": str(passphrase_file(tmp_path / "pp"))}
    out = run_main("mail", "setup", "--host", "127.0.0.1", "--user", "me", "--no-tls", "--no-test", "--password-file",
                   str(password), "--promotions-folder", "Werbung", "--spam-folder", "Spam", env=env)
    assert out.returncode == 0, out.stderr
    from butler.vault.keys import open_vault

    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", env["BUTLER_PASSPHRASE_FILE"])
    with open_vault(butler_env, interactive=False).vault as opened:
        settings = load_settings(opened)
    assert (settings.promotions_folder, settings.spam_folder, settings.offers_folder) == ("Werbung", "Spam", "Offers")
