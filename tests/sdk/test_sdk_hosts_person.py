"""SDK: hosts from the URL the person enables, the person's profile as far as a manifest asks, optional secrets,
and a vendor's own error text and code in every shape vendors use."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import BaseModel

from butler.commands.connectors import _ask_secrets
from butler.errors import UsageError
from butler.sdk import (
    Capability,
    Connector,
    ConnectorContext,
    FatalError,
    HostNotAllowed,
    Manifest,
    ManifestError,
    Person,
    PostalAddress,
    SecretSpec,
    error_for_response,
)


class ShopSettings(BaseModel):
    base_url: str


def _manifest(**fields: object) -> Manifest:
    return Manifest.build(**{"id": "any-shop", "name": "Any shop", "version": "1.0",
                             "capabilities": frozenset({Capability.CHECKOUT}), "settings": ShopSettings,
                             "hosts_from_settings": ("base_url",), **fields})


def test_the_origin_of_the_enabled_url_is_allowed_and_nothing_else() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    ctx = ConnectorContext(_manifest(), settings={"base_url": "https://shop.example/ucp"},
                           transport=httpx.MockTransport(answer), resolver=resolve)
    assert ctx.allowed_hosts == ("shop.example:443",)

    async def visit() -> None:
        async with ctx:
            await ctx.request("GET", "/.well-known/ucp")
            for elsewhere in ("https://evil.example/", "https://shop.example:8443/", "http://shop.example/"):
                with pytest.raises(HostNotAllowed):
                    await ctx.request("GET", elsewhere)

    asyncio.run(visit())
    assert len(seen) == 1


def test_a_manifest_needs_some_host_and_real_settings() -> None:
    with pytest.raises(ManifestError, match="allowed_hosts or hosts_from_settings"):
        _manifest(hosts_from_settings=())
    with pytest.raises(ManifestError, match="lacks: shop_url"):
        _manifest(hosts_from_settings=("shop_url",))
    with pytest.raises(FatalError, match="not an http"):
        ConnectorContext(_manifest(), settings={"base_url": "ftp://shop.example"})


def test_a_connector_learns_only_the_parts_of_the_person_it_declares() -> None:
    address = PostalAddress(street_address="1 Row", address_locality="Bonn", postal_code="53111",
                            address_country="de")
    me = Person(name="Ada", email="ada@example.org", address=address, currency="EUR")
    ctx = ConnectorContext(_manifest(person_fields=frozenset({"email"})), settings={"base_url": "https://s.example"},
                           person=me)
    assert ctx.person == Person(email="ada@example.org")
    assert address.address_country == "DE"
    assert ConnectorContext(_manifest(), settings={"base_url": "https://s.example"}, person=me).person == Person()


def test_optional_secrets_are_not_asked_for_when_enabling(monkeypatch: pytest.MonkeyPatch) -> None:
    class Shop(Connector):
        manifest = _manifest(secrets=(SecretSpec(name="api_key", optional=True),
                                      SecretSpec(name="token", description="required")))

    monkeypatch.setenv("BUTLER_CONNECTOR_SECRET_TOKEN", "t-1")
    assert _ask_secrets(Shop, set(), again=False) == {"token": "t-1"}
    monkeypatch.setenv("BUTLER_CONNECTOR_SECRET_API_KEY", "k-1")
    assert _ask_secrets(Shop, set(), again=False) == {"token": "t-1", "api_key": "k-1"}
    monkeypatch.setenv("BUTLER_CONNECTOR_SECRET_API_KEY", " ")
    with pytest.raises(UsageError, match="is empty"):
        _ask_secrets(Shop, set(), again=False)


@pytest.mark.parametrize(("status", "body", "says", "code"), [
    (400, {"detail": "Product nope not found", "code": "INVALID_REQUEST"}, "Product nope not found",
     "INVALID_REQUEST"),
    (400, {"detail": {"status": "error", "errors": [{"code": "VERSION_UNSUPPORTED", "message": "Version 2099 is "
                                                     "not supported."}]}}, "Version 2099 is not supported.",
     "VERSION_UNSUPPORTED"),
    (422, {"detail": [{"type": "missing", "loc": ["header", "request-id"], "msg": "Field required"}]},
     "header request-id: Field required", None),
    (409, {"status": "requires_escalation", "messages": [{"type": "error", "code": "invalid_cart_items",
                                                          "content": "One or more cart items are invalid"}]},
     "One or more cart items are invalid", "invalid_cart_items"),
    (402, {"error": {"message": "card declined", "code": "card_declined"}}, "card declined", "card_declined"),
    (401, {"detail": "an API key\nis required", "code": "bad code with spaces"}, "an API key is required", None),
])
def test_the_vendors_own_words_and_code_reach_the_person(status: int, body: object, says: str,
                                                         code: str | None) -> None:
    request = httpx.Request("POST", "https://shop.example/checkout-sessions?secret=1")
    error = error_for_response(httpx.Response(status, json=body, request=request))
    assert error is not None and f'the vendor says "{says}"' in error.message and error.code == code
    assert "secret=1" not in error.message
