"""The promotion classifier: a pure function of raw message bytes plus what was learned about the sender.

    classify(raw, memory) → Classification(category, score, evidence, reasons, …)

Order of judgement: a spam flag upstream; discussion lists (never promotions); transactional mail (receipts,
resets, notices — even from a marketing domain); then the promotional evidence (bulk sending + selling or asking
for money or action + the learned model) decides promotion, spam or newsletter; everything else is personal.
Spam needs signs of deception or of unsolicited sending: from a bulk sender whose domain vouches for it (DKIM,
DMARC, its own unsubscribe address, a public body), junk words alone do not make spam. The person's corrections
for the sender come last and win.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from butler.mail.learn import Memory
from butler.mail.message import MailFacts, read_facts, sender_key
from butler.mail.provenance import CONTENT_SPAM, DECEPTION
from butler.mail.signals import GROUPS, Signal, extra_tokens, read_signals, tokens

__all__ = ["Category", "Classification", "classify", "classify_facts", "kind_of"]

PROMO_THRESHOLD = 3.0  # evidence above which selling mail moves; chosen on the train split (bench threshold curve)
LEARNED_WEIGHT = 1.0
LIST_OVERRIDE = 10.0  # only overwhelming evidence makes a list message that reads like discussion spam
_DISCUSSION = frozenset({"reply", "reply-subject", "quoted-text", "plain-text", "mail-client"})
_KIND_GROUPS = frozenset({"transactional", "personal", "list"})
_STRONG_OFFER = frozenset({"a-percentage-discount", "a-discount-code", "schema-offer"})


class Category(StrEnum):
    PROMOTION = "promotion"
    NEWSLETTER = "newsletter"
    TRANSACTIONAL = "transactional"
    PERSONAL = "personal"
    LIST = "list"
    SPAM = "spam"


@dataclass(frozen=True)
class Classification:
    """A verdict on one message. `score` is the confidence in `category`, 0–1; `evidence` the promotion points."""

    category: Category
    score: float
    evidence: float
    sender: str
    signals: tuple[Signal, ...]
    reasons: tuple[str, ...]
    learned: float = 0.0
    kept_by_memory: bool = False
    facts: MailFacts | None = field(repr=False, compare=False, default=None)

    @cached_property
    def tokens(self) -> frozenset[str]:
        """The message's tokens for the learned model, computed when first asked for (a correction, training)."""
        return tokens(self.facts, list(self.signals)) if self.facts is not None else frozenset()

    @property
    def kind(self) -> frozenset[str]:
        """What kind of mail this is beyond its category (see `kind_of`): what a correction remembers."""
        return kind_of(self.signals)

    def explain(self) -> str:
        lines = [f"{self.category} (confidence {self.score:.2f}, promotion evidence {self.evidence:+.1f})"]
        lines += [f"  - {reason}" for reason in self.reasons]
        by_group: dict[str, list[Signal]] = {}
        for sig in self.signals:
            by_group.setdefault(sig.group, []).append(sig)
        for group, sigs in by_group.items():
            lines.append(f"  {group}: " + "; ".join(f"{s.note} ({s.weight:+.1f})" for s in sigs))
        if self.learned:
            lines.append(f"  learned from your corrections: {self.learned:+.1f}")
        return "\n".join(lines)


def kind_of(signals: Iterable[Signal]) -> frozenset[str]:
    """The kind of a message: the names of its signals that tell a receipt, a notice, a person writing or a list
    apart from marketing (subject and body signals alike). Bulk and selling signals are left out: a brand's
    receipts and promotions share those. Empty for plain marketing."""
    return frozenset(s.group for s in signals if s.group in _KIND_GROUPS)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def classify(raw: bytes, memory: Memory | None = None) -> Classification:
    """Classify one raw message; never raises, whatever the bytes."""
    return classify_facts(read_facts(raw), memory)


def classify_facts(facts: MailFacts, memory: Memory | None = None, *,
                   threshold: float = PROMO_THRESHOLD) -> Classification:
    """Classify read facts. `threshold` is the promotion evidence needed; the default was calibrated on the
    benchmark's train split (see docs/mail.md)."""
    signals = read_signals(facts)
    g = dict.fromkeys(GROUPS, 0.0)
    for sig in signals:
        g[sig.group] += sig.weight
    names = {sig.name for sig in signals}
    if _vouched_bulk(g, names):  # a known sender's wording is not evidence of spam
        g["spam"] -= sum(s.weight for s in signals if s.name in CONTENT_SPAM)
    learned = 0.0
    # asking for money or action counts as selling does (Gmail's Promotions); editorial content (articles, an issue,
    # news) argues against a promotion as a receipt does
    rules = (g["bulk"] + g["offer"] + g["ask"] + 0.8 * g["spam"] - g["personal"] - 0.5 * g["transactional"]
             - g["editorial"])
    if memory is not None and memory.tokens.trained:
        confidence = min(1.0, memory.tokens.trained / 20)  # a handful of corrections nudges, many decide
        reach = LEARNED_WEIGHT * confidence * memory.tokens.reach
        if not _settled(g, rules, reach, signals, names, threshold):
            learned = LEARNED_WEIGHT * confidence * memory.tokens.log_odds(facts.words, extra_tokens(facts, signals))
    evidence = rules + learned
    reasons: list[str] = []
    category, score = _judge(g, evidence, learned, signals, names, reasons, threshold)
    sender = sender_key(facts.sender)
    kept = False
    remembered = memory.sender(sender) if memory is not None and sender else None
    if remembered is not None:
        if remembered.promoted and category in (Category.NEWSLETTER, Category.PERSONAL):
            category, score = Category.PROMOTION, 0.9
            reasons.append(f"you moved mail from {sender} into Promotions before")
        if remembered.keeps(category.value, kind_of(signals), facts.words):
            kept = True
            reasons.append(f"you moved {category} mail like this from {sender} back to the inbox before: it stays")
    return Classification(category, round(score, 3), round(evidence, 2), sender, tuple(signals), tuple(reasons),
                          round(learned, 2), kept, facts)


