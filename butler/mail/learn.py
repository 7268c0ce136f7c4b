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
_RETIRED = ("subj:", "link:")  # token kinds older versions learned (subject words twice, link domains)


_SAME_TEMPLATE = 0.5  # share of words two messages have in common (Jaccard) to count as one template
_TEMPLATE_WORDS = 300  # words remembered per rescued message


@dataclass
class SenderMemory:
    """Corrections for one sender. `kept` counts rescues by category; `promoted` counts moves into Promotions.

    `kinds` says which mail of a category the rescues were about: per category, for each message moved back,
    its kind (the names of the signal groups that tell a receipt, a notice, a person or a list apart from
    marketing, see `butler.mail.classify.kind_of`) and some of its words. A new message of that category stays
    when it is of the same kind (its kind shares a group with a rescued one) or from the same template (half its
    words in common with a rescued one). So rescuing a receipt from hello@brand keeps hello@brand's receipts,
    not its promotions. Rescuing mail that has no kind (it reads as plain marketing) keeps all of the sender's
    mail of that category, as does a category counted in `kept` without kinds (older state,
    `butler mail undo --sender`).
    """

    kept: dict[str, int] = field(default_factory=dict)
    promoted: int = 0
    kinds: dict[str, list[dict[str, list[str]]]] = field(default_factory=dict)

    def keep(self, category: str, kind: Iterable[str] | None = None, words: Iterable[str] = ()) -> None:
        """Remember a rescue of `category` mail of this `kind` with these words; kind None keeps the whole
        category."""
        self.kept[category] = self.kept.get(category, 0) + 1
        if kind is None:
            self.kinds.pop(category, None)  # the whole category, as before kinds were kept
        elif self.kept[category] == 1 or category in self.kinds:
            self.kinds.setdefault(category, []).append(
                {"kind": sorted(set(kind)), "words": sorted(set(words))[:_TEMPLATE_WORDS]})

    def keeps(self, category: str, kind: frozenset[str], words: frozenset[str] = frozenset()) -> bool:
        """Whether mail of `category`, `kind` and `words` from this sender stays because the person rescued
        such mail."""
        if not self.kept.get(category):
            return False
        kinds = self.kinds.get(category)
        if kinds is None:
            return True
        for known in kinds:
            if not known["kind"] or not kind.isdisjoint(known["kind"]):  # plain marketing rescued: all of it
                return True
            remembered = known["words"]
            if remembered and words:
                common = len(words.intersection(remembered))
                if common >= _SAME_TEMPLATE * (len(words) + len(remembered) - common):
                    return True
        return False

    def to_json(self) -> dict[str, Any]:
        return {"kept": dict(self.kept), "promoted": self.promoted, "kinds": self.kinds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SenderMemory:
        kept = {str(k): int(v) for k, v in dict(data.get("kept", {})).items()}
        kinds = {str(category): [{"kind": [str(n) for n in entry.get("kind", [])],
                                  "words": [str(w) for w in entry.get("words", [])]} for entry in entries]
                 for category, entries in dict(data.get("kinds", {})).items()}
        return cls(kept=kept, promoted=int(data.get("promoted", 0)), kinds=kinds)


@dataclass
class TokenModel:
    """Token counts in promotional and other mail; `log_odds` is > 0 for mail that looks promotional."""

    promo: dict[str, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)
    n_promo: int = 0
    n_other: int = 0
    _table: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _ranked: list[float] = field(default_factory=list, repr=False, compare=False)

    def learn(self, tokens: Iterable[str], promotional: bool, weight: int = 1) -> None:
        counts = self.promo if promotional else self.other
        for token in {t for t in tokens if 2 < len(t) < 21 or ":" in t}:  # very short and long words tell little
            counts[token] = counts.get(token, 0) + weight
        self._table = None  # the counts changed: the score table is stale
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

    @property
    def reach(self) -> float:
        """The most `log_odds` can say either way: every one of the strongest tokens at the cap."""
        return _PER_TOKEN_CAP * math.sqrt(_MOST_TELLING)

    def log_odds(self, *token_groups: Iterable[str]) -> float:
        """Evidence from the most telling tokens (Robinson-style: strongest 30, each capped), in nats.

        Tokens may come in several groups (say, a message's word set and a few extra tokens), so the caller need
        not build their union. The groups must not share a token (words never hold a ':', extra tokens always do).
        """
        if self.n_promo == 0 or self.n_other == 0:
            return 0.0
        if self._table is None:
            self._table, self._ranked = self._scores()
        get, ranked = self._table.get, self._ranked
        # the table maps a token to 1 + its rank by strength, so unknown tokens (None) and known ones are told apart
        # by `filter(None, …)` in C, and sorting small ints is cheaper than sorting by abs()
        ranks = [rank for group in token_groups for rank in filter(None, map(get, group))]
        if not ranks:
            return 0.0
        if len(ranks) > _MOST_TELLING:
            ranks = sorted(ranks)[:_MOST_TELLING]
        return sum(map(ranked.__getitem__, ranks)) / math.sqrt(len(ranks))

    def _scores(self) -> tuple[dict[str, int], list[float]]:
        """Tokens seen at least twice → 1 + their rank by strength, and the capped log-likelihood ratio by 1 + rank
        (index 0 is unused).

        Equal strengths with opposite signs need an exact float tie, so the order of equals never changes a sum.
        """
        promo, other = self.promo, self.other
        oget = other.get
        top = max(max(promo.values(), default=0), max(other.values(), default=0))
        log_count = [math.log(n + 0.5) for n in range(top + 1)]  # counts are small ints: look logs up
        shift = math.log(self.n_other + 1) - math.log(self.n_promo + 1)
        cap = _PER_TOKEN_CAP
        names: list[str] = []
        values: list[float] = []
        # each token once: those seen in promotions, then those seen only in other mail
        counted = [(token, p, oget(token, 0)) for token, p in promo.items()]
        counted += [(token, 0, o) for token, o in other.items() if o >= 2 and token not in promo]
        for token, p, o in counted:
            if p + o < 2:
                continue
            score = log_count[p] - log_count[o] + shift
            names.append(token)
            values.append(score if -cap < score < cap else cap if score > 0 else -cap)
        order = sorted(range(len(values)), key=[-abs(v) for v in values].__getitem__)
        return {names[i]: rank for rank, i in enumerate(order, 1)}, [0.0] + [values[i] for i in order]

    def to_json(self) -> dict[str, Any]:
        return {"promo": self.promo, "other": self.other, "n_promo": self.n_promo, "n_other": self.n_other}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenModel:
        """A saved model; counts of tokens the classifier no longer makes (`_RETIRED`) are dropped."""
        def counts(key: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in dict(data.get(key, {})).items() if not str(k).startswith(_RETIRED)}

        return cls(promo=counts("promo"), other=counts("other"),
                   n_promo=int(data.get("n_promo", 0)), n_other=int(data.get("n_other", 0)))


@dataclass
class Memory:
    """Everything learned for one mailbox."""

    senders: dict[str, SenderMemory] = field(default_factory=dict)
    tokens: TokenModel = field(default_factory=TokenModel)

    def sender(self, key: str) -> SenderMemory | None:
        return self.senders.get(key)

    def rescued(self, sender: str, category: str, tokens: Iterable[str], kind: Iterable[str] | None = None,
                words: Iterable[str] = ()) -> None:
        """The person moved a message of `category` from `sender` back to the inbox: keep that sender's mail of
        this `kind` (None: any kind) or with these `words` (see `SenderMemory`)."""
        self.senders.setdefault(sender, SenderMemory()).keep(category, kind, words)
        self.tokens.learn(tokens, promotional=False, weight=3)  # a correction outweighs a guess

    def promoted(self, sender: str, tokens: Iterable[str]) -> None:
        """The person moved a message from `sender` into Promotions."""
        entry = self.senders.setdefault(sender, SenderMemory())
        entry.promoted += 1
        entry.kept.pop("promotion", None)
        entry.kinds.pop("promotion", None)
        self.tokens.learn(tokens, promotional=True, weight=3)

    def to_json(self) -> dict[str, Any]:
        return {"senders": {k: v.to_json() for k, v in self.senders.items()}, "tokens": self.tokens.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Memory:
        senders = {str(k): SenderMemory.from_json(v) for k, v in dict(data.get("senders", {})).items()}
        return cls(senders=senders, tokens=TokenModel.from_json(dict(data.get("tokens", {}))))
