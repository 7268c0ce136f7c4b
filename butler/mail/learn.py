"""What the classifier learns from the person: per-sender memory and a small token model.

Corrections are the only teacher: a message the person moves back to the inbox teaches "keep mail like this
from this sender"; a message the person moves into Promotions teaches "this sender sends promotions". The token
model (a naive Bayes over signal names, sender domain, subject and body words) carries the lesson over to
similar mail from other senders. Both are plain data, saved as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Memory", "SenderMemory", "TokenModel"]

_MAX_TOKENS = 50_000
_PER_TOKEN_CAP = 2.5  # no single word may decide on its own
_MOST_TELLING = 30


@dataclass
class SenderMemory:
    """Corrections for one sender. `kept` counts rescues by category; `promoted` counts moves into Promotions."""

    kept: dict[str, int] = field(default_factory=dict)
    promoted: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"kept": dict(self.kept), "promoted": self.promoted}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SenderMemory:
        kept = {str(k): int(v) for k, v in dict(data.get("kept", {})).items()}
        return cls(kept=kept, promoted=int(data.get("promoted", 0)))


@dataclass
class TokenModel:
    """Token counts in promotional and other mail; `log_odds` is > 0 for mail that looks promotional."""

    promo: dict[str, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)
    n_promo: int = 0
    n_other: int = 0
    _scores: dict[str, float | None] = field(default_factory=dict, repr=False, compare=False)

    def learn(self, tokens: Iterable[str], promotional: bool, weight: int = 1) -> None:
        counts = self.promo if promotional else self.other
        for token in set(tokens):
            counts[token] = counts.get(token, 0) + weight
        self._scores.clear()  # the counts changed: every cached token score is stale
        if promotional:
            self.n_promo += weight
        else:
            self.n_other += weight
        if len(self.promo) + len(self.other) > _MAX_TOKENS:
            self._prune()

    def _prune(self) -> None:
        for counts in (self.promo, self.other):
            for token in [t for t, n in counts.items() if n <= 1]:
                del counts[token]

    @property
    def trained(self) -> int:
        return min(self.n_promo, self.n_other)

    def log_odds(self, tokens: Iterable[str]) -> float:
        """Evidence from the most telling tokens (Robinson-style: strongest 30, each capped), in nats."""
        if self.n_promo == 0 or self.n_other == 0:
            return 0.0
        cache = self._scores
        scores = []
        for token in set(tokens):
            value = cache.get(token, 0.0)
            if value == 0.0 and token not in cache:
                value = cache[token] = self._score(token)
            if value is not None:
                scores.append(value)
        scores.sort(key=abs, reverse=True)
        return sum(scores[:_MOST_TELLING]) / math.sqrt(max(1, min(len(scores), _MOST_TELLING)))

    def _score(self, token: str) -> float | None:
        p = self.promo.get(token, 0)
        o = self.other.get(token, 0)
        if p + o < 2:
            return None
        rate_p = (p + 0.5) / (self.n_promo + 1)
        rate_o = (o + 0.5) / (self.n_other + 1)
        return max(-_PER_TOKEN_CAP, min(_PER_TOKEN_CAP, math.log(rate_p / rate_o)))

    def to_json(self) -> dict[str, Any]:
        return {"promo": self.promo, "other": self.other, "n_promo": self.n_promo, "n_other": self.n_other}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenModel:
        return cls(promo={str(k): int(v) for k, v in dict(data.get("promo", {})).items()},
                   other={str(k): int(v) for k, v in dict(data.get("other", {})).items()},
                   n_promo=int(data.get("n_promo", 0)), n_other=int(data.get("n_other", 0)))


@dataclass
class Memory:
    """Everything learned for one mailbox."""

    senders: dict[str, SenderMemory] = field(default_factory=dict)
    tokens: TokenModel = field(default_factory=TokenModel)

    def sender(self, key: str) -> SenderMemory | None:
        return self.senders.get(key)

    def rescued(self, sender: str, category: str, tokens: Iterable[str]) -> None:
        """The person moved a message of `category` from `sender` back to the inbox."""
        entry = self.senders.setdefault(sender, SenderMemory())
        entry.kept[category] = entry.kept.get(category, 0) + 1
        self.tokens.learn(tokens, promotional=False, weight=3)  # a correction outweighs a guess

    def promoted(self, sender: str, tokens: Iterable[str]) -> None:
        """The person moved a message from `sender` into Promotions."""
        entry = self.senders.setdefault(sender, SenderMemory())
        entry.promoted += 1
        entry.kept.pop("promotion", None)
        self.tokens.learn(tokens, promotional=True, weight=3)

    def to_json(self) -> dict[str, Any]:
        return {"senders": {k: v.to_json() for k, v in self.senders.items()}, "tokens": self.tokens.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Memory:
        senders = {str(k): SenderMemory.from_json(v) for k, v in dict(data.get("senders", {})).items()}
        return cls(senders=senders, tokens=TokenModel.from_json(dict(data.get("tokens", {}))))
