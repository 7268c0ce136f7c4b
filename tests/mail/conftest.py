"""Mail fixtures: a real Dovecot on 127.0.0.1 for the session (a missing binary fails, never skips), and a vault."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from butler.mail.settings import MailSettings
from butler.testing.dovecot import DovecotNotInstalled, start_dovecot
from butler.vault import Vault
from tests.helpers.vaultkit import make_vault

IMAP_USER = "butler"
IMAP_PASS = "imap-test-secret"


@dataclass
class Dovecot:
    port: int
    root: Path
    counter: int = 0

    def settings(self, **changes: object) -> MailSettings:
        return MailSettings.model_validate({"host": "127.0.0.1", "port": self.port, "username": self.user,
                                            "tls": False, **changes})

    @property
    def user(self) -> str:
        return f"{IMAP_USER}{self.counter}"

    def new_user(self) -> str:
        """A fresh, empty mailbox for one test (Dovecot creates it at first login)."""
        self.counter += 1
        return self.user

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(self.user, IMAP_PASS)
        return client

    def append(self, *raws: bytes, folder: str = "INBOX", flags: Sequence[bytes] = ()) -> None:
        """Deliver `raws` to `folder` of the current user's mailbox, over one connection."""
        client = self.client()
        try:
            for raw in raws:
                client.append(folder, raw, flags=flags)
        finally:
            client.logout()


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    # one user per test, each with its own mail home
    try:
        server = start_dovecot({f"{IMAP_USER}{n}": IMAP_PASS for n in range(200)})
    except DovecotNotInstalled as error:
        pytest.fail(str(error))
    try:
        yield Dovecot(server.port, server.root)
    finally:
        server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's Dovecot, logged in as a user whose mailbox no other test touched."""
    dovecot_server.new_user()
    return dovecot_server


@pytest.fixture
def vault(butler_env: Path) -> Iterator[Vault]:
    v = make_vault(butler_env)
    yield v
    v.close()
