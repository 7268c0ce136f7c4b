"""No secret is ever shown: every record a collection's owner declares secret (the whole collection, a record, a
field its model flags) is seeded with a known marker, and no screen of the TUI nor any CLI view prints it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr
from textual.widgets import DataTable, OptionList, Static

from butler.records import HIDDEN, SECRET, Catalog, Collection
from butler.tui import ButlerApp, make_app
from butler.tui.screens import VaultScreen
from butler.tui.widgets.nav import PLACES
from butler.vault import Vault
from butler.wiring import catalog
from tests.helpers.vaultkit import run_main
from tests.tui.conftest import Seeded
from tests.tui.test_tui_screens import reopen, settle

MARK = "S3CRET-MARK-7f1c"


class _Card(BaseModel):
    number: str = Field(json_schema_extra=SECRET)
    holder: str


class _Account(BaseModel):
    user: str
    token: SecretStr
    card: _Card | None = None


def test_a_field_is_secret_because_its_model_says_so() -> None:
    the = Catalog([Collection("accounts", "butler.x", "test", model=_Account)])
    shown = the.view("accounts", "a", {"user": "ana", "token": MARK, "card": {"number": MARK, "holder": "Ana"}})
    assert shown == {"user": "ana", "token": HIDDEN, "card": {"number": HIDDEN, "holder": "Ana"}}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) and len(value) >= 8 else set()


def seed_secrets(vault: Vault) -> tuple[set[str], list[tuple[str, str]]]:
    """A marked record in every secret place the catalog declares; returns every secret string and the records."""
    secrets, where = {MARK}, []
    for collection in catalog().collections.values():
        ids = set(collection.secret_ids) | ({"seeded-secret"} if collection.secret else set())
        for record_id in sorted(ids):
            held = vault.get(collection.name, record_id)
            if held is None:
                vault.put(collection.name, record_id, {"value": MARK})
            else:  # a real secret (the audit signing key): its own value must not show either
                secrets |= _strings(held.data)
            where.append((collection.name, record_id))
        for name in sorted(collection.secret_fields):
            vault.put(collection.name, "seeded-field", {name: MARK})
            where.append((collection.name, "seeded-field"))
    vault.put("somewhere-new", "r1", {"note": MARK})  # a collection nobody declares is a secret too
    where.append(("somewhere-new", "r1"))
    return secrets, where


async def _every_record_opened(app: ButlerApp, pilot: Any, secrets: set[str]) -> int:
    screen = app.screen
    assert isinstance(screen, VaultScreen)
    options = screen.query_one("#collections", OptionList)
    opened = 0
    for index in range(options.option_count):
        options.highlighted = index
        await settle(app)
        table = screen.query_one("#records", DataTable)
        for row in range(table.row_count):
            table.focus()
            table.move_cursor(row=row)
            await pilot.press("enter")
            await settle(app)
            shown = str(screen.query_one("#record-detail", Static).render())
            assert not [s for s in secrets if s in shown], (options.get_option_at_index(index).id, row)
            opened += 1
        await pilot.pause()
        shown = app.export_screenshot()  # the table and the last record opened, as drawn
        assert not [s for s in secrets if s in shown], options.get_option_at_index(index).id
    return opened


async def test_no_screen_ever_shows_a_secret(seeded: Seeded) -> None:
    with reopen(seeded.home) as vault:
        secrets, where = seed_secrets(vault)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(app)
        for _mode, _label, key in PLACES:
            await pilot.press(key)
            await settle(app)
            await pilot.pause()
            shown = app.export_screenshot()
            assert not [s for s in secrets if s in shown], key
        await pilot.press(next(key for mode, _label, key in PLACES if mode == "vault"))
        await settle(app)
        opened = await _every_record_opened(app, pilot, secrets)
    assert opened >= len(where)


def test_no_cli_view_prints_a_secret(seeded: Seeded) -> None:
    with reopen(seeded.home) as vault:
        secrets, where = seed_secrets(vault)
    declared = where[:-1]  # `vault get` prints a collection of the person's own (`vault put`) whole
    runs = [run_main("vault", "get", name, record_id) for name, record_id in declared]
    runs += [run_main(*args) for args in (("vault", "list"), ("vault", "status"), ("approvals",),
                                          ("explain", "purchase-s1"), ("negotiations",), ("status",),
                                          ("mail", "stats"))]
    runs += [run_main("vault", "list", name) for name, _ in declared]
    for outcome in runs:
        assert not [s for s in secrets if s in outcome.stdout + outcome.stderr], outcome
    said = [o.stdout for o in runs[: len(declared)]]
    assert all("holds a secret: butler never prints it" in s or HIDDEN in s for s in said), said
