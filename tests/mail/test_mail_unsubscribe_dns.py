"""A sweep that proposes unsubscribes looks up no name; the send does, once (resolver calls counted)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from butler.mail import MaildirSource, MailSettings, MailSweep
from butler.mail.unattended import propose_unsubscribes
from butler.mail.unsubscribe import send_approved
from butler.vault import Vault
from tests.mail.mailfactory import promotion


def test_names_are_looked_up_only_when_an_unsubscribe_is_sent(vault: Vault, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for i in range(6):
        (root / "new" / f"1700000{i}.M{i}P1.host").write_bytes(promotion("shoply.example"))
    lookups: list[str] = []

    def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host.decode() if isinstance(host, bytes) else str(host))
        raise socket.gaierror(socket.EAI_NONAME, "the test does not reach the internet")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    settings = MailSettings(unsubscribe_without_asking=True)
    sweep = MailSweep(MaildirSource(root), settings, home=tmp_path / "home")
    report = sweep.run()
    assert report.unsubscribe_candidates == ["news@shoply.example"]
    queued = propose_unsubscribes(vault, sweep, report.unsubscribe_candidates)
    assert [item["state"] for item in queued] == ["approved"]
    assert lookups == []  # the sweep and the proposal: no DNS at all
    [result] = send_approved(vault)
    assert lookups == ["shoply.example"]  # the send: the sender's name, once
    assert result["error"] == "ConnectError"
