"""The conformance kit: one line in a connector's tests gives it butler's standard tests.

    from butler.testing import LiveVendor, connector_test_class
    TestMyConnector = connector_test_class(MyConnector, live=my_vendor)   # `live` is optional

Without a network: the manifest is valid, capabilities match methods, importing the connector does not import
the TUI, the host allowlist holds against a redirect to another host, 401 → AuthError, 429/503 → RetriableError
with its retry-after, an undeclared secret cannot be read, secrets never reach a log line. With `live` (a
context manager yielding a LiveVendor, e.g. a vendor server on loopback, or the name of a pytest fixture giving
one, e.g. a vendor a session fixture started): `validate()` passes, offers validate as `butler.models.Offer`, a
full purchase is prepared (a CheckoutQuote that adds up) then paid, and paid again under the same
`Idempotency-Key` (the same purchase, no second order), `find_order` finds it, a checkout abandoned before paying
cannot be paid, and again no secret is logged. A vendor without a catalogue names the products to buy in
`LiveVendor.products`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from butler import sandbox
from butler.models import Offer, Purchase
from butler.sdk import (
    API_VERSION,
    AuthError,
    Capability,
    CapabilityNotSupported,
    CheckoutQuote,
    Connector,
    ConnectorContext,
    ConnectorError,
    HostNotAllowed,
    Manifest,
    OfferQuery,
    RetriableError,
    SecretNotDeclared,
    implemented_capabilities,
)

__all__ = ["LiveVendor", "RecordingTransport", "connector_test_class"]

T = TypeVar("T")
_MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_FORBIDDEN_HOST = "forbidden.invalid"


@dataclass(frozen=True)
class LiveVendor:
    """A vendor the kit may talk to for real: the connector's settings and secrets for it, and a query."""

    settings: Mapping[str, Any]
    secrets: Mapping[str, str] = field(default_factory=dict)
    query: OfferQuery = field(default_factory=OfferQuery)
    products: tuple[str, ...] = ()  # what to buy when the vendor lists no offers (it has no catalogue)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Records every request that reached it, then passes it to `inner` (the network by default)."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _nowhere(host: str, port: int) -> list[str]:
    """Offline tests never resolve names: every name "resolves" to a public address the mock stands in for."""
    return ["93.184.216.34"]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def connector_test_class(connector_cls: type[Connector], *,
                         live: Callable[[], AbstractContextManager[LiveVendor]] | str | None = None,
                         settings: Mapping[str, Any] | None = None,
                         secrets: Mapping[str, str] | None = None, sandboxed: bool | None = None) -> type:
    """A pytest test class holding butler's conformance tests for `connector_cls`.

    Args:
        connector_cls: the Connector subclass under test.
        live: optional; returns a context manager yielding a LiveVendor, or names a pytest fixture that gives
            one. The live tests run only with it.
        settings: settings for the offline tests (default: the settings model's defaults).
        secrets: secrets for the offline tests (default: a made-up value for each declared secret).
        sandboxed: run the connector in butler's sandbox, as butler runs an installed connector (default: where
            the sandbox is available and the class is importable by name). True insists on it.
    Returns:
        A class; assign it to a module-level name starting with `Test`.
    """
    manifest = connector_cls.manifest
    why = sandbox.available()
    if sandboxed and why is not None:
        raise RuntimeError(f"the conformance kit cannot sandbox {manifest.id}: {why}")
    runner: type[Connector] = connector_cls
    if sandboxed or (sandboxed is None and why is None and sandbox.importable(connector_cls)):
        runner = sandbox.sandboxed(connector_cls)
    offline_secrets = dict(secrets) if secrets is not None else {
        spec.name: f"conformance-{spec.name}-{uuid.uuid4().hex[:12]}" for spec in manifest.secrets}
    offline_settings = dict(settings or {})

    def mocked(status: int, headers: dict[str, str] | None = None) -> tuple[Connector, RecordingTransport]:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, headers=headers, json={"error": "conformance"})
        recorder = RecordingTransport(httpx.MockTransport(answer))
        ctx = ConnectorContext(manifest, settings=offline_settings, secrets=offline_secrets, transport=recorder,
                               resolver=_nowhere)
        return runner(ctx), recorder

    async def calls(connector: Connector, kind: type[BaseException]) -> list[BaseException]:
        """Run validate (and list_offers, when declared) and collect what they raised."""
        raised: list[BaseException] = []
        steps: list[Callable[[], Coroutine[Any, Any, Any]]] = [connector.validate]
        if Capability.LIST_OFFERS in manifest.capabilities:
            steps.append(lambda: connector.list_offers(OfferQuery()))
        try:
            for step in steps:
                with pytest.raises(kind) as info:
                    await step()
                raised.append(info.value)
        finally:
            await connector.aclose()
        return raised

    class ConnectorConformance:
        """Butler's conformance tests for one connector (generated by `connector_test_class`)."""

        connector = connector_cls

        # -- without a network ------------------------------------------------------------------------
        def test_manifest_is_valid(self) -> None:
            assert isinstance(manifest, Manifest), "`manifest` must be a butler.sdk.Manifest"
            assert Manifest.model_validate(manifest.model_dump()) == manifest
            assert manifest.api_version == API_VERSION
            manifest.settings.model_validate(offline_settings)

        def test_capabilities_match_methods(self) -> None:
            assert connector_cls.validate is not Connector.validate, "a connector must implement validate()"
            implemented = implemented_capabilities(connector_cls)
            assert implemented == manifest.capabilities, (
                f"declared but not implemented: {sorted(manifest.capabilities - implemented)}; "
                f"implemented but not declared: {sorted(implemented - manifest.capabilities)}")

        def test_import_does_not_pull_in_the_tui(self) -> None:
            code = (f"import sys, importlib; importlib.import_module({connector_cls.__module__!r}); "
                    "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
                    "sys.exit('imports ' + ', '.join(bad[:3]) if bad else 0)")
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                    timeout=60, check=False)
            assert result.returncode == 0, result.stderr or result.stdout

        def test_host_allowlist_holds_against_redirects(self) -> None:
            connector, recorder = mocked(302, {"Location": f"https://{_FORBIDDEN_HOST}/steal"})
            raised = _run(calls(connector, HostNotAllowed))
            assert raised
            assert recorder.requests, "validate() sent nothing through the injected client"
            for request in recorder.requests:
                assert request.url.host != _FORBIDDEN_HOST
                assert request.headers.get("sec-gpc") == "1"

        def test_401_is_an_auth_error(self) -> None:
            connector, _ = mocked(401, {"WWW-Authenticate": "Bearer"})
            assert _run(calls(connector, AuthError))

        @pytest.mark.parametrize("status", [429, 503])
        def test_busy_is_retriable_with_retry_after(self, status: int) -> None:
            connector, _ = mocked(status, {"Retry-After": "7"})
            for error in _run(calls(connector, RetriableError)):
                assert isinstance(error, RetriableError)
                assert error.retry_after == 7

        def test_undeclared_secret_cannot_be_read(self) -> None:
            connector, _ = mocked(200)
            with pytest.raises(SecretNotDeclared):
                connector.ctx.secrets.get("not_declared_by_anyone")
            _run(connector.aclose())

        def test_secrets_never_logged_offline(self, caplog: pytest.LogCaptureFixture) -> None:
            caplog.set_level(logging.DEBUG)
            connector, _ = mocked(401)
            errors = _run(calls(connector, AuthError))
            _assert_unlogged(caplog, offline_secrets.values(), errors)

        # -- against a live vendor --------------------------------------------------------------------
        if live is not None:
            @pytest.fixture(scope="class")
            @classmethod
            def live_vendor(cls, request: pytest.FixtureRequest) -> Iterator[LiveVendor]:
                assert live is not None
                if isinstance(live, str):
                    vendor = request.getfixturevalue(live)
                    assert isinstance(vendor, LiveVendor), f"the fixture {live!r} must give a LiveVendor"
                    yield vendor
                    return
                with live() as vendor:
                    yield vendor

            async def _product(self, connector: Connector, vendor: LiveVendor) -> str:
                offers = await connector.list_offers(vendor.query) \
                    if Capability.LIST_OFFERS in manifest.capabilities else []
                assert offers or vendor.products, "the live vendor offered nothing and LiveVendor names no products"
                return offers[0].id if offers else vendor.products[0]

            def _live(self, vendor: LiveVendor) -> tuple[Connector, RecordingTransport]:
                recorder = RecordingTransport()
                ctx = ConnectorContext(manifest, settings=vendor.settings, secrets=vendor.secrets,
                                       transport=recorder)
                return runner(ctx), recorder

            def test_validate_live(self, live_vendor: LiveVendor) -> None:
                connector, recorder = self._live(live_vendor)
                _run(_closing(connector, connector.validate()))
                assert recorder.requests and all(r.headers.get("sec-gpc") == "1" for r in recorder.requests)

            def test_offers_validate_as_offers(self, live_vendor: LiveVendor) -> None:
                connector, _ = self._live(live_vendor)
                offers = _run(_closing(connector, connector.list_offers(live_vendor.query)))
                assert offers or live_vendor.products, "the live vendor offered nothing for the query"
                for offer in offers:
                    assert isinstance(offer, Offer)
                    assert Offer.model_validate(offer.model_dump()) == offer

            def test_checkout_is_idempotent(self, live_vendor: LiveVendor) -> None:
                connector, recorder = self._live(live_vendor)

                async def twice() -> tuple[Purchase, Purchase, Purchase]:
                    product = await self._product(connector, live_vendor)
                    key = f"conformance-{uuid.uuid4()}"
                    quote = await connector.prepare_checkout(product, idempotency_key=f"{key}-prepare")
                    assert isinstance(quote, CheckoutQuote), "prepare_checkout must return a CheckoutQuote"
                    first = await connector.pay(quote, idempotency_key=key)
                    again = await connector.pay(quote, idempotency_key=key)
                    assert first.total == quote.total, "the purchase must cost what the quote said"
                    other_quote = await connector.prepare_checkout(product, idempotency_key=f"{key}-other-prepare")
                    other = await connector.pay(other_quote, idempotency_key=f"{key}-other")
                    try:
                        found = await connector.find_order(quote)
                    except CapabilityNotSupported:
                        found = first
                    assert found is not None and found.id == first.id, "find_order must find the paid order"
                    return first, again, other

                first, again, other = _run(_closing(connector, twice()))
                assert first == again, "the same idempotency key gave two different purchases"
                assert other.id != first.id, "a new idempotency key must make a new purchase"
                mutating = [r for r in recorder.requests if r.method in _MUTATING]
                assert mutating and all(r.headers.get("idempotency-key") for r in mutating), (
                    "every mutating request during checkout must carry an Idempotency-Key")

            def test_abandoned_checkout_cannot_be_paid(self, live_vendor: LiveVendor) -> None:
                connector, _ = self._live(live_vendor)

                async def abandon() -> tuple[Purchase | None, BaseException | None]:
                    product = await self._product(connector, live_vendor)
                    key = f"conformance-{uuid.uuid4()}"
                    quote = await connector.prepare_checkout(product, idempotency_key=f"{key}-prepare")
                    await connector.abandon_checkout(quote, idempotency_key=f"{key}-abandon")
                    try:
                        paid: Purchase | None = await connector.pay(quote, idempotency_key=key)
                    except ConnectorError as exc:
                        return None, exc
                    return paid, None

                paid, refused = _run(_closing(connector, abandon()))
                assert paid is None and refused is not None, "a checkout abandoned before paying was paid"

            def test_secrets_never_logged_live(self, live_vendor: LiveVendor,
                                               caplog: pytest.LogCaptureFixture) -> None:
                caplog.set_level(logging.DEBUG)
                connector, _ = self._live(live_vendor)

                async def session() -> None:
                    await connector.validate()
                    if Capability.LIST_OFFERS in manifest.capabilities:
                        await connector.list_offers(live_vendor.query)

                _run(_closing(connector, session()))
                _assert_unlogged(caplog, live_vendor.secrets.values(), [])

    # a test for a capability the connector does not declare is left out, not skipped
    needs = {"test_offers_validate_as_offers": {Capability.LIST_OFFERS},
             "test_checkout_is_idempotent": {Capability.CHECKOUT},
             "test_abandoned_checkout_cannot_be_paid": {Capability.CHECKOUT}}
    for name, capabilities in needs.items():
        if not capabilities <= manifest.capabilities and hasattr(ConnectorConformance, name):
            delattr(ConnectorConformance, name)
    # abandoning is optional: a connector that cannot tell its vendor is not tested on it
    if connector_cls.abandon_checkout is Connector.abandon_checkout and \
            hasattr(ConnectorConformance, "test_abandoned_checkout_cannot_be_paid"):
        delattr(ConnectorConformance, "test_abandoned_checkout_cannot_be_paid")
    ConnectorConformance.__name__ = f"Conformance{connector_cls.__name__}"
    ConnectorConformance.__qualname__ = ConnectorConformance.__name__
    return ConnectorConformance


async def _closing(connector: Connector, coro: Coroutine[Any, Any, T]) -> T:
    try:
        return await coro
    finally:
        await connector.aclose()


def _assert_unlogged(caplog: pytest.LogCaptureFixture, secrets: Any, errors: list[BaseException]) -> None:
    texts = [record.getMessage() for record in caplog.records]
    texts += [caplog.text] + [f"{error} {getattr(error, 'hint', '')} {error!r}" for error in errors]
    for secret in secrets:
        for text in texts:
            assert secret not in text, "a secret appeared in a log line or an error message"
