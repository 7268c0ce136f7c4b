"""The numbers behind Home's week and the Deals and Contracts charts: pure functions, checked on small data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from butler.tui.data.charts import renewal_months, savings_by_year
from butler.tui.data.views import ContractView, NegotiationView
from butler.tui.data.week import summarize_week
from butler.vault import AuditEntry

TODAY = dt.date(2026, 3, 14)


def entry(seq: int, days_ago: int, action: str, **details: Any) -> AuditEntry:
    at = dt.datetime(2026, 3, 14, 12, tzinfo=dt.UTC) - dt.timedelta(days=days_ago)
    return AuditEntry(seq, at.isoformat(), "butler", action, "x", details, "", "")


def deal(at: str, saving: str | None, currency: str = "EUR") -> NegotiationView:
    return NegotiationView("n", "v", "o", "agreed", "—", (Decimal(saving), currency) if saving else None, 0.5, at,
                           [])


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_the_week_counts_day_by_day_and_leaves_older_days_out() -> None:
    entries = [entry(0, 9, "mail.sweep", moved=50), entry(1, 6, "mail.sweep", moved=3),
               entry(2, 0, "mail.sweep", moved=2), entry(3, 0, "mail.sweep", moved=1),
               entry(4, 2, "negotiate.purchased"), entry(5, 1, "negotiate.buy-denied"),
               entry(6, 1, "approval.rejected"), entry(7, 1, "approval.approved")]
    deals = [deal("2026-03-13 10:00", "2.00"), deal("2026-03-13 11:00", "1.50"),
             deal("2026-03-13 12:00", "9.00", "USD"), deal("2026-02-01 10:00", "5.00")]
    week = summarize_week(entries, deals, TODAY)
    assert week.days[0] == dt.date(2026, 3, 8) and week.days[-1] == TODAY
    assert week.moved == (3, 0, 0, 0, 0, 0, 3)
    assert week.bought == (0, 0, 0, 0, 1, 0, 0) and week.refused == (0, 0, 0, 0, 0, 2, 0)
    assert week.saved[5] == 3.5 and week.saved_total == "3.50 EUR"  # dollars are not added to euros


def test_renewals_fall_in_their_month_and_savings_in_their_year() -> None:
    def contract(renewal: dt.date, price: str) -> ContractView:
        return ContractView("c", "v", "p", "mobile", price, renewal, 0, False, "—", "—")

    labels, amounts, currency = renewal_months(
        [contract(dt.date(2026, 4, 2), "9.99 EUR/month"), contract(dt.date(2026, 4, 30), "1.01 EUR/month"),
         contract(dt.date(2027, 1, 5), "61.00 EUR/month"), contract(dt.date(2027, 6, 1), "5.00 EUR/month")], TODAY)
    assert labels[:2] == ["Mar", "Apr"] and labels[10] == "Jan 27" and currency == "EUR"
    assert amounts[1] == 11.0 and amounts[10] == 61.0 and sum(amounts) == 72.0  # June 2027 is past the year
    years, saved, _ = savings_by_year([deal("2025-05-01 10:00", "5.00"), deal("2026-03-13 10:00", "2.00"),
                                       deal("2026-01-13 10:00", "1.00"), deal("2026-01-13 10:00", None)])
    assert years == ["2025", "2026"] and saved == [5.0, 3.0]
