"""What the TUI shows, read from the vault, the mail state, the policy files and the daemon's state file.

Plain functions and dataclasses, no Textual: the screens call them from worker threads. One `VaultReader`
wraps the open vault with a lock, because several workers may read at once and a `Vault` is not thread-safe.
Secrets (the IMAP password, connector secrets, keys) are never returned, only the fact that they exist.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from butler import approvals, paths
from butler.errors import ButlerError, ConfigError
from butler.log import redact
from butler.vault import AuditEntry, Vault

if TYPE_CHECKING:
    from butler.mail.sources import MailSource

__all__ = [
    "AccountView",
    "ApprovalView",
    "AuditView",
    "ContractView",
    "DaemonJob",
    "DaemonView",
    "Dashboard",
    "NegotiationView",
    "PolicyFileView",
    "RecordView",
    "TermsView",
    "VaultReader",
    "daemon_state",
    "parse_money",
    "read_seen",
    "write_seen",
]

SECRET_COLLECTIONS = frozenset({"connector_secrets", "keys"})
SECRET_RECORDS = frozenset({("mail", "imap-password")})
SEEN_FILE = "tui-seen.json"
DAEMON_STATE_FILE = "daemon-state.json"
RECORD_PAGE = 500  # rows shown per collection: enough to browse, cheap to read


def parse_money(value: object) -> tuple[Decimal, str] | None:
    """`"9.99 EUR"`, `{"amount": "9.99", "currency": "EUR"}` → (Decimal, currency); None if it is neither."""
    if isinstance(value, dict):
        amount, currency = value.get("amount"), value.get("currency")
    elif isinstance(value, str) and " " in value.strip():
        amount, currency = value.strip().split(None, 1)
    else:
        return None
    try:
        return Decimal(str(amount)), str(currency)
    except InvalidOperation:
        return None


def format_money(value: tuple[Decimal, str] | None) -> str:
    if value is None:
        return "—"
    return f"{value[0].quantize(Decimal('0.01'))} {value[1]}"


def _date(value: object) -> dt.date | None:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


# -- the daemon -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaemonJob:
    name: str
    last_run: str
    next_run: str
    result: str


@dataclass(frozen=True)
class DaemonView:
    running: bool
    headline: str
    jobs: tuple[DaemonJob, ...] = ()


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # the file does not say: trust it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_state(home: Path) -> DaemonView:
    """The daemon's per-job last and next runs from `daemon-state.json`, or "daemon not running"."""
    path = home / DAEMON_STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DaemonView(False, "daemon not running")
    except (OSError, ValueError):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    if not isinstance(data, dict):
        return DaemonView(False, f"daemon state unreadable ({path.name})")
    raw_jobs = data.get("jobs", {})
    items: list[tuple[str, dict[str, Any]]] = []
    if isinstance(raw_jobs, dict):
        items = [(str(k), v) for k, v in raw_jobs.items() if isinstance(v, dict)]
    elif isinstance(raw_jobs, list):
        items = [(str(j.get("name") or j.get("id") or "job"), j) for j in raw_jobs if isinstance(j, dict)]
    jobs = tuple(
        DaemonJob(name, _short_time(j.get("last_run") or j.get("last")),
                  _short_time(j.get("next_run") or j.get("next")),
                  str(j.get("last_result") or j.get("result") or j.get("status") or ""))
        for name, j in sorted(items, key=lambda kv: kv[0]))
    running = _pid_alive(data.get("pid")) and data.get("running", True) is not False
    headline = "daemon running" if running else "daemon not running"
    if not running and data.get("updated"):
        headline += f" (last seen {_short_time(data.get('updated'))})"
    return DaemonView(running, headline, jobs)


def _short_time(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return value[:16]
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M")


# -- "since you last looked" -------------------------------------------------------------------------------
def read_seen(home: Path) -> int:
    """The audit sequence number the person had seen when they last closed the TUI (-1: never)."""
    try:
        data = json.loads((home / SEEN_FILE).read_text(encoding="utf-8"))
        return int(data.get("audit_seq", -1))
    except (OSError, ValueError, TypeError, AttributeError):
        return -1


def write_seen(home: Path, audit_seq: int) -> None:
    path = home / SEEN_FILE
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"audit_seq": audit_seq, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}, fh)
    os.replace(temp, path)


