"""`butler.testing.dovecot`: a throwaway Dovecot that starts, serves logins and goes away without a trace."""

from __future__ import annotations

import os
import socket

import pytest
from imapclient import IMAPClient

from butler.testing.dovecot import DovecotNotInstalled, start_dovecot


def test_start_serve_and_stop() -> None:
    with start_dovecot({"alice": "pw"}) as server:
        assert server.root.stat().st_mode & 0o777 == 0o755
        client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
        client.login("alice", "pw")
        client.logout()
    assert not server.root.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
        pass


def test_it_serves_logins_whatever_the_callers_umask() -> None:
    """The CLI runs with umask 0077 (`butler bench mail` starts Dovecot from it): Dovecot's own users must still
    read its folders and its user list. Before, every login failed with a temporary authentication failure."""
    earlier = os.umask(0o077)
    try:
        with start_dovecot({"alice": "pw"}) as server:
            client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
            client.login("alice", "pw")
            client.select_folder("INBOX")
            client.logout()
    finally:
        os.umask(earlier)


def test_a_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DovecotNotInstalled, match="apt-get install"):
        start_dovecot({"alice": "pw"})
