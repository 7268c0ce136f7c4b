"""One piece of evidence about a message (`Signal`), and phrase hits turned into signals: shared by the modules
that read signals (`signals`, `asks`, `provenance`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from butler.mail.phrases import Phrases

__all__ = ["Signal", "org_domain", "phrase_signals"]

# second-level labels under which organisations register (example.co.uk, agency.gov.au, ministere.gouv.fr)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "gouv", "gv", "govt", "or", "ne", "go"})


class Signal(NamedTuple):
    """One piece of evidence. A named tuple: several are built for every message, and it builds faster than a frozen
    dataclass."""

    group: str
    name: str
    weight: float
    note: str


def phrase_signals(group: str, phrases: Iterable[Phrases], phrase_hits: dict[str, str]) -> list[Signal]:
    """A `group` signal for each of `phrases` found in the message, in their order, naming the words found."""
    out: list[Signal] = []
    for phrase in phrases:
        found = phrase_hits.get(phrase.name)
        if found:
            out.append(Signal(group, phrase.name, phrase.weight, f"{phrase.note} ({found!r})"))
    return out


def org_domain(domain: str) -> str:
    """The registered domain of a host name: `news.mail.example.co.uk` → `example.co.uk` (a heuristic, no list)."""
    labels = domain.lower().strip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])
