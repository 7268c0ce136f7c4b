"""Ethical-purchase and preference policies: files a person writes, an engine that judges by them.

    load_policies(paths)                    -- TOML files → PolicySet (ConfigError names file:line:column)
    evaluate(subject, policies, context)    -- pure: → Decision(verdict allow|ask|deny, reasons citing rules)
    utility_for(policies, category, budget) -- soft preferences → outcome dict → float in [0, 1]
    offer_utility(offer, policies)          -- the same, for one Offer
"""

from __future__ import annotations

from butler.policy.context import EvalContext
from butler.policy.decision import Decision, Reason, Verdict
from butler.policy.engine import evaluate
from butler.policy.expr import Expression, ExpressionError
from butler.policy.loader import load_home_policies, load_policies, policy_files
from butler.policy.policyset import PlacedPreference, PlacedRule, PolicySet
from butler.policy.rules import RULE_KINDS, PolicyFile, Preference, Rule
from butler.policy.subjects import AgreementProposal, PromoEmail, Renewal, Subject, UnsubscribeAction
from butler.policy.utility import offer_utility, utility_for

__all__ = [
    "RULE_KINDS",
    "AgreementProposal",
    "Decision",
    "EvalContext",
    "Expression",
    "ExpressionError",
    "PlacedPreference",
    "PlacedRule",
    "PolicyFile",
    "PolicySet",
    "Preference",
    "PromoEmail",
    "Reason",
    "Renewal",
    "Rule",
    "Subject",
    "UnsubscribeAction",
    "Verdict",
    "evaluate",
    "load_home_policies",
    "load_policies",
    "offer_utility",
    "policy_files",
    "utility_for",
]
