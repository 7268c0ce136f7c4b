"""The customer's negotiation strategy: pure, deterministic, and never below the walk-away point.

`for_customer(issues, utility, reserve, n_steps)` returns a `CustomerStrategy` for one alternating-offers
negotiation. The person's hard constraints are already inside `utility` (an outcome that breaks one scores
below `reserve`), so the strategy only has to respect `reserve`:

- It never proposes and never accepts an outcome whose utility is not above `reserve`, which must lie in
  [0, 1): an outcome that breaks a hard constraint scores 0, so a negative reserve would accept it.
- Its aspiration falls from the best outcome towards a floor with a Boulware curve: it concedes little
  early and more near the deadline. The floor is never below the best offer the vendor has already made, so
  it does not concede what it has already been given.
- Among the outcomes it is willing to propose, it picks the one the vendor seems to like best, using a
  frequency model of the vendor's offers (values it repeats, issues it keeps fixed), and among equals the one
  nearest its aspiration: the same value for the customer, more chance of agreement.
- It accepts an offer at least as good as what it would propose next. In the last round it accepts any
  offer above `reserve`, and, when its own offer is the last word, proposes the best offer the vendor has
  made, which the vendor is likely to take.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["CustomerStrategy", "check_reserve", "for_customer"]

Outcome = dict[str, Any]
EPSILON = 1e-9
MAX_ENUMERATED = 200_000


def check_reserve(reserve: float) -> float:
    """`reserve` as a float when it lies in [0, 1); ValueError otherwise (negative, 1 or more, NaN, infinite)."""
    value = float(reserve)
    if not (math.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"the reserve (the utility of walking away) must be at least 0 and below 1, got {reserve}")
    return value


class CustomerStrategy:
    """One negotiation's state. `propose(step)` and `respond(offer, step)` as an alternating-offers agent."""

    def __init__(self, issues: Mapping[str, Sequence[Any]], utility: Callable[[Outcome], float], reserve: float,
                 n_steps: int, *, concession: float = 0.07, endgame_steps: int = 1, seed: int = 0) -> None:
        if n_steps < 1:
            raise ValueError("a negotiation needs at least one step")
        self.names = list(issues)
        self.values = {name: list(issues[name]) for name in self.names}
        self.utility = utility
        self.reserve = check_reserve(reserve)
        self.n_steps = n_steps
        self.concession = concession
        self.endgame_steps = endgame_steps
        scored = [(float(utility(o)), o) for o in self._outcomes(seed)]
        self.rational = sorted((s for s in scored if s[0] > self.reserve + EPSILON), key=lambda s: -s[0])
        self.best_u = self.rational[0][0] if self.rational else self.reserve
        self._counts: dict[str, Counter[Any]] = {name: Counter() for name in self.names}
        self._kept: Counter[str] = Counter()
        self._last_received: Outcome | None = None
        self.best_received: tuple[float, Outcome] | None = None
        self.proposed: list[Outcome] = []
        self._responded_at = -1  # the last step in which the vendor made an offer to us

    def _outcomes(self, seed: int) -> list[Outcome]:
        size = 1
        for name in self.names:
            size *= max(1, len(self.values[name]))
        if size <= MAX_ENUMERATED:
            return [dict(zip(self.names, combo, strict=True))
                    for combo in itertools.product(*(self.values[n] for n in self.names))]
        rng = random.Random(seed)  # too many to list: a fixed sample keeps the strategy deterministic
        return [{n: rng.choice(self.values[n]) for n in self.names} for _ in range(MAX_ENUMERATED)]

    # -- time and aspiration ---------------------------------------------------------------------------
    def _time(self, step: int) -> float:
        return min(1.0, max(0.0, step / max(1, self.n_steps - 1)))

    def _floor(self) -> float:
        floor = self.reserve + EPSILON
        if self.best_received is not None:
            floor = max(floor, self.best_received[0])
        return floor

    def aspiration(self, step: int) -> float:
        """The least utility the customer asks for at `step` (falls from the best outcome to the floor)."""
        t = self._time(step)
        floor = min(self._floor(), self.best_u)
        return float(self.best_u - (self.best_u - floor) * t ** (1.0 / self.concession))

    def _in_endgame(self, step: int) -> bool:
        return step >= self.n_steps - self.endgame_steps

    # -- the vendor model ------------------------------------------------------------------------------
    def _observe(self, offer: Outcome) -> None:
        for name in self.names:
            self._counts[name][offer.get(name)] += 1
            if self._last_received is not None and self._last_received.get(name) == offer.get(name):
                self._kept[name] += 1
        self._last_received = offer

    def vendor_estimate(self, outcome: Outcome) -> float:
        """How much the vendor seems to like `outcome`, in [0, 1], from what it has offered."""
        if self._last_received is None:
            return 0.0
        total_kept = sum(self._kept.values()) + len(self.names)
        score = 0.0
        for name in self.names:
            counts = self._counts[name]
            top = max(counts.values()) if counts else 0
            weight = (self._kept[name] + 1) / total_kept
            score += weight * (counts[outcome.get(name)] / top if top else 0.0)
        return score

    # -- moves -----------------------------------------------------------------------------------------
    def propose(self, step: int) -> Outcome | None:
        """The customer's offer at `step`; None when no outcome beats walking away."""
        if not self.rational:
            return None
        moves_last = self._responded_at == step  # the vendor already spoke this step: nobody speaks after us
        if self._in_endgame(step) and moves_last and self.best_received is not None:
            offer = dict(self.best_received[1])
        else:
            target = self.aspiration(step)
            candidates = [s for s in self.rational if s[0] >= target - EPSILON] or self.rational[:1]
            # what the vendor seems to like best; among equals, the one closest to the aspiration
            offer = dict(max(candidates, key=lambda s: (self.vendor_estimate(s[1]), -s[0]))[1])
        self.proposed.append(offer)
        return offer

    def respond(self, offer: Outcome, step: int) -> bool:
        """True to accept the vendor's `offer`. Never true at or below `reserve`."""
        offer = dict(offer)
        self._responded_at = step
        u = float(self.utility(offer))
        self._observe(offer)
        if u <= self.reserve + EPSILON:
            return False
        if self.best_received is None or u > self.best_received[0]:
            self.best_received = (u, offer)
        if self._in_endgame(step):
            return True
        return u >= self.aspiration(step + 1) - EPSILON


def for_customer(issues: dict[str, list[Any]], utility: Callable[[dict[str, Any]], float], reserve: float,
                 n_steps: int) -> CustomerStrategy:
    """The customer's strategy for one negotiation over `issues` (name → possible values).

    `utility` maps a full outcome to [0, 1] and already scores outcomes that break a hard constraint below
    `reserve`, the utility of walking away.
    """
    return CustomerStrategy(issues, utility, reserve, n_steps)
