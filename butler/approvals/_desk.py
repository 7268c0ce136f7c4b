"""The one desk where everything that waits for the person is queued, decided, carried out and reconciled.

Items live in the vault collection `approvals`; this module is the only code that writes them. A feature
queues an item with `submit` (its kind's model, an id from `item_id`) and registers a `Kind`: the model and
the handler that carries out the person's answer. The desk moves each item through its states (see `State`),
audits every move with its cause, and after a crash asks each kind's handler what became of items left
executing, so no item is ever left invisible.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from butler.approvals._item import MOVES, OPEN, Item, Outcome, State, Step, TryLater, now_iso
from butler.errors import ButlerError, RecordConflict, UsageError
from butler.pids import pid_alive
from butler.records import Collection
from butler.vault import Vault

__all__ = ["COLLECTION", "RECORDS", "Desk", "Handler", "Kind", "NeedsAttention", "annotate", "move", "raw_item",
           "raw_items", "submit"]

COLLECTION = "approvals"
RECORDS = Collection(COLLECTION, __name__, "everything that waits for the person", model=Item, id_scheme="kind:key")
log = logging.getLogger(__name__)
T = TypeVar("T")

_RUNNING: set[str] = set()  # ids this process is carrying out right now


class NeedsAttention(ButlerError):
    """Carrying out an item ended in a state only the person can settle; the item says what is known."""

    exit_code = 7
    default_hint = "See `butler explain ID`; the item stays in `butler approvals list` until it is settled."


class Handler(Protocol):
    """How a feature carries out the person's answer for its kind.

    `execute` runs with the item in state executing and returns its outcome (or raises: TryLater when nothing
    was done, another ButlerError when it failed having done nothing, anything else leaves it needing
    attention). `reject` does what a refusal needs beyond the state (returns a sentence). `reconcile` is asked
    about an item a crash left executing: its outcome, or None when it cannot tell yet.
    """

    def execute(self, vault: Vault, item: Any) -> Outcome | Awaitable[Outcome]: ...

    def reject(self, vault: Vault, item: Any) -> str: ...

    def reconcile(self, vault: Vault, item: Any) -> Outcome | Awaitable[Outcome | None] | None: ...


@dataclass(frozen=True)
class Kind:
    """A kind of item: its name, its model (a subclass of Item) and its handler, registered by its feature."""

    name: str
    model: type[Item]
    handler: Handler


async def _maybe(value: T | Awaitable[T]) -> T:
    if inspect.isawaitable(value):
        return await value
    return value


def submit(vault: Vault, item: Item, *, by: str = "butler", replace_pending: bool = False,
           replace_settled: bool = False) -> bool:
    """Queue `item` (its id from `item_id`); False when an item with that id exists already.

    With `replace_pending`, an existing item that still waits is replaced by the new one (say, a better deal
    for the same intent); with `replace_settled`, one that is done, failed or rejected is (the same question
    arises again). An item being carried out is never touched.
    """
    data = item.wire()
    try:
        vault.put(COLLECTION, item.id, data, expected_version=0, audit=False)
    except RecordConflict:
        if not (replace_pending or replace_settled):
            return False
        current = vault.get(COLLECTION, item.id)
        state = State(current.data.get("state", State.PENDING)) if current is not None else None
        settled = state in (State.DONE, State.FAILED, State.REJECTED)
        if current is None or not ((replace_pending and state is State.PENDING) or (replace_settled and settled)):
            return False
        vault.put(COLLECTION, item.id, data, expected_version=current.version, audit=False)
    vault.audit.append("approval.queued", item.id, {"kind": item.kind, "state": str(item.state),
                                                     "summary": item.summary()}, actor=by)
    return True


def move(vault: Vault, item_id: str, to: State, *, by: str, why: str = "", **updates: Any) -> dict[str, Any]:
    """Move an item to state `to`, on `by`'s word and for `why`; store `updates` with it; audit the move.

    Raises UsageError when the item is gone or the move is not one the state machine allows.
    """
    def change(data: dict[str, Any] | None) -> dict[str, Any]:
        if not data:
            raise UsageError(f"nothing waits under {item_id!r}", "See `butler approvals list`.")
        current = State(data.get("state", State.PENDING))
        if to not in MOVES[current]:
            raise UsageError(f"{item_id} is {current.value}; it cannot become {to.value}")
        steps = [*data.get("steps", []), Step(at=now_iso(), state=to, by=by, why=why).model_dump(mode="json")]
        return {**data, **updates, "state": to.value, "steps": steps, "note": why or data.get("note", "")}

    stored: dict[str, Any] = vault.update(COLLECTION, item_id, change).data
    vault.audit.append(f"approval.{to.value}", item_id, {"kind": stored.get("kind"), "why": why}, actor=by)
    return stored


def raw_item(vault: Vault, item_id: str) -> dict[str, Any] | None:
    """One stored item as stored, or None."""
    record = vault.get(COLLECTION, item_id)
    return None if record is None else {**record.data, "id": item_id}


def annotate(vault: Vault, item_id: str, **fields: Any) -> None:
    """Store `fields` with an item without moving it (what a handler learnt: a checkout id, a send result)."""
    vault.update(COLLECTION, item_id, lambda d: {**(d or {}), **fields})


def raw_items(vault: Vault, kind: str | None = None) -> list[dict[str, Any]]:
    """Every stored item (of `kind`), as stored: for features that list their own items."""
    return [r.data for r in vault.records(COLLECTION) if kind is None or r.data.get("kind") == kind]


def _alive(pid: int | None, item_id: str) -> bool:
    if pid is None or pid <= 0:
        return False
    if pid == os.getpid():
        return item_id in _RUNNING
    return pid_alive(pid)


class Desk:
    """The registered kinds, and every operation that needs to know them."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self.kinds: dict[str, Kind] = {}
        for kind in kinds:
            if kind.name in self.kinds:
                raise ValueError(f"approval kind {kind.name!r} is registered twice")
            self.kinds[kind.name] = kind

    # -- reading ---------------------------------------------------------------------------------------
    def parse(self, item_id: str, data: dict[str, Any]) -> Item:
        """The item as its kind's model; an item of an unknown kind, or one its model refuses, as a bare Item."""
        kind = self.kinds.get(str(data.get("kind")))
        body = {**data, "id": item_id}
        if kind is not None:
            try:
                return kind.model.model_validate(body)
            except ValidationError as exc:
                log.debug("approval %s does not fit its kind's model: %s", item_id, exc)
        return Item.model_validate({**body, "kind": str(data.get("kind", "unknown"))})

    def get(self, vault: Vault, item_id: str) -> Item:
        record = vault.get(COLLECTION, item_id)
        if record is None:
            raise UsageError(f"nothing waits for approval under {item_id!r}", "See `butler approvals list`.")
        return self.parse(item_id, record.data)

    def items(self, vault: Vault, states: Iterable[State] = OPEN) -> list[Item]:
        """Items in `states` (by default every open one), oldest first."""
        wanted = frozenset(states)
        found = [self.parse(r.id, r.data) for r in vault.records(COLLECTION)
                 if State(r.data.get("state", State.PENDING)) in wanted]
        return sorted(found, key=lambda i: (i.created, i.id))

    def pending(self, vault: Vault) -> list[Item]:
        return self.items(vault, (State.PENDING,))

    def _kind(self, item: Item) -> Kind:
        kind = self.kinds.get(item.kind)
        if kind is None:
            raise UsageError(f"{item.id} is of kind {item.kind!r}, which no part of butler handles",
                             "Nothing was done. Update butler, or reject the item.")
        return kind

    # -- deciding --------------------------------------------------------------------------------------
    def decide(self, vault: Vault, item_id: str, *, approve: bool, by: str = "person", why: str = "") -> str:
        """`adecide` for callers outside an event loop (a rejection runs no loop at all)."""
        if not approve:
            return self.reject(vault, item_id, by=by, why=why)
        return asyncio.run(self.adecide(vault, item_id, approve=approve, by=by, why=why))

    def reject(self, vault: Vault, item_id: str, *, by: str = "person", why: str = "") -> str:
        """Reject a waiting item, or dismiss one that needs attention; a sentence saying what happened."""
        item = self.get(vault, item_id)
        kind = self._kind(item)
        why = why or f"rejected by {by}"
        if item.state is State.PENDING:
            move(vault, item_id, State.REJECTED, by=by, why=why)
            if not isinstance(item, kind.model):  # an item its kind cannot read: refusing it needs nothing more
                return f"{item_id}: rejected"
            return kind.handler.reject(vault, self.get(vault, item_id))
        if item.state is State.NEEDS_ATTENTION:
            move(vault, item_id, State.FAILED, by=by, why=f"dismissed by {by}: {item.note}")
            return f"{item.summary()}: dismissed; {item.note}"
        raise UsageError(f"{item_id} was already {item.state.value}" if item.state not in OPEN
                         else f"{item_id} is {item.state.value}; it cannot be rejected")

    async def adecide(self, vault: Vault, item_id: str, *, approve: bool, by: str = "person",
                      why: str = "") -> str:
        """Carry out an answer (the person's, or a mandate's or a rule's, named by `by`); a sentence saying what
        happened. Approving an item that needs attention asks its vendor again; rejecting one dismisses it.

        Raises UsageError when the item is unknown, of an unknown kind or already decided; the handler's error
        (after recording it) when carrying it out failed; NeedsAttention when only the person can settle it.
        """
        if not approve:
            return self.reject(vault, item_id, by=by, why=why)
        item = self.get(vault, item_id)
        kind = self._kind(item)
        if not isinstance(item, kind.model):
            raise UsageError(f"{item_id} is not a readable {item.kind} item, so butler will not carry it out",
                             "Reject it, and negotiate or propose it again.")
        why = why or f"approved by {by}"
        if item.state is State.PENDING:
            move(vault, item_id, State.APPROVED, by=by, why=why, owner=os.getpid())
            return await self._execute(vault, item_id, kind)
        if item.state is State.APPROVED:
            return await self._execute(vault, item_id, kind)
        if item.state in (State.EXECUTING, State.NEEDS_ATTENTION):
            if _alive(item.owner, item_id):
                raise UsageError(f"{item_id} is being carried out right now", "Look again in a moment.")
            return await self._reconcile_one(vault, item_id, kind, asked=True)
        raise UsageError(f"{item_id} was already {item.state.value}")

    async def _execute(self, vault: Vault, item_id: str, kind: Kind) -> str:
        move(vault, item_id, State.EXECUTING, by="butler", why="carrying it out", owner=os.getpid())
        _RUNNING.add(item_id)
        failure: BaseException | None = None
        try:
            outcome = await _maybe(kind.handler.execute(vault, self.get(vault, item_id)))
        except TryLater as exc:
            outcome, failure = Outcome(State.PENDING, f"nothing was done: {exc.message}"), exc
        except NeedsAttention as exc:
            outcome, failure = Outcome(State.NEEDS_ATTENTION, exc.message, dict(getattr(exc, "updates", {}))), exc
        except ButlerError as exc:
            outcome, failure = Outcome(State.FAILED, exc.message), exc
        except Exception as exc:  # a handler's or a vendor's surprise must never leave the item invisible
            log.debug("carrying out %s failed", item_id, exc_info=True)
            outcome = Outcome(State.NEEDS_ATTENTION, f"carrying it out stopped on {type(exc).__name__}; butler "
                                                     "cannot tell what the other side did")
        finally:
            _RUNNING.discard(item_id)
        return self._settle(vault, item_id, outcome, failure)

    def _settle(self, vault: Vault, item_id: str, outcome: Outcome, failure: BaseException | None) -> str:
        current = self.get(vault, item_id)
        if current.state is not outcome.state:
            move(vault, item_id, outcome.state, by="butler", why=outcome.message, owner=None, **outcome.updates)
        elif outcome.updates:
            vault.update(COLLECTION, item_id, lambda d: {**(d or {}), **outcome.updates})
        if failure is not None:
            raise failure
        if outcome.state is State.NEEDS_ATTENTION:
            raise NeedsAttention(f"{item_id}: {outcome.message}")
        return outcome.message

    # -- after a crash ---------------------------------------------------------------------------------
    def reconcile(self, vault: Vault) -> list[str]:
        """`areconcile` for callers outside an event loop."""
        return asyncio.run(self.areconcile(vault))

    async def areconcile(self, vault: Vault) -> list[str]:
        """Settle the items a crash left approved or executing (their process is gone); one sentence each."""
        said = []
        for item in self.items(vault, (State.APPROVED, State.EXECUTING)):
            if item.owner is None or _alive(item.owner, item.id) or item.kind not in self.kinds:
                continue  # an approved item without an owner waits for its feature (a standing rule's)
            if item.state is State.APPROVED:
                move(vault, item.id, State.PENDING, by="butler", why="interrupted before anything was done",
                     owner=None)
                said.append(f"{item.id}: interrupted before anything was done; it waits again")
                continue
            try:
                said.append(f"{item.id}: {await self._reconcile_one(vault, item.id, self.kinds[item.kind])}")
            except ButlerError as exc:
                said.append(f"{item.id}: {exc.message}")
        return said

    async def _reconcile_one(self, vault: Vault, item_id: str, kind: Kind, *, asked: bool = False) -> str:
        item = self.get(vault, item_id)
        reconcile = getattr(kind.handler, "reconcile", None)
        outcome: Outcome | None
        try:
            outcome = await _maybe(reconcile(vault, item)) if reconcile is not None else Outcome(
                State.NEEDS_ATTENTION, "interrupted while being carried out; butler cannot tell what happened")
        except ButlerError as exc:
            outcome, note = None, f"could not confirm: {exc.message}"
            vault.update(COLLECTION, item_id, lambda d: {**(d or {}), "note": note})
            if asked:
                raise
        if outcome is None:
            if item.state is State.EXECUTING:
                vault.update(COLLECTION, item_id, lambda d: {**(d or {}), "owner": 0})  # no live owner: ask again
            return "still unconfirmed; butler asks again on its next run"
        if item.state is State.NEEDS_ATTENTION and outcome.state is State.NEEDS_ATTENTION:
            still = outcome
            vault.update(COLLECTION, item_id, lambda d: {**(d or {}), "note": still.message, **still.updates})
            raise NeedsAttention(f"{item_id}: {still.message}")
        if item.state is State.NEEDS_ATTENTION and outcome.state is State.PENDING:
            outcome = Outcome(State.FAILED, outcome.message, outcome.updates)
        return self._settle(vault, item_id, outcome, None)

    # -- explaining ------------------------------------------------------------------------------------
    def explain(self, vault: Vault, item_id: str) -> list[str]:
        """Why the item waits or what became of it: summary, details, rules, and every move with its cause."""
        item = self.get(vault, item_id)
        lines = [f"{item.id}  [{item.kind}]  {item.state.value}", f"  {item.summary()}"]
        lines += [f"  {line}" for line in item.details()]
        if item.reasons:
            lines.append("  why it came to you:")
            lines += [f"    - {reason}" for reason in item.reasons]
        if item.note:
            lines.append(f"  latest: {item.note}")
        lines.append("  history:")
        lines.append(f"    {item.created}  queued")
        lines += [f"    {step.at}  {step.state.value} by {step.by}"
                  + (f": {step.why}" if step.why and step.why != f"{step.state.value} by {step.by}" else "")
                  for step in item.steps]
        return lines
