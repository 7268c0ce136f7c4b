"""From a classification to an action: keep in the inbox, or move to Promotions or Offers.

The person's mail settings and policies decide (`butler.policy.evaluate(PromoEmail(...))`): which categories
move, which senders are always kept, and which open intents keep an offer. Pure: the caller passes the intents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from butler.mail.classify import Classification
from butler.mail.folders import JUNK
from butler.mail.message import MailFacts
from butler.mail.settings import MailSettings
from butler.models import Intent, IntentStatus
from butler.policy import PolicySet, PromoEmail, Verdict, evaluate

__all__ = ["Action", "decide", "match_intent"]

_STOP = {"a", "an", "the", "for", "and", "or", "of", "to", "in", "on", "by", "with", "under", "over", "my", "new"}


@dataclass(frozen=True)
class Action:
    move_to: str | None  # None: stays in the inbox
    reasons: tuple[str, ...]
    matched_intent: str | None = None


def _sender_matches(sender: str, patterns: tuple[str, ...]) -> str | None:
    domain = sender.rpartition("@")[2]
    for pattern in patterns:
        p = pattern.strip().lower()
        if "@" in p and not p.startswith("@"):
            if p == sender:
                return pattern
        elif domain == p.lstrip("@") or domain.endswith("." + p.lstrip("@")):
            return pattern
    return None


def match_intent(facts: MailFacts, intents: list[Intent]) -> Intent | None:
    """The first open intent whose keywords (or, lacking those, description words) the message mentions."""
    content = f"{facts.subject} {facts.text[:5000]}".lower()
    for intent in intents:
        if intent.status is not IntentStatus.OPEN:
            continue
        words = [k.lower() for k in intent.keywords] or [
            w for w in re.findall(r"[a-zà-ÿ0-9-]{3,}", intent.description.lower()) if w not in _STOP][:3]
        if words and any(re.search(rf"\b{re.escape(w)}\b", content) for w in words):
            return intent
    return None


def _away(c: Classification, settings: MailSettings) -> str:
    """Where unwanted mail of this category goes: spam to the junk folder, the rest to Promotions."""
    if c.category.value == "spam":
        return settings.spam_folder or JUNK
    return settings.promotions_folder


def decide(c: Classification, facts: MailFacts, settings: MailSettings, policies: PolicySet | None = None,
           intents: list[Intent] | None = None) -> Action:
    """Where this message goes. Never deletes: the worst outcome is a move to a folder."""
    if c.kept_by_memory:
        return Action(None, ("you moved mail like this back to the inbox",))
    kept = _sender_matches(c.sender, settings.keep_senders)
    if kept:
        return Action(None, (f"you always keep mail from {kept}",))
    if c.category.value not in settings.move_categories:
        return Action(None, (f"{c.category} mail stays in the inbox",))
    intent = match_intent(facts, intents or []) if c.category.value == "promotion" else None
    reasons: list[str] = []
    if policies is not None and c.sender:
        decision = evaluate(PromoEmail(sender=c.sender, category=intent.category if intent else None,
                                       matched_intent=intent.id if intent else None), policies)
        if decision.reasons:
            reasons += [r.text for r in decision.fired or decision.reasons]
            if decision.verdict is Verdict.DENY:
                return Action(_away(c, settings), tuple(reasons))
            if decision.verdict is Verdict.ALLOW and not intent:
                return Action(None, tuple(reasons))
    if intent is not None:
        why = f"it matches what you are looking for: {intent.description}"
        if settings.offers == "folder":
            return Action(settings.offers_folder, (why, *reasons), intent.id)
        return Action(None, (why, *reasons), intent.id)
    return Action(_away(c, settings), (f"{c.category}: {c.reasons[0] if c.reasons else ''}", *reasons))
