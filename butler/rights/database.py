"""The company database: companies with their privacy contacts, supervisory authorities and request templates.

Butler ships a snapshot of the datenanfragen.de database (CC0) as package data; `butler rights update FILE`
puts a newer one in the butler home, and that one is read from then on. Nothing is fetched from the network.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from butler import paths
from butler.atomic import atomic_write
from butler.rights import snapshot
from butler.rights.errors import CompanyNotFound, DatabaseInvalid

__all__ = ["Authority", "Company", "Database", "home_snapshot", "load", "registrable", "update"]

_FILE = "datenanfragen.json.gz"
# second-level labels under which a registrable name sits one label deeper (amazon.co.uk, not co.uk)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "or", "ne", "gv", "gob", "nic"})


def registrable(host: str) -> str:
    """The part of a host name an organisation registers: `mail.shop.example.co.uk` → `example.co.uk`."""
    labels = [label for label in host.lower().strip(". ").split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _host(url: str) -> str:
    url = url.strip()
    try:
        return urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return ""


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


@dataclass(frozen=True)
class Company:
    """One company record as the database has it (only the fields butler uses)."""

    slug: str
    name: str
    email: str = ""
    web: str = ""
    address: str = ""
    runs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    medium: str = ""
    language: str = ""
    quality: str = ""
    custom_templates: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # what the company says it needs to identify a person ("Name", "Kundennummer")

    @classmethod
    def of(cls, data: dict[str, Any]) -> Company:
        custom = {kind: str(data[f"custom-{kind}-template"]) for kind in ("access", "erasure", "rectification",
                                                                           "objection")
                  if data.get(f"custom-{kind}-template")}
        return cls(slug=str(data["slug"]), name=str(data["name"]), email=str(data.get("email") or ""),
                   web=str(data.get("web") or ""), address=str(data.get("address") or ""),
                   runs=_strings(data.get("runs")), countries=_strings(data.get("relevant-countries")),
                   medium=str(data.get("suggested-transport-medium") or ""),
                   language=str(data.get("request-language") or ""), quality=str(data.get("quality") or ""),
                   custom_templates=custom, sources=_strings(data.get("sources")),
                   required=tuple(str(e.get("desc", "")) for e in data.get("required-elements") or []
                                  if isinstance(e, dict) and e.get("desc")))

    @property
    def web_domain(self) -> str:
        return registrable(_host(self.web)) if self.web else ""

    @property
    def email_domain(self) -> str:
        return registrable(self.email.rpartition("@")[2]) if "@" in self.email else ""


@dataclass(frozen=True)
class Authority:
    """A supervisory authority: where complaints go (Art. 77 GDPR)."""

    slug: str
    name: str
    email: str = ""
    address: str = ""
    web: str = ""
    countries: tuple[str, ...] = ()
    language: str = ""

    @classmethod
    def of(cls, data: dict[str, Any]) -> Authority:
        return cls(slug=str(data["slug"]), name=str(data["name"]), email=str(data.get("email") or ""),
                   address=str(data.get("address") or ""), web=str(data.get("web") or ""),
                   countries=_strings(data.get("relevant-countries")),
                   language=str(data.get("complaint-language") or ""))


class Database:
    """Companies, authorities and templates of one snapshot, with lookups by slug and by domain."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.source = str(document.get("source", ""))
        self.companies = {c.slug: c for c in (Company.of(d) for d in document["companies"])}
        self.authorities = {a.slug: a for a in (Authority.of(d) for d in document["authorities"])}
        self.templates: dict[str, dict[str, str]] = document["templates"]
        self.by_web: dict[str, list[Company]] = {}
        self.by_email: dict[str, list[Company]] = {}
        for company in self.companies.values():
            if company.web_domain:
                self.by_web.setdefault(company.web_domain, []).append(company)
            if company.email_domain:
                self.by_email.setdefault(company.email_domain, []).append(company)

    def company(self, key: str) -> Company:
        """A company by slug, web domain or exact name (case-insensitive); CompanyNotFound otherwise."""
        wanted = key.strip().lower()
        if wanted in self.companies:
            return self.companies[wanted]
        by_domain = self.by_web.get(registrable(_host(wanted) or wanted))
        if by_domain:
            return by_domain[0]
        named = [c for c in self.companies.values() if c.name.lower() == wanted]
        if named:
            return named[0]
        raise CompanyNotFound(f"no company {key!r} in the company database")

    def authority_for(self, country: str | None) -> Authority | None:
        """The supervisory authority for a country (ISO code, lower or upper case): the national one first."""
        code = (country or "").lower()
        found = sorted((a for a in self.authorities.values() if code in a.countries),
                       key=lambda a: (a.slug != f"{code}bfdi", not a.email, a.slug))
        return found[0] if found else None

    def template(self, name: str, language: str) -> tuple[str, str] | None:
        """(language, text) of a template in `language`, else in English; None when neither has it."""
        for lang in (language, "en"):
            text = self.templates.get(lang, {}).get(name)
            if text is not None:
                return lang, text
        return None


def home_snapshot(home: Path | None = None) -> Path:
    """Where `butler rights update` keeps a newer snapshot."""
    return (home or paths.butler_home()) / "rights" / _FILE


def load(home: Path | None = None) -> Database:
    """The person's newer snapshot when there is one, else the shipped one."""
    path = home_snapshot(home)
    if path.exists():
        return _load_bytes(path.read_bytes())
    return _shipped()


@functools.cache
def _shipped() -> Database:
    return _load_bytes(importlib.resources.files("butler.rights").joinpath("data", _FILE).read_bytes())


def _load_bytes(data: bytes) -> Database:
    return Database(snapshot.read(data))


def update(source: Path, home: Path | None = None) -> Database:
    """Replace the snapshot with `source` (an export folder in the upstream layout, or a snapshot file), checked
    first and written atomically; DatabaseInvalid leaves the current one in place."""
    if source.is_dir():
        document = snapshot.build(source, source=f"datenanfragen.de export ({source.name}), CC0 1.0")
    else:
        try:
            document = snapshot.read(source.read_bytes())
        except OSError as exc:
            raise DatabaseInvalid(f"cannot read {source}: {exc.strerror}") from None
    data = snapshot.write_bytes(document)
    target = home_snapshot(home)
    paths.private_dir(target.parent)
    atomic_write(target, data)
    return Database(document)
