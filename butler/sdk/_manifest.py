"""A connector's manifest: who it is, what it can do, where it may go and which secrets it needs."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from butler.sdk._errors import ManifestError, validation_problems

__all__ = ["API_VERSION", "Capability", "Manifest", "NoSettings", "PersonField", "SecretSpec", "host_entry_for_url",
           "parse_host_entry"]

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


PersonField = Literal["name", "email", "address", "currency"]
"""What of the person's profile a connector may ask for (the name and e-mail a shop needs, the address it
delivers to, the currency the person pays in)."""


class SecretSpec(BaseModel):
    """One secret the connector needs: `name` (snake_case) and a sentence telling the person where to find it.

    An `optional` secret is needed only in some setups (paying by card, a vendor that asks for a key): enabling
    does not ask for it; the connector raises MissingSecret when it finds it needs it, and the person gives it then.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    description: str = ""
    optional: bool = False


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


def host_entry_for_url(url: str) -> str:
    """The `host:port` entry that allows exactly the origin of `url` (http or https). Raises ValueError."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"not a URL: {url!r}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    entry = f"{host}:{port}"
    parse_host_entry(entry)
    return entry


class Manifest(BaseModel):
    """Frozen facts about a connector, read without contacting anyone.

    `allowed_hosts` entries are `host`, `host:port` or `*.domain` (subdomains, not the domain itself); the host
    is compared as written in the URL, never after DNS. `hosts_from_settings` names settings holding a URL the
    person gives when enabling (a shop's address): its host and port are allowed too, and nothing else of it, so a
    connector for any shop of a protocol needs no hosts of its own. `secrets` are the only secrets it can read;
    `person_fields` the only parts of the person's profile it is given; `settings` is a pydantic model for its
    non-secret settings (a `base_url` field roots its HTTP client).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=100)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?([.+-][0-9A-Za-z.+-]+)?$")
    api_version: int = API_VERSION
    description: str = ""
    categories: tuple[str, ...] = ()
    capabilities: frozenset[Capability] = Field(min_length=1)
    allowed_hosts: tuple[str, ...] = ()
    hosts_from_settings: tuple[str, ...] = ()
    secrets: tuple[SecretSpec, ...] = ()
    person_fields: frozenset[PersonField] = frozenset()
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

    @model_validator(mode="after")
    def _some_host(self) -> Manifest:
        if not self.allowed_hosts and not self.hosts_from_settings:
            raise ValueError("a connector needs allowed_hosts or hosts_from_settings")
        unknown = [name for name in self.hosts_from_settings if name not in self.settings.model_fields]
        if unknown:
            raise ValueError(f"hosts_from_settings names settings the model lacks: {', '.join(unknown)}")
        return self

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.secrets)

    def hosts_for(self, settings: BaseModel) -> tuple[str, ...]:
        """`allowed_hosts` plus the origin of each URL in the settings `hosts_from_settings` names.

        Raises ValueError when such a setting holds something other than an http(s) URL.
        """
        hosts = list(self.allowed_hosts)
        for name in self.hosts_from_settings:
            value = getattr(settings, name, None)
            if value is None:
                continue
            entry = host_entry_for_url(str(value))
            if entry not in hosts:
                hosts.append(entry)
        return tuple(hosts)

    @classmethod
    def build(cls, **fields: Any) -> Manifest:
        """Like the constructor, but a mistake raises ManifestError naming the fields."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise ManifestError(f"invalid manifest {fields.get('id', '?')!r}: {problems}") from None
