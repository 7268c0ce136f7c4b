"""The vault collection `counterparties`: the organisations the person deals with, found in the mailbox, and
the company record each is matched to. The only code that reads or writes it.

One record per organisation, keyed by its registrable sender domain: its names, domains, first and last contact,
the kinds of mail it sends, and its match (slug, how, quality). A match the person set (`correct`) sticks:
discovery never changes it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from butler.records import Collection
from butler.rights.database import Database
from butler.rights.matching import Match, NameIndex, match
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "Counterparty", "Sighting", "all_counterparties", "correct", "get", "merge"]

COLLECTION = "counterparties"


class Counterparty(BaseModel):
    """An organisation the person deals with."""

    key: str
    names: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    first_contact: str = ""
    last_contact: str = ""
    kinds: list[str] = Field(default_factory=list)
    company: str | None = None
    match_by: str = ""
    match_score: float = 0.0
    corrected: bool = False

    @property
    def name(self) -> str:
        return self.names[0] if self.names else self.key

    @property
    def quality(self) -> str:
        if self.corrected:
            return "set by you"
        return "none" if self.company is None else Match(self.company, self.match_by, self.match_score).quality


RECORDS = Collection(COLLECTION, __name__, "organisations found in the mailbox and the company record of each",
                     model=Counterparty, id_scheme="<registrable sender domain>")


@dataclass
class Sighting:
    """What some messages said about one organisation (gathered in memory, merged once per batch)."""

    names: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    first: str = ""
    last: str = ""

    def saw(self, *, name: str, domain: str, kinds: Iterable[str], at: str) -> None:
        if name:
            self.names.add(name[:120])
        self.domains.add(domain)
        self.kinds.update(kinds)
        if at:
            self.first = min(self.first or at, at)
            self.last = max(self.last, at)


def get(vault: Vault, key: str) -> Counterparty | None:
    record = vault.get(COLLECTION, key)
    return None if record is None else Counterparty.model_validate({**record.data, "key": key})


def all_counterparties(vault: Vault) -> list[Counterparty]:
    out = []
    for record in vault.records(COLLECTION):
        try:
            out.append(Counterparty.model_validate({**record.data, "key": record.id}))
        except ValueError:
            continue  # a record another version wrote: shown by `butler vault`, skipped here
    return sorted(out, key=lambda c: c.key)


def merge(vault: Vault, sightings: dict[str, Sighting], database: Database, index: NameIndex,
          country: str | None = None) -> int:
    """Fold what was seen into the records (idempotent: seeing a message twice changes nothing); returns how
    many records are new."""
    new = 0
    for key, seen in sorted(sightings.items()):
        def change(data: dict[str, Any] | None, key: str = key, seen: Sighting = seen) -> dict[str, Any]:
            nonlocal new
            if data is None:
                new += 1
            current = Counterparty.model_validate({**(data or {}), "key": key})
            names = current.names + sorted(n for n in seen.names if n not in current.names)
            updated = current.model_copy(update={
                "names": names[:10],
                "domains": sorted(set(current.domains) | seen.domains)[:20],
                "kinds": sorted(set(current.kinds) | seen.kinds),
                "first_contact": min(filter(None, [current.first_contact, seen.first]), default=""),
                "last_contact": max(current.last_contact, seen.last),
            })
            if not updated.corrected:
                found = match(database, index, names=updated.names, domains=[key, *updated.domains],
                              country=country)
                updated = updated.model_copy(update={"company": found.slug if found else None,
                                                     "match_by": found.by if found else "",
                                                     "match_score": found.score if found else 0.0})
            return updated.model_dump(mode="json", exclude={"key"})

        stored = vault.get(COLLECTION, key)
        if stored is not None and change(dict(stored.data)) == stored.data:
            continue  # nothing new: no write
        vault.update(COLLECTION, key, change)
    return new


def correct(vault: Vault, key: str, slug: str | None) -> Counterparty:
    """The person's word on which company record a counterparty is (None: none of them); it sticks."""
    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        current = Counterparty.model_validate({**(data or {}), "key": key})
        return current.model_copy(update={"company": slug, "match_by": "you", "match_score": 1.0,
                                          "corrected": True}).model_dump(mode="json", exclude={"key"})

    stored = vault.update(COLLECTION, key, change)
    vault.audit.append("rights.match.corrected", key, {"company": slug})
    return Counterparty.model_validate({**stored.data, "key": key})
