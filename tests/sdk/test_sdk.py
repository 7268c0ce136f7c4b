"""The SDK's surface, errors, manifest, secrets and import hygiene."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

import butler.sdk
import butler.testing
from butler.errors import ButlerError
from butler.sdk import (
    AuthError,
    Capability,
    CapabilityNotSupported,
    Connector,
    ConnectorContext,
    FatalError,
    Manifest,
    ManifestError,
    MissingSecret,
    OfferQuery,
    OfferUnavailable,
    RetriableError,
    SecretNotDeclared,
    SecretSpec,
    error_for_response,
    implemented_capabilities,
    parse_retry_after,
)


@pytest.mark.parametrize("module", [butler.sdk, butler.testing])
def test_all_is_the_public_surface(module: object) -> None:
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)} - {"annotations"}
    assert set(module.__all__) == public  # type: ignore[attr-defined]


def test_sdk_imports_no_tui() -> None:
    code = ("import sys, butler.sdk, butler.testing, butler.registry; "
            "sys.exit(1 if any(m.split('.')[0] == 'textual' for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://v.example/x?token=t"))


@pytest.mark.parametrize(("status", "kind"), [
    (200, None), (302, None), (401, AuthError), (403, AuthError), (429, RetriableError), (503, RetriableError),
    (502, RetriableError), (500, FatalError), (400, FatalError), (404, FatalError),
])
def test_error_for_response(status: int, kind: type[Exception] | None) -> None:
    error = error_for_response(response(status))
    assert (error is None) if kind is None else isinstance(error, kind)
    if error is not None:
        assert isinstance(error, ButlerError) and "token" not in str(error)


def test_offer_errors_mean_skip() -> None:
    assert isinstance(error_for_response(response(410), offer_id="o-1"), OfferUnavailable)


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert error_for_response(response(429, **{"Retry-After": "12"})).retry_after == 12  # type: ignore[union-attr]
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:30 GMT", now=now) == 90
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_manifest_is_frozen_and_checked() -> None:
    good = Manifest.build(id="ok-one", name="OK", version="1.2.3", capabilities={"cancel"},
                          allowed_hosts=("API.Example.com",))
    assert good.allowed_hosts == ("api.example.com",)
    with pytest.raises(Exception, match="frozen"):
        good.id = "other"  # type: ignore[misc]
    for bad in ({"id": "Bad Id"}, {"api_version": 99}, {"allowed_hosts": ("http://x.example",)},
                {"capabilities": set()}, {"secrets": (SecretSpec(name="a"), SecretSpec(name="a"))}):
        fields = {"id": "ok-one", "name": "OK", "version": "1.0", "capabilities": {"cancel"},
                  "allowed_hosts": ("x.example",), **bad}
        with pytest.raises(ManifestError):
            Manifest.build(**fields)


class Partial(Connector):
    manifest = Manifest(id="partial", name="Partial", version="1.0", capabilities=frozenset({Capability.CANCEL}),
                        allowed_hosts=("v.example",), secrets=(SecretSpec(name="token"),))

    async def validate(self) -> None:
        self.ctx.log.warning("using token %s", self.ctx.secrets.get("token"))

    async def cancel(self, contract_id: str, *, idempotency_key: str):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def test_capabilities_are_the_overridden_methods() -> None:
    assert implemented_capabilities(Partial) == {Capability.CANCEL}


async def test_unsupported_capability_is_fatal() -> None:
    async with Partial(ConnectorContext(Partial.manifest, secrets={"token": "tok-123456"})) as connector:
        with pytest.raises(CapabilityNotSupported):
            await connector.list_offers(OfferQuery())


async def test_only_declared_secrets_are_readable() -> None:
    ctx = ConnectorContext(Partial.manifest, secrets={"token": "tok-123456", "bank_pin": "9999-secret"})
    assert ctx.secrets.get("token") == "tok-123456"
    with pytest.raises(SecretNotDeclared):
        ctx.secrets.get("bank_pin")
    assert "bank_pin" not in ctx.secrets and "9999" not in repr(ctx.secrets)
    empty = ConnectorContext(Partial.manifest)
    with pytest.raises(MissingSecret) as info:
        empty.secrets.get("token")
    assert isinstance(info.value, AuthError)
    await ctx.aclose()
    await empty.aclose()


async def test_connector_logger_redacts_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with Partial(ConnectorContext(Partial.manifest, secrets={"token": "tok-abcdef-42"})) as connector:
        await connector.validate()
    assert "tok-abcdef-42" not in caplog.text
    assert caplog.records[-1].name == "butler.connectors.partial"


async def test_network_failure_is_retriable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)
    async with ConnectorContext(Partial.manifest, transport=httpx.MockTransport(refuse)) as ctx:
        with pytest.raises(RetriableError):
            await ctx.request("GET", "https://v.example/")


def test_kit_leaves_out_tests_for_undeclared_capabilities() -> None:
    @contextmanager
    def live() -> Iterator[butler.testing.LiveVendor]:
        yield butler.testing.LiveVendor(settings={}, secrets={})

    partial = butler.testing.connector_test_class(Partial, live=live)
    assert not hasattr(partial, "test_offers_validate_as_offers")  # Partial declares no list_offers
    assert not hasattr(partial, "test_checkout_is_idempotent")
    assert hasattr(partial, "test_validate_live")
