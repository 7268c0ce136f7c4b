"""Following a request up: its deadline (Art. 12(3) GDPR: one month, two more when the company says it needs
them), replies linked to it, and, when it goes unanswered, an admonition and then a complaint to the supervisory
authority, each through the approval desk.

A reply is linked by its thread headers (In-Reply-To, References naming a message butler sent), else by the
request's reference in its subject, else by its sender's domain when exactly one open request goes to that
company. A reply linked once is never linked twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from butler import profile
from butler.rights import attachments, requests
from butler.rights.approvals import DataRequestItem, make_id, propose
from butler.rights.compose import admonition, complaint
from butler.rights.database import Database, registrable
from butler.rights.markup import Reading
from butler.vault import Vault

__all__ = ["ADMONITION_DAYS", "Linked", "add_months", "awaiting", "deadline", "link_reply", "open_requests",
           "remind"]

ADMONITION_DAYS = 14  # the period the admonition templates set
_REFERENCE = re.compile(r"\bDR-[A-HJ-NP-Z2-9]{8}\b")
_EXTENSION = re.compile(r"(?i)(extend|extension|two (?:further|more|additional) months|verlänger|"
                        r"zwei weitere monate|prolong|deux mois suppl)")


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """`when` plus whole calendar months, the day clamped to the month's end (31 January + 1 = 28/29 February)."""
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def deadline(request: requests.Request) -> dt.datetime | None:
    """When the answer is due: a month after sending, three when the company extended it."""
    if request.sent_at is None:
        return None
    return add_months(request.sent_at, 3 if request.extended else 1)


def open_requests(vault: Vault) -> list[requests.Request]:
    """Requests sent and neither answered nor closed."""
    out = []
    for reference in requests.references(vault):
        state = requests.request(vault, reference)
        if state and state.sent_at and not state.answered and state.closed_at is None:
            out.append(state)
    return out


@dataclass(frozen=True)
class Linked:
    reference: str
    by: str
    attachments: int
    extension: bool


def _domains(database: Database, slug: str) -> set[str]:
    company = database.companies.get(slug)
    return {d for d in (company.web_domain, company.email_domain) if d} if company else set()


def awaiting(vault: Vault) -> list[requests.Request]:
    """Requests a reply can be linked to: sent and not closed (answered ones too: a second answer may come)."""
    return [r for r in (requests.request(vault, ref) for ref in requests.references(vault))
            if r is not None and r.sent_at is not None and r.closed_at is None]


def link_reply(vault: Vault, database: Database, reading: Reading,
               candidates: list[requests.Request] | None = None) -> Linked | None:
    """Link a message to the request it answers (of `candidates`, by default `awaiting(vault)`) and keep its
    attachments; None when it answers none (or was linked before)."""
    if reading.message is None:
        return None
    candidates = awaiting(vault) if candidates is None else candidates
    threads = {reading.in_reply_to, *reading.references} - {""}
    found, by = None, ""
    for state in candidates:
        if threads & set(state.message_ids):
            found, by = state, "thread headers"
            break
    if found is None:
        tokens = set(_REFERENCE.findall(reading.subject))
        found = next((s for s in candidates if s.reference in tokens), None)
        by = "reference in the subject"
    if found is None:
        domain = registrable(reading.domain) if reading.domain else ""
        by_domain = [s for s in candidates if not s.answered and domain and domain in _domains(database, s.company)]
        found, by = (by_domain[0], "sender domain") if len(by_domain) == 1 else (None, "")
    if found is None:
        return None
    if reading.message_id and any(r.get("message_id") == reading.message_id for r in found.replies):
        return None  # linked before: nothing twice
    kept = attachments.keep(vault, found.reference, reading.message, reading.message_id)
    text = " ".join(_text(p.get_payload(decode=True))[:4000]
                    for p in reading.message.walk() if p.get_content_maintype() == "text" and not p.get_filename())
    stored = [k["id"] for k in kept if "id" in k]
    left = [k["filename"] for k in kept if "id" not in k]
    extension = bool(_EXTENSION.search(reading.subject + " " + text)) and not kept
    requests.append(vault, found.reference, found.company, "reply", place="mailbox", at=reading.date,
                    details={"message_id": reading.message_id, "from": reading.address, "subject": reading.subject,
                             "linked_by": by, "attachments": stored, "left_in_mailbox": left,
                             "extension": extension,
                             "summary": ("the company extends the period by two months" if extension else
                                         f"reply with {len(stored)} attachment(s) kept"
                                         + (f", {len(left)} left in your mailbox (too large)" if left else ""))})
    return Linked(found.reference, by, len(stored), extension)


def remind(vault: Vault, database: Database, now: dt.datetime | None = None) -> list[str]:
    """Queue an admonition for each request past its deadline, and a complaint for each admonition left
    unanswered for two weeks; returns the desk ids queued (each letter once per request, ever)."""
    now = now or requests.now()
    me = profile.load(vault)
    name = me.name if me else ""
    queued = []
    for state in open_requests(vault):
        due = deadline(state)
        company = database.companies.get(state.company)
        if due is None or company is None or now <= due:
            continue
        sent = state.sent_at.date() if state.sent_at else now.date()
        if state.admonished_at is None:
            letter = admonition(database, company, kind=state.kind, reference=state.reference, sent=sent,
                                language=state.language or "en", name=name)
            item_kind = "admonition"
            addressee = company.name
        elif now > state.admonished_at + dt.timedelta(days=ADMONITION_DAYS) and state.complained_at is None:
            authority = database.authority_for(me.country if me and me.country else _country(company.countries))
            if authority is None:
                continue
            contact = (me.email if me and me.email else "") or "[your e-mail or postal address]"
            letter = complaint(database, company, authority, kind=state.kind, reference=state.reference, sent=sent,
                               admonished=state.admonished_at.date(), contact=contact, name=name)
            item_kind, addressee = "complaint", authority.name
        else:
            continue
        item = DataRequestItem(id=make_id(state.reference, item_kind), reference=state.reference,
                               company=state.company, addressee=addressee, letter=item_kind, to=letter.to,
                               subject=letter.subject, body=letter.text, language=letter.language,
                               recipient=letter.recipient, sender=name,
                               reasons=[f"no answer to {state.reference} by {due.date().isoformat()}"
                                        if item_kind == "admonition" else
                                        f"no answer {ADMONITION_DAYS} days after the admonition"])
        if propose(vault, item):
            requests.append(vault, state.reference, state.company, "drafted", place="desk",
                            details={"letter": item_kind, "to": letter.to, "subject": letter.subject,
                                     "text": letter.text, "summary": f"{item_kind} drafted for your approval"})
            queued.append(item.id)
    return queued


def _text(payload: object) -> str:
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


def _country(countries: tuple[str, ...]) -> str | None:
    return next((c for c in countries if len(c) == 2), None)
