"""What one sweep did: counts, moves, notes and the unsubscribe candidates, and its summary for the person."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SweepReport"]


@dataclass
class SweepReport:
    sweep_id: str
    dry_run: bool
    examined: int = 0
    moved: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    learned: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # folders found, created or renamed; recovery details
    recovered: int = 0
    duplicates: int = 0  # deliveries of a Message-ID already moved, judged as new mail
    engaged: Counter[str] = field(default_factory=Counter)  # "kept" / "moved" for the person's engagement
    planned: list[dict[str, Any]] = field(default_factory=list)
    unsubscribe_candidates: list[str] = field(default_factory=list)
    senders: Counter[str] = field(default_factory=Counter)  # whose mail was moved, how many
    reads: dict[str, tuple[int, int]] = field(default_factory=dict)  # candidate sender → (read, moved)

    def summary(self) -> str:
        verb = "would move" if self.dry_run else "moved"
        where = ", ".join(f"{n} to {folder}" for folder, n in sorted(self.moved.items())) or "nothing"
        cats = ", ".join(f"{n} {c}" for c, n in self.categories.most_common())
        lines = [f"examined {self.examined} new message(s) ({cats or 'none'}); {verb} {where}"]
        if self.engaged:
            lines.append(f"for how you treat their senders: kept {self.engaged['kept']} that would have moved, "
                         f"moved {self.engaged['moved']} newsletter(s) you never open")
        lines += [f"note: {what}" for what in self.notes]
        lines += [f"learned: {what}" for what in self.learned]
        if self.recovered:
            lines.append(f"finished {self.recovered} move(s) left by an interrupted sweep")
        for sender in self.unsubscribe_candidates:
            read, moved = self.reads.get(sender, (0, 0))
            lines.append(f"unsubscribe? {sender} (you read {read} of the {moved} message(s) butler moved)")
        return "\n".join(lines)
