"""A vault with something on every screen: approvals, negotiations, intents, contracts, terms, mail sweeps."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from butler.mail import MaildirSource, MailSettings, MailSweep
from butler.vault import Vault
from tests.helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file
from tests.mail.mailfactory import personal, promotion, receipt


@dataclass
class Seeded:
    home: Path
    maildir: Path
    vault: Vault


def seed(vault: Vault) -> None:
    today = dt.date.today()
    vault.put("approvals", "purchase-s1", {
        "kind": "purchase", "state": "pending", "vendor": "parla", "offer": "parla-5", "session": "s1",
        "agreed_terms": {"price": {"amount": "7.86", "currency": "EUR"}, "term_months": 12}, "period": "month",
        "connector": "parla", "created": "2026-01-02T10:00:00",
        "reasons": ["parla: accepted (utility 0.58)", "voltra: no outcome beats walking away (utility 0.00)"]})
    vault.put("approvals", "renew-energy", {
        "kind": "renewal-reminder", "state": "pending", "contract_id": "energy", "vendor_id": "coalco",
        "renewal_date": (today + dt.timedelta(days=30)).isoformat(), "created": "2026-01-03T09:00:00",
        "reasons": ["the contract renews by itself in 30 days"]})
    vault.put("negotiations", "s1", {
        "vendor": "parla", "offer": "parla-5", "offer_data": {"product": "Parla 5 GB"}, "reason": "accepted",
        "utility": 0.58,
        "agreed": {"price": "7.86 EUR", "term_months": 12, "data_use": "service", "extras": []},
        "at": "2026-01-02T10:00:00+00:00",
        "exchanges": [
            {"round": 1, "proposer": "vendor", "utility": 0.31,
             "terms": {"price": "9.99 EUR", "term_months": 24, "data_use": "marketing", "extras": []}},
            {"round": 2, "proposer": "buyer", "utility": 0.66,
             "terms": {"price": "7.49 EUR", "term_months": 12, "data_use": "service", "extras": []}},
            {"round": 3, "proposer": "vendor", "utility": 0.58,
             "terms": {"price": "7.86 EUR", "term_months": 12, "data_use": "service", "extras": ["roaming"]}},
        ]})
    vault.put("intents", "i1", {"id": "i1", "description": "a cheaper mobile plan", "category": "mobile",
                                "budget": {"amount": "10", "currency": "EUR"}, "status": "open",
                                "created": "2026-01-01T00:00:00+00:00"})
    vault.put("contracts", "mobile", {
        "id": "mobile", "vendor_id": "parla", "product": "Parla Mobile 10GB", "category": "mobile",
        "price": {"amount": "9.99", "currency": "EUR"}, "period": "month", "term_months": 12,
        "start": "2025-01-01", "renewal_date": (today + dt.timedelta(days=12)).isoformat(), "auto_renew": True})
    vault.put("contracts", "energy", {
        "id": "energy", "vendor_id": "voltra", "product": "Voltra Green", "category": "energy",
        "price": {"amount": "61.00", "currency": "EUR"}, "period": "month", "term_months": 12,
        "start": "2025-02-01", "renewal_date": (today + dt.timedelta(days=30)).isoformat()})
    vault.put("mail", "imap-password", {"value": "hunter2-imap-secret"})
    vault.put("mail", "smtp-password", {"value": "hunter3-smtp-secret"})
    vault.audit.append("mail.sweep", "demo maildir", {"examined": 5, "moved": 2})


def maildir_with_promotions(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i, raw in enumerate([promotion("a.example"), promotion("b.example"), receipt("a.example"), personal()]):
        (root / "new" / f"1700000{i}.M{i}P1.host").write_bytes(raw)
    return root


@pytest.fixture
def seeded(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    home = Path(os.environ["BUTLER_HOME"])
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret", PASSPHRASE)))
    vault = make_vault(home)
    seed(vault)
    maildir = maildir_with_promotions(tmp_path / "Maildir")
    MailSweep(MaildirSource(maildir), MailSettings(), home=home).run()
    vault.close()
    yield Seeded(home, maildir, vault)


@pytest.fixture
def still_home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home that renders the same everywhere (frozen clock, UTC, fixed data), opened from a passphrase file."""
    from tests.tui.stillhome import freeze_clock, seed_still_home

    freeze_clock(monkeypatch)
    home = Path(os.environ["BUTLER_HOME"])
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret", PASSPHRASE)))
    with make_vault(home) as vault:
        seed_still_home(vault)
    yield home
