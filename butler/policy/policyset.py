"""A loaded set of policies: every rule and preference with the `file:line` it came from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from butler.policy.rules import Preference, Rule

__all__ = ["PlacedPreference", "PlacedRule", "PolicySet"]


@dataclass(frozen=True)
class PlacedRule:
    """A rule and where it was written (`file:line`), so explanations can point at it."""

    rule: Rule
    location: str


@dataclass(frozen=True)
class PlacedPreference:
    preference: Preference
    location: str


@dataclass(frozen=True)
class PolicySet:
    """Rules and preferences from one or more files, loaded all-or-nothing by `load_policies`."""

    rules: tuple[PlacedRule, ...] = ()
    preferences: tuple[PlacedPreference, ...] = ()
    files: tuple[str, ...] = field(default=())

    @classmethod
    def of(
        cls, rules: Iterable[Rule] = (), preferences: Iterable[Preference] = (), source: str = "<memory>"
    ) -> PolicySet:
        """Build a set in code (tests, other modules); locations are `source:#n`."""
        return cls(
            rules=tuple(PlacedRule(r, f"{source}:#{i + 1}") for i, r in enumerate(rules)),
            preferences=tuple(PlacedPreference(p, f"{source}:#{i + 1}") for i, p in enumerate(preferences)),
            files=(source,),
        )

    def __add__(self, other: PolicySet) -> PolicySet:
        return PolicySet(self.rules + other.rules, self.preferences + other.preferences, self.files + other.files)

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(p.rule.id for p in self.rules) | frozenset(p.preference.id for p in self.preferences)

    def rule(self, rule_id: str) -> PlacedRule | None:
        return next((p for p in self.rules if p.rule.id == rule_id), None)
