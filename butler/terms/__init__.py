"""IEEE 7012 "MyTerms": the person proffers terms; vendors accept, counter with one alternative, or refuse.

    ROSTER, Status, agreement(id)                   -- the 16 agreements and the DPV-P7012 statuses
    load_choices / set_choice / describe_choices    -- what the person proffers and accepts (in the vault)
    discover(vault, url)                            -- /.well-known/myterms.json + gpc.json, cached
    proffer(vault, url, policies=…)                 -- the handshake → Outcome
    pending_items / approve / reject                -- alternatives waiting for the person
    verify_records / export_records / verify_export -- the signed, per-vendor hash chain of records
    gpc_client()                                    -- an httpx.AsyncClient from the one egress: `Sec-GPC: 1`,
                                                       public addresses only, answers capped
"""

from __future__ import annotations

from butler.terms.approvals import approve, reject
from butler.terms.choices import Choice, TermsChoices, describe_choices, load_choices, set_choice
from butler.terms.discovery import Discovery, cached_discovery, discover
from butler.terms.errors import (
    ApprovalNotFound,
    NoMyTermsSupport,
    RecordChainBroken,
    TermsError,
    VendorAnswerInvalid,
    VendorUnavailable,
)
from butler.terms.handshake import Outcome, person_pseudonym, proffer
from butler.terms.pending import CounterOfferItem, pending_items
from butler.terms.records import (
    ChainReport,
    append_record,
    export_records,
    vendor_records,
    verify_chain,
    verify_export,
    verify_records,
)
from butler.terms.roster import ROSTER, STATUS_MEANINGS, Agreement, Status, agreement, is_agreement
from butler.terms.web import gpc_client, vendor_key
from butler.terms.wire import GpcDocument, MyTermsDocument, ProfferAnswer, ProfferRequest

__all__ = [
    "ROSTER",
    "STATUS_MEANINGS",
    "Agreement",
    "ApprovalNotFound",
    "ChainReport",
    "Choice",
    "CounterOfferItem",
    "Discovery",
    "GpcDocument",
    "MyTermsDocument",
    "NoMyTermsSupport",
    "Outcome",
    "ProfferAnswer",
    "ProfferRequest",
    "RecordChainBroken",
    "Status",
    "TermsChoices",
    "TermsError",
    "VendorAnswerInvalid",
    "VendorUnavailable",
    "agreement",
    "append_record",
    "approve",
    "cached_discovery",
    "describe_choices",
    "discover",
    "export_records",
    "gpc_client",
    "is_agreement",
    "load_choices",
    "pending_items",
    "person_pseudonym",
    "proffer",
    "reject",
    "set_choice",
    "vendor_key",
    "vendor_records",
    "verify_chain",
    "verify_export",
    "verify_records",
]
