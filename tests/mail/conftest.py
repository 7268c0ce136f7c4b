r"""Mail fixtures: real IMAP servers on 127.0.0.1 for the session (a missing binary fails, never skips), and a vault.

    dovecot        -- Dovecot as Debian ships it: NAMESPACE (("" "/")), MOVE, no \Junk folder
    imap           -- parametrized over four servers: that Dovecot; Dovecot with an `INBOX.` namespace and a `Spam`
                      folder marked \Junk; Cyrus IMAP in its standard mode (`INBOX.`, MOVE, SPECIAL-USE, OBJECTID);
                      Courier-IMAP (`INBOX.`, no MOVE: the COPY + UID EXPUNGE path)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

from butler.mail.settings import MailSettings
from butler.testing.courier import start_courier
from butler.testing.cyrus import start_cyrus
from butler.testing.debpackages import ServerNotInstalled
from butler.testing.dovecot import DovecotNotInstalled, start_dovecot
from butler.vault import Vault
from tests.helpers.vaultkit import make_vault

IMAP_USER = "butler"
IMAP_PASS = "imap-test-secret"


@dataclass
class ImapServer:
    """One running server and the current test's user on it (`new_user()` gives each test an empty mailbox)."""

    port: int
    root: Path
    counter: int = 0
    kind: str = "dovecot"
    prefix: str = ""  # the personal namespace prefix folders are created under
    moves: bool = True  # offers MOVE
    junk: str | None = None  # the folder marked \Junk, if the server has one

    def folder(self, name: str) -> str:
        """A folder name as this server files it."""
        return name if name == "INBOX" else self.prefix + name.replace("/", "." if self.prefix else "/")

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


Dovecot = ImapServer

USERS = {f"{IMAP_USER}{n}": IMAP_PASS for n in range(120)}


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


@pytest.fixture(scope="session")
def dovecot_prefixed_server() -> Iterator[ImapServer]:
    try:
        server = start_dovecot(USERS, prefix="INBOX.", separator=".", special_use={"Spam": "\\Junk"})
    except DovecotNotInstalled as error:
        pytest.fail(str(error))
    try:
        yield ImapServer(server.port, server.root, kind="dovecot-prefixed", prefix="INBOX.", junk="INBOX.Spam")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def cyrus_server() -> Iterator[ImapServer]:
    try:
        server = start_cyrus(USERS)
    except ServerNotInstalled as error:
        pytest.fail(str(error))
    try:
        yield ImapServer(server.port, server.root, kind="cyrus", prefix="INBOX.")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def courier_server() -> Iterator[ImapServer]:
    try:
        server = start_courier(USERS)
    except ServerNotInstalled as error:
        pytest.fail(str(error))
    try:
        yield ImapServer(server.port, server.root, kind="courier", prefix="INBOX.", moves=False)
    finally:
        server.stop()


SERVERS = ["dovecot", "dovecot_prefixed", "cyrus", "courier"]


@pytest.fixture(params=SERVERS)
def imap(request: pytest.FixtureRequest) -> ImapServer:
    """Each of the four servers in turn, logged in as a user whose mailbox no other test touched."""
    server: ImapServer = request.getfixturevalue(f"{request.param}_server")
    server.new_user()
    return server


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
