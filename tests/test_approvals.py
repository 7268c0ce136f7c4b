"""The shared approval queue: every kind listed in one shape, answers carried out once."""

from __future__ import annotations

from pathlib import Path

import pytest

from butler import approvals
from butler.cli import main
from butler.errors import UsageError
from butler.vault import KdfParams, Vault


@pytest.fixture
def vault(butler_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Vault:
    import os

    home = Path(os.environ["BUTLER_HOME"])
    secret = tmp_path / "pw"
    secret.write_text("approval-pass\n")
    secret.chmod(0o600)
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(secret))
    return Vault.create(home, "approval-pass", KdfParams.fast_for_tests())


def test_lists_every_kind_oldest_first_and_decides_once(vault: Vault, capsys: pytest.CaptureFixture[str]) -> None:
    vault.put("approvals", "r1", {"kind": "renewal-reminder", "state": "pending", "contract": "energy",
                                  "renewal_date": "2026-12-24", "created": "2026-11-02"})
    vault.put("approvals", "p1", {"kind": "purchase", "state": "pending", "vendor": "parla", "offer": "parla-5",
                                  "terms": {"price": "7.86 EUR", "term_months": 0}, "created": "2026-11-01",
                                  "reasons": ["parla: accepted (utility 0.58)"]})
    vault.put("approvals", "old", {"kind": "purchase", "state": "rejected", "vendor": "x", "created": "2026-01-01"})
    items = approvals.pending(vault)
    assert [i.id for i in items] == ["p1", "r1"]
    assert items[0].summary == "buy parla-5 from parla at 7.86 EUR with no fixed term"
    assert items[0].reasons == ("parla: accepted (utility 0.58)",)
    vault.close()

    assert main(["approvals", "list"]) == 0
    out = capsys.readouterr().out
    assert "p1  [purchase]" in out and "renews on 2026-12-24" in out and "old" not in out

    assert main(["approvals", "reject", "r1"]) == 0
    assert "rejected" in capsys.readouterr().out
    assert main(["approvals", "reject", "r1"]) != 0  # decided once only
    assert "already rejected" in capsys.readouterr().err


def test_unknown_item_is_a_clear_error(vault: Vault) -> None:
    with pytest.raises(UsageError):
        approvals.decide(vault, "nope", approve=True)
    vault.close()


def test_answers_are_audited(vault: Vault) -> None:
    vault.put("approvals", "r2", {"kind": "renewal-reminder", "state": "pending", "contract": "phone"})
    approvals.decide(vault, "r2", approve=True)
    assert vault.get("approvals", "r2").data["state"] == "approved"  # type: ignore[union-attr]
    entry = vault.audit.entries()[-2]
    assert entry.action == "approval.approved" and entry.actor == "person" and entry.subject == "r2"
    vault.close()
