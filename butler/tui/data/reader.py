"""`VaultReader`: the open vault behind a lock, read into views for the screens' workers.

Secrets (the IMAP password, connector secrets, keys) are never returned, only the fact that they exist.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from butler import paths
from butler.errors import ButlerError
from butler.log import redact
from butler.records import HIDDEN
from butler.tui.data import values
from butler.tui.data.activity import describe_entry, summarize_activity
from butler.tui.data.daemon import daemon_state
from butler.tui.data.mailbox import read_account, recorded_preview, text_preview
from butler.tui.data.policies import policy_views
from butler.tui.data.values import record_preview, short_time
from butler.tui.data.views import (
    AccountView,
    ApprovalView,
    AuditSummary,
    AuditView,
    ContractView,
    Dashboard,
    IntentView,
    MessageView,
    NegotiationView,
    PolicyFileView,
    RecordView,
    TermsView,
    UndoOutcome,
    VendorRecordsView,
)
from butler.tui.data.week import summarize_week
from butler.vault import Vault

__all__ = ["VaultReader"]

if TYPE_CHECKING:
    from butler.approvals import Desk
    from butler.mail.sources import MailSource
    from butler.records import Catalog


log = logging.getLogger(__name__)

T = TypeVar("T")

RECORD_PAGE = 500  # rows shown per collection: enough to browse, cheap to read
RECENT = 40  # latest audit entries Home lists, room permitting
QUIET_ACTIONS = frozenset({"vault.put", "vault.delete", "vault.migrate", "approval.executing", "terms.discover"})


def _people_s(collections: dict[str, int]) -> dict[str, int]:
    """The collections that hold the person's records: not the vault's own bookkeeping (`_meta`)."""
    return {name: n for name, n in collections.items() if not name.startswith("_")}


class VaultReader:
    """The open vault, its key source and notes, read under one lock by the TUI's workers."""

    def __init__(self, vault: Vault, source: str = "", notes: list[str] | None = None, *,
                 mail_sources: Callable[[Vault], list[MailSource]] | None = None) -> None:
        self.vault = vault
        self.home = vault.home
        self.source = source
        self.notes = list(notes or [])
        self._lock = threading.RLock()
        self._mail_sources = mail_sources

    @cached_property
    def _desk(self) -> Desk:  # built on first use, in a worker: it imports every feature's approval kinds
        from butler.wiring import desk

        return desk()

    @cached_property
    def _catalog(self) -> Catalog:
        from butler.wiring import catalog

        return catalog()

    @contextmanager
    def locked(self) -> Iterator[Vault]:
        with self._lock:
            yield self.vault

    def close(self) -> None:
        with self._lock:
            self.vault.close()

    # -- dashboard -------------------------------------------------------------------------------------
    def dashboard(self) -> Dashboard:
        """Home's first paint: counts, what waits (by kind), the daemon, the vault's last change (its head, read
        on opening). Nothing here imports the features: the approval kinds come with `home_details`."""
        from butler.approvals import OPEN, State, raw_items

        with self.locked() as vault:
            collections = _people_s(vault.collections())
            items = [d for d in raw_items(vault) if d.get("state", State.PENDING.value) in OPEN]
            last = vault.audit.last_entry
        return Dashboard(
            pending=len(items), pending_kinds=dict(Counter(str(d.get("kind", "?")) for d in items)),
            daemon=daemon_state(self.home), vault_source=self.source or "given", records=sum(collections.values()),
            collections=len(collections), keyring=self._keyring_note(),
            last_change=short_time(last.at) if last is not None else "—")

    def home_details(self, seen: int) -> AuditSummary:
        """What Home shows once on screen: what waits in words, and from the whole audit log, every entry checked,
        what happened since `seen`, this week and the latest events."""
        from butler.approvals import State

        with self.locked() as vault:
            items = self._desk.items(vault)
            try:
                entries = vault.audit.entries()
                ok, note = True, f"audit log verified: {len(entries)} entries"
            except ButlerError as exc:
                entries, ok, note = [], False, f"audit log does NOT verify: {exc.message}"
        pending = [i for i in items if i.state is State.PENDING] or items
        new = [e for e in entries if e.seq > seen]
        return AuditSummary(
            activity=summarize_activity(new), new_entries=len(new), head_seq=entries[-1].seq if entries else -1,
            audit_ok=ok, audit_note=note, week=summarize_week(entries, self.negotiations(), values.today()),
            recent=[(short_time(e.at)[5:], redact(describe_entry(e))) for e in reversed(entries[-200:])
                    if e.action not in QUIET_ACTIONS][:RECENT],
            waiting=[redact(i.summary()) for i in pending[:8]])

    def _keyring_note(self) -> str:
        if self.source.startswith("keyring"):
            return f"unlocked from the {self.source}"
        if any("no OS keyring" in note or "keyring unavailable" in note for note in self.notes):
            return f"unlocked with the {self.source}; no keyring"
        return f"unlocked with the {self.source or 'key given'}"

    # -- approvals -------------------------------------------------------------------------------------
    def approvals(self) -> list[ApprovalView]:
        from butler.approvals import State

        with self.locked() as vault:
            for line in self._desk.reconcile(vault):
                log.info("%s", line)
            items = self._desk.items(vault)
            explained = {i.id: self._desk.explain(vault, i.id) for i in items}
        return [ApprovalView(i.id, i.kind, i.created[:16].replace("T", " "),
                             redact(i.summary() if i.state is State.PENDING else f"({i.state.value}) {i.summary()}"),
                             tuple(redact(r) for r in i.reasons), tuple(redact(x) for x in explained[i.id]),
                             redact(q) if (q := i.confirmation()) and i.state is State.PENDING else None)
                for i in items]

    def explain(self, item_id: str) -> list[str]:
        """What `butler explain ID` prints for an item."""
        with self.locked() as vault:
            return [redact(line) for line in self._desk.explain(vault, item_id)]

    def decide(self, item_id: str, *, approve: bool) -> str:
        with self.locked() as vault:
            try:
                return redact(self._desk.decide(vault, item_id, approve=approve, by="person"))
            except ButlerError as exc:
                return redact(f"not done: {exc.message}")

    # -- mail -------------------------------------------------------------------------------------------
    def _sources(self) -> dict[str, MailSource]:
        """Mail sources the TUI can act on, by account directory name."""
        from butler.mail.state import account_dir

        found: list[MailSource] = []
        if self._mail_sources is not None:
            with self.locked() as vault:
                found = self._mail_sources(vault)
        else:
            found = self._imap_sources()
        return {account_dir(s.account, self.home).name: s for s in found}

    def _imap_sources(self) -> list[MailSource]:
        from butler.mail.account import load_password, load_settings
        from butler.mail.unattended import connect_imap

        with self.locked() as vault:
            settings = load_settings(vault)
            if not settings.host or not settings.username:
                return []
            password = load_password(vault)
        return [connect_imap(settings, password)]  # connected outside the lock: other screens keep reading

    def _known_accounts(self) -> set[str]:
        """Account directory names whose source is known, without connecting to anything."""
        from butler.mail.account import load_settings
        from butler.mail.state import account_dir

        if self._mail_sources is not None:
            return set(self._sources())
        with self.locked() as vault:
            settings = load_settings(vault)
        if not settings.host or not settings.username:
            return set()
        return {account_dir(settings.imap_account, self.home).name}

    def mail(self) -> list[AccountView]:
        root = self.home / "mail"
        if not root.is_dir():
            return []
        known = self._known_accounts()
        return [read_account(directory, directory.name in known)
                for directory in sorted(p for p in root.iterdir() if p.is_dir())]

    def _with_source(self, account: str, use: Callable[[MailSource], T]) -> T:
        sources = self._sources()
        try:
            source = sources.get(account)
            if source is None:
                raise ButlerError(f"butler cannot reach the mailbox of {account.rsplit('-', 1)[0]}",
                                  "Set it up with `butler mail setup`, or use `butler mail undo --maildir PATH`.")
            return use(source)
        finally:
            for s in sources.values():
                s.close()

    def undo(self, account: str, *, sender: str | None = None, sweep: str | None = None,
             moves: frozenset[str] = frozenset()) -> UndoOutcome:
        """Put moved mail back: named moves, one sender's, one sweep's, or (none given) the last sweep's."""
        from butler.mail.undo import UndoFilter, restore

        which = UndoFilter(last_sweep=not (sender or sweep or moves), sender=sender, sweep=sweep, moves=moves)
        report = self._with_source(account, lambda source: restore(source, which, home=self.home))
        what = (f"{sender}'s mail" if sender else "the message" if moves else
                "that sweep" if sweep else "the last sweep")
        with self.locked() as vault:
            vault.audit.append("mail.undo", sender or (f"sweep {sweep}" if sweep else "") or
                               ("one message" if moves else "last sweep"),
                               {"restored": report.restored, "missing": len(report.missing)}, actor="person")
        missing = tuple(f"{m.get('sender') or '?'}: {m.get('subject') or '(no subject)'} — {m['why']}"
                        for m in report.missing)
        said = f"restored {report.restored} message(s) from {what}"
        if missing:
            said += f"; {len(missing)} could not be put back"
        return UndoOutcome(said, missing)

    def preview(self, account: str, message: MessageView) -> str:
        """The message's text from its mailbox (text only), or what the journal recorded when it is out of reach."""
        try:
            return self._with_source(account, lambda source: text_preview(source, message))
        except ButlerError as exc:
            return f"{recorded_preview(message)}\n\n({exc.message}: only what was recorded is shown)"

    def explain_message(self, message: MessageView) -> str:
        from butler.mail.explain import explain_move

        lines = explain_move(message.key, self.home)
        return "\n".join(lines[1:]) if lines else recorded_preview(message)

    def unsubscribe(self, account: str, sender: str) -> str:
        """Queue an unsubscribe from `sender` on the approval desk; nothing is sent until the person approves."""
        from butler.mail.account import load_mail_policies, load_settings
        from butler.mail.state import MailboxState
        from butler.mail.unsubscribe import propose

        info = MailboxState.load(self.home / "mail" / account).senders.get(sender, {})
        if not info.get("list_unsubscribe"):
            return f"{sender}'s mail names no way to unsubscribe; move it back or leave it to the sweeps"
        headers = {"list-unsubscribe": str(info.get("list_unsubscribe", "")),
                   "list-unsubscribe-post": "List-Unsubscribe=One-Click" if info.get("one_click") else ""}
        policies = load_mail_policies(self.home)
        with self.locked() as vault:
            settings = load_settings(vault)
            item = propose(vault, sender, headers, policies=policies,
                           allow_loopback=settings.allow_loopback_unsubscribe,
                           why="you asked from the Mail screen", by_mail=settings.smtp_configured)
        if item is None:
            return f"no unsubscribe queued for {sender}: one already waits or was sent, or its address was refused"
        return f"unsubscribe from {sender} waits on Approvals (2): nothing is sent until you approve it"

    # -- negotiations, intents, contracts ---------------------------------------------------------------
    def negotiations(self) -> list[NegotiationView]:
        from butler.tui.data.deals import negotiation_views

        with self.locked() as vault:
            return negotiation_views(vault)

    def intents(self) -> list[IntentView]:
        from butler.tui.data.deals import intent_views

        with self.locked() as vault:
            return intent_views(vault)

    def contracts(self, today: dt.date | None = None) -> list[ContractView]:
        from butler.tui.data.deals import contract_views

        deals = self.negotiations()
        with self.locked() as vault:
            return contract_views(vault, deals, today or values.today())

    # -- terms and policies ------------------------------------------------------------------------------
    def terms(self) -> TermsView:
        from butler.terms import describe_choices, load_choices, verify_records
        from butler.terms.records import record_vendors, vendor_records
        from butler.terms.roster import STATUS_MEANINGS

        with self.locked() as vault:
            text = describe_choices(load_choices(vault))
            vendors = record_vendors(vault)
            views = []
            for vendor in vendors:
                try:
                    report = verify_records(vault, vendor)
                    verified = "verified" if report.ok else f"BROKEN: {report.problems[0]}"
                    count = report.records
                except ButlerError as exc:
                    verified, count = f"BROKEN: {exc.message}", 0
                try:
                    held = vendor_records(vault, vendor)
                except ButlerError:
                    held = []
                last = held[-1] if held else None
                latest = ""
                if last is not None:  # in words, not the roster's status name
                    latest = f"{STATUS_MEANINGS.get(last.status, last.status)} ({last.term_id})"
                views.append(VendorRecordsView(vendor, count, latest, verified))
        return TermsView(text, views)

    def policies(self) -> list[PolicyFileView]:
        return policy_views(paths.policies_dir(self.home))

    # -- vault and audit -----------------------------------------------------------------------------------
    def collections(self) -> dict[str, int]:
        with self.locked() as vault:
            return _people_s(vault.collections())

    def records(self, collection: str, limit: int = RECORD_PAGE) -> list[RecordView]:
        with self.locked() as vault:
            ids = vault.ids(collection)[:limit]
            out = []
            for record_id in ids:
                record = vault.get(collection, record_id)
                if record is None:
                    continue
                visible = self._catalog.view(collection, record_id, record.data)
                shown = HIDDEN if visible is None else record_preview(visible)
                out.append(RecordView(record_id, record.version, short_time(record.updated), shown))
        return out

    def record_text(self, collection: str, record_id: str) -> str:
        if self._catalog.holds_secret(collection, record_id):
            return "This record holds a secret (or no part of butler declares its collection); the TUI never shows it."
        with self.locked() as vault:
            record = vault.get(collection, record_id)
        visible = self._catalog.view(collection, record_id, record.data) if record is not None else None
        if visible is None:
            return "(gone)"
        return redact(json.dumps(visible, ensure_ascii=False, indent=2, sort_keys=True, default=str))

    def audit(self, last: int = 500) -> AuditView:
        with self.locked() as vault:
            try:
                entries = vault.audit.entries()
            except ButlerError as exc:
                return AuditView(False, f"NOT VERIFIED: {exc.message}", [])
        head = entries[-1].hash[:16] if entries else "—"
        return AuditView(True, f"verified: {len(entries)} entries, chain head {head}…", entries[-last:][::-1])

    def verify_audit(self) -> str:
        with self.locked() as vault:
            report = vault.audit.verify()
        return f"audit log OK: {report.entries} entries, chain head {report.head[:16]}…"


