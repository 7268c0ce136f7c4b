"""Moving judged messages out of the inbox into a folder, journaled step by step (the order and what recovery
does with it are in `butler.mail.sweep` and `butler.mail.recovery`).

Where the server has MOVE it is begun and answered later, so the server makes it while the sweep judges the next
batches; without MOVE: COPY, journal the copies, verify them, expunge exactly the verified originals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from butler.mail.report import SweepReport
from butler.mail.sources import MailSource, Moved
from butler.mail.state import Journal, now_iso

__all__ = ["Mover"]


class Mover:
    """Moves out of one inbox; `remember` records each finished move in the sweep's state."""

    def __init__(self, source: MailSource, journal: Journal, inbox: str,
                 remember: Callable[[dict[str, Any]], None]) -> None:
        self.source = source
        self.journal = journal
        self.inbox = inbox
        self.remember = remember
        self._after_moves: dict[str, tuple[str, int]] = {}  # folder → (UIDVALIDITY, UIDNEXT at least) after a move

    def begin(self, target: str, validity: str, items: list[dict[str, Any]],
              report: SweepReport) -> Callable[[], int]:
        """Move `items` out of the inbox into `target`, journaled step by step. A MOVE is begun here, and the
        returned function waits for its answer and journals it; the COPY fallback is done here. The function
        returns how many moved."""
        inbox = self.inbox
        to_validity, to_next = self._after_moves.get(target) or self.source.status(target)
        base = {"sweep": report.sweep_id, "from": inbox, "from_validity": validity, "to": target,
                "to_validity": to_validity, "to_next": to_next,
                "method": "move" if self.source.can_move_atomically else "copy"}
        for item in items:
            item["id"] = f"{report.sweep_id}/{item['uid']}"
        self.journal.append([{**base, **item, "op": "plan", "at": now_iso()} for item in items])
        uids = [item["uid"] for item in items]
        if self.source.can_move_atomically:
            answer = self.source.start_move(inbox, uids, target)
            return lambda: self._moved(base, items, answer(), None, report)
        copied = self.source.copy(inbox, uids, target)
        self.journal.append([{"op": "copied", "id": item["id"], "to_validity": copied.validity,
                              "new_uid": copied.uids[item["uid"]], "at": now_iso()}
                             for item in items if item["uid"] in copied.uids])
        verified = self.source.verify(inbox, target, copied.uids)
        self.source.expunge(inbox, list(verified))
        done = self._moved(base, items, Moved(copied.validity, verified), set(verified), report)
        return lambda: done

    def _moved(self, base: dict[str, Any], items: list[dict[str, Any]], moved: Moved, finished: set[str] | None,
               report: SweepReport) -> int:
        """Journal and remember what was moved (`finished`: the uids whose move is certain, None for all)."""
        target = str(base["to"])
        done_uids = dict(moved.uids)
        if done_uids and base["to_next"] and moved.validity == base["to_validity"]:  # IMAP: no STATUS next time,
            self._after_moves[target] = (moved.validity, 1 + max(int(u) for u in done_uids.values()))  # a floor
        finished = {item["uid"] for item in items} if finished is None else finished
        entries = []
        for item in items:
            if item["uid"] not in finished:
                entries.append({"op": "abandon", "id": item["id"], "sweep": report.sweep_id, "at": now_iso(),
                                "why": "its copy could not be verified; it stays in the inbox"})
                report.notes.append(f"left {item['uid']} in the inbox: its copy in {target} could not be verified")
                continue
            entry = {**base, **item, "op": "move", "at": now_iso(), "to_validity": moved.validity,
                     "new_uid": done_uids.get(item["uid"])}
            entries.append(entry)
            self.remember(entry)
            report.senders[item["sender"]] += 1
        self.journal.append(entries)
        return len(finished)
