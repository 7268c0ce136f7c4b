"""Discovery: which MyTerms agreements a vendor publishes, and whether it declares Global Privacy Control.

`discover()` fetches `/.well-known/myterms.json` and `/.well-known/gpc.json` (404 = not published) and caches
the result in the vault (collection `terms-discovery`) with its fetch time, ETag and max-age, so the next call
within max-age makes no request and a later one can be answered `304 Not Modified`.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
from pydantic import BaseModel, ConfigDict

from butler.records import Collection
from butler.terms.errors import VendorAnswerInvalid
from butler.terms.web import Fetched, client_or_new, fetch, normalise_url, vendor_key
from butler.terms.wire import GpcDocument, MyTermsDocument, parse_vendor_json
from butler.vault import Vault

__all__ = ["DISCOVERY_COLLECTION", "MAX_CACHE_SECONDS", "RECORDS", "Discovery", "cached_discovery", "discover"]

DISCOVERY_COLLECTION = "terms-discovery"
RECORDS = Collection(DISCOVERY_COLLECTION, __name__, "what each vendor says of MyTerms, cached",
                     id_scheme="<vendor key>")
MAX_CACHE_SECONDS = 7 * 24 * 3600  # a vendor cannot pin its answer for longer than a week
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d{1,10})\s*(?:,|$)", re.IGNORECASE)


class Discovery(BaseModel):
    """What a vendor publishes, as fetched at `fetched_at`. `myterms is None` means no MyTerms support."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vendor: str
    url: str
    fetched_at: dt.datetime
    myterms: MyTermsDocument | None
    gpc: GpcDocument | None
    etag: str | None = None
    max_age: int | None = None

    @property
    def supports_myterms(self) -> bool:
        return self.myterms is not None

    def accepts(self, term_id: str) -> bool:
        return self.myterms is not None and term_id in self.myterms.agreement_ids

    def fresh(self, now: dt.datetime) -> bool:
        return self.max_age is not None and now < self.fetched_at + dt.timedelta(seconds=self.max_age)


def cached_discovery(vault: Vault, vendor: str) -> Discovery | None:
    """The cached discovery for a vendor (name or URL), or None."""
    record = vault.get(DISCOVERY_COLLECTION, vendor_key(vendor))
    return Discovery.model_validate(record.data) if record else None


def _max_age(headers: httpx.Headers) -> int | None:
    match = _MAX_AGE.search(headers.get("cache-control", ""))
    return min(int(match.group(1)), MAX_CACHE_SECONDS) if match else None


def _etag(headers: httpx.Headers) -> str | None:
    value = headers.get("etag")
    return value if value and len(value) <= 200 and value.isprintable() else None


def _document_or_none(answer: Fetched, url: str) -> bytes | None:
    if answer.status == 404:
        return None
    if answer.status != 200:
        raise VendorAnswerInvalid(f"{url} answered HTTP {answer.status}")
    return answer.body


async def discover(vault: Vault, url: str, *, client: httpx.AsyncClient | None = None, refresh: bool = False,
                   now: dt.datetime | None = None) -> Discovery:
    """The vendor's MyTerms and GPC documents, from the cache while fresh, else from the vendor.

    Raises VendorUnavailable (unreachable, 5xx) or VendorAnswerInvalid (malformed, oversized, unexpected
    status); the cache is left as it was in both cases.
    """
    base = normalise_url(url)
    key = vendor_key(base)
    now = now or dt.datetime.now(dt.UTC)
    cached = cached_discovery(vault, key)
    if cached is not None and not refresh and cached.fresh(now):
        return cached
    async with client_or_new(client) as http:
        myterms_url = f"{base}/.well-known/myterms.json"
        conditional = {"If-None-Match": cached.etag} if cached and cached.etag and cached.myterms else {}
        answer = await fetch(http, "GET", myterms_url, headers=conditional)
        myterms: MyTermsDocument | None
        if answer.status == 304 and cached is not None and conditional:
            myterms = cached.myterms
        else:
            body = _document_or_none(answer, myterms_url)
            myterms = None if body is None else parse_vendor_json(MyTermsDocument, body, myterms_url)
        gpc_url = f"{base}/.well-known/gpc.json"
        gpc_body = _document_or_none(await fetch(http, "GET", gpc_url), gpc_url)
        gpc = None if gpc_body is None else parse_vendor_json(GpcDocument, gpc_body, gpc_url)
    found = Discovery(vendor=key, url=base, fetched_at=now, myterms=myterms, gpc=gpc,
                      etag=_etag(answer.headers) or (cached.etag if answer.status == 304 and cached else None),
                      max_age=_max_age(answer.headers))
    vault.put(DISCOVERY_COLLECTION, key, found.model_dump(mode="json", by_alias=True))
    vault.audit.append("terms.discover", key, {"myterms": found.supports_myterms,
                                               "agreements": list(myterms.agreement_ids) if myterms else [],
                                               "gpc": gpc.gpc if gpc else None})
    return found
