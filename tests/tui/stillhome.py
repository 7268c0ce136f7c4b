"""A home that renders the same on every machine and every day, for the screen snapshots.

The clock is frozen (every `dt` the vault, the audit log, the mail state and the approvals desk read, and the
TUI's `today()`), the zone is UTC, and the data is fixed: a week of sweeps, purchases, savings and refusals,
negotiations with their rounds, contracts across the year, and the mail a sweep moved, journaled by hand.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import time
import types
from pathlib import Path
from typing import Any

import pytest

from butler.vault import Vault

__all__ = ["NOW", "TODAY", "freeze_clock", "seed_still_home"]

NOW = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
FROZEN_MODULES = ("butler.vault.store", "butler.vault.audit", "butler.mail.state", "butler.approvals._desk",
                  "butler.approvals._item", "butler.tui.data.activity", "butler.jobrecords")


class _Clock:
    at = NOW


class _FrozenDatetime(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
        return _Clock.at if tz is not None else _Clock.at.replace(tzinfo=None)


class _FrozenDate(dt.date):
    @classmethod
    def today(cls) -> dt.date:  # type: ignore[override]
        return _Clock.at.date()


def _frozen_dt() -> types.SimpleNamespace:
    names = {name: getattr(dt, name) for name in dir(dt) if not name.startswith("__")}
    return types.SimpleNamespace(**{**names, "datetime": _FrozenDatetime, "date": _FrozenDate})


def freeze_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every clock butler reads says NOW (moved on with `at()`), in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.setattr(_Clock, "at", NOW)
    frozen = _frozen_dt()
    for name in FROZEN_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "dt"):
            monkeypatch.setattr(module, "dt", frozen)
    monkeypatch.setattr("butler.tui.data.values.today", lambda: _Clock.at.date())


def at(when: dt.datetime) -> None:
    """Move the frozen clock (the records written next carry this time)."""
    _Clock.at = when


def _iso(days_ago: float, hour: int = 8) -> str:
    return (NOW.replace(hour=hour, minute=0) - dt.timedelta(days=days_ago)).isoformat()


def _negotiation(vault: Vault, key: str, vendor: str, days_ago: int, prices: list[str], reserve: float) -> None:
    exchanges = [{"round": i + 1, "proposer": "vendor" if i % 2 == 0 else "buyer",
                  "utility": round(0.2 + 0.1 * i if i % 2 == 0 else 0.9 - 0.1 * i, 2),
                  "terms": {"price": f"{p} EUR", "term_months": 12, "data_use": "service", "extras": []}}
                 for i, p in enumerate(prices)]
    vault.put("negotiations", key, {
        "vendor": vendor, "offer": f"{vendor}-plan", "offer_data": {"product": f"{vendor.title()} Plus"},
        "reason": "accepted", "utility": 0.6, "reserve": reserve,
        "agreed": {"price": f"{prices[-1]} EUR", "term_months": 12}, "at": _iso(days_ago, 10),
        "exchanges": exchanges})


def _audit(vault: Vault, days_ago: int, action: str, subject: str, details: dict[str, Any]) -> None:
    at(NOW - dt.timedelta(days=days_ago, hours=1))
    vault.audit.append(action, subject, details)


def _mail(home: Path) -> None:
    directory = home / "mail" / "person-home.example-0123456789"
    directory.mkdir(parents=True)
    senders = [("news@shoply.example", "48 hours only: 30% off everything", "promotion",
                "a promotion: List-Unsubscribe-Post, 4 prices, a discount code"),
               ("deals@travelwide.example", "Your weekend escape awaits", "promotion",
                "a promotion: bulk sender, tracking pixel, 'limited time'"),
               ("offers@parla.example", "Upgrade to 20GB for 2 EUR more", "promotion",
                "a promotion from a vendor you hold a contract with"),
               ("win@prize-center.example", "You have been selected!!", "spam", "spam: sender never seen, 'winner'")]
    entries, moved = [], {}
    for n, (sender, subject, category, reason) in enumerate(senders * 2):
        ident = f"m{n}"
        entry = {"op": "move", "id": ident, "key": f"<{n}.still@example>", "sweep": f"s{n // 4}",
                 "at": _iso(n // 4 + 1, 7), "from": "INBOX", "to": "Promotions", "sender": sender,
                 "category": category, "subject": subject, "reason": reason, "size": 2048, "new_uid": str(100 + n)}
        entries.append(entry)
        moved[ident] = {"folder": "Promotions", "validity": "1", "uid": str(100 + n), "key": entry["key"],
                        "size": 2048, "seen": False, "sender": sender, "category": category, "at": entry["at"]}
    (directory / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    state = {"moved": moved, "restored": [], "senders": {
        s: {"moved": 2, "read": 0, "one_click": i == 0, "list_unsubscribe": "<https://x.example/u>" if i < 2 else ""}
        for i, (s, *_rest) in enumerate(senders)}}
    (directory / "state.json").write_text(json.dumps(state))


def seed_still_home(vault: Vault) -> None:
    """Everything the screens show, written at fixed times."""
    at(NOW - dt.timedelta(days=9))
    vault.put("approvals", "purchase-s1", {
        "kind": "purchase", "state": "pending", "vendor": "parla", "offer": "parla-plan", "session": "s1",
        "agreed_terms": {"price": {"amount": "7.86", "currency": "EUR"}, "term_months": 12}, "period": "month",
        "connector": "parla", "created": _iso(1),
        "reasons": ["parla: accepted (utility 0.58)", "voltra: no outcome beats walking away (utility 0.00)"]})
    vault.put("approvals", "renew-energy", {
        "kind": "renewal-reminder", "state": "pending", "contract_id": "energy", "vendor_id": "voltra",
        "renewal_date": (TODAY + dt.timedelta(days=30)).isoformat(), "created": _iso(2),
        "reasons": ["the contract renews by itself in 30 days"]})
    _negotiation(vault, "s1", "parla", 1, ["9.99", "7.49", "8.60", "7.80", "7.86"], 0.35)
    _negotiation(vault, "s2", "voltra", 3, ["64.00", "55.00", "61.00", "58.00"], 0.3)
    _negotiation(vault, "s3", "kabelnet", 400, ["39.00", "30.00", "34.00"], 0.25)
    vault.put("intents", "i1", {"id": "i1", "description": "a cheaper mobile plan", "category": "mobile",
                                "budget": {"amount": "10", "currency": "EUR"}, "status": "open",
                                "created": _iso(10)})
    for key, vendor, product, price, months in (("mobile", "parla", "Parla Mobile 10GB", "9.99", 1),
                                                ("energy", "voltra", "Voltra Green", "61.00", 4),
                                                ("internet", "kabelnet", "Kabelnet 250", "34.00", 8)):
        vault.put("contracts", key, {
            "id": key, "vendor_id": vendor, "product": product, "category": key,
            "price": {"amount": price, "currency": "EUR"}, "period": "month", "term_months": 12,
            "start": "2025-06-01", "renewal_date": (TODAY + dt.timedelta(days=30 * months)).isoformat(),
            "auto_renew": key != "energy"})
    vault.put("mail", "imap-password", {"value": "hunter2-imap-secret"})
    for days_ago, moved in ((6, 3), (5, 0), (4, 7), (3, 2), (2, 5), (1, 4), (0, 1)):
        _audit(vault, days_ago, "mail.sweep", "person@home.example", {"examined": 20, "moved": moved})
        if days_ago == 3:
            _audit(vault, 3, "negotiate.purchased", "voltra", {"total": "58.00 EUR"})
        elif days_ago == 2:
            _audit(vault, 2, "negotiate.buy-denied", "kabelnet", {"reasons": ["over budget"]})
        elif days_ago == 1:
            _audit(vault, 1, "approval.rejected", "unsubscribe from deals@travelwide.example", {})
    at(NOW)
    _mail(vault.home)
    _daemon(vault.home)


def _daemon(home: Path) -> None:
    jobs = {"mail-sweep": {"last_run": _iso(0, 9), "last_result": "ok: moved 1 of 20", "last_duration": 2.4,
                           "next_run": _iso(-0.5, 9)},
            "renewals": {"last_run": _iso(0, 6), "last_result": "failed: voltra did not answer",
                         "last_duration": 30.0, "last_error": "voltra did not answer within 30 s",
                         "consecutive_failures": 3, "failing_since": _iso(2, 6), "next_run": _iso(-1, 6)},
            "intents": {"last_run": _iso(0, 8), "last_result": "ok: nothing new", "last_duration": 0.1,
                        "next_run": _iso(-0.1, 8)}}
    (home / "daemon-state.json").write_text(json.dumps({"pid": None, "started": _iso(3), "jobs": jobs}))
