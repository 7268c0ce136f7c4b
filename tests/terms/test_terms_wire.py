"""The parsing and HTTP pieces, against httpx.MockTransport: no network."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence

import httpx
import pytest

from butler.errors import UsageError
from butler.terms import (
    GpcDocument,
    MyTermsDocument,
    ProfferAnswer,
    Status,
    VendorAnswerInvalid,
    VendorUnavailable,
    cached_discovery,
    discover,
    gpc_client,
    vendor_key,
)
from butler.terms.web import MAX_BODY_BYTES, fetch, normalise_url
from butler.terms.wire import parse_vendor_json
from butler.vault import Vault

GOOD = {
    "effective_date": "Mon, 01 Sep 2025 00:00:00 +0000",
    "agreements": [{"id": "SD-BASE", "url": "https://myterms.info/agreements/SD-BASE"}],
    "tos_url": "https://shop.example/tos",
}
Handler = Callable[[httpx.Request], httpx.Response]


async def shop_dns(host: str, port: int) -> Sequence[str]:
    """What shop.example resolves to here: a public address, which the mock transport stands in for."""
    return ["93.184.216.34"]


def mock(handler: Handler, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return gpc_client(httpx.MockTransport(record), resolver=shop_dns)


def test_myterms_document_parses() -> None:
    doc = parse_vendor_json(MyTermsDocument, json.dumps(GOOD).encode(), "x")
    assert doc.agreement_ids == ("SD-BASE",)
    assert doc.effective == dt.datetime(2025, 9, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "valid JSON"),
    (b"[1, 2]", "not an object"),
    (b"[" * 100_000 + b"]" * 100_000, "valid JSON"),
    (json.dumps({**GOOD, "effective_date": "yesterday"}).encode(), "RFC 2822"),
    (json.dumps({**GOOD, "agreements": "SD-BASE"}).encode(), "agreements"),
    (json.dumps({**GOOD, "agreements": [{"id": "SD BASE; rm -rf"}]}).encode(), "agreements.0.id"),
    (json.dumps({**GOOD, "agreements": [{"id": "SD-BASE"}] * 65}).encode(), "agreements"),
    (json.dumps({**GOOD, "tos_url": "javascript:alert(1)"}).encode(), "tos_url"),
    (json.dumps({k: v for k, v in GOOD.items() if k != "agreements"}).encode(), "agreements"),
])
def test_malformed_myterms_documents_are_refused(body: bytes, fragment: str) -> None:
    with pytest.raises(VendorAnswerInvalid) as caught:
        parse_vendor_json(MyTermsDocument, body, "https://shop.example/.well-known/myterms.json")
    assert fragment in caught.value.message
    assert "shop.example" in caught.value.message


def test_gpc_document_is_strict() -> None:
    assert parse_vendor_json(GpcDocument, b'{"gpc": true, "lastUpdate": "2025-01-31"}', "g").gpc is True
    with pytest.raises(VendorAnswerInvalid):
        parse_vendor_json(GpcDocument, b'{"gpc": "yes"}', "g")
    with pytest.raises(VendorAnswerInvalid):
        parse_vendor_json(GpcDocument, b'{"gpc": true, "lastUpdate": "last week"}', "g")


@pytest.mark.parametrize("answer", [
    {"status": "AgreementAccepted"},
    {"status": "AgreementRefused", "reason": "no"},
    {"status": "AgreementNegotiationCounterOfferMade", "alternative": "SD-BASE-A"},
])
def test_proffer_answers_that_follow_the_protocol(answer: dict[str, str]) -> None:
    parsed = parse_vendor_json(ProfferAnswer, json.dumps(answer).encode(), "p")
    assert parsed.status == Status(answer["status"])


@pytest.mark.parametrize("answer", [
    {"status": "Yes please"},
    {"status": "AgreementNegotiationPaused"},
    {"status": "AgreementNegotiationCounterOfferMade"},
    {"status": "AgreementAccepted", "alternative": "SD-BASE-A"},
    {"status": "AgreementRefused", "reason": "x" * 3000},
    {"status": 1},
])
def test_proffer_answers_outside_the_protocol(answer: dict[str, object]) -> None:
    with pytest.raises(VendorAnswerInvalid):
        parse_vendor_json(ProfferAnswer, json.dumps(answer).encode(), "p")


async def test_every_request_carries_sec_gpc_even_on_an_injected_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as foreign:
        await fetch(foreign, "GET", "https://shop.example/a")
        await fetch(foreign, "POST", "https://shop.example/b", json={"x": 1}, headers={"Sec-GPC": "0"})
    async with gpc_client(httpx.MockTransport(handler), resolver=shop_dns) as own:
        await own.get("https://shop.example/c")
    assert [r.headers.get("sec-gpc") for r in seen] == ["1", "1", "1"]


async def test_oversized_answers_are_cut_off() -> None:
    def declared(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * (MAX_BODY_BYTES + 1))

    def streamed(request: httpx.Request) -> httpx.Response:
        async def body():  # type: ignore[no-untyped-def]
            for _ in range(100):
                yield b"y" * 65536

        return httpx.Response(200, content=body())

    for handler in (declared, streamed):
        async with gpc_client(httpx.MockTransport(handler), resolver=shop_dns) as client:
            with pytest.raises(VendorAnswerInvalid, match="more than"):
                await fetch(client, "GET", "https://shop.example/big")


async def test_server_errors_and_unreachable_vendors_are_retriable() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "5"})

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for handler, fragment in ((fail, "HTTP 503"), (refuse, "cannot reach"), (slow, "in time")):
        async with gpc_client(httpx.MockTransport(handler), resolver=shop_dns) as client:
            with pytest.raises(VendorUnavailable, match=fragment) as caught:
                await fetch(client, "GET", "https://shop.example/x")
        assert caught.value.exit_code == 75


def test_vendor_urls_and_keys() -> None:
    assert normalise_url("HTTPS://Shop.Example/") == "https://shop.example"
    assert vendor_key("https://Shop.Example:8443/api/") == "shop.example:8443"
    assert vendor_key("http://127.0.0.1:9000") == "127.0.0.1:9000"
    assert vendor_key("shop.example") == "shop.example"
    for bad in ("ftp://shop.example", "https://shop.example/?a=1", "https://user:pw@shop.example", "not a url"):
        with pytest.raises(UsageError):
            vendor_key(bad)


async def test_discovery_is_cached_with_etag_and_max_age(terms_vault: Vault) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/gpc.json":
            return httpx.Response(404)
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"ETag": '"v1"', "Cache-Control": "max-age=60"})
        return httpx.Response(200, json=GOOD, headers={"ETag": '"v1"', "Cache-Control": "public, max-age=60"})

    t0 = dt.datetime(2025, 10, 1, 12, 0, tzinfo=dt.UTC)
    async with mock(handler, seen) as client:
        first = await discover(terms_vault, "https://shop.example", client=client, now=t0)
        again = await discover(terms_vault, "https://shop.example", client=client, now=t0 + dt.timedelta(seconds=30))
        later = await discover(terms_vault, "https://shop.example", client=client, now=t0 + dt.timedelta(minutes=5))
    assert first.accepts("SD-BASE") and not first.accepts("SD-BASE-A")
    assert first.gpc is None and first.etag == '"v1"' and first.max_age == 60
    assert again == first  # fresh: no request
    assert later.myterms == first.myterms and later.fetched_at == t0 + dt.timedelta(minutes=5)
    assert [r.url.path for r in seen] == ["/.well-known/myterms.json", "/.well-known/gpc.json"] * 2
    assert seen[2].headers["if-none-match"] == '"v1"'
    cached = cached_discovery(terms_vault, "shop.example")
    assert cached is not None and cached.fetched_at == later.fetched_at


async def test_discovery_404_means_no_support_and_errors_keep_the_cache(terms_vault: Vault) -> None:
    state = {"mode": "absent"}

    def handler(request: httpx.Request) -> httpx.Response:
        if state["mode"] == "absent":
            return httpx.Response(404)
        if state["mode"] == "teapot":
            return httpx.Response(418)
        return httpx.Response(200, content=b"<html>hello</html>")

    async with gpc_client(httpx.MockTransport(handler), resolver=shop_dns) as client:
        found = await discover(terms_vault, "https://shop.example", client=client)
        assert not found.supports_myterms and found.gpc is None
        for mode, fragment in (("html", "valid JSON"), ("teapot", "HTTP 418")):
            state["mode"] = mode
            with pytest.raises(VendorAnswerInvalid, match=fragment):
                await discover(terms_vault, "https://shop.example", client=client, refresh=True)
    assert cached_discovery(terms_vault, "https://shop.example") == found


async def test_a_vendor_may_not_counter_its_own_alternative(terms_vault: Vault) -> None:
    from butler.terms import proffer, set_choice, vendor_records

    answers = iter([
        {"status": "AgreementNegotiationCounterOfferMade", "alternative": "SD-BASE-A"},
        {"status": "AgreementNegotiationCounterOfferMade", "alternative": "SD-BASE-AT"},
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    set_choice(terms_vault, "SD-BASE", vendor="shop.example", accept=("SD-BASE-A",))
    async with gpc_client(httpx.MockTransport(handler), resolver=shop_dns) as client:
        with pytest.raises(VendorAnswerInvalid, match="countered its own alternative"):
            await proffer(terms_vault, "https://shop.example", client=client)
    assert [r.status for r in vendor_records(terms_vault, "shop.example")] == [
        "AgreementNegotiationRequested", "AgreementNegotiationCounterOfferMade",
        "AgreementNegotiationRequested", "AgreementNegotiationInvalid",
    ]