def summarize_activity(entries: list[AuditEntry]) -> list[str]:
    """What the butler did, as a few sentences, from audit entries."""
    mail_moved = sweeps = 0
    offers: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for e in entries:
        if e.action == "mail.sweep":
            sweeps += 1
            mail_moved += int(e.details.get("moved", 0) or 0)
        elif e.action.startswith("negotiate.") and e.action.endswith("-offer"):
            offers[e.subject.split("/", 1)[0]] += 1
        elif e.action == "vault.put" and e.subject.startswith("approvals/purchase-"):
            count["purchase proposed"] += 1
        elif e.action == "vault.put" and e.subject.startswith("negotiations/"):
            count["negotiation"] += 1
        elif e.action == "vault.put" and e.subject.startswith("approvals/"):
            count["queued"] += 1
        elif e.action.startswith("terms.") and e.action not in ("terms.discover", "terms.choice", "terms.key"):
            count["terms record"] += 1
        elif e.action in ("approval.approved", "approval.rejected") or e.action.startswith("mail.unsubscribe."):
            count[e.action] += 1
        else:
            count["other"] += 1
    lines = []
    if sweeps:
        lines.append(f"Mail: {sweeps} sweep{'s' if sweeps != 1 else ''} moved {mail_moved} message(s)")
    if offers:
        vendors = ", ".join(sorted(offers))
        lines.append(f"Offers: {sum(offers.values())} exchanged with {vendors}")
    if count["negotiation"]:
        lines.append(f"Negotiations finished: {count['negotiation']}")
    if count["purchase proposed"]:
        lines.append(f"Savings proposed: {count['purchase proposed']} deal(s) wait for your approval")
    if count["terms record"]:
        lines.append(f"Agreements: {count['terms record']} MyTerms record(s) signed")
    if count["mail.unsubscribe.sent"] or count["mail.unsubscribe.proposed"]:
        lines.append(f"Unsubscribes: {count['mail.unsubscribe.proposed']} proposed, "
                     f"{count['mail.unsubscribe.sent']} sent")
    if count["queued"]:
        lines.append(f"Queued for you: {count['queued']} other item(s)")
    if count["approval.approved"] or count["approval.rejected"]:
        lines.append(f"Your answers: {count['approval.approved']} approved, {count['approval.rejected']} rejected")
    if count["other"]:
        lines.append(f"Other changes: {count['other']}")
    return lines


# -- views ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dashboard:
    activity: list[str]
    new_entries: int
    head_seq: int
    pending: int
    pending_kinds: dict[str, int]
    daemon: DaemonView
    vault_source: str
    records: int
    collections: int
    audit_ok: bool
    audit_note: str
    keyring: str


@dataclass(frozen=True)
class ApprovalView:
    id: str
    kind: str
    created: str
    summary: str
    reasons: tuple[str, ...]


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


@dataclass(frozen=True)
class AccountView:
    account: str  # the directory name; the account itself when a source for it is known
    directory: Path
    sweeps: list[SweepView]
    senders: list[SenderView]
    away: int
    restored: int
    can_undo: bool


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


