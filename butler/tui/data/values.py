"""Small readers and formatters shared by the TUI views: money, dates, times, previews."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from butler.log import redact

__all__ = ["as_date", "as_local_date", "format_money", "parse_money", "record_preview", "short_time", "today"]



def parse_money(value: object) -> tuple[Decimal, str] | None:
    """`"9.99 EUR"`, `{"amount": "9.99", "currency": "EUR"}` → (Decimal, currency); None if it is neither."""
    if isinstance(value, dict):
        amount, currency = value.get("amount"), value.get("currency")
    elif isinstance(value, str) and " " in value.strip():
        amount, currency = value.strip().split(None, 1)
    else:
        return None
    try:
        return Decimal(str(amount)), str(currency)
    except InvalidOperation:
        return None


def format_money(value: tuple[Decimal, str] | None) -> str:
    if value is None:
        return "—"
    return f"{value[0].quantize(Decimal('0.01'))} {value[1]}"


def as_date(value: object) -> dt.date | None:
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def today() -> dt.date:
    """The person's date today: the one clock the screens read (tests set it)."""
    return dt.date.today()


def as_local_date(value: object) -> dt.date | None:
    """The local date of an ISO time (a date-time with a zone is moved to the local zone first)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return as_date(value)
    return (when.astimezone() if when.tzinfo is not None else when).date()


def short_time(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return value[:16]
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M")


def record_preview(data: dict[str, Any], width: int = 120) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    return redact(text if len(text) <= width else text[: width - 1] + "…")


