"""The mail sweep feeds discovery what it fetches (read-only), and a failing reader never stops the sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pytest

from butler.mail.maildir import MaildirSource
from butler.mail.settings import MailSettings
from butler.mail.sweep import MailSweep
from butler.rights import counterparties, requests
from butler.rights.database import Database
from butler.rights.discover import MailReader
from butler.rights.draft import draft_request
from butler.vault import Vault
from butler.wiring import desk, mail_readers
from tests.mail.mailfactory import promotion
from tests.rights.brandmail import brand_messages, brands, write_maildir


class Broken:
    def read(self, raws: Iterable[bytes]) -> object:
        raise RuntimeError("a bug in another feature")

    def finish(self, source: object, folder: str) -> object:
        raise RuntimeError("another bug in another feature")


def test_the_sweep_feeds_discovery_and_survives_a_broken_reader(vault: Vault, db: Database, tmp_path: Path) -> None:
    every = brands(db, known=3, unknown=0)
    maildir = write_maildir(tmp_path / "Maildir", [*brand_messages(every, per_brand=2), promotion()])
    reader = MailReader(vault, db)
    report = MailSweep(MaildirSource(maildir), MailSettings(), home=tmp_path / "home",
                       readers=[Broken(), reader]).run()
    assert report.examined == 7
    assert reader.found.messages == 7
    found = {c.key: c.company for c in counterparties.all_counterparties(vault)}
    assert {b.domain: b.slug for b in every}.items() <= found.items()


def test_the_sweep_s_reader_drafts_the_admonition_of_an_overdue_request(
        vault: Vault, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drafted = draft_request(vault, db, "4wmarketplace", "access", fields=("name",))
    desk().decide(vault, drafted.approval_id, approve=True)  # a letter: sent today
    reader = mail_readers(vault)[0]
    assert isinstance(reader, MailReader) and reader.read([]).drafted == []
    later = requests.now() + dt.timedelta(days=32)
    monkeypatch.setattr(requests, "now", lambda: later)
    assert reader.read([]).drafted == [f"data-request:{drafted.reference}-admonition"]
    assert MailReader(vault, db).read([]).drafted == []  # `butler rights discover` leaves that to `remind`
