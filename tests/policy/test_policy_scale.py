"""Consistency checks find the same contradictions as comparing every pair of rules, with work that grows with
the rules and the contradictions, not with the square of the rules."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from butler.policy import consistency
from butler.policy.consistency import find_problems
from butler.policy.rules import PolicyFile

VENDORS = ["acme", "beta", "gamma"]
COUNTRIES = ["PT", "FR", "CN"]
CATEGORIES = ["energy", "shop"]
AGREEMENTS = ["SD-BASE", "SD-BASE-A", "SD-BASE-AT"]
USES = ["none", "service", "analytics-first-party", "profiling-first-party"]


def _rule(n: int, kind: str, draw: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": f"r{n}", "kind": kind, "reason": "test"}
    if draw(st.booleans()):
        rule["applies_to"] = {"categories": draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True))}
    if kind in ("ban", "only-vendors"):
        rule["vendors"] = draw(st.lists(st.sampled_from(VENDORS), min_size=1, unique=True))
    elif kind == "origin":
        rule["allow"] = draw(st.lists(st.sampled_from(COUNTRIES), unique=True))
        rule["deny"] = draw(st.lists(st.sampled_from(COUNTRIES), min_size=0 if rule["allow"] else 1, unique=True))
    elif kind == "contract-length":
        if draw(st.booleans()):
            rule["min_months"] = draw(st.integers(0, 36))
        if "min_months" not in rule or draw(st.booleans()):
            rule["max_months"] = draw(st.integers(0, 36))
    elif kind == "myterms":
        rule["agreements"] = draw(st.lists(st.sampled_from(AGREEMENTS), min_size=1, unique=True))
    elif kind == "data-use":
        rule["max"] = draw(st.sampled_from(USES))
    return rule


@st.composite
def rule_sets(draw: Any) -> list[PolicyFile]:
    kinds = ["ban", "only-vendors", "origin", "contract-length", "myterms", "data-use"]
    files = []
    n = 0
    for _ in range(draw(st.integers(1, 3))):
        rules = []
        for _ in range(draw(st.integers(0, 8))):
            rules.append(_rule(n, draw(st.sampled_from(kinds)), draw))
            n += 1
        files.append(PolicyFile.model_validate({"rule": rules}))
    return files


class _EveryEarlierRule(consistency._Index):
    """The reference: every earlier rule is a candidate (what comparing every pair does)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def add(self, n: int, rule: Any) -> None:
        self.seen = n + 1

    def candidates(self, rule: Any) -> set[int]:
        return set(range(self.seen))


@settings(max_examples=300, deadline=None)
@given(rule_sets())
def test_the_index_finds_exactly_what_comparing_every_pair_finds(files: list[PolicyFile]) -> None:
    found = find_problems(files)
    original = consistency._Index
    consistency._Index = _EveryEarlierRule  # type: ignore[misc]
    try:
        expected = find_problems(files)
    finally:
        consistency._Index = original  # type: ignore[misc]
    assert found == expected


def test_four_thousand_rules_are_checked_without_comparing_every_pair(monkeypatch: Any) -> None:
    calls = 0
    real = consistency._pair_problem

    def counting(a: Any, b: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(a, b)

    monkeypatch.setattr(consistency, "_pair_problem", counting)
    rules = []
    for i in range(4000):
        kind = ("ban", "origin", "contract-length", "budget")[i % 4]
        extra = {"ban": {"vendors": [f"v{i}"]}, "origin": {"deny": [f"C{i % 50:02d}"]},
                 "contract-length": {"max_months": 12 + i % 24}, "budget": {"max_per_purchase": f"{100 + i} EUR"}}
        rules.append({"id": f"r{i}", "kind": kind, "reason": "test", **extra[kind]})
    problems = find_problems([PolicyFile.model_validate({"rule": rules})])
    assert problems == []
    assert calls == 0  # nothing could contradict, so no pair was compared (every pair: 7,998,000)
