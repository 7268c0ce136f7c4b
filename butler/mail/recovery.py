"""Finishing what an interrupted sweep left: each planned move either happened, or is finished now that its copy
is proven to exist, or is abandoned with the original left in the inbox. An original is expunged only when its
copy is found: by the journaled COPYUID answer, or as a new message (a UID at or above the UIDNEXT journaled with
the plan) of the same identity; never an original whose copy is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from butler.mail.errors import MailSourceError, absent_unless_lost
from butler.mail.sources import Identity, MailSource, match_identities
from butler.mail.state import Journal, MailboxState, now_iso

__all__ = ["InterruptedMoves"]


class InterruptedMoves:
    """The planned moves in `journal` without an outcome, settled against `source`; `remember` records each
    finished move in the sweep state."""

    def __init__(self, source: MailSource, journal: Journal, state: MailboxState,
                 remember: Callable[[dict[str, Any]], None]) -> None:
        self.source = source
        self.journal = journal
        self.state = state
        self.remember = remember

    def settle(self) -> int:
        """Settle the moves an interrupted sweep planned: each either happened, or is finished now that its copy
        is proven to exist, or is abandoned with the original left in the inbox. Never expunges an original whose
        copy is not found."""
        planned: dict[str, dict[str, Any]] = {}
        copied: dict[str, dict[str, Any]] = {}
        for entry in self.journal.entries():
            ident = str(entry.get("id") or f"{entry.get('sweep')}/{entry.get('uid')}")
            op = entry.get("op")
            if op == "plan":
                planned[ident] = {**entry, "id": ident}
            elif op == "copied":
                copied[ident] = entry
            elif op in ("move", "abandon"):
                planned.pop(ident, None)
                copied.pop(ident, None)
        if not planned:
            return 0
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entry in planned.values():
            groups.setdefault((str(entry["from"]), str(entry["to"])), []).append(entry)
        done: list[dict[str, Any]] = []
        for (folder, target), entries in groups.items():
            done += self._settle(folder, target, entries, copied)
        self.journal.append(done)
        self.state.save()
        return sum(1 for e in done if e["op"] == "move")

    def _settle(self, folder: str, target: str, entries: list[dict[str, Any]],
                copied: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        now = now_iso()
        validity = self.source.status(folder)[0]
        try:
            to_validity = self.source.status(target)[0]
        except MailSourceError as exc:
            to_validity = absent_unless_lost(exc, "")
        same_inbox = [e for e in entries if str(e.get("from_validity", validity)) == validity]
        out = [{"op": "abandon", "id": e["id"], "sweep": e.get("sweep"), "at": now,
                "why": "the inbox was renumbered: nothing is expunged by an old UID"}
               for e in entries if e not in same_inbox]
        still = self.source.exists(folder, [str(e["uid"]) for e in same_inbox])
        # where each planned message's copy is: the COPYUID answer journaled, else a new message of its identity
        copies: dict[str, str] = {}
        for e in same_inbox:
            c = copied.get(e["id"])
            if c and to_validity and str(c.get("to_validity")) == to_validity:
                copies[e["id"]] = str(c["new_uid"])
        unknown = [e for e in same_inbox
                   if e["id"] not in copies and to_validity and str(e.get("to_validity")) == to_validity]
        if unknown:  # a copy made before the crash is a message of the same identity at or above the plan's UIDNEXT
            floor = min(int(e.get("to_next") or 0) for e in unknown)
            fresh = self.source.identities(target, None, from_uid=floor)
            claimed = set(copies.values())
            for e in sorted(unknown, key=lambda e: int(e.get("to_next") or 0)):
                above = {uid: i for uid, i in fresh.items() if int(uid) >= int(e.get("to_next") or 0)}
                found = match_identities({e["id"]: Identity(str(e["key"]), int(e.get("size") or 0))}, above, claimed)
                copies.update(found)
        if copies and to_validity:  # the copies journaled or found must still be there, as they were
            present = self.source.identities(target, sorted(set(copies.values())))
            for e in same_inbox:
                uid = copies.get(e["id"])
                if uid is not None and present.get(uid) != Identity(str(e["key"]), int(e.get("size") or 0)):
                    del copies[e["id"]]
        to_expunge = [e for e in same_inbox if str(e["uid"]) in still and e["id"] in copies
                      and e.get("method") == "copy"]
        if to_expunge:
            originals = self.source.identities(folder, [str(e["uid"]) for e in to_expunge])
            to_expunge = [e for e in to_expunge
                          if originals.get(str(e["uid"])) == Identity(str(e["key"]), int(e.get("size") or 0))]
            self.source.expunge(folder, [str(e["uid"]) for e in to_expunge])
        expunged = {e["id"] for e in to_expunge}
        left = [e for e in same_inbox if str(e["uid"]) in still and e["id"] not in expunged]
        if left and not self.source.can_move_atomically:
            self.source.undelete(folder, [str(e["uid"]) for e in left])  # a \Deleted set before the crash
        for e in same_inbox:
            if e in left:
                out.append({"op": "abandon", "id": e["id"], "sweep": e.get("sweep"), "at": now,
                            "why": "not moved before the interruption; it stays in the inbox"})
                continue
            entry = {**e, "op": "move", "at": now, "to_validity": to_validity, "new_uid": copies.get(e["id"])}
            out.append(entry)
            self.remember(entry)
        return out
