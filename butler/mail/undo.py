"""`butler mail undo`: put journaled moves back — the last sweep, a time range, or one sender's mail.

Restored messages are remembered so no later sweep moves them again. Undoing a sender's mail also teaches the
classifier to keep that sender's mail of the same kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from butler.mail.learn import SenderMemory
from butler.mail.sources import MailSource
from butler.mail.state import Journal, MailboxState, account_dir, now_iso

__all__ = ["UndoFilter", "undo_moves"]


@dataclass(frozen=True)
class UndoFilter:
    """Which moves to undo: `last_sweep`, moves between `since` and `until` (ISO times), or from `sender`."""

    last_sweep: bool = False
    since: str | None = None
    until: str | None = None
    sender: str | None = None

    def wants(self, entry: dict[str, Any], last: str | None) -> bool:
        if self.last_sweep and entry.get("sweep") != last:
            return False
        at = str(entry.get("at", ""))
        if self.since and at < self.since:
            return False
        if self.until and at > self.until:
            return False
        return not (self.sender and str(entry.get("sender", "")).lower() != self.sender.lower())


def _live_moves(journal: Journal) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Moves not yet undone, by message key (the latest move of each), and the id of the last sweep."""
    live: dict[str, dict[str, Any]] = {}
    last = None
    for entry in journal.entries():
        if entry.get("op") == "move":
            live[entry["key"]] = entry
            last = entry.get("sweep")
        elif entry.get("op") == "undo":
            live.pop(entry["key"], None)
    return live, last


def undo_moves(source: MailSource, which: UndoFilter, *, home: Path | None = None) -> int:
    """Move the chosen messages back where they came from; returns how many were restored."""
    directory = account_dir(source.account, home)
    journal, state = Journal(directory), MailboxState.load(directory)
    live, last = _live_moves(journal)
    chosen = [e for e in live.values() if which.wants(e, last)]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in chosen:
        groups[(entry["to"], entry["from"])].append(entry)
    restored = 0
    for (folder, back_to), entries in groups.items():
        by_uid: dict[str, dict[str, Any]] = {}
        present = source.exists(folder, [str(e["new_uid"]) for e in entries if e.get("new_uid")])
        missing = [e["key"] for e in entries if str(e.get("new_uid") or "") not in present]
        located = source.locate(folder, missing) if missing else {}  # renumbered or unknown: by Message-ID
        for entry in entries:
            uid = str(entry.get("new_uid") or "")
            if uid not in present:
                uid = located.get(entry["key"], "")
            if uid:
                by_uid[uid] = entry
        if not by_uid:
            continue
        source.move(folder, list(by_uid), back_to)
        done = []
        for entry in by_uid.values():
            done.append({"op": "undo", "key": entry["key"], "sweep": entry.get("sweep"), "at": now_iso(),
                         "from": folder, "to": back_to, "sender": entry.get("sender")})
            state.restored.add(entry["key"])
            state.moved.pop(entry["key"], None)
            if which.sender:
                # undoing a sender's mail keeps all of its mail of that category, whatever the kind
                memory = state.memory.senders.setdefault(str(entry["sender"]), SenderMemory())
                memory.keep(str(entry["category"]))
        journal.append(done)
        restored += len(done)
    state.save()
    return restored

