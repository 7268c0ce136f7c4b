"""RFC 8058 unsubscribes against a loopback uvicorn server: only after approval, exactly once, never unsafe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request

from butler.errors import ButlerError
from butler.mail import UnsubscribeRefused
from butler.mail.unsubscribe import objection_letter, one_click_url, pending, propose, send_approved
from butler.testing import live_server
from butler.vault import Vault

RECEIVED: list[tuple[str, str, dict[str, str], bytes]] = []
app = FastAPI()


@app.api_route("/{path:path}", methods=["GET", "POST"])
async def record(path: str, request: Request) -> dict[str, str]:
    RECEIVED.append((request.method, path, dict(request.headers), await request.body()))
    return {"ok": "unsubscribed"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture(autouse=True)
def _nothing_received_yet() -> None:
    RECEIVED.clear()


def _headers(uri: str, post: str = "List-Unsubscribe=One-Click") -> dict[str, str]:
    return {"list-unsubscribe": f"<mailto:u@shop.example>, <{uri}>", "list-unsubscribe-post": post}


def test_request_is_sent_once_and_only_after_approval(vault: Vault, endpoint: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from butler.mail.approvals import KIND
    from butler.wiring import desk

    monkeypatch.setattr(KIND.handler, "allow_loopback", True)
    item = propose(vault, "news@shop.example", _headers(f"{endpoint}/u/tok123"), allow_loopback=True)
    assert item is not None and item["state"] == "pending"
    assert propose(vault, "news@shop.example", _headers(f"{endpoint}/u/tok123"), allow_loopback=True) is None
    assert send_approved(vault, allow_loopback=True) == []
    assert RECEIVED == []
    assert "HTTP 200" in desk().decide(vault, item["id"], approve=True)
    assert send_approved(vault, allow_loopback=True) == []
    assert len(RECEIVED) == 1
    method, path, headers, body = RECEIVED[0]
    assert (method, path, body) == ("POST", "u/tok123", b"List-Unsubscribe=One-Click")
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert pending(vault) == []


def test_rejected_requests_are_never_sent(vault: Vault, endpoint: str) -> None:
    item = propose(vault, "a@shop.example", _headers(f"{endpoint}/u/1"), allow_loopback=True)
    assert item is not None
    from butler.wiring import desk

    desk().decide(vault, item["id"], approve=False)
    assert send_approved(vault, allow_loopback=True) == []
    assert RECEIVED == []


def test_standing_rule_skips_the_queue(vault: Vault, endpoint: str) -> None:
    item = propose(vault, "b@shop.example", _headers(f"{endpoint}/u/2"), allow_loopback=True, standing_rule=True)
    assert item is not None and item["state"] == "approved"
    assert len(send_approved(vault, allow_loopback=True)) == 1
    assert len(RECEIVED) == 1


@pytest.mark.parametrize("headers", [
    _headers("https://10.0.0.7/u"),
    _headers("https://192.168.1.1/u"),
    _headers("https://169.254.169.254/latest/meta-data"),
    _headers("https://[::1]/u"),
    _headers("https://localhost/u"),
    _headers("http://shop.example/u"),
    _headers("https://shop.example/u", post="List-Unsubscribe=Yes"),
    {"list-unsubscribe": "<https://shop.example/u>"},
    _headers("https://shop.example/u\r\nX-Injected: 1"),
], ids=["10/8", "192.168/16", "metadata", "ipv6-loopback", "localhost", "not-https", "wrong-post", "no-post",
        "injection"])
def test_unsafe_or_missing_one_click_is_refused(vault: Vault, headers: dict[str, str]) -> None:
    with pytest.raises(UnsubscribeRefused):
        one_click_url(headers)
    assert propose(vault, "c@shop.example", headers) is None
    assert send_approved(vault) == []
    assert RECEIVED == []


def test_loopback_needs_the_explicit_allowance(vault: Vault, endpoint: str) -> None:
    with pytest.raises(UnsubscribeRefused):
        one_click_url(_headers(f"{endpoint}/u"))
    assert propose(vault, "d@shop.example", _headers(f"{endpoint}/u")) is None
    assert RECEIVED == []


def test_objection_letter_cites_article_21() -> None:
    text = objection_letter("news@shop.example", unsubscribed_on="2025-05-01", person="Ana", messages_since=3)
    assert "Article 21(2)" in text and "shop.example" in text and "2025-05-01" in text and "Ana" in text


def test_approval_queue_sends_an_approved_unsubscribe_once(vault: Vault, endpoint: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from butler.mail.approvals import KIND
    from butler.wiring import desk

    monkeypatch.setattr(KIND.handler, "allow_loopback", True)
    item = propose(vault, "news@shop.example", _headers(f"{endpoint}/u/q1"), allow_loopback=True)
    assert item is not None
    assert [a.summary() for a in desk().pending(vault)] == ["unsubscribe from news@shop.example (one-click)"]
    said = desk().decide(vault, item["id"], approve=True)
    assert said == "unsubscribed from news@shop.example (the sender answered HTTP 200)"
    assert [(m, p) for m, p, _, _ in RECEIVED] == [("POST", "u/q1")]
    assert vault.get("approvals", item["id"]).data["state"] == "done"  # type: ignore[union-attr]
    with pytest.raises(ButlerError):
        desk().decide(vault, item["id"], approve=True)
    assert len(RECEIVED) == 1
    assert desk().pending(vault) == []


def test_approval_queue_rejects_without_sending(vault: Vault, endpoint: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from butler.mail.approvals import KIND
    from butler.wiring import desk

    monkeypatch.setattr(KIND.handler, "allow_loopback", True)
    item = propose(vault, "a@shop.example", _headers(f"{endpoint}/u/q2"), allow_loopback=True)
    assert item is not None
    assert "rejected" in desk().decide(vault, item["id"], approve=False)
    assert vault.get("approvals", item["id"]).data["state"] == "rejected"  # type: ignore[union-attr]
    assert send_approved(vault, allow_loopback=True) == []
    assert RECEIVED == []


def test_approval_queue_does_not_send_to_a_refused_address(vault: Vault, endpoint: str) -> None:
    from butler.wiring import desk

    item = propose(vault, "z@shop.example", _headers(f"{endpoint}/u/q3"), allow_loopback=True)
    assert item is not None
    assert "not sent" in desk().decide(vault, item["id"], approve=True)  # the handler refuses loopback
    assert RECEIVED == []
