"""What a screen shows of data rights: counterparties with their match, open requests with the days left, and the
answers received. Pure reads of the vault, no Textual: the TUI screen (butler.tui.screens.rights) renders it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from butler.rights import counterparties, requests
from butler.rights.database import Database
from butler.rights.followup import deadline
from butler.vault import Vault

__all__ = ["AnswerRow", "CounterpartyRow", "Overview", "RequestRow", "overview"]


@dataclass(frozen=True)
class CounterpartyRow:
    key: str
    name: str
    kinds: str
    last_contact: str
    record: str  # the company's name and slug, or "—"
    quality: str


@dataclass(frozen=True)
class RequestRow:
    reference: str
    kind: str
    company: str
    state: str  # "draft", "open", "extended", "answered", "admonished", "complained", "closed"
    days_left: int | None  # negative: overdue by that many days


@dataclass(frozen=True)
class AnswerRow:
    reference: str
    company: str
    received: str
    sender: str
    attachments: int
    note: str


@dataclass
class Overview:
    counterparties: list[CounterpartyRow] = field(default_factory=list)
    requests: list[RequestRow] = field(default_factory=list)
    answers: list[AnswerRow] = field(default_factory=list)


def _state(state: requests.Request) -> str:
    if state.closed_at:
        return "closed"
    if state.answered:
        return "answered"
    if state.complained_at:
        return "complained"
    if state.admonished_at:
        return "admonished"
    if state.sent_at is None:
        return "draft"
    return "extended" if state.extended else "open"


def overview(vault: Vault, database: Database, now: dt.datetime | None = None) -> Overview:
    now = now or requests.now()
    out = Overview()
    for c in counterparties.all_counterparties(vault):
        company = database.companies.get(c.company or "")
        out.counterparties.append(CounterpartyRow(
            c.key, c.name, ", ".join(c.kinds), c.last_contact[:10],
            f"{company.name} [{company.slug}]" if company else "—", c.quality))
    for reference in requests.references(vault):
        state = requests.request(vault, reference)
        if state is None:
            continue
        name = database.companies[state.company].name if state.company in database.companies else state.company
        due = deadline(state)
        days = (due.date() - now.date()).days if due and not state.answered and not state.closed_at else None
        out.requests.append(RequestRow(reference, state.kind, name, _state(state), days))
        for reply in state.replies:
            out.answers.append(AnswerRow(reference, name, str(reply.get("at", ""))[:10], str(reply.get("from", "")),
                                         len(reply.get("attachments", [])), str(reply.get("summary", ""))))
    out.requests.sort(key=lambda r: (r.days_left is None, r.days_left or 0))
    return out
