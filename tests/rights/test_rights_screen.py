"""The data-rights screen (and the overview it shows): counterparties, requests with days left, answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from butler import profile
from butler.mail.maildir import MaildirSource
from butler.rights import requests
from butler.rights.database import Database
from butler.rights.discover import MailReader, discover_source
from butler.rights.draft import draft_request
from butler.rights.overview import overview
from butler.tui import make_app
from butler.tui.screens.rights import RightsScreen
from butler.vault import Vault
from butler.wiring import desk
from tests.helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file
from tests.rights.brandmail import brand_messages, brands, write_maildir
from tests.rights.conftest import ME
from tests.rights.test_rights_bad_input import _mail
from tests.tui.test_tui_screens import cells, settle


def _fill(vault: Vault, db: Database, tmp_path: Path) -> tuple[str, str]:
    every = brands(db, known=2, unknown=0)
    discover_source(vault, db, MaildirSource(write_maildir(tmp_path / "Maildir", brand_messages(every, 2))))
    answered = draft_request(vault, db, "autohaus24", "access")
    waiting = draft_request(vault, db, "4wmarketplace", "erasure", fields=("name",))
    for drafted in (answered, waiting):
        desk().decide(vault, drafted.approval_id, approve=True)  # no SMTP: letters
    MailReader(vault, db).read([_mail("info@autohaus24.de", f"Re: {answered.reference}")])
    return answered.reference, waiting.reference


def test_the_overview_counts_days_left_and_lists_answers(vault: Vault, db: Database, tmp_path: Path) -> None:
    answered, waiting = _fill(vault, db, tmp_path)
    later = requests.now() + dt.timedelta(days=40)
    seen = overview(vault, db, now=later)
    assert len(seen.counterparties) == 2 and all(c.quality == "certain" for c in seen.counterparties)
    rows = {r.reference: r for r in seen.requests}
    assert rows[answered].state == "answered" and rows[answered].days_left is None
    assert rows[waiting].state == "open" and rows[waiting].days_left is not None and rows[waiting].days_left < 0
    assert [(a.reference, a.sender) for a in seen.answers] == [(answered, "info@autohaus24.de")]


@pytest.fixture
def filled_home(butler_env: Path, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "secret", PASSPHRASE)))
    with make_vault(butler_env) as vault:
        profile.save(vault, ME)
        return _fill(vault, db, tmp_path)


async def test_the_screen_shows_them(butler_env: Path, filled_home: tuple[str, str]) -> None:
    answered, waiting = filled_home
    app = make_app(butler_env)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app)
        await app.push_screen(RightsScreen())
        await settle(app)
        await pilot.pause()
        shown = {row[0]: row for row in cells(app.screen.query_one("#rights-requests", DataTable))}
        assert shown[answered][3] == "answered" and shown[waiting][3] == "open"
        assert shown[waiting][4].endswith(" d") and int(shown[waiting][4].split()[0]) in range(27, 32)
        assert len(cells(app.screen.query_one("#rights-counterparties", DataTable))) == 2
        assert cells(app.screen.query_one("#rights-answers", DataTable))[0][0] == answered
        summary = str(app.screen.query_one("#rights-summary", Static).render())
        assert summary == "2 companies found in your mail · 2 request(s), 0 overdue · 1 answer(s)"
