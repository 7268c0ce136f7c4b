"""What the butler did in the last seven days, day by day: mail moved, purchases, money saved, things refused.

Pure: audit entries and negotiations in, counts out. Days are the person's local dates.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from butler.tui.data.values import as_local_date
from butler.tui.data.views import NegotiationView
from butler.vault import AuditEntry

__all__ = ["REFUSALS", "WeekView", "summarize_week"]

# what the butler (or the person, through it) said no to
REFUSALS = frozenset({"negotiate.buy-denied", "negotiate.checkout-refused", "negotiate.walked-away",
                      "negotiate.mandate-declined", "mail.unsubscribe.refused", "approval.rejected"})


@dataclass(frozen=True)
class WeekView:
    days: tuple[dt.date, ...]
    moved: tuple[int, ...]
    bought: tuple[int, ...]
    saved: tuple[float, ...]
    refused: tuple[int, ...]
    saved_total: str  # "12.40 EUR", or "—"

    def total(self, name: str) -> int:
        values: tuple[int, ...] = getattr(self, name)
        return sum(values)


def summarize_week(entries: list[AuditEntry], deals: list[NegotiationView], today: dt.date) -> WeekView:
    days = tuple(today - dt.timedelta(days=n) for n in range(6, -1, -1))
    index: dict[dt.date | None, int] = {day: i for i, day in enumerate(days)}
    moved, bought, refused = [0] * 7, [0] * 7, [0] * 7
    for e in entries:
        i = index.get(as_local_date(e.at))
        if i is None:
            continue
        if e.action == "mail.sweep":
            moved[i] += int(e.details.get("moved", 0) or 0)
        elif e.action in ("negotiate.purchased", "negotiate.mandate-purchase"):
            bought[i] += 1
        elif e.action in REFUSALS:
            refused[i] += 1
    savings = [(index.get(as_local_date(deal.at)), deal.saving) for deal in deals if deal.saving is not None]
    counted = [(i, saving) for i, saving in savings if i is not None and saving is not None]
    currency = Counter(saving[1] for _, saving in counted).most_common(1)[0][0] if counted else ""
    saved = [Decimal(0)] * 7
    for i, (amount, unit) in counted:
        if unit == currency:  # one currency: amounts in others are not added to it
            saved[i] += amount
    saved_total = f"{sum(saved, Decimal(0)).quantize(Decimal('0.01'))} {currency}" if currency else "—"
    return WeekView(days, tuple(moved), tuple(bought), tuple(float(s) for s in saved), tuple(refused), saved_total)
