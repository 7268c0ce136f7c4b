"""The policy engine: pure, no I/O. `evaluate(subject, policies, context)` → Decision with reasons.

Every rule in scope gives a verdict; the strongest wins (deny beats ask beats allow), so adding a rule can
never turn a refusal into a permission.
"""

from __future__ import annotations

from typing import Any

from butler.policy.constraints import check
from butler.policy.context import EvalContext
from butler.policy.decision import Decision, Reason, Verdict
from butler.policy.expr import UNKNOWN, normalise_name, normalise_names
from butler.policy.facts import foreign_names, subject_facts
from butler.policy.policyset import PolicySet
from butler.policy.rules import AppliesTo
from butler.policy.subjects import Subject

__all__ = ["evaluate", "in_scope"]


def in_scope(applies_to: AppliesTo, facts: dict[str, Any]) -> bool:
    """Whether a rule's `applies_to` covers the subject described by `facts` (empty lists cover all)."""
    if applies_to.subjects and facts.get("kind") not in applies_to.subjects:
        return False
    for key, wanted in (("category", applies_to.categories), ("vendor", applies_to.vendors)):
        if wanted:
            value = facts.get(key)
            if not isinstance(value, str) or normalise_name(value) not in normalise_names(wanted):
                return False
    return True


def _sentence(text: str, why: str) -> str:
    return f"{text[:1].upper()}{text[1:]}. Why: {why}"


def evaluate(subject: Subject, policies: PolicySet, context: EvalContext | None = None) -> Decision:
    """Judge an offer, vendor, MyTerms proposal, promotional email, unsubscribe action or renewal.

    Returns a Decision whose reasons cite every rule that had something to say, with its `file:line`.
    Facts the rules need but the subject lacks make the verdict `ask`, never a silent allow.
    """
    context = context or EvalContext()
    facts = subject_facts(subject, context)
    reasons: list[Reason] = []
    for placed in policies.rules:
        rule = placed.rule
        if not in_scope(rule.applies_to, facts):
            continue
        if rule.when is not None:
            applies, missing = rule.when.evaluate(facts)
            if applies is False:
                continue
            if applies is UNKNOWN and foreign_names(missing, facts):
                continue  # the condition is about another kind of subject
            if applies is UNKNOWN:
                text = f"cannot tell whether this rule applies ({rule.when}; unknown: {', '.join(missing) or '?'})"
                reasons.append(Reason(rule.id, placed.location, _sentence(text, rule.reason), Verdict.ASK))
                continue
        finding = check(rule, subject, context, facts)
        if finding is not None:
            reasons.append(Reason(rule.id, placed.location, _sentence(finding.text, rule.reason), finding.verdict))
    return Decision.of(reasons)