def _preview(data: dict[str, Any], width: int = 120) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return redact(text if len(text) <= width else text[: width - 1] + "…")


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

    @contextmanager
    def locked(self) -> Iterator[Vault]:
        with self._lock:
            yield self.vault

    def close(self) -> None:
        with self._lock:
            self.vault.close()

    # -- dashboard -------------------------------------------------------------------------------------
    def dashboard(self, seen: int) -> Dashboard:
        with self.locked() as vault:
            collections = vault.collections()
            items = approvals.pending(vault)
            try:
                entries = vault.audit.entries()
                ok, note = True, f"audit log verified: {len(entries)} entries"
            except ButlerError as exc:
                entries, ok, note = [], False, f"audit log does NOT verify: {exc.message}"
        new = [e for e in entries if e.seq > seen]
        head = entries[-1].seq if entries else -1
        return Dashboard(
            activity=summarize_activity(new), new_entries=len(new), head_seq=head, pending=len(items),
            pending_kinds=dict(Counter(i.kind for i in items)), daemon=daemon_state(self.home),
            vault_source=self.source or "given", records=sum(collections.values()),
            collections=len(collections), audit_ok=ok, audit_note=note, keyring=self._keyring_note())

    def _keyring_note(self) -> str:
        if self.source.startswith("keyring"):
            return f"unlocked from the {self.source}"
        if any("no OS keyring" in note or "keyring unavailable" in note for note in self.notes):
            return f"unlocked with the {self.source}; no keyring"
        return f"unlocked with the {self.source or 'key given'}"

    # -- approvals -------------------------------------------------------------------------------------
    def approvals(self) -> list[ApprovalView]:
        with self.locked() as vault:
            items = approvals.pending(vault)
        return [ApprovalView(i.id, i.kind, i.created[:16].replace("T", " "), redact(i.summary),
                             tuple(redact(r) for r in i.reasons)) for i in items]

    def decide(self, item_id: str, *, approve: bool) -> str:
        with self.locked() as vault:
            return redact(approvals.decide(vault, item_id, approve=approve))

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
        from butler.mail.imap import ImapSource

        with self.locked() as vault:
            settings = load_settings(vault)
            if not settings.host or not settings.username:
                return []
            password = load_password(vault)
        return [ImapSource(settings, password)]

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
        port = settings.imap_port
        return {account_dir(f"imap:{settings.username}@{settings.host}:{port}", self.home).name}

    def mail(self) -> list[AccountView]:
        from butler.mail.state import Journal, MailboxState

        root = self.home / "mail"
        if not root.is_dir():
            return []
        known = self._known_accounts()
        out = []
        for directory in sorted(p for p in root.iterdir() if p.is_dir()):
            state = MailboxState.load(directory)
            sweeps: dict[str, list[int]] = {}
            first_at: dict[str, str] = {}
            for entry in Journal(directory).entries():
                sweep = str(entry.get("sweep") or "?")
                if entry.get("op") == "move":
                    sweeps.setdefault(sweep, [0, 0])[0] += 1
                    first_at.setdefault(sweep, str(entry.get("at", "")))
                elif entry.get("op") == "undo":
                    sweeps.setdefault(sweep, [0, 0])[1] += 1
            sweep_views = sorted((SweepView(s, _short_time(first_at.get(s, "")), n[0], n[1])
                                  for s, n in sweeps.items() if n[0]), key=lambda v: v.at, reverse=True)
            kept = Counter(str(v.get("sender", "")) for v in state.moved.values())
            senders = sorted((SenderView(s, int(info.get("moved", 0)), int(info.get("read", 0)),
                                         bool(info.get("one_click")), kept.get(s, 0))
                              for s, info in state.senders.items()), key=lambda v: (-v.moved, v.sender))
            out.append(AccountView(directory.name, directory, sweep_views, senders, len(state.moved),
                                   len(state.restored), directory.name in known))
        return out

    def undo(self, account: str, *, sender: str | None = None) -> str:
        """Put moved mail back: the last sweep, or every move of `sender`. Returns a sentence."""
        from butler.mail.undo import UndoFilter, undo_moves

        sources = self._sources()
        source = sources.get(account)
        try:
            if source is None:
                raise ButlerError(f"butler cannot reach the mailbox of {account}",
                                  "Set it up with `butler mail setup`, or use `butler mail undo --maildir PATH`.")
            which = UndoFilter(last_sweep=sender is None, sender=sender)
            count = undo_moves(source, which, home=self.home)
        finally:
            for s in sources.values():
                s.close()
        with self.locked() as vault:
            vault.audit.append("mail.undo", sender or "last sweep", {"restored": count}, actor="person")
        what = f"{sender}'s mail" if sender else "the last sweep"
        return f"restored {count} message(s) from {what}"

    # -- negotiations, intents, contracts ---------------------------------------------------------------
    def negotiations(self) -> list[NegotiationView]:
        with self.locked() as vault:
            records = list(vault.records("negotiations"))
        out = []
        for r in records:
            d = r.data
            exchanges = []
            for x in d.get("exchanges") or []:
                terms = x.get("terms") or {}
                exchanges.append(ExchangeView(
                    int(x.get("round", 0)), str(x.get("proposer", "")), str(terms.get("price", "—")),
                    str(terms.get("term_months", "—")), str(terms.get("data_use", "—")),
                    ", ".join(terms.get("extras") or []) or "—", float(x.get("utility", 0.0))))
            agreed = d.get("agreed") or None
            agreed_price = parse_money(agreed.get("price")) if isinstance(agreed, dict) else None
            opening = next((parse_money(x.get("terms", {}).get("price")) for x in d.get("exchanges") or []
                            if x.get("proposer") == "vendor"), None)
            saving = None
            if agreed_price and opening and agreed_price[1] == opening[1]:
                saving = (opening[0] - agreed_price[0], opening[1])
            out.append(NegotiationView(
                r.id, str(d.get("vendor", "")), str(d.get("offer", "")),
                "agreed" if agreed else str(d.get("reason") or "no agreement"),
                format_money(agreed_price), saving, float(d.get("utility", 0.0) or 0.0),
                _short_time(d.get("at") or r.updated), exchanges))
        return sorted(out, key=lambda n: n.at, reverse=True)

    def intents(self) -> list[IntentView]:
        with self.locked() as vault:
            records = list(vault.records("intents"))
        out = []
        for r in records:
            d = r.data
            out.append(IntentView(r.id, str(d.get("description", "")), str(d.get("category", "")),
                                  format_money(parse_money(d.get("budget"))), _short_time(d.get("deadline")),
                                  str(d.get("status", "open"))))
        return out

    def contracts(self, today: dt.date | None = None) -> list[ContractView]:
        today = today or dt.date.today()
        deals = self.negotiations()
        with self.locked() as vault:
            records = list(vault.records("contracts"))
        out = []
        for r in records:
            d = r.data
            price = parse_money(d.get("price"))
            renewal = _date(d.get("renewal_date")) or _date(d.get("end"))
            best_offer, saving = "—", "—"
            vendor, category = str(d.get("vendor_id", "")), str(d.get("category", ""))
            for deal in deals:  # an agreed negotiation for the same vendor beats the current price
                agreed = parse_money(deal.agreed_price)
                if deal.vendor != vendor or agreed is None or price is None or agreed[1] != price[1]:
                    continue
                if agreed[0] < price[0] and (best_offer == "—" or agreed[0] < Decimal(best_offer.split()[0])):
                    best_offer = format_money(agreed)
                    saving = format_money((price[0] - agreed[0], price[1]))
            if best_offer == "—" and isinstance(d.get("best_offer"), dict):
                offer = parse_money(d["best_offer"].get("price"))
                if offer and price and offer[1] == price[1]:
                    best_offer = f"{format_money(offer)} {d['best_offer'].get('vendor', '')}".strip()
                    saving = format_money((price[0] - offer[0], price[1]))
            period = d.get("period", "month")
            out.append(ContractView(
                r.id, vendor, str(d.get("product", "")), category,
                f"{format_money(price)}/{period}" if period != "once" else format_money(price),
                renewal, (renewal - today).days if renewal else None, bool(d.get("auto_renew")),
                best_offer, saving))
        return sorted(out, key=lambda c: (c.renewal is None, c.renewal or dt.date.max, c.id))

    # -- terms and policies ------------------------------------------------------------------------------
    def terms(self) -> TermsView:
        from butler.terms import describe_choices, load_choices, verify_records
        from butler.terms.records import RECORDS_COLLECTION

        with self.locked() as vault:
            text = describe_choices(load_choices(vault))
            vendors = sorted({i.split("#", 1)[0] for i in vault.ids(RECORDS_COLLECTION)})
            views = []
            for vendor in vendors:
                try:
                    report = verify_records(vault, vendor)
                    verified = "verified" if report.ok else f"BROKEN: {report.problems[0]}"
                    count = report.records
                except ButlerError as exc:
                    verified, count = f"BROKEN: {exc.message}", 0
                ids = [i for i in vault.ids(RECORDS_COLLECTION) if i.startswith(vendor + "#")]
                last = vault.get(RECORDS_COLLECTION, ids[-1]) if ids else None
                latest = ""
                if last is not None:
                    latest = f"{last.data.get('status', '')} {last.data.get('term_id', '')}".strip()
                views.append(VendorRecordsView(vendor, count, latest, verified))
        return TermsView(text, views)

    def policies(self) -> list[PolicyFileView]:
        return policy_views(paths.policies_dir(self.home))

    # -- vault and audit -----------------------------------------------------------------------------------
    def collections(self) -> dict[str, int]:
        with self.locked() as vault:
            return vault.collections()

    def records(self, collection: str, limit: int = RECORD_PAGE) -> list[RecordView]:
        with self.locked() as vault:
            ids = vault.ids(collection)[:limit]
            out = []
            for record_id in ids:
                record = vault.get(collection, record_id)
                if record is None:
                    continue
                secret = collection in SECRET_COLLECTIONS or (collection, record_id) in SECRET_RECORDS
                preview = "(secret: not shown)" if secret else _preview(record.data)
                out.append(RecordView(record_id, record.version, _short_time(record.updated), preview))
        return out

    def record_text(self, collection: str, record_id: str) -> str:
        if collection in SECRET_COLLECTIONS or (collection, record_id) in SECRET_RECORDS:
            return "This record holds a secret; the TUI never shows it."
        with self.locked() as vault:
            record = vault.get(collection, record_id)
        if record is None:
            return "(gone)"
        return redact(json.dumps(record.data, ensure_ascii=False, indent=2, sort_keys=True, default=str))

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


