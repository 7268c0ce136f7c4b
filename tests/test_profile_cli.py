"""`butler profile show|set`: the person's name, e-mail, delivery address and currency, kept in the vault."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.vaultkit import PASSPHRASE, make_vault, passphrase_file, run_main

from butler import profile
from butler.models import PostalAddress
from butler.vault import Vault


@pytest.fixture
def home(butler_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_vault(butler_env).close()
    monkeypatch.setenv("BUTLER_PASSPHRASE_FILE", str(passphrase_file(tmp_path / "pw")))
    return butler_env


def test_set_then_show_and_change_one_part(home: Path) -> None:
    assert "no profile yet" in run_main("profile", "show").stdout
    out = run_main("profile", "set", "--name", "Ada Lovelace", "--email", "ada@example.org", "--street",
                   "12 Analytical Row", "--city", "London", "--postal-code", "N1 7AA", "--country", "gb")
    assert out.returncode == 0, out.stderr
    out = run_main("profile", "set", "--street2", "Flat 3", "--currency", "GBP")
    assert out.returncode == 0, out.stderr
    shown = run_main("profile", "show").stdout
    assert "name      Ada Lovelace" in shown and "e-mail    ada@example.org" in shown
    assert "address   12 Analytical Row, Flat 3, London, N1 7AA, GB" in shown and "currency  GBP" in shown
    with Vault(home, Vault.key_from_passphrase(home, PASSPHRASE)) as vault:
        me = profile.load(vault)
    assert me is not None and me.country == "GB"
    assert me.address == PostalAddress(street_address="12 Analytical Row", extended_address="Flat 3",
                                       address_locality="London", postal_code="N1 7AA", address_country="GB")


@pytest.mark.parametrize(("args", "says"), [
    (("--email", "ada@example.org"), "needs your name first"),
    (("--name", "Ada", "--street", "1 Row"), "Give also --city, --postal-code, --country"),
    (("--name", "Ada", "--email", "not-an-address"), "not an e-mail address"),
    (("--name", "Ada", "--currency", "EURO"), "currency"),
    (("--name", "Ada", "--street", "1 Row", "--city", "X", "--postal-code", "1", "--country", "USA"),
     "address_country"),
])
def test_an_unusable_profile_is_refused_and_nothing_changes(home: Path, args: tuple[str, ...], says: str) -> None:
    out = run_main("profile", "set", *args)
    assert out.returncode == 2 and says in out.stderr
    assert "no profile yet" in run_main("profile", "show").stdout


def test_the_address_can_be_forgotten(home: Path) -> None:
    run_main("profile", "set", "--name", "Ada", "--street", "1 Row", "--city", "X", "--postal-code", "1",
             "--country", "DE")
    assert run_main("profile", "set", "--no-address").returncode == 0
    assert "address   (not set)" in run_main("profile", "show").stdout
