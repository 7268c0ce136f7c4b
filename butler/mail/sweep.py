"""A promotion sweep over one mailbox: classify new inbox mail, move what the person does not want, journal it.

Messages are fetched and judged in batches; the moves they need are gathered and made together. Order per move
batch: journal the planned moves (fsynced, with the target's UIDVALIDITY and UIDNEXT) → MOVE → journal
what was done (with the COPYUID answer) → advance the cursor; the server makes a MOVE while the next batches are
judged, and its answer is journaled before the next moves begin. Without MOVE: plan → COPY → journal the copies →
verify them → \\Deleted + UID EXPUNGE of exactly the verified originals → journal. A sweep killed anywhere
re-checks unfinished plans on the next run (`butler.mail.recovery`): an original is expunged only when its copy
is found (by COPYUID, or as a new message in the target with the same Message-ID and size), so nothing is lost or
moved twice.
A message is (folder, UIDVALIDITY, UID); its Message-ID is only a hint. One in the inbox with the key of a moved
message counts as moved back by the person only when that moved message left its folder and the sizes agree: a
duplicate delivery is judged like any new mail. Messages the person moved into Promotions teach the opposite.
Nothing is ever deleted or marked read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from butler.mail.classify import Category, classify_facts, kind_of
from butler.mail.decide import decide
from butler.mail.engagement import Engagement, sent_folder
from butler.mail.errors import MailFolderGone, MailSourceError, absent_unless_lost
from butler.mail.folders import FolderFinder
from butler.mail.message import read_facts
from butler.mail.moving import Mover
from butler.mail.recovery import InterruptedMoves
from butler.mail.report import SweepReport
from butler.mail.settings import MailSettings
from butler.mail.signals import read_signals, tokens
from butler.mail.sources import (
    FetchedMessage,
    FolderView,
    Identity,
    MailSource,
    match_identities,
    message_key,
)
from butler.mail.state import Journal, MailboxLock, MailboxState, account_dir, now_iso, uid_ref
from butler.models import Intent
from butler.policy import PolicySet

if TYPE_CHECKING:
    from butler.config import MailConfig

__all__ = ["MailSweep", "MessageReader", "SweepReport", "sweep_in_thread"]

MOVES_AT_ONCE = 5000  # planned moves gathered over batches before they are made and the state is saved

log = logging.getLogger(__name__)


class MessageReader(Protocol):
    """Another feature reading, never changing, the inbox mail a sweep fetches: `read` once per batch, `finish`
    once at the end with the source still open (to read more of the folder, read-only, where it must)."""

    def read(self, raws: Iterable[bytes]) -> object: ...

    def finish(self, source: MailSource, folder: str) -> object: ...


class MailSweep:
    """One sweep of `source` with the person's settings, policies and open intents."""

    def __init__(self, source: MailSource, settings: MailSettings, *, policies: PolicySet | None = None,
                 intents: list[Intent] | None = None, home: Path | None = None, dry_run: bool = False,
                 engagement: MailConfig | None = None, readers: Sequence[MessageReader] = (),
                 moves_at_once: int = MOVES_AT_ONCE) -> None:
        self.source = source
        self.moves_at_once = moves_at_once  # planned moves gathered over batches before they are made
        self.readers = tuple(readers)
        self.settings = settings
        self.policies = policies
        self.intents = intents or []
        self.dry_run = dry_run
        self.directory = account_dir(source.account, home)
        self.state = MailboxState.load(self.directory)
        self.journal = Journal(self.directory)
        self.mover = Mover(source, self.journal, settings.inbox, self._remember_move)
        self.finder = FolderFinder(source, self.state.places, settings.promotions_folder, self._keys_in)
        self._by_key: dict[str, list[str]] = {}
        self._validity: dict[str, str] = {}
        self.engagement = engagement  # None: the classifier alone decides (as `engagement = "ignore"`)
        self._engaged: Engagement | None = None

    def run(self) -> SweepReport:
        """Sweep once; raises MailboxBusy when another sweep or undo of this mailbox is running."""
        if self.dry_run:
            return self._run()
        with MailboxLock(self.directory):
            self.state = MailboxState.load(self.directory)  # what the sweep before this one left
            self.finder.places = self.state.places
            if hasattr(self.source, "flag_cache"):  # CONDSTORE: flags known from the last run
                self.source.flag_cache = self.state.flag_cache
            return self._run()

    def _keys_in(self, folder: str) -> list[str]:
        """Message-IDs of messages butler moved into `folder`, oldest first."""
        return [str(e["key"]) for e in self.state.moved.values()
                if e.get("folder") == folder and not str(e.get("key", "")).startswith("sha:")]

    def _run(self) -> SweepReport:
        report = SweepReport(sweep_id=now_iso() + "-" + secrets.token_hex(3), dry_run=self.dry_run)
        self._by_key = self.state.moved_by_key()
        if not self.dry_run:
            report.recovered = self._recover(report)
            self._learn_from_promotions(report)
        inbox = self.settings.inbox
        cursor = self.state.folder(inbox)
        view = self.source.view(inbox, int(cursor.get("last_uid", 0)))
        if cursor.get("validity") not in (None, view.validity):  # the server renumbered: start over, by key
            cursor.clear()
            view = self.source.view(inbox, 0)
        self._validity[inbox] = view.validity
        decided = set(cursor.get("decided", [])) if view.highest == 0 else set()
        uids = [uid for uid in view.uids if uid not in decided]
        if uids and self.engagement is not None and self.engagement.engagement != "ignore":
            self._engaged = self._read_engagement()
        size = self.settings.batch_size
        batches = [uids[start:start + size] for start in range(0, len(uids), size)]
        fetched = self.source.fetch_batches(inbox, batches)
        plans: dict[str, list[dict[str, Any]]] = {}
        judged: list[str] = []  # judged, their moves not made yet: the cursor passes them once they are
        pending: Callable[[], None] = _nothing  # moves begun, the server still at work on them
        try:
            for n, (batch, messages) in enumerate(zip(batches, fetched, strict=False)):
                decided |= self._judge(messages, view.validity, report, plans)
                judged += batch
                if sum(map(len, plans.values())) < self.moves_at_once and n + 1 < len(batches):
                    continue  # fewer, larger moves: each MOVE and state save costs more as the folders grow
                pending()
                pending = self._apply(plans, view, report, cursor, list(judged), set(decided))
                plans, judged = {}, []
            pending()
        finally:
            fetched.close()
        if not self.dry_run:
            cursor["validity"] = view.validity
            if view.highest:
                cursor["last_uid"] = max(view.highest, int(cursor.get("last_uid", 0)))
            self._count_reads(report)
            self.state.save()
            self._to_readers(lambda reader: reader.finish(self.source, self.settings.inbox))
        report.notes += self.finder.notes
        return report

    def _to_readers(self, call: Callable[[MessageReader], object]) -> None:
        for reader in self.readers:
            try:
                call(reader)
            except Exception as exc:  # another feature's failure never stops the sweep
                log.warning("a mail reader (%s) failed: %s", type(reader).__name__, type(exc).__name__)

    def _find(self, wanted: str) -> str | None:
        found = self.finder.find(wanted)
        self._follow_renames()
        return found

    def _target(self, wanted: str) -> str:
        found = self.finder.target(wanted)
        self._follow_renames()
        return found

    def _follow_renames(self) -> None:
        """Moved messages whose folder was renamed are in the new folder now (their UIDs checked by undo)."""
        for old, new in self.finder.renamed.items():
            for entry in self.state.moved.values():
                if entry.get("folder") == old:
                    entry["folder"] = new
            if old in self.state.folders:
                self.state.folders[new] = self.state.folders.pop(old)
        self.finder.renamed.clear()

    # -- one batch --------------------------------------------------------------------------------------
    def _judge(self, messages: list[FetchedMessage], validity: str, report: SweepReport,
               plans: dict[str, list[dict[str, Any]]]) -> set[str]:
        """Judge a batch: the moves it needs are added to `plans` (folder setting → items); returns what stays."""
        kept: set[str] = set()
        read = [(msg, read_facts(msg.raw)) for msg in messages]
        if not self.dry_run:
            self._to_readers(lambda reader: reader.read(msg.raw for msg in messages if not msg.deleted))
        keyed = [(msg, facts, message_key(facts.message_id, facts.fingerprint)) for msg, facts in read]
        away = self._moved_away([key for _, _, key in keyed if key in self._by_key])
        for msg, facts, key in keyed:
            report.examined += 1
            sender = facts.sender
            if msg.deleted:  # flagged for deletion by a client: not butler's to move
                kept.add(msg.uid)
                continue
            if (uid_ref(validity, msg.uid) in self.state.restored or key in self.state.restored
                    or uid_ref(validity, msg.uid) in self.state.kept or key in self.state.kept):
                kept.add(msg.uid)
                continue
            rescued = away.get((key, msg.size))
            if rescued and not self.dry_run:  # the person moved it back: learn, keep
                ident = rescued.pop(0)
                earlier = self.state.moved.pop(ident)
                self._by_key[key].remove(ident)
                signals = read_signals(facts)
                self.state.memory.rescued(sender, str(earlier["category"]), tokens(facts, signals), kind_of(signals),
                                          facts.words)
                self.state.kept[uid_ref(validity, msg.uid)] = "moved back by you"
                report.learned.append(f"keep {earlier['category']} mail from {sender or key}")
                kept.add(msg.uid)
                continue
            if key in self._by_key:
                report.duplicates += 1
            c = classify_facts(facts, self.state.memory)
            engaged = self._engaged.judge(c.sender, c.category.value) if self._engaged is not None else None
            moves = c.category.value in self.settings.move_categories
            if engaged is not None and engaged[0] == moves:  # it stays though it would move, or the reverse
                report.engaged["kept" if moves else "moved"] += 1
                if moves:
                    report.categories[c.category.value] += 1
                    kept.add(msg.uid)
                    continue
                c = dataclasses.replace(c, category=Category.PROMOTION, reasons=(engaged[1], *c.reasons))
            report.categories[c.category.value] += 1
            action = decide(c, facts, self.settings, self.policies, self.intents)
            if action.move_to is None:
                kept.add(msg.uid)
                continue
            self._note_sender(sender, facts.headers)
            plans.setdefault(action.move_to, []).append({
                "uid": msg.uid, "key": key, "size": msg.size, "seen": msg.seen, "sender": sender,
                "category": c.category.value, "subject": facts.subject[:120],
                "reason": action.reasons[0] if action.reasons else ""})
        return kept

    def _apply(self, plans: dict[str, list[dict[str, Any]]], view: FolderView, report: SweepReport,
               cursor: dict[str, Any], judged: list[str], decided: set[str]) -> Callable[[], None]:
        """Begin the planned moves (a dry run only reports them). Returns what waits for them and records them,
        then moves the cursor past the messages judged before them and saves the state."""
        begun: list[tuple[str, Callable[[], int]]] = []
        for wanted, items in plans.items():
            if self.dry_run:
                target = self._find(wanted) or self.source.qualify(wanted)
                report.moved[target] += len(items)
                report.planned += [{**item, "to": target} for item in items]
                continue
            target = self._target(wanted)
            begun.append((target, self.mover.begin(target, view.validity, items, report)))

        def finish() -> None:
            for target, done in begun:
                report.moved[target] += done()
            if self.dry_run:
                return
            cursor["validity"] = view.validity
            if view.highest:
                cursor["last_uid"] = max(int(u) for u in judged)
            else:
                cursor["decided"] = sorted(decided & set(view.uids))
            self.state.save()
        return finish

    def _read_engagement(self) -> Engagement:
        """Engagement per sender from the inbox, the promotions folder and the Sent folder, read-only."""
        assert self.engagement is not None
        folders = [self.settings.inbox]
        try:
            promotions = self._find(self.settings.promotions_folder)
        except MailFolderGone:
            promotions = None
        if promotions is not None:
            folders.append(promotions)
        return Engagement.read(self.source, self.engagement, folders, sent_folder(self.source.folders()))

    def _moved_away(self, keys: list[str]) -> dict[tuple[str, int], list[str]]:
        """(key, size) → ids of moved messages with one of these keys that are no longer where butler put them."""
        if not keys:
            return {}
        ids = {i for key in keys for i in self._by_key.get(key, [])}
        by_folder: dict[str, list[str]] = {}
        for ident in ids:
            by_folder.setdefault(str(self.state.moved[ident]["folder"]), []).append(ident)
        gone: dict[tuple[str, int], list[str]] = {}
        for folder, idents in by_folder.items():
            validity = self._folder_validity(folder)
            entries = {i: self.state.moved[i] for i in idents}
            exact = {i: str(e["uid"]) for i, e in entries.items()
                     if e.get("uid") and validity and str(e.get("validity")) == validity}
            present_uids = self.source.exists(folder, list(exact.values())) if exact and validity else set()
            present = {i for i, uid in exact.items() if uid in present_uids}
            vague = {i: Identity(str(e["key"]), int(e.get("size") or 0)) for i, e in entries.items() if i not in exact}
            if vague and validity:  # no UID recorded, or the folder was renumbered: look by identity
                found = match_identities(vague, self.source.identities(folder, None))
                present |= set(found)
            for ident, entry in entries.items():
                if ident not in present:
                    gone.setdefault((str(entry["key"]), int(entry.get("size") or 0)), []).append(ident)
        return gone

    def _folder_validity(self, folder: str) -> str:
        if folder not in self._validity:
            try:
                self._validity[folder] = self.source.status(folder)[0]
            except MailSourceError as exc:  # the folder is gone (a lost connection is not a sign of that)
                self._validity[folder] = absent_unless_lost(exc, "")
        return self._validity[folder]

    def _remember_move(self, entry: dict[str, Any]) -> None:
        self.state.record_move(entry)
        self._by_key.setdefault(str(entry["key"]), []).append(str(entry.get("id") or entry["key"]))
        info = self.state.sender(str(entry["sender"]))
        info["moved"] = int(info.get("moved", 0)) + 1
        info["read"] = int(info.get("read", 0)) + bool(entry.get("seen"))

    def _note_sender(self, sender: str, headers: dict[str, str]) -> None:
        if not sender:
            return
        info = self.state.sender(sender)
        unsub = headers.get("list-unsubscribe", "")
        if unsub:
            info["list_unsubscribe"] = unsub[:1000]
            info["one_click"] = "list-unsubscribe=one-click" in headers.get("list-unsubscribe-post", "").lower()
            info["mailto"] = "mailto:" in unsub.lower()

    # -- recovery and learning ----------------------------------------------------------------------------
    def _recover(self, report: SweepReport) -> int:
        """Settle the moves an interrupted sweep planned (`butler.mail.recovery`); how many were finished."""
        return InterruptedMoves(self.source, self.journal, self.state, self._remember_move).settle()

    def _learn_from_promotions(self, report: SweepReport) -> None:
        """Mail the person moved into Promotions themselves teaches "this sender sends promotions"."""
        try:
            folder = self._find(self.settings.promotions_folder)
        except MailFolderGone:
            return  # reported when a move needs it
        if folder is None:
            return
        cursor = self.state.folder(folder)
        view = self.source.view(folder, int(cursor.get("last_uid", 0)))
        self._validity[folder] = view.validity
        if cursor.get("validity") not in (None, view.validity):
            cursor.clear()
        known = {str(v.get("uid")) for v in self.state.moved.values() if v.get("folder") == folder}
        known |= set(cursor.get("decided", []))
        fresh = [u for u in view.uids if u not in known]
        for msg in self.source.fetch(folder, fresh[:500]):
            facts = read_facts(msg.raw)
            key = message_key(facts.message_id, facts.fingerprint)
            if key in self._by_key or not facts.sender:
                continue
            self.state.memory.promoted(facts.sender, tokens(facts, read_signals(facts)))
            self.state.kept.pop(key, None)
            report.learned.append(f"{facts.sender} sends promotions")
        cursor["validity"] = view.validity
        if view.highest:
            cursor["last_uid"] = view.highest
        else:
            cursor["decided"] = sorted(set(view.uids))

    def _count_reads(self, report: SweepReport) -> None:
        """Per sender: how many of the messages butler moved were read, when moved or since (the \\Seen flags)."""
        try:
            folder = self._find(self.settings.promotions_folder)
        except MailFolderGone:
            folder = None
        flags: dict[str, bool] = {}
        if folder is not None:
            try:
                flags = self.source.seen_flags(folder)
            except MailSourceError as exc:
                flags = absent_unless_lost(exc, {})
        validity = self._folder_validity(folder) if folder else ""
        reads: Counter[str] = Counter()
        for moved in self.state.moved.values():
            now_seen = (moved.get("folder") == folder and str(moved.get("validity")) == validity
                        and flags.get(str(moved.get("uid"))))
            if moved.get("seen") or now_seen:
                reads[str(moved["sender"])] += 1
        for sender, info in self.state.senders.items():
            info["read"] = max(int(info.get("read", 0)), reads[sender])
            reachable = info.get("one_click") or (info.get("mailto") and self.settings.smtp_configured)
            if (reachable and not info["read"] and not info.get("unsubscribed")
                    and int(info.get("moved", 0)) >= self.settings.unsubscribe_after_unread):
                report.unsubscribe_candidates.append(sender)
                report.reads[sender] = (int(info["read"]), int(info.get("moved", 0)))


def _nothing() -> None:
    pass


async def sweep_in_thread(sweep: MailSweep) -> SweepReport:
    """Run a sweep from async code (the daemon, the TUI): IMAPClient blocks, so it runs in a worker thread."""
    return await asyncio.to_thread(sweep.run)