def policy_views(directory: Path) -> list[PolicyFileView]:
    """Each policy file checked on its own, then all together; errors keep their file:line."""
    from butler.policy import load_policies, policy_files

    if not directory.is_dir():
        return [PolicyFileView(str(directory), False, "no policy directory yet: copy the example packs here",
                               None)]
    try:
        files = policy_files([directory])
    except ConfigError as exc:
        return [PolicyFileView(str(directory), False, exc.message, exc.location)]
    views = []
    for path in files:
        try:
            loaded = load_policies([path])
        except ConfigError as exc:
            views.append(PolicyFileView(path.name, False, exc.message, exc.location))
            continue
        rules = [(p.rule.id, str(getattr(p.rule, "kind", "")), str(getattr(p.rule, "action", "")), p.location)
                 for p in loaded.rules]
        rules += [(p.preference.id, "preference", "prefer", p.location) for p in loaded.preferences]
        views.append(PolicyFileView(path.name, True, f"{len(loaded.rules)} rules, {len(loaded.preferences)} "
                                    "preferences", None, rules))
    if files and all(v.ok for v in views):
        try:
            load_policies(files)
        except ConfigError as exc:  # each file is fine alone, not together (duplicate ids, contradictions)
            views.append(PolicyFileView("(all files together)", False, exc.message, exc.location))
    return views


def rule_text(file: Path, rule_id: str) -> str:
    """One rule or preference of a policy file in full, with where it is written."""
    from butler.policy import load_policies

    try:
        loaded = load_policies([file])
    except ConfigError as exc:
        return exc.message
    placed = loaded.rule(rule_id)
    if placed is not None:
        body = placed.rule.model_dump(mode="json", exclude_none=True)
        return f"{placed.location}\n{placed.rule.reason}\n\n" + json.dumps(body, indent=2, ensure_ascii=False)
    for pref in loaded.preferences:
        if pref.preference.id == rule_id:
            body = pref.preference.model_dump(mode="json", exclude_none=True)
            return f"{pref.location}\n\n" + json.dumps(body, indent=2, ensure_ascii=False)
    return f"no rule {rule_id}"
