"""Helpers shared by the policy tests (a uniquely named module: other test folders have their own conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from butler.models import Money, Offer
from butler.policy.packs import pack_dir

REPO = Path(__file__).resolve().parents[2]
PACKS = pack_dir()  # the packs butler ships, as package data


def make_offer(**changes: Any) -> Offer:
    base: dict[str, Any] = {
        "id": "o1",
        "vendor_id": "acme",
        "product": "thing",
        "category": "clothing",
        "price": Money.of("50", "EUR"),
    }
    base.update(changes)
    return Offer(**base)
