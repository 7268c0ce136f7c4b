"""A card tokenizer for the example UCP merchant, following UCP's shared Tokenization API (2026-01-11).

    POST /psp/tokenize   {"credential": <card credential>, "binding": {"checkout_id": ...}} → {"token": ...}

It stands in for the merchant's payment service provider: it checks the card (Luhn digit, expiry), keeps it,
and answers with an opaque token bound to one checkout. The merchant redeems a token once, for that checkout
only. The card 4000 0000 0000 0002 tokenizes but is declined when redeemed; 4000 0000 0000 3220 needs the
buyer's bank check (3-D Secure) first, so the merchant answers `requires_escalation` with a `continue_url`.
Requests need `Authorization: Bearer <public key>` (the key the merchant publishes in the handler's config),
and `Idempotency-Key` gives the same token for the same request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

__all__ = ["CHALLENGE_CARD", "DECLINED_CARD", "HANDLER_ID", "Tokenizer"]

HANDLER_ID = "card_tokenizer"
DECLINED_CARD = "4000000000000002"
CHALLENGE_CARD = "4000000000003220"


def _luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


def _problem(status: int, code: str, content: str) -> JSONResponse:
    return JSONResponse({"messages": [{"type": "error", "code": code, "content": content}]}, status_code=status)


@dataclass
class Tokenizer:
    """The tokens issued, and (for tests) every card number that reached the tokenizer."""

    public_key: str = field(default_factory=lambda: f"pk_test_{secrets.token_hex(6)}")
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers_seen: list[str] = field(default_factory=list)
    _replies: dict[str, tuple[str, str]] = field(default_factory=dict)

    def handler(self, base_url: str, version: str) -> dict[str, Any]:
        """The payment handler the merchant lists in its profile and checkouts."""
        return {"id": HANDLER_ID, "name": "dev.ucp.tokenization", "version": version,
                "spec": "https://ucp.dev/handlers/tokenization/openapi.json",
                "config_schema": "https://example.com/specs/payments/card_tokenizer_config.json",
                "instrument_schemas": ["https://ucp.dev/schemas/shopping/types/card_payment_instrument.json"],
                "config": {"token_url": f"{base_url}/psp/tokenize", "public_key": self.public_key}}

    def mount(self, app: FastAPI) -> None:
        @app.post("/psp/tokenize")
        async def tokenize(request: Request) -> Any:
            if request.headers.get("authorization") != f"Bearer {self.public_key}":
                return _problem(401, "unauthorized", "the tokenizer needs the handler's public key")
            raw = await request.body()
            key = request.headers.get("idempotency-key")
            fingerprint = hashlib.sha256(raw).hexdigest()
            if key is not None and key in self._replies:
                if self._replies[key][0] != fingerprint:
                    return _problem(409, "idempotency_key_reused", "this Idempotency-Key was used for another card")
                return {"token": self._replies[key][1]}
            try:
                body = json.loads(raw)
                card, checkout_id = body["credential"], str(body["binding"]["checkout_id"])
                number = str(card["number"])
                month, year = int(card["expiry_month"]), int(card["expiry_year"])
            except (ValueError, KeyError, TypeError):
                return _problem(400, "invalid_request", "a card credential and a binding.checkout_id are required")
            self.numbers_seen.append(number)
            today = dt.date.today()
            if card.get("type") != "card" or not number.isdigit() or not 12 <= len(number) <= 19 or \
                    not _luhn_ok(number):
                return _problem(400, "invalid_card", "the card number is not valid")
            if (year, month) < (today.year, today.month) or not 1 <= month <= 12:
                return _problem(400, "card_expired", "the card has expired")
            token = f"tok_{secrets.token_hex(12)}"
            self.tokens[token] = {"checkout_id": checkout_id, "last_digits": number[-4:], "used": False,
                                  "decline": number == DECLINED_CARD, "challenge": number == CHALLENGE_CARD}
            if key is not None:
                self._replies[key] = (fingerprint, token)
            return {"token": token}

    def needs_challenge(self, token: object) -> bool:
        """Whether the bank wants the buyer to confirm this card first (the token stays unused)."""
        issued = self.tokens.get(token) if isinstance(token, str) else None
        return bool(issued and issued["challenge"] and not issued["used"])

    def redeem(self, token: object, checkout_id: str) -> tuple[str, str] | None:
        """Charge a token for `checkout_id`: None when paid, else (error code, sentence)."""
        issued = self.tokens.get(token) if isinstance(token, str) else None
        if issued is None:
            return "payment_declined", "unknown payment token"
        if issued["checkout_id"] != checkout_id:
            return "payment_declined", "the payment token is bound to another checkout"
        if issued["used"]:
            return "payment_declined", "the payment token was already used"
        issued["used"] = True
        if issued["decline"]:
            return "payment_declined", "the card was declined"
        return None
