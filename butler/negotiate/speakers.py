"""Which connector speaks for which vendor.

An offer names its vendor (`Offer.vendor_id`), and that name is what the person's mandate, policies and contracts
go by. So a connector must not offer in another vendor's name: it would borrow that vendor's mandate or good
standing, and the money would go elsewhere. The first enabled connector that offers in a vendor's name (or the one
the person last bought from that vendor through) speaks for that vendor from then on (kept in the vault, audited);
an offer in that name, however spelled, from any other connector is refused and reported. When the connector
that spoke for a vendor is no longer enabled, the next one to offer in its name takes over, audited too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel

from butler import registry
from butler.approvals import raw_items
from butler.policy.expr import normalise_name
from butler.records import Collection
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "Speaker", "refusals"]

COLLECTION = "vendor_speakers"


class Speaker(BaseModel):
    """The connector that speaks for a vendor, and since when."""

    connector: str
    since: dt.datetime


RECORDS = Collection(COLLECTION, __name__, "which connector speaks for which vendor (the first to offer in its name)",
                     model=Speaker, id_scheme="<vendor name, normalised>")


def _bought_through(vault: Vault) -> dict[str, str]:
    """Vendor name (normalised) → the connector the person last bought from it through: who spoke for a vendor
    before butler kept speakers, or since."""
    done = sorted((i for i in raw_items(vault, "purchase") if i.get("state") == "done" and i.get("connector")),
                  key=lambda i: str(i.get("created", "")))
    return {normalise_name(str(i.get("vendor", ""))): str(i["connector"]) for i in done}


def refusals(vault: Vault, claims: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(connector, vendor) → why that connector may not offer in that vendor's name, for the claims of one run
    ((connector id, vendor id) of each offer). Names compare as policies compare them ("Parla" is
    "parla"). A vendor no enabled connector speaks for yet is bound to the one connector that claims it, unless
    the person bought from it through another; claimed by several at once, it is bound to none and all are
    refused."""
    groups: dict[str, dict[str, set[str]]] = {}  # normalised name → connector → the spellings it used
    for cid, vendor_id in claims:
        groups.setdefault(normalise_name(vendor_id), {}).setdefault(cid, set()).add(vendor_id)
    out: dict[tuple[str, str], str] = {}
    enabled = registry.enabled_ids(vault)
    bought: dict[str, str] | None = None
    for name, by_connector in groups.items():
        claimants = set(by_connector)
        record = vault.get(COLLECTION, name)
        if record is not None:
            bound: str | None = Speaker.model_validate(record.data).connector
        else:
            bought = _bought_through(vault) if bought is None else bought
            bound = bought.get(name)
        speaker = bound if bound in claimants or bound in enabled else None  # disabled since: the name is free
        if speaker is not None:
            rivals = sorted(claimants - {speaker})
            why = f"offers in the name of {name}, which {speaker} speaks for"
        elif len(claimants) > 1:
            rivals = sorted(claimants)
            why = f"offers in the name of {name}, as {len(rivals) - 1} other enabled connector(s) do"
        else:
            rivals = []
            (speaker,) = claimants
        if speaker is not None and not rivals and (record is None or speaker != bound):
            vault.put(COLLECTION, name, Speaker(connector=speaker, since=dt.datetime.now(dt.UTC))
                      .model_dump(mode="json"))
            vault.audit.append("negotiate.vendor-speaker", name, {"connector": speaker, "before": bound})
        for cid in rivals:
            for spelled in by_connector[cid]:
                out[(cid, spelled)] = (f"{cid} {why}: refused (a connector may not borrow another vendor's name, "
                                       "its mandate or standing)")
        if rivals:
            vault.audit.append("negotiate.vendor-impersonated", name, {"connectors": rivals, "speaker": speaker})
    return out
