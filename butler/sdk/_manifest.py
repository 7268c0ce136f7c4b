"""A connector's manifest: who it is, what it can do, where it may go and which secrets it needs."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from butler.sdk._errors import ManifestError, validation_problems

__all__ = ["API_VERSION", "Capability", "Manifest", "NoSettings", "SecretSpec", "parse_host_entry"]

API_VERSION = 1
"""The SDK API version this butler speaks; a manifest naming another is refused."""

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Capability(StrEnum):
    """What a connector can do; each is the method of `Connector` with the same name (checkout: `prepare_checkout`
    and `pay`)."""

    LIST_OFFERS = "list_offers"
    NEGOTIATE = "negotiate"
    CHECKOUT = "checkout"
    CONTRACT_STATUS = "contract_status"
    RENEW = "renew"
    CANCEL = "cancel"
    DATA_REQUEST = "data_request"


class NoSettings(BaseModel):
    """The settings model of a connector that needs none."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SecretSpec(BaseModel):
    """One secret the connector needs: `name` (snake_case) and a sentence telling the person where to find it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    description: str = ""


def parse_host_entry(entry: str) -> tuple[str, int | None]:
    """`host` or `host:port` (IPv6 in brackets) → (lower-case host, port or None). Raises ValueError."""
    text = entry.strip().lower()
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"bad host entry {entry!r}")
            port = int(rest[1:])
        ipaddress.IPv6Address(host)
        return host, port
    host, sep, port_text = text.partition(":")
    if sep:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad port in host entry {entry!r}")
        port = int(port_text)
    labels = host.removeprefix("*.").split(".")
    if not host or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError(f"not a host name or address: {entry!r}")
    return host, port


class Manifest(BaseModel):
    """Frozen facts about a connector, read without contacting anyone.

    `allowed_hosts` entries are `host`, `host:port` or `*.domain` (subdomains, not the domain itself); the host
    is compared as written in the URL, never after DNS. `secrets` are the only secrets it can read;
    `settings` is a pydantic model for its non-secret settings (a `base_url` field roots its HTTP client).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=100)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?([.+-][0-9A-Za-z.+-]+)?$")
    api_version: int = API_VERSION
    description: str = ""
    categories: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = Field(min_length=1)
    allowed_hosts: tuple[str, ...] = Field(min_length=1)
    secrets: tuple[SecretSpec, ...] = ()
    settings: type[BaseModel] = NoSettings
    homepage: str | None = None

    @field_validator("api_version")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != API_VERSION:
            raise ValueError(f"SDK api_version {value} is not supported (this butler speaks {API_VERSION})")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parse_host_entry(entry)
        return tuple(entry.strip().lower() for entry in value)

    @field_validator("secrets")
    @classmethod
    def _unique(cls, value: tuple[SecretSpec, ...]) -> tuple[SecretSpec, ...]:
        names = [spec.name for spec in value]
        if len(set(names)) != len(names):
            raise ValueError("secret names must be unique")
        return value

    @field_validator("settings")
    @classmethod
    def _settings_model(cls, value: Any) -> type[BaseModel]:
        if not (isinstance(value, type) and issubclass(value, BaseModel)):
            raise ValueError("settings must be a pydantic model class")
        return value

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.secrets)

    @classmethod
    def build(cls, **fields: Any) -> Manifest:
        """Like the constructor, but a mistake raises ManifestError naming the fields."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise ManifestError(f"invalid manifest {fields.get('id', '?')!r}: {problems}") from None
