"""The numbers behind the Deals and Contracts charts: renewals month by month, savings year by year. Pure."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

from butler.tui.data.values import parse_money
from butler.tui.data.views import ContractView, NegotiationView

__all__ = ["MONTHS", "renewal_months", "savings_by_year"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _main_currency(currencies: list[str]) -> str:
    return Counter(currencies).most_common(1)[0][0] if currencies else ""


def renewal_months(contracts: list[ContractView], today: dt.date,
                   months: int = 12) -> tuple[list[str], list[float], str]:
    """Month labels from this month on, the price renewing in each (one currency), and that currency."""
    labels: list[str] = []
    keys: list[tuple[int, int]] = []
    year, month = today.year, today.month
    for _ in range(months):
        labels.append(MONTHS[month - 1] if month != 1 or not labels else f"{MONTHS[0]} {str(year)[2:]}")
        keys.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    prices = [(c.renewal, parse_money(c.price.split("/", 1)[0])) for c in contracts if c.renewal is not None]
    currency = _main_currency([p[1] for _, p in prices if p is not None])
    amounts = [Decimal(0)] * months
    for renewal, price in prices:
        key = (renewal.year, renewal.month) if renewal is not None else None
        if price is not None and price[1] == currency and key in keys:
            amounts[keys.index(key)] += price[0]
    return labels, [float(a) for a in amounts], currency


def savings_by_year(deals: list[NegotiationView]) -> tuple[list[str], list[float], str]:
    """Years (oldest first) and what the agreed deals saved on the vendor's first price in each (one currency)."""
    savings = [(d.at[:4], d.saving) for d in deals if d.saving is not None and d.at[:4].isdigit()]
    currency = _main_currency([s[1] for _, s in savings if s is not None])
    years: dict[str, Decimal] = {}
    for year, saving in savings:
        if saving is not None and saving[1] == currency:
            years[year] = years.get(year, Decimal(0)) + saving[0]
    ordered = sorted(years)
    return ordered, [float(years[y]) for y in ordered], currency