def _vouched_bulk(g: dict[str, float], names: set[str]) -> bool:
    """Bulk mail whose sender's domain vouches for it, with no sign of deception."""
    return g["bulk"] >= 1.0 and g["trust"] >= 1.0 and names.isdisjoint(DECEPTION)


def _settled(g: dict[str, float], rules: float, reach: float, signals: list[Signal], names: set[str],
             threshold: float) -> bool:
    """Whether the verdict and its confidence are the same whatever the token model says, its answer being at most
    `reach` either way: an upstream spam flag, a discussion list, or a receipt or notice. The model is then not
    consulted (it costs as much as the rules)."""
    if "spam-flag" in names:
        return True
    if _through_list(g, names):
        return _list_mail_stays(g, names, rules + reach, threshold)
    return _transactional_wins(g, signals)


def _through_list(g: dict[str, float], names: set[str]) -> bool:
    """Whether it came through a list, and not from a seller offering one-click unsubscribes."""
    one_click_seller = "one-click-unsubscribe" in names and g["offer"] + g["ask"] >= 5
    return g["list"] >= 3 and not one_click_seller


def _list_mail_stays(g: dict[str, float], names: set[str], evidence: float, threshold: float) -> bool:
    """A list message that reads like discussion (a reply, quoted text, plain text from a person) stays list mail;
    one that merely passed a list is judged on its evidence like any other, and selling there makes it spam."""
    discussion = bool(names & _DISCUSSION) and "html-only" not in names and "random-sender" not in names
    return evidence < LIST_OVERRIDE if discussion else evidence < threshold or g["offer"] + g["spam"] < 3


def _transactional_wins(g: dict[str, float], signals: list[Signal]) -> bool:
    """The subject says receipt/reset/notice (it stays even with an upsell in the footer), or the text does and
    sells little."""
    strong_offer = any(s.name in _STRONG_OFFER for s in signals)
    subject_trans = any(s.name.startswith("subject:") for s in signals)
    return (subject_trans and (not strong_offer or g["transactional"] >= g["offer"] - 3)) or (
        g["transactional"] >= 2 and g["offer"] < max(3.0, g["transactional"] + 1))


def _judge(g: dict[str, float], evidence: float, learned: float, signals: list[Signal], names: set[str],
           reasons: list[str], threshold: float) -> tuple[Category, float]:
    if "spam-flag" in names:
        reasons.append("a spam filter upstream flagged it")
        return Category.SPAM, 0.95
    if _through_list(g, names) and _list_mail_stays(g, names, evidence, threshold):
        reasons.append("it comes through a discussion list, which is not a promotion")
        return Category.LIST, _sigmoid(g["list"] - 1)
    if _transactional_wins(g, signals):
        reasons.append("it is a receipt, delivery, security or account message, which stays")
        return Category.TRANSACTIONAL, _sigmoid(g["transactional"])
    bulk_infra = g["bulk"] >= 1.0
    selling = g["offer"] + g["ask"] + max(0.0, learned) + g["spam"] - g["editorial"]
    if evidence >= threshold and selling >= 2:
        # spam needs evidence of spam (junk vocabulary, missing headers, a machine-made sender, an unsubscribe
        # footer without a bulk sender's headers), not merely an ESP we do not know by name
        if bulk_infra and g["spam"] < 2 and g["list"] < 3:
            asks = g["ask"] > g["offer"]
            reasons.append("it is sent in bulk and it asks for money or action" if asks
                           else "it is sent in bulk and it sells something")
            return Category.PROMOTION, _sigmoid(evidence - threshold + 1)
        reasons.append("it sells something without the headers of a legitimate bulk sender")
        return Category.SPAM, _sigmoid(evidence - threshold + 1)
    if g["bulk"] >= 2 or (bulk_infra and g["personal"] < 1):
        reasons.append("it is sent in bulk but sells and asks little: a newsletter or alert")
        return Category.NEWSLETTER, _sigmoid(g["bulk"] - g["offer"])
    reasons.append("no sign of bulk sending or selling")
    return Category.PERSONAL, _sigmoid(threshold - evidence)
