"""Which connector speaks for which vendor.

An offer names its vendor (`Offer.vendor_id`), and that name is what the person's mandate, policies and contracts
go by. So a connector must not offer in another vendor's name: it would borrow that vendor's mandate or good
standing, and the money would go elsewhere. The first enabled connector that offers in a vendor's name speaks for
that vendor from then on (kept in the vault, audited); an offer in that name from any other connector is refused
and reported. When the connector that spoke for a vendor is no longer enabled, the next one to offer in its name
takes over, audited too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from pydantic import BaseModel

from butler import registry
from butler.records import Collection
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "Speaker", "refusals"]

COLLECTION = "vendor_speakers"


class Speaker(BaseModel):
    """The connector that speaks for a vendor, and since when."""

    connector: str
    since: dt.datetime


RECORDS = Collection(COLLECTION, __name__, "which connector speaks for which vendor (the first to offer in its name)",
                     model=Speaker, id_scheme="<vendor id>")


def refusals(vault: Vault, claims: Mapping[str, Iterable[str]]) -> dict[tuple[str, str], str]:
    """(connector, vendor) → why that connector may not offer in that vendor's name, for the claims of one run
    (vendor id → the connectors offering in its name). A vendor no enabled connector speaks for yet is bound to the
    one connector that claims it; claimed by several at once, it is bound to none and all are refused."""
    out: dict[tuple[str, str], str] = {}
    enabled: set[str] | None = None
    for vendor_id, claiming in claims.items():
        claimants = set(claiming)
        record = vault.get(COLLECTION, vendor_id)
        bound = Speaker.model_validate(record.data).connector if record is not None else None
        speaker = bound
        if speaker is not None and speaker not in claimants:
            enabled = registry.enabled_ids(vault) if enabled is None else enabled
            speaker = speaker if speaker in enabled else None  # disabled since: the vendor's name is free again
        if speaker is not None:
            rivals = sorted(claimants - {speaker})
            why = f"offers in the name of {vendor_id}, which {speaker} speaks for"
        elif len(claimants) > 1:
            rivals = sorted(claimants)
            why = f"offers in the name of {vendor_id}, as {len(rivals) - 1} other enabled connector(s) do"
        else:
            rivals = []
            (speaker,) = claimants
            if speaker != bound:
                vault.put(COLLECTION, vendor_id, Speaker(connector=speaker, since=dt.datetime.now(dt.UTC))
                          .model_dump(mode="json"))
                vault.audit.append("negotiate.vendor-speaker", vendor_id, {"connector": speaker, "before": bound})
        for cid in rivals:
            out[(cid, vendor_id)] = (f"{cid} {why}: refused (a connector may not borrow another vendor's name, "
                                     "its mandate or standing)")
        if rivals:
            vault.audit.append("negotiate.vendor-impersonated", vendor_id, {"connectors": rivals, "speaker": speaker})
    return out
