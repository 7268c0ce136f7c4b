"""An item on the approval desk: its states, the moves between them, and its common fields."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from butler.errors import ButlerError

__all__ = ["MOVES", "OPEN", "Item", "Outcome", "State", "Step", "TryLater", "item_id", "now_iso"]


class State(StrEnum):
    """pending → approved → executing → done | failed | needs-attention; pending → rejected.

    An item interrupted while executing stays executing, and visible, until butler has asked the vendor what
    became of it; an execution that did nothing at all (the vendor was unreachable) returns to pending.
    """

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTING = "executing"
    DONE = "done"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs-attention"


OPEN = frozenset({State.PENDING, State.APPROVED, State.EXECUTING, State.NEEDS_ATTENTION})
"""The states of items that still want something from butler or the person: every list shows them."""

MOVES: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.APPROVED, State.REJECTED}),
    # approved → done: a kind that marks its one act done before doing it (at most once), like an unsubscribe
    State.APPROVED: frozenset({State.EXECUTING, State.DONE, State.PENDING}),
    # executing → approved: approved, to be carried out by its feature once it can (no SMTP server yet, say)
    State.EXECUTING: frozenset({State.DONE, State.FAILED, State.NEEDS_ATTENTION, State.PENDING, State.APPROVED}),
    State.NEEDS_ATTENTION: frozenset({State.EXECUTING, State.DONE, State.FAILED}),
    State.REJECTED: frozenset(),
    State.DONE: frozenset(),
    State.FAILED: frozenset(),
}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def item_id(kind: str, key: str) -> str:
    """The desk's id for `kind`'s item `key`: "kind:key". Kinds hold no colon, so two kinds never collide."""
    if not kind or ":" in kind:
        raise ValueError(f"a kind is a name without a colon, not {kind!r}")
    return f"{kind}:{key}"


class Step(BaseModel):
    """One move of an item: when, to which state, on whose word (person, mandate, rule, butler) and why."""

    model_config = ConfigDict(frozen=True)

    at: str
    state: State
    by: str
    why: str = ""


class Item(BaseModel):
    """The fields every kind shares. A kind's model subclasses this and adds its own typed fields."""

    model_config = ConfigDict(extra="allow")

    id: str
    kind: str
    state: State = State.PENDING
    created: str = Field(default_factory=now_iso)
    reasons: list[str] = Field(default_factory=list)
    note: str = ""
    steps: list[Step] = Field(default_factory=list)
    owner: int | None = None

    def summary(self) -> str:
        """One line a person can read."""
        return str(getattr(self, "summary_text", "") or self.kind)

    def details(self) -> list[str]:
        """Lines that explain this item beyond its summary (totals, rules, terms); empty by default."""
        return []

    def confirmation(self) -> str | None:
        """The question to ask before approving, when approving spends, signs or sends; None when it does not."""
        return None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Outcome:
    """What executing an item came to: its next state, a sentence for the person, and fields to store."""

    state: State
    message: str
    updates: dict[str, Any] = field(default_factory=dict)


class TryLater(ButlerError):
    """Executing did nothing at all (say, the vendor could not be reached): the item waits again."""

    exit_code = 75
    default_hint = "Nothing was done; approve it again later."
