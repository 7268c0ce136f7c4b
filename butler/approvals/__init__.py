"""What waits for the person: one desk (vault collection `approvals`) for every kind of decision.

    State, MOVES, OPEN        -- pending → approved → executing → done | failed | needs-attention; → rejected
    Item, Step, Outcome       -- the fields every kind shares (kinds subclass Item); one move; an execution's end
    Kind, Handler, Desk       -- a kind registered by its feature; the desk that decides, reconciles, explains
    submit, move, item_id     -- queue an item under a minted id; move it, audited with its cause
    raw_item(s), annotate     -- read items as stored; store what a handler learnt without moving the item
    TryLater, NeedsAttention  -- nothing was done (the item waits again); only the person can settle it

Features queue items and register kinds; the shells (CLI, TUI, daemon) build one `Desk` with every kind
(`butler.wiring.desk`). A kind without a handler is an error, never "approved". Nothing here spends, sends or
signs by itself: handlers do, each for its own kind.
"""

from butler.approvals._desk import (
    COLLECTION,
    RECORDS,
    Desk,
    Handler,
    Kind,
    NeedsAttention,
    annotate,
    move,
    raw_item,
    raw_items,
    submit,
)
from butler.approvals._item import MOVES, OPEN, Item, Outcome, State, Step, TryLater, item_id, now_iso

__all__ = [
    "COLLECTION",
    "MOVES",
    "OPEN",
    "RECORDS",
    "Desk",
    "Handler",
    "Item",
    "Kind",
    "NeedsAttention",
    "Outcome",
    "State",
    "Step",
    "TryLater",
    "annotate",
    "item_id",
    "move",
    "now_iso",
    "raw_item",
    "raw_items",
    "submit",
]
