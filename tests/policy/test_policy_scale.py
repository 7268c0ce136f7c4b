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


def test_every_problem_of_every_file_is_reported_with_its_place(tmp_path: Any, capsys: Any) -> None:
    from butler.cli import main

    (tmp_path / "a.toml").write_text(
        '[[rule]]\nid = "one"\nkind = "budget"\nmax_per_purchase = "lots"\nreason = "r"\n\n'
        '[[rule]]\nid = "two"\nkind = "contract-length"\nmax_months = -3\nreason = "r"\n\n'
        '[[rule]]\nid = "three"\nkind = "ban"\nvendors = ["x"]\ncolour = "red"\nreason = "r"\n')
    (tmp_path / "b.toml").write_text('[[rule]]\nid = "four"\nkind = "teleport"\nreason = "r"\n')
    assert main(["policy", "check", str(tmp_path)]) == 3
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    places = [line.split(": ")[1] for line in errors]
    assert places == [f"{tmp_path / 'a.toml'}:4:1", f"{tmp_path / 'a.toml'}:10:1", f"{tmp_path / 'a.toml'}:17:1",
                      f"{tmp_path / 'b.toml'}:3:1"], errors
    assert "(got 'lots') (got" not in errors[0]
    assert "colour" in errors[2] and "teleport" in errors[3]


def test_a_file_contradicting_itself_a_thousand_times_stops_early_in_bounded_memory(tmp_path: Any) -> None:
    import subprocess
    import sys

    rules = [f'[[rule]]\nid = "o{i}"\nkind = "origin"\n{"allow" if i % 2 else "deny"} = ["PT"]\nreason = "r"\n'
             for i in range(1000)]
    (tmp_path / "a.toml").write_text("\n".join(rules))  # 57 KB: 250,000 contradictions
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (768 * 2**20, 768 * 2**20))\n"
        "from butler.policy import load_policies\n"
        "from butler.policy.loader import PolicyErrors\n"
        "try:\n    load_policies(sys.argv[1])\n"
        "except PolicyErrors as exc:\n    print(len(exc.problems), exc.stopped)\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["50", "True"]


def test_too_many_rules_in_one_file_is_a_clear_error(tmp_path: Any) -> None:
    import pytest

    from butler.errors import ConfigError
    from butler.policy import load_policies
    from butler.policy.loader import MAX_RULES

    rules = "".join(f'[[rule]]\nid = "b{i}"\nkind = "ban"\nvendors = ["v{i}"]\nreason = "r"\n'
                    for i in range(MAX_RULES + 1))
    (tmp_path / "a.toml").write_text(rules)
    with pytest.raises(ConfigError, match=f"at most {MAX_RULES} are read"):
        load_policies(tmp_path)


def test_a_banned_brand_is_caught_in_what_the_offer_itself_states() -> None:
    from decimal import Decimal

    from butler.models import Money, Offer
    from butler.policy import PolicySet, Verdict, evaluate
    from butler.policy.policyset import PlacedRule
    from butler.policy.rules import BanRule

    ban = BanRule(id="no-zara", reason="fast fashion", kind="ban", brands=("Zara",), owners=("Inditex",))
    policies = PolicySet((PlacedRule(ban, "mine.toml:1"),), ())

    def offer(vendor: str, product: str, **attributes: Any) -> Offer:
        return Offer(id="o", vendor_id=vendor, product=product, category="clothing",
                     price=Money(amount=Decimal("20"), currency="EUR"), attributes=attributes)

    for banned in (offer("shopx", "Zara Slim Jeans"), offer("shopx", "Jeans", brand="ZARA"),
                   offer("shopx", "Jeans", brands=["Levi's", "zara"]), offer("zara", "Jeans"),
                   offer("shopx", "Jeans", owner="Inditex")):
        decision = evaluate(banned, policies)
        assert decision.verdict is Verdict.DENY, banned
        assert decision.fired[0].location == "mine.toml:1"
    for allowed in (offer("shopx", "Bazaar lamp"), offer("shopx", "Jeans", brand="Levi's", owner="Levi Strauss")):
        assert evaluate(allowed, policies).verdict is not Verdict.DENY, allowed


def test_explain_gives_a_clear_error_for_every_malformed_subject(tmp_path: Any, capsys: Any) -> None:
    from butler.cli import main

    packs = str(__import__("butler.policy.packs", fromlist=["pack_dir"]).pack_dir())
    offer = b'{"id":"o","vendor_id":"v","product":"p","category":"c",'
    bad = {"list.json": b"[]", "binary.json": b"\xff\xfe{}", "string.json": b'"offer"', "empty.json": b"",
           "nan.json": offer + b'"price":{"amount":"nan","currency":"EUR"}}',
           "huge.json": offer + b'"price":{"amount":"1e999999","currency":"EUR"}}',
           "kind.json": b'{"kind": 5}', "renewal.json": b'{"kind":"renewal","vendor_id":7}',
           "when.json": offer + b'"price":{"amount":"1","currency":"EUR"},"expires_at":"soon"}'}
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        code = main(["policy", "explain", str(tmp_path / name), "--policies", packs])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error: ") and "Traceback" not in err, (name, err)
        assert name in err, (name, err)
