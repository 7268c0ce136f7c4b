"""The plain data each screen shows; no Textual."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from butler.tui.data.daemon import DaemonView
from butler.vault import AuditEntry

__all__ = [
    "AccountView",
    "ApprovalView",
    "AuditSummary",
    "AuditView",
    "ContractView",
    "Dashboard",
    "ExchangeView",
    "IntentView",
    "MessageView",
    "NegotiationView",
    "PolicyFileView",
    "RecordView",
    "SenderView",
    "SweepView",
    "TermsView",
    "UndoOutcome",
    "VendorRecordsView",
]

if TYPE_CHECKING:
    from butler.tui.data.week import WeekView


# -- views ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dashboard:
    """What Home shows at once: read without going through the whole audit log."""

    pending: int
    pending_kinds: dict[str, int]
    daemon: DaemonView
    vault_source: str
    records: int
    collections: int
    keyring: str
    last_change: str = "—"


@dataclass(frozen=True)
class AuditSummary:
    """What Home shows once on screen: what waits in words, and what the whole audit log, verified, says."""

    activity: list[str]
    new_entries: int
    head_seq: int
    audit_ok: bool
    audit_note: str
    week: WeekView | None = None
    recent: list[tuple[str, str]] = field(default_factory=list)  # (when, what) of the latest audit entries
    waiting: list[str] = field(default_factory=list)  # what waits, in words, the oldest first


@dataclass(frozen=True)
class ApprovalView:
    id: str
    kind: str
    created: str
    summary: str
    reasons: tuple[str, ...]
    explanation: tuple[str, ...] = ()
    confirm: str | None = None  # asked before approving, when approving spends, signs or sends


@dataclass(frozen=True)
class SweepView:
    sweep: str
    at: str
    moved: int
    undone: int


@dataclass(frozen=True)
class SenderView:
    sender: str
    moved: int
    read: int
    one_click: bool
    kept: int
    can_unsubscribe: bool = False  # the sender's mail named a way to unsubscribe


@dataclass(frozen=True)
class MessageView:
    """One message a sweep moved and nobody has put back."""

    move: str  # the journal's move id: only detail views show it
    key: str  # Message-ID, or sha:… when there is none
    sender: str
    subject: str
    category: str
    at: str
    why: str
    sweep: str
    folder: str
    uid: str | None
    size: int


@dataclass(frozen=True)
class UndoOutcome:
    """What an undo did, in a sentence, and each chosen message that could not be put back (with why)."""

    said: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountView:
    account: str  # the directory name; the account itself when a source for it is known
    directory: Path
    sweeps: list[SweepView]
    senders: list[SenderView]
    away: int
    restored: int
    can_undo: bool
    messages: list[MessageView] = field(default_factory=list)


@dataclass(frozen=True)
class ExchangeView:
    round: int
    proposer: str
    price: str
    term_months: str
    data_use: str
    extras: str
    utility: float


@dataclass(frozen=True)
class NegotiationView:
    id: str
    vendor: str
    offer: str
    outcome: str
    agreed_price: str
    saving: tuple[Decimal, str] | None
    utility: float
    at: str
    exchanges: list[ExchangeView]
    reserve: float | None = None  # the value below which butler walks away (0–1)


@dataclass(frozen=True)
class IntentView:
    id: str
    description: str
    category: str
    budget: str
    deadline: str
    status: str


@dataclass(frozen=True)
class ContractView:
    id: str
    vendor: str
    product: str
    category: str
    price: str
    renewal: dt.date | None
    days_left: int | None
    auto_renew: bool
    best_offer: str
    saving: str


@dataclass(frozen=True)
class VendorRecordsView:
    vendor: str
    records: int
    latest: str
    verified: str


@dataclass(frozen=True)
class TermsView:
    choices: str
    vendors: list[VendorRecordsView]


@dataclass(frozen=True)
class PolicyFileView:
    path: str
    ok: bool
    message: str
    location: str | None
    rules: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, kind, action, file:line


@dataclass(frozen=True)
class RecordView:
    id: str
    version: int
    updated: str
    preview: str


@dataclass(frozen=True)
class AuditView:
    ok: bool
    headline: str
    entries: list[AuditEntry]


