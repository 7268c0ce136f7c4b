"""`butler mail undo`: put journaled moves back — the last sweep, a time range, or one sender's mail.

Each moved message is found where butler put it: by the UID the server gave it (COPYUID) while the folder keeps
its UIDVALIDITY, else by its identity (Message-ID, or a hash of its first bytes, and its size), each message
claimed once, so messages without a Message-ID, or sharing one, come back one for one. What cannot be found (the
person deleted or moved it meanwhile) is named in the report, never silently skipped. Restored messages are
remembered so no later sweep moves them again. Undoing a sender's mail also teaches the classifier to keep that
sender's mail of the same kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from butler.mail.errors import MailSourceError, absent_unless_lost
from butler.mail.folders import renamed_folders
from butler.mail.learn import SenderMemory
from butler.mail.sources import Identity, MailSource, match_identities
from butler.mail.state import Journal, MailboxLock, MailboxState, account_dir, now_iso, uid_ref

__all__ = ["UndoFilter", "UndoReport", "restore", "undo_moves"]


@dataclass(frozen=True)
class UndoFilter:
    """Which moves to undo: `last_sweep`, one `sweep`, moves between `since` and `until` (ISO times), from
    `sender`, or exactly the `moves` named (move ids). Undoing a sender's or named moves teaches the classifier."""

    last_sweep: bool = False
    since: str | None = None
    until: str | None = None
    sender: str | None = None
    sweep: str | None = None
    moves: frozenset[str] = frozenset()

    @property
    def teaches(self) -> bool:
        return bool(self.sender or self.moves)

    def wants(self, entry: dict[str, Any], last: str | None) -> bool:
        if self.last_sweep and entry.get("sweep") != last:
            return False
        if self.sweep and entry.get("sweep") != self.sweep:
            return False
        if self.moves and _ident(entry) not in self.moves:
            return False
        at = str(entry.get("at", ""))
        if self.since and at < self.since:
            return False
        if self.until and at > self.until:
            return False
        return not (self.sender and str(entry.get("sender", "")).lower() != self.sender.lower())


@dataclass
class UndoReport:
    """How many messages came back, and each chosen message that did not (with why)."""

    restored: int = 0
    missing: list[dict[str, Any]] = field(default_factory=list)  # {sender, subject, at, folder, why}

    def summary(self) -> str:
        lines = [f"restored {self.restored} message(s)"]
        if self.missing:
            lines.append(f"could not restore {len(self.missing)} message(s):")
            lines += [f"  {m['at']}  {m['sender'] or '?'}: {m['subject'] or '(no subject)'} — {m['why']}"
                      for m in self.missing]
        return "\n".join(lines)


def _ident(entry: dict[str, Any]) -> str:
    return str(entry.get("id") or entry["key"])  # journals before move ids named a move by its Message-ID


def _live_moves(journal: Journal) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Moves not yet undone, by move id, and the id of the last sweep."""
    live: dict[str, dict[str, Any]] = {}
    last = None
    for entry in journal.entries():
        if entry.get("op") == "move":
            live[_ident(entry)] = entry
            last = entry.get("sweep")
        elif entry.get("op") == "undo":
            live.pop(_ident(entry), None)
    return live, last


def undo_moves(source: MailSource, which: UndoFilter, *, home: Path | None = None) -> int:
    """Move the chosen messages back where they came from; returns how many were restored (see `restore`)."""
    return restore(source, which, home=home).restored


def restore(source: MailSource, which: UndoFilter, *, home: Path | None = None) -> UndoReport:
    """Move the chosen messages back where they came from, and say which could not be found.

    Raises MailboxBusy while a sweep of this mailbox runs."""
    directory = account_dir(source.account, home)
    with MailboxLock(directory):
        journal, state = Journal(directory), MailboxState.load(directory)
        live, last = _live_moves(journal)
        renamed = renamed_folders(state.places)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for entry in live.values():
            if which.wants(entry, last):
                groups[(renamed.get(str(entry["to"]), str(entry["to"])), str(entry["from"]))].append(entry)
        report = UndoReport()
        for (folder, back_to), entries in groups.items():
            _restore_group(source, folder, back_to, entries, journal, state, which, report)
        state.save()
    return report


def _restore_group(source: MailSource, folder: str, back_to: str, entries: list[dict[str, Any]], journal: Journal,
                   state: MailboxState, which: UndoFilter, report: UndoReport) -> None:
    def missing(entry: dict[str, Any], why: str) -> None:
        report.missing.append({"sender": entry.get("sender"), "subject": entry.get("subject"),
                               "at": entry.get("at"), "folder": folder, "why": why})

    try:
        validity = source.status(folder)[0]
    except MailSourceError as exc:
        absent_unless_lost(exc, None)
        for entry in entries:
            missing(entry, f"the folder {folder} is gone")
        return
    exact = {_ident(e): str(e["new_uid"]) for e in entries
             if e.get("new_uid") and str(e.get("to_validity") or validity) == validity}
    present = source.exists(folder, list(exact.values()))
    found = {ident: uid for ident, uid in exact.items() if uid in present}
    vague = {_ident(e): Identity(str(e["key"]), int(e.get("size") or 0)) for e in entries if _ident(e) not in found}
    if vague:  # no UID known, the folder renumbered, or moved meanwhile: by identity, each message claimed once
        if any(not i.size for i in vague.values()):  # journals from before sizes were kept: match the key alone
            have = {uid: Identity(i.key, 0) for uid, i in source.identities(folder, None).items()}
        else:
            have = source.identities(folder, None)
        found.update(match_identities(vague, have, set(found.values())))
    by_uid = {found[_ident(e)]: e for e in entries if _ident(e) in found}
    for entry in entries:
        if _ident(entry) not in found:
            missing(entry, f"not in {folder} any more (deleted or moved elsewhere)")
    if not by_uid:
        return
    moved = source.transfer(folder, list(by_uid), back_to)
    back = moved.uids if moved.uids or not source.can_move_atomically else {uid: "" for uid in by_uid}
    done = []
    for uid, entry in by_uid.items():
        if uid not in back:
            missing(entry, "its copy in the inbox could not be verified, so it was left where it was")
            continue
        done.append({"op": "undo", "id": _ident(entry), "key": entry["key"], "sweep": entry.get("sweep"),
                     "at": now_iso(), "from": folder, "to": back_to, "sender": entry.get("sender"),
                     "new_uid": back[uid] or None})
        state.restored.add(uid_ref(moved.validity, back[uid]) if back[uid] else str(entry["key"]))
        state.moved.pop(_ident(entry), None)
        if which.teaches:
            # moving a sender's mail back keeps all of its mail of that category, whatever the kind
            memory = state.memory.senders.setdefault(str(entry["sender"]), SenderMemory())
            memory.keep(str(entry["category"]))
    journal.append(done)
    report.restored += len(done)
