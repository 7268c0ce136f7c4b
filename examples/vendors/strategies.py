"""Vendor-side negotiation strategies: pure functions of the negotiation so far, no I/O, no clock.

A vendor scores a position (price, term, data use, extras) with `vendor_utility` in [0, 1]: 1 is its opening
offer, 0 its reservation (floor price, shortest term, least data, every extra). Each strategy decides the
utility it aims for at each round (`target`), accepts the buyer's position when it is worth at least that
(AC-next), and otherwise counters with `position_for`: the buyer's non-price issues where it can afford them,
and the price that reaches its target.

    boulware     -- concedes little until the deadline nears (e = 0.2)
    conceder     -- concedes early (e = 2)
    tit-for-tat  -- concedes as much as the buyer conceded last round (relative tit-for-tat)
    hardliner    -- barely moves, accepts only near its opening

A later negotiation engine and benchmark play against these; keep them deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "STRATEGIES",
    "WEIGHTS",
    "Decision",
    "Issues",
    "Position",
    "Strategy",
    "decide",
    "opening",
    "position_for",
    "target",
    "vendor_utility",
]

WEIGHTS = {"price": 0.7, "term": 0.2, "data": 0.1}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Issues:
    """What a vendor may give on one product. `terms` and `data_uses` run from worst to best for the vendor."""

    list_price: Decimal
    floor_price: Decimal
    terms: tuple[int, ...] = (0,)
    data_uses: tuple[str, ...] = ("service",)
    extras: dict[str, Decimal] = field(default_factory=dict)  # extra → what it costs the vendor per period


@dataclass(frozen=True)
class Position:
    price: Decimal
    term_months: int
    data_use: str
    extras: tuple[str, ...] = ()


@dataclass(frozen=True)
class Strategy:
    """A named concession policy. `e` shapes time-dependent tactics; `floor_utility` is never conceded."""

    name: str
    e: float = 1.0
    floor_utility: float = 0.05
    hard_target: float | None = None  # hardliner: the utility it holds from the first round to the last


STRATEGIES: dict[str, Strategy] = {
    "boulware": Strategy("boulware", e=0.2),
    "conceder": Strategy("conceder", e=2.0),
    "tit-for-tat": Strategy("tit-for-tat"),
    "hardliner": Strategy("hardliner", hard_target=0.85),
}


def _index_score(options: Sequence[object], value: object) -> float:
    if len(options) < 2:
        return 1.0
    return options.index(value) / (len(options) - 1) if value in options else 0.0


def vendor_utility(issues: Issues, pos: Position) -> float:
    """How much the vendor likes `pos`, 0 (reservation) to 1 (its opening offer)."""
    extras_cost = sum((issues.extras.get(x, Decimal(0)) for x in pos.extras), Decimal(0))
    span = issues.list_price - issues.floor_price
    price_score = float((pos.price - extras_cost - issues.floor_price) / span) if span > 0 else 1.0
    price_score = min(1.0, max(0.0, price_score))
    return (WEIGHTS["price"] * price_score + WEIGHTS["term"] * _index_score(issues.terms, pos.term_months)
            + WEIGHTS["data"] * _index_score(issues.data_uses, pos.data_use))


def opening(issues: Issues) -> Position:
    """The vendor's first offer: list price, its favourite term and data use, no extras."""
    return Position(issues.list_price, issues.terms[-1], issues.data_uses[-1])


def target(strategy: Strategy, round_: int, max_rounds: int, *, previous_target: float = 1.0,
           buyer_concession: float = 0.0) -> float:
    """The utility the vendor aims for in `round_` (1-based) of `max_rounds`."""
    if strategy.hard_target is not None:
        return strategy.hard_target
    low = strategy.floor_utility
    if strategy.name == "tit-for-tat":
        return max(low, min(1.0, previous_target - max(0.0, buyer_concession)))
    progress = min(1.0, max(0.0, (round_ - 1) / max(1, max_rounds - 1)))
    return float(1.0 - (1.0 - low) * progress ** (1.0 / strategy.e))


def position_for(issues: Issues, wanted: float, like: Position) -> Position:
    """A position worth `wanted` to the vendor, as close to `like` (the buyer's last) as it can afford."""
    term = like.term_months if like.term_months in issues.terms else issues.terms[-1]
    data = like.data_use if like.data_use in issues.data_uses else issues.data_uses[-1]
    extras = tuple(x for x in like.extras if x in issues.extras)
    for attempt in range(3):
        rest = WEIGHTS["term"] * _index_score(issues.terms, term) + WEIGHTS["data"] * _index_score(
            issues.data_uses, data)
        price_score = (wanted - rest) / WEIGHTS["price"]
        if price_score <= 1.0 or attempt == 2:
            break
        # the price alone cannot reach the target: take back first the extras, then term and data
        if attempt == 0 and extras:
            extras = ()
            continue
        term, data = issues.terms[-1], issues.data_uses[-1]
    price_score = min(1.0, max(0.0, price_score))
    extras_cost = sum((issues.extras[x] for x in extras), Decimal(0))
    price = issues.floor_price + (issues.list_price - issues.floor_price) * Decimal(str(round(price_score, 6)))
    price = (price + extras_cost).quantize(CENT, rounding=ROUND_HALF_UP)
    return Position(price, term, data, extras)


@dataclass(frozen=True)
class Decision:
    accept: bool
    counter: Position | None
    target: float


def decide(strategy: Strategy, issues: Issues, buyer_positions: Sequence[Position], round_: int,
           max_rounds: int, previous_target: float = 1.0) -> Decision:
    """The vendor's answer to the buyer's latest position (`buyer_positions[-1]`) in round `round_`."""
    latest = buyer_positions[-1]
    concession = 0.0
    if len(buyer_positions) > 1:  # how much the buyer moved towards the vendor (in the vendor's utility)
        concession = vendor_utility(issues, latest) - vendor_utility(issues, buyer_positions[-2])
    aim = target(strategy, round_, max_rounds, previous_target=previous_target, buyer_concession=concession)
    if vendor_utility(issues, latest) >= aim - 1e-9:
        return Decision(True, None, aim)
    counter = position_for(issues, aim, latest)
    if round_ >= max_rounds:
        return Decision(False, None, aim)
    return Decision(False, replace(counter), aim)
