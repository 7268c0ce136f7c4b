"""Which company record a counterparty is: by web domain, privacy e-mail domain, the `runs` list or the name.

Pure: a counterparty's name and domains in, a `Match` out (the slug, how it was found and how sure that is).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from butler.rights.database import Company, Database, registrable

__all__ = ["Match", "NameIndex", "match", "normalised", "quality"]

_LEGAL = re.compile(r"\b(?:inc|ltd|llc|gmbh|ag|se|sa|sas|sarl|bv|nv|plc|co|kg|mbh|corp|corporation|limited|"
                    r"company|group|holding|europe|deutschland|the)\b\.?")


def normalised(name: str) -> str:
    """A name as matching compares it: ASCII, lower case, no punctuation, no legal form (GmbH, Inc, …)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = _LEGAL.sub(" ", re.sub(r"[^a-z0-9 ]+", " ", text))
    return " ".join(text.split())


def quality(score: float) -> str:
    """A score in words: certain, likely or possible."""
    return "certain" if score >= 0.9 else "likely" if score >= 0.7 else "possible"


@dataclass(frozen=True)
class Match:
    """A company record a counterparty was matched to, how (web domain, e-mail domain, runs, name, person) and
    how sure (0..1)."""

    slug: str
    by: str
    score: float

    @property
    def quality(self) -> str:
        return quality(self.score)


class NameIndex:
    """Company names and `runs` entries, normalised, for one database (built once, reused for every lookup)."""

    def __init__(self, database: Database) -> None:
        self.names: dict[str, list[Company]] = {}
        self.runs: dict[str, list[Company]] = {}
        self.labels: dict[str, list[Company]] = {}
        for company in database.companies.values():
            self.names.setdefault(normalised(company.name), []).append(company)
            for brand in company.runs:
                self.runs.setdefault(normalised(brand), []).append(company)
            if company.web_domain:
                self.labels.setdefault(company.web_domain.split(".")[0], []).append(company)


def _pick(companies: list[Company], country: str | None) -> Company:
    """Of several records for one domain or name: the one for the person's country, then verified ones."""
    code = (country or "").lower()
    return sorted(companies, key=lambda c: (code not in c.countries, "all" not in c.countries,
                                            c.quality != "verified", c.slug))[0]


def match(database: Database, index: NameIndex, *, names: Iterable[str], domains: Iterable[str],
          country: str | None = None) -> Match | None:
    """The best company record for a counterparty known by these names and sender/web domains, or None."""
    found: list[Match] = []
    wanted = {registrable(d) for d in domains if d}
    for domain in sorted(wanted):
        for table, by, one, several in ((database.by_web, "web domain", 0.95, 0.8),
                                        (database.by_email, "e-mail domain", 0.85, 0.6)):
            companies = table.get(domain, [])
            if companies and len(companies) <= 3:
                found.append(Match(_pick(companies, country).slug, by, one if len(companies) == 1 else several))
    for name in {normalised(n) for n in names if n} - {""}:
        for table, by, score in ((index.runs, "runs", 0.75), (index.names, "name", 0.7)):
            companies = table.get(name, [])
            if companies and len(companies) <= 3:
                found.append(Match(_pick(companies, country).slug, by, score))
    for domain in sorted(wanted) if not found else ():  # the brand under another country's domain (shop.de)
        companies = index.labels.get(domain.split(".")[0], [])
        if companies and len(domain.split(".")[0]) >= 4:
            found.append(Match(_pick(companies, country).slug, "domain name", 0.5))
    if not found:
        return None
    best = max(found, key=lambda m: m.score)
    agreeing = {m.by for m in found if m.slug == best.slug}
    if len(agreeing) > 1:  # two ways agree: surer than either
        best = Match(best.slug, " + ".join(sorted(agreeing)), min(0.99, best.score + 0.04))
    return best
