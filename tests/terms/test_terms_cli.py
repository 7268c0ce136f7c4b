"""`butler terms …` in-process, against the example vendor on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from terms_kit import VendorHandle

import butler.cli
from butler.cli import main
from butler.terms import TermsError, verify_export
from butler.vault import Vault


@pytest.fixture
def cli_vault(terms_vault: Vault, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vault the CLI opens itself (with BUTLER_PASSPHRASE_FILE); the fixture's handle is closed first."""
    # only our commands: other features' command modules may be half-built in a shared checkout
    monkeypatch.setattr(butler.cli, "COMMAND_MODULES", ["butler.terms.commands"])
    terms_vault.close()
    return terms_vault.home


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["terms", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_and_set(cli_vault: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "--roster")
    assert code == 0 and "Everyone: you proffer SD-BASE" in out and "TPR-IDENTITY-REF" in out
    assert "prohibits sharing any data with 3rd Party" in out
    code, out, _ = run(capsys, "set", "--proffer", "SD-BASE-DP", "--category", "telecom", "--accept", "SD-BASE-A-DP")
    assert code == 0 and "Category telecom: you proffer SD-BASE-DP" in out and "SD-BASE-A-DP:" in out
    code, _, err = run(capsys, "set", "--proffer", "SD-ALL")
    assert code == 2 and "not a MyTerms agreement" in err and "hint:" in err


def test_discover_proffer_pending_approve_records_verify(cli_vault: Path, terms_vendor: VendorHandle,
                                                         capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    terms_vendor.behave(accepts=("SD-BASE-A",), alternative="SD-BASE-A")
    code, out, _ = run(capsys, "discover", terms_vendor.url)
    assert code == 0 and "SD-BASE-A" in out and "Global Privacy Control honoured: yes" in out

    code, out, _ = run(capsys, "proffer", terms_vendor.url)
    assert code == 0 and "waits for you" in out
    code, out, _ = run(capsys, "pending")
    assert code == 0 and "the vendor offers SD-BASE-A" in out
    approval_id = out.split()[0]
    code, out, _ = run(capsys, "approve", approval_id)
    assert code == 0 and "agreed on SD-BASE-A" in out
    code, out, _ = run(capsys, "pending")
    assert "Nothing waits for you." in out

    code, out, _ = run(capsys, "records", terms_vendor.url)
    assert code == 0 and out.count("\n") == 5 and "AgreementAccepted" in out
    code, out, _ = run(capsys, "verify", terms_vendor.key)
    assert code == 0 and "5 records" in out
    target = tmp_path / "evidence.json"
    code, out, _ = run(capsys, "records", terms_vendor.key, "--export", str(target))
    assert code == 0 and target.exists()
    assert verify_export(json.loads(target.read_text(encoding="utf-8"))).ok
    assert all(h.get("sec-gpc") == "1" for _, _, h in terms_vendor.seen.requests)


def test_reject_refusal_and_errors(cli_vault: Path, terms_vendor: VendorHandle,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    terms_vendor.behave(accepts=(), alternative="SD-BASE-ATP")
    code, out, _ = run(capsys, "proffer", terms_vendor.url)
    approval_id = out.split("approve ")[1].split("`")[0]
    code, out, _ = run(capsys, "reject", approval_id)
    assert code == 0 and "You refused SD-BASE-ATP" in out
    code, _, err = run(capsys, "approve", approval_id)
    assert code == 2 and "already rejected" in err

    terms_vendor.behave(accepts=())
    code, out, _ = run(capsys, "proffer", terms_vendor.url)
    assert code == 1 and "refused SD-BASE" in out

    terms_vendor.behave(raw_proffer=(200, b"garbage"))
    code, _, err = run(capsys, "proffer", terms_vendor.url)
    assert code == TermsError.exit_code == 10 and "valid JSON" in err and "nothing was agreed" in err
    code, _, err = run(capsys, "proffer", "http://127.0.0.1:9")
    assert code == 75 and "cannot reach" in err
    code, _, err = run(capsys, "proffer", "ftp://x")
    assert code == 2


def test_verify_reports_tampering(cli_vault: Path, terms_vendor: VendorHandle,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "proffer", terms_vendor.url)[0] == 0
    vault = Vault(cli_vault, Vault.key_from_passphrase(cli_vault, "terms test passphrase"))
    try:
        stored = vault.get("agreements", f"{terms_vendor.key}#00000000")
        assert stored is not None
        vault.put("agreements", stored.id, {**stored.data, "term_id": "SD-BASE-ATP"})
    finally:
        vault.close()
    code, _, err = run(capsys, "verify", terms_vendor.url)
    assert code == 5 and "do not verify" in err and "record 0" in err
