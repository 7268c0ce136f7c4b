"""A promotion sweep over one mailbox: classify new inbox mail, move what the person does not want, journal it.

Order per batch: journal the planned moves (fsynced) → move → journal what was done → advance the cursor.
A sweep killed anywhere re-checks unfinished plans on the next run, so nothing is lost or moved twice.
Messages the person moved back to the inbox (in any client) are learned from and never moved again; messages
the person moved into Promotions teach the opposite. Nothing is ever deleted or marked read.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from butler.mail.classify import classify_facts, kind_of
from butler.mail.decide import decide
from butler.mail.message import read_facts
from butler.mail.settings import MailSettings
from butler.mail.signals import read_signals, tokens
from butler.mail.sources import FetchedMessage, MailSource, message_key
from butler.mail.state import Journal, MailboxState, account_dir, now_iso
from butler.models import Intent
from butler.policy import PolicySet

__all__ = ["MailSweep", "SweepReport", "sweep_in_thread"]


@dataclass
class SweepReport:
    sweep_id: str
    dry_run: bool
    examined: int = 0
    moved: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    learned: list[str] = field(default_factory=list)
    recovered: int = 0
    planned: list[dict[str, Any]] = field(default_factory=list)
    unsubscribe_candidates: list[str] = field(default_factory=list)
    senders: Counter[str] = field(default_factory=Counter)  # whose mail was moved, how many

    def summary(self) -> str:
        verb = "would move" if self.dry_run else "moved"
        where = ", ".join(f"{n} to {folder}" for folder, n in sorted(self.moved.items())) or "nothing"
        cats = ", ".join(f"{n} {c}" for c, n in self.categories.most_common())
        lines = [f"examined {self.examined} new message(s) ({cats or 'none'}); {verb} {where}"]
        lines += [f"learned: {what}" for what in self.learned]
        if self.recovered:
            lines.append(f"finished {self.recovered} move(s) left by an interrupted sweep")
        lines += [f"unsubscribe? {s} (you never read its mail)" for s in self.unsubscribe_candidates]
        return "\n".join(lines)


class MailSweep:
    """One sweep of `source` with the person's settings, policies and open intents."""

    def __init__(self, source: MailSource, settings: MailSettings, *, policies: PolicySet | None = None,
                 intents: list[Intent] | None = None, home: Path | None = None, dry_run: bool = False) -> None:
        self.source = source
        self.settings = settings
        self.policies = policies
        self.intents = intents or []
        self.dry_run = dry_run
        self.directory = account_dir(source.account, home)
        self.state = MailboxState.load(self.directory)
        self.journal = Journal(self.directory)

    def run(self) -> SweepReport:
        report = SweepReport(sweep_id=now_iso() + "-" + secrets.token_hex(3), dry_run=self.dry_run)
        if not self.dry_run:
            report.recovered = self._recover()
            self._learn_from_promotions(report)
        inbox = self.settings.inbox
        cursor = self.state.folder(inbox)
        view = self.source.view(inbox, int(cursor.get("last_uid", 0)))
        if cursor.get("validity") not in (None, view.validity):  # the server renumbered: start over, by key
            cursor.clear()
            view = self.source.view(inbox, 0)
        decided = set(cursor.get("decided", [])) if view.highest == 0 else set()
        uids = [uid for uid in view.uids if uid not in decided]
        size = self.settings.batch_size
        for start in range(0, len(uids), size):
            batch = uids[start:start + size]
            kept_now = self._batch(list(self.source.fetch(inbox, batch)), report)
            if self.dry_run:
                continue
            cursor["validity"] = view.validity
            if view.highest:
                cursor["last_uid"] = max(int(u) for u in batch)
            else:
                decided |= kept_now
                cursor["decided"] = sorted(decided & set(view.uids))
            self.state.save()
        if not self.dry_run:
            cursor["validity"] = view.validity
            if view.highest:
                cursor["last_uid"] = max(view.highest, int(cursor.get("last_uid", 0)))
            self._count_reads(report)
            self.state.save()
        return report

    # -- one batch --------------------------------------------------------------------------------------
    def _batch(self, messages: list[FetchedMessage], report: SweepReport) -> set[str]:
        plans: dict[str, list[dict[str, Any]]] = {}
        kept: set[str] = set()
        for msg in messages:
            report.examined += 1
            facts = read_facts(msg.raw)
            key = message_key(facts.message_id, facts.fingerprint)
            sender = facts.sender
            if key in self.state.restored or key in self.state.kept:
                kept.add(msg.uid)
                continue
            earlier = self.state.moved.get(key)
            if earlier is not None and not self.dry_run:  # the person moved it back: learn, keep
                signals = read_signals(facts)
                self.state.memory.rescued(sender, str(earlier["category"]), tokens(facts, signals), kind_of(signals),
                                          facts.words)
                self.state.kept[key] = "moved back by you"
                del self.state.moved[key]
                report.learned.append(f"keep {earlier['category']} mail from {sender or key}")
                kept.add(msg.uid)
                continue
            c = classify_facts(facts, self.state.memory)
            report.categories[c.category.value] += 1
            action = decide(c, facts, self.settings, self.policies, self.intents)
            if action.move_to is None:
                kept.add(msg.uid)
                continue
            self._note_sender(sender, facts.headers)
            plans.setdefault(action.move_to, []).append({
                "uid": msg.uid, "key": key, "sender": sender, "category": c.category.value,
                "subject": facts.subject[:120], "reason": action.reasons[0] if action.reasons else ""})
        for target, items in plans.items():
            report.moved[target] += len(items)
            if self.dry_run:
                report.planned += [{**item, "to": target} for item in items]
                continue
            self._move(target, items, report)
        return kept

    def _move(self, target: str, items: list[dict[str, Any]], report: SweepReport) -> None:
        inbox = self.settings.inbox
        self.source.ensure_folder(target)
        base = {"sweep": report.sweep_id, "from": inbox, "to": target,
                "method": "move" if self.source.can_move_atomically else "copy"}
        self.journal.append([{**base, **item, "op": "plan", "at": now_iso()} for item in items])
        new_uids = self.source.move(inbox, [item["uid"] for item in items], target)
        done = []
        for item in items:
            entry = {**base, **item, "op": "move", "at": now_iso(), "new_uid": new_uids.get(item["uid"])}
            done.append(entry)
            self.state.record_move(entry)
            self.state.sender(item["sender"])["moved"] += 1
            report.senders[item["sender"]] += 1
        self.journal.append(done)

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
    def _recover(self) -> int:
        """Finish the record of moves an interrupted sweep planned: each either happened or did not."""
        planned: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in self.journal.entries():
            ident = (str(entry.get("sweep")), str(entry.get("uid")))
            if entry.get("op") == "plan":
                planned[ident] = entry
            elif entry.get("op") == "move":
                planned.pop(ident, None)
        if not planned:
            return 0
        inbox = self.settings.inbox
        still = self.source.exists(inbox, [e["uid"] for e in planned.values()])
        done = []
        for entry in planned.values():
            if entry["uid"] in still:
                finish = getattr(self.source, "finish_interrupted_move", None)
                if entry.get("method") != "copy" or finish is None or not finish(
                        inbox, entry["uid"], entry["to"], entry["key"]):
                    done.append({**entry, "op": "abandon", "at": now_iso()})
                    continue
            found = self.source.locate(entry["to"], [entry["key"]]).get(entry["key"])
            moved = {**entry, "op": "move", "at": now_iso(), "new_uid": found}
            done.append(moved)
            self.state.record_move(moved)
        self.journal.append(done)
        self.state.save()
        return sum(1 for e in done if e["op"] == "move")

    def _learn_from_promotions(self, report: SweepReport) -> None:
        """Mail the person moved into Promotions themselves teaches "this sender sends promotions"."""
        folder = self.settings.promotions_folder
        cursor = self.state.folder(folder)
        try:
            view = self.source.view(folder, int(cursor.get("last_uid", 0)))
        except Exception:  # the folder does not exist yet
            return
        if cursor.get("validity") not in (None, view.validity):
            cursor.clear()
        known = {str(v.get("uid")) for v in self.state.moved.values() if v.get("folder") == folder}
        known |= set(cursor.get("decided", []))
        fresh = [u for u in view.uids if u not in known]
        for msg in self.source.fetch(folder, fresh[:500]):
            facts = read_facts(msg.raw)
            key = message_key(facts.message_id, facts.fingerprint)
            if key in self.state.moved or not facts.sender:
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
        folder = self.settings.promotions_folder
        try:
            flags = self.source.seen_flags(folder)
        except Exception:
            return
        reads: Counter[str] = Counter()
        for moved in self.state.moved.values():
            if moved.get("folder") == folder and flags.get(str(moved.get("uid"))):
                reads[str(moved["sender"])] += 1
        for sender, info in self.state.senders.items():
            info["read"] = max(int(info.get("read", 0)), reads[sender])
            reachable = info.get("one_click") or (info.get("mailto") and self.settings.smtp_configured)
            if (reachable and not info["read"] and not info.get("unsubscribed")
                    and int(info.get("moved", 0)) >= self.settings.unsubscribe_after_unread):
                report.unsubscribe_candidates.append(sender)


async def sweep_in_thread(sweep: MailSweep) -> SweepReport:
    """Run a sweep from async code (the daemon, the TUI): IMAPClient blocks, so it runs in a worker thread."""
    return await asyncio.to_thread(sweep.run)
