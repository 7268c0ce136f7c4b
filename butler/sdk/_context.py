"""What butler hands a connector: its settings, an HTTP client it cannot misuse, its own secrets, a logger."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from butler.log import RedactingFilter, register_secret
from butler.sdk._errors import (
    FatalError,
    HostNotAllowed,
    MissingSecret,
    RetriableError,
    SecretNotDeclared,
    error_for_response,
    validation_problems,
)
from butler.sdk._manifest import Manifest
from butler.sdk._types import Person
from butler.sdk.egress import (
    DEFAULT_TIMEOUT,
    MAX_RESPONSE_BYTES,
    HostPolicy,
    Resolver,
    async_client,
    host_allowed,
    relay_client,
)

__all__ = ["ConnectorContext", "Secrets"]


class Secrets:
    """Read-only access to the secrets a manifest declared, and to nothing else."""

    __slots__ = ("_declared", "_owner", "_values")

    def __init__(self, manifest: Manifest, values: Mapping[str, str]) -> None:
        self._owner = manifest.id
        self._declared = manifest.secret_names
        # undeclared values never even enter the object
        self._values = {name: value for name, value in values.items() if name in self._declared}
        for value in self._values.values():
            register_secret(value)

    def get(self, name: str) -> str:
        """The value of a declared secret. Raises SecretNotDeclared, or MissingSecret when it has no value."""
        if name not in self._declared:
            raise SecretNotDeclared(f"connector {self._owner!r} did not declare a secret named {name!r}")
        try:
            return self._values[name]
        except KeyError:
            raise MissingSecret(f"connector {self._owner!r} needs its secret {name!r}",
                                f"Give it with `butler connectors enable {self._owner}` (or set "
                                f"BUTLER_CONNECTOR_SECRET_{name.upper()} for that command).", secret=name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._values

    @property
    def names(self) -> frozenset[str]:
        return self._declared

    def __repr__(self) -> str:
        return f"Secrets({self._owner!r}, declared={sorted(self._declared)})"


class ConnectorContext:
    """Built by butler (or the conformance kit) for one connector; connectors never build their own client.

    `http` is an `httpx.AsyncClient` from the one egress (`butler.sdk.egress`), rooted at `settings.base_url`
    (when the settings have one): it reaches only the manifest's hosts (`allowed_hosts`: those it declares and
    the origins of the URLs its `hosts_from_settings` name), at the address it checked, sends `Sec-GPC: 1`,
    follows redirects only to those hosts, and refuses answers larger than `max_bytes`. `person` is what the
    manifest's `person_fields` let it know of the person. `transport` stands in for the network in tests
    (httpx.MockTransport). In a sandbox (`butler.sandbox`), `relay` carries each request to butler's process,
    whose egress applies all of the above there.
    """

    def __init__(self, manifest: Manifest, *, settings: BaseModel | Mapping[str, Any] | None = None,
                 secrets: Mapping[str, str] | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 resolver: Resolver | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 max_bytes: int = MAX_RESPONSE_BYTES, person: Person | None = None,
                 relay: httpx.AsyncBaseTransport | None = None) -> None:
        self.manifest = manifest
        self.settings = self._settings(manifest, settings)
        self.secrets = Secrets(manifest, secrets or {})
        # fields the manifest does not name never even enter the context
        self.person = Person.model_validate({name: getattr(person, name) for name in manifest.person_fields}
                                            if person is not None else {})
        try:
            self.allowed_hosts = manifest.hosts_for(self.settings)
        except ValueError as exc:
            raise FatalError(f"settings for {manifest.id!r} are invalid: {exc}",
                             f"See `butler connectors about {manifest.id}` for its settings.") from None
        self.log = logging.getLogger(f"butler.connectors.{manifest.id}")
        if not any(isinstance(f, RedactingFilter) for f in self.log.filters):
            self.log.addFilter(RedactingFilter())
        base_url = getattr(self.settings, "base_url", None)
        if base_url is not None:
            url = httpx.URL(str(base_url))
            port = url.port or (443 if url.scheme == "https" else 80)
            if not host_allowed(url.host, port, self.allowed_hosts):
                raise HostNotAllowed(f"{manifest.id}: base_url {base_url} is not among the allowed hosts "
                                     f"({', '.join(self.allowed_hosts)})")
        root = str(base_url).rstrip("/") if base_url is not None else ""
        if relay is not None:  # in a sandbox: butler's egress in the parent checks and sends every request
            self.http = relay_client(relay, timeout=timeout, base_url=root)
        else:
            self.http = async_client(HostPolicy.allowlist(self.allowed_hosts, who=manifest.id), inner=transport,
                                     resolver=resolver, timeout=timeout, max_bytes=max_bytes,
                                     follow_redirects=True, base_url=root)

    @staticmethod
    def _settings(manifest: Manifest, given: BaseModel | Mapping[str, Any] | None) -> BaseModel:
        if isinstance(given, manifest.settings):
            return given
        data = given.model_dump() if isinstance(given, BaseModel) else dict(given or {})
        try:
            return manifest.settings.model_validate(data)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise FatalError(f"settings for {manifest.id!r} are invalid: {problems}",
                             f"See `butler connectors about {manifest.id}` for its settings.") from None

    async def request(self, method: str, url: str, *, offer_id: str | None = None,
                      idempotency_key: str | None = None, **kwargs: Any) -> httpx.Response:
        """Send one request and turn failures into connector errors (see `error_for_response`).

        Network failures and timeouts become RetriableError; `idempotency_key` is sent as `Idempotency-Key`.
        """
        if idempotency_key is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), "Idempotency-Key": idempotency_key}
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TooManyRedirects:
            raise FatalError(f"{method} {url}: too many redirects") from None
        except httpx.TransportError as exc:
            raise RetriableError(f"{method} {url}: {type(exc).__name__}") from None
        error = error_for_response(response, offer_id=offer_id)
        if error is not None:
            raise error
        return response

    async def json(self, method: str, url: str, **kwargs: Any) -> Any:
        """`request` and decode the JSON answer; an answer that is not JSON is a FatalError."""
        response = await self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise FatalError(f"{method} {url}: the vendor's answer is not JSON") from None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> ConnectorContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

