"""Rights fixtures: a vault with the person's profile, the shipped company database, and (imported) the mail
fixtures: real Dovecot and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from butler import profile
from butler.models import Profile
from butler.rights import database
from butler.rights.database import Database
from butler.vault import Vault
from tests.helpers.vaultkit import make_vault
from tests.mail.conftest import dovecot, dovecot_server  # noqa: F401  (fixtures)
from tests.mail.test_mail_unsubscribe_mailto import smtp  # noqa: F401  (fixture)

ME = Profile(name="Ada Lovelace", email="ada@home.example", country="DE", locale="en")


@pytest.fixture
def vault(butler_env: Path) -> Iterator[Vault]:
    v = make_vault(butler_env)
    profile.save(v, ME)
    yield v
    v.close()


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The shipped snapshot (a home without a newer one)."""
    return database.load(tmp_path_factory.mktemp("no-update"))
