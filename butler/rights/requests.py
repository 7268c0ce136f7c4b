"""The vault collection `data_requests`: every GDPR request as a chain of signed, audited events. The only code
that reads or writes it.

A request is named by its reference (`DR-` and eight letters and digits), which goes in the subject of every
letter so replies can be linked. Each event (drafted, sent by mail, written as a letter, extended, reply,
closed; a letter is the request, an admonition or a complaint) is an AgreementRecord signed with the person's
agreement-signing key and chained to the one before, as MyTerms agreements are (butler.terms.records): a
company or a supervisory authority can check the chain with the public key alone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from butler.models import AgreementRecord
from butler.records import Collection
from butler.rights.errors import RightsError
from butler.terms.records import ChainReport, append_to_chain, read_chain, record_hash, signing_key, verify_chain
from butler.vault import Vault

__all__ = ["COLLECTION", "EVENTS", "RECORDS", "Request", "append", "events", "new_reference", "now", "references",
           "request", "verify"]

COLLECTION = "data_requests"
RECORDS = Collection(COLLECTION, __name__, "GDPR requests: signed events from draft to answer or complaint",
                     model=AgreementRecord, id_scheme="<reference>#<seq>")
# details["letter"] says which letter an event is about: request, admonition, complaint
EVENTS = ("drafted", "sent", "letter", "extended", "reply", "attachments", "closed")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def now() -> dt.datetime:
    """The clock every event is stamped with (one place, so a test can freeze it)."""
    return dt.datetime.now(dt.UTC)


def new_reference() -> str:
    return "DR-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def references(vault: Vault) -> list[str]:
    return sorted({record_id.split("#", 1)[0] for record_id in vault.ids(COLLECTION)})


def _unreadable(why: str) -> RightsError:
    return RightsError(f"request {why}")


def events(vault: Vault, reference: str) -> list[AgreementRecord]:
    """A request's events in order, as stored (see `verify`)."""
    return read_chain(vault, COLLECTION, reference, unreadable=_unreadable)


def append(vault: Vault, reference: str, company: str, event: str, *, place: str, details: dict[str, Any],
           at: dt.datetime | None = None) -> AgreementRecord:
    """Sign and store the next event of a request, and note it in the audit log (without personal data)."""
    if event not in EVENTS:
        raise ValueError(f"unknown request event {event!r}")
    record = append_to_chain(vault, COLLECTION, reference, width=6, unreadable=_unreadable, term_id=reference,
                             counterparty=company, status=event, at=at or now(), place=place, details=details)
    vault.audit.append(f"rights.{event}", reference, {"company": company, "seq": record.seq,
                                                      "hash": record_hash(record)})
    return record


def verify(vault: Vault, reference: str) -> ChainReport:
    """Check a request's chain: order, links and signatures."""
    chain = events(vault, reference)
    company = chain[0].counterparty if chain else ""
    return verify_chain(company, chain, signing_key(vault).public_key())


@dataclass
class Request:
    """A request as its events tell it."""

    reference: str
    company: str
    kind: str = ""
    language: str = ""
    to: str = ""
    subject: str = ""
    text: str = ""
    drafted_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    how: str = ""  # "email" or "letter"
    message_ids: list[str] = field(default_factory=list)
    extended: bool = False
    replies: list[dict[str, Any]] = field(default_factory=list)
    admonished_at: dt.datetime | None = None
    complained_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    timeline: list[tuple[dt.datetime, str, str]] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return any(not r.get("extension") for r in self.replies)


def request(vault: Vault, reference: str) -> Request | None:
    """The request `reference` folded from its events, or None."""
    chain = events(vault, reference)
    if not chain:
        return None
    state = Request(reference, chain[0].counterparty)
    for e in chain:
        d = e.details
        state.timeline.append((e.at, e.status, str(d.get("summary", ""))))
        if e.status == "drafted" and d.get("letter", "request") == "request":
            state.kind, state.language = str(d.get("kind", "")), str(d.get("language", ""))
            state.to, state.subject = str(d.get("to", "")), str(d.get("subject", ""))
            state.text = str(d.get("text", ""))
            state.drafted_at = e.at
        elif e.status in ("sent", "letter"):
            if d.get("letter", "request") == "request":
                state.sent_at, state.how = e.at, "email" if e.status == "sent" else "letter"
            if d.get("message_id"):
                state.message_ids.append(str(d["message_id"]))
            if d.get("letter") == "admonition":
                state.admonished_at = e.at
            elif d.get("letter") == "complaint":
                state.complained_at = e.at
        elif e.status == "extended":
            state.extended = True
        elif e.status == "reply":
            state.replies.append(dict(d, at=e.at.isoformat()))
            if d.get("extension"):
                state.extended = True
        elif e.status == "attachments":  # a reply's attachments kept from the whole message, fetched later
            for reply in state.replies:
                if reply.get("message_id") == d.get("message_id"):
                    reply["attachments"] = [*reply.get("attachments", []), *d.get("attachments", [])]
                    reply["left_in_mailbox"] = list(d.get("left_in_mailbox", []))
                    reply["read_whole"] = True
        elif e.status == "closed":
            state.closed_at = e.at
    return state
