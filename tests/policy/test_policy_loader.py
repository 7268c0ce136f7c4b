"""Malformed policy files: every error is a ConfigError naming file:line:column and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from butler.errors import ConfigError
from butler.policy import PolicySet, load_policies
from butler.policy.loader import MAX_FILE_BYTES, MAX_NESTING

GOOD = """\
[pack]
name = "Good"

[[rule]]
id = "ban-acme"
kind = "ban"
vendors = ["acme"]
reason = "No."

[[preference]]
id = "cheap"
attribute = "price"
weight = 2
reason = "Cheap."
"""

Loader = Callable[..., PolicySet]


def error_of(load_text: Loader, text: str, name: str = "bad.toml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_text(text, name)
    return info.value


def test_good_file_loads_with_locations(load_text: Loader) -> None:
    policies = load_text(GOOD, "good.toml")
    assert [p.rule.id for p in policies.rules] == ["ban-acme"]
    assert policies.rules[0].location.endswith("good.toml:4")
    assert policies.preferences[0].location.endswith("good.toml:10")
    assert policies.rule_ids == {"ban-acme", "cheap"}


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        # TOML syntax
        ('[[rule]]\nid = "x\nkind = "ban"\n', 2, 8, ["not valid TOML"]),
        ("[[rule]]\nid == 1\n", 2, 5, ["not valid TOML"]),
        # unknown field, with the allowed ones listed
        ('[[rule]]\nid = "x"\nkind = "ban"\nvendrs = ["a"]\nreason = "r"\n', 4, 1,
         ["vendrs", "unknown field", "allowed", "vendors"]),
        ('[[rules]]\nid = "x"\n', 1, 1, ["rules", "unknown field", "allowed: pack, rule, preference"]),
        ('[pack]\nname = "n"\ncolour = "red"\n', 3, 1, ["colour", "unknown field", "description"]),
        ('[[rule]]\nid = "x"\nkind = "ban"\nvendors = ["a"]\nreason = "r"\n'
         '[rule.applies_to]\ncategory = ["food"]\n', 7, 1, ["applies_to.category", "categories"]),
        # wrong types
        ('[[rule]]\nid = "x"\nkind = "contract-length"\n  max_months = "twelve"\nreason = "r"\n', 4, 3,
         ["max_months", "integer", "twelve"]),
        ('[[rule]]\nid = "x"\nkind = "ban"\nvendors = "acme"\nreason = "r"\n', 4, 1, ["vendors", "tuple"]),
        ('[[rule]]\nid = "x"\nkind = "ban"\nvendors = ["a", 3]\nreason = "r"\n', 4, 1, ["vendors[1]"]),
        ('[[rule]]\nid = "x"\nkind = "budget"\nmax_per_purchase = "50"\nreason = "r"\n', 4, 1,
         ["max_per_purchase", "120 EUR"]),
        ('[[rule]]\nid = "x"\nkind = "budget"\nmax_per_purchase = 50.5\nreason = "r"\n', 4, 1,
         ["max_per_purchase", "currency"]),
        ('[[rule]]\nid = "x"\nkind = "data-use"\nmax = "everything"\nreason = "r"\n', 4, 1, ["max"]),
        ('[[rule]]\nid = "x"\nkind = "myterms"\nagreements = ["SD-BASE", "SD-BAS"]\nreason = "r"\n', 4, 1,
         ["agreements[1]", "SD-BAS", "not a MyTerms agreement"]),
        ('[[rule]]\nid = "has space"\nkind = "no-auto-renewal"\nreason = "r"\n', 2, 1, ["id"]),
        # unknown or missing kind, missing fields
        ('[[rule]]\nid = "x"\nkind = "bann"\nreason = "r"\n', 3, 1, ["unknown rule kind", "bann", "budget"]),
        ('[[rule]]\nid = "x"\nreason = "r"\n', 1, 1, ["needs a kind"]),
        ('[[rule]]\nid = "x"\nkind = "ban"\nvendors = ["a"]\n', 1, 1, ["reason", "required but missing"]),
        # conditions: the column points inside the condition
        ("[[rule]]\nid = \"x\"\nkind = \"condition\"\nrequire = 'rating >> 4'\nreason = \"r\"\n", 4, 20,
         ["require", "expected a value"]),
        ("[[rule]]\nid = \"x\"\nkind = \"condition\"\nrequire = '''\nrating >= 4 and\n  (x == 1\n'''\n"
         "reason = \"r\"\n", 7, 1, ["require", "expected ')'"]),
        ('[[rule]]\nid = "x"\nkind = "no-auto-renewal"\nwhen = "category = 1"\nreason = "r"\n', 4, 18,
         ["when", "unexpected character '='"]),
        # one rule that contradicts itself or says nothing
        ('[[rule]]\nid = "x"\nkind = "contract-length"\nmin_months = 12\nmax_months = 6\nreason = "r"\n', 5, 1,
         ["max_months", "less than min_months"]),
        ('[[rule]]\nid = "x"\nkind = "origin"\nallow = ["PT"]\ndeny = ["pt"]\nreason = "r"\n', 5, 1,
         ["PT", "both allowed and denied"]),
        ('[[rule]]\nid = "x"\nkind = "ban"\nreason = "r"\n', 1, 1, ["needs at least one"]),
        ('[[rule]]\nid = "x"\nkind = "budget"\nreason = "r"\n', 1, 1, ["max_per_purchase or max_per_month"]),
        ('[[preference]]\nid = "p"\nattribute = "rating"\nmin = 5\nmax = 1\nreason = "r"\n', 5, 1,
         ["max", "greater than min"]),
        ('[[preference]]\nid = "p"\nattribute = "battery"\nreason = "r"\n', 3, 1,
         ["battery", "min, max and prefer"]),
        ('[[preference]]\nid = "p"\nattribute = "extras"\nreason = "r"\n', 1, 1, ["wanted"]),
        # duplicate ids
        ('[[rule]]\nid = "x"\nkind = "no-auto-renewal"\nreason = "r"\n\n'
         '[[rule]]\nid = "x"\nkind = "no-auto-renewal"\nreason = "r"\n', 7, 1, ["already used"]),
        # two rules that contradict each other
        ('[[rule]]\nid = "a"\nkind = "ban"\nvendors = ["acme"]\nreason = "r"\n\n'
         '[[rule]]\nid = "b"\nkind = "only-vendors"\nvendors = ["Acme", "beta"]\nreason = "r"\n', 10, 1,
         ["acme", "both banned", "'a'"]),
        ('[[rule]]\nid = "a"\nkind = "myterms"\nagreements = ["SD-BASE-ATP"]\nreason = "r"\n\n'
         '[[rule]]\nid = "b"\nkind = "data-use"\nmax = "service"\nreason = "r"\n', 10, 1,
         ["no agreement could pass"]),
        ('[[rule]]\nid = "a"\nkind = "contract-length"\nmin_months = 12\nreason = "r"\n\n'
         '[[rule]]\nid = "b"\nkind = "contract-length"\nmax_months = 6\nreason = "r"\n', 10, 1,
         ["max_months", "no contract could pass"]),
        # nesting
        ('[[rule]]\nid = "x"\nkind = "ban"\nvendors = ' + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
         + '\nreason = "r"\n', 4, 11 + MAX_NESTING, ["nested"]),
        ("[" + ".".join(["a"] * (MAX_NESTING + 2)) + "]\nx = 1\n", 2, 1, ["nested"]),
    ],
)
def test_malformed(load_text: Loader, text: str, line: int, column: int, words: list[str]) -> None:
    error = error_of(load_text, text)
    assert error.location is not None
    assert error.location.endswith(f"bad.toml:{line}:{column}"), (error.location, error.message)
    for word in words:
        assert word in error.message, (word, error.message)
    assert error.hint


def test_scoped_rules_do_not_contradict(load_text: Loader) -> None:
    text = (
        '[[rule]]\nid = "a"\nkind = "ban"\nvendors = ["acme"]\napplies_to = { categories = ["food"] }\n'
        'reason = "r"\n\n[[rule]]\nid = "b"\nkind = "only-vendors"\nvendors = ["acme"]\n'
        'applies_to = { categories = ["tools"] }\nreason = "r"\n'
    )
    assert len(load_text(text).rules) == 2


def test_rule_with_subtable_applies_to(load_text: Loader) -> None:
    text = '[[rule]]\nid = "a"\nkind = "no-auto-renewal"\nreason = "r"\n[rule.applies_to]\ncategories = ["x"]\n'
    assert load_text(text).rules[0].rule.applies_to.categories == ("x",)


def test_contradiction_across_files_is_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(
        '# required vendors\n[[rule]]\nid = "only"\nkind = "only-vendors"\nvendors = ["acme"]\nreason = "r"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path)
    assert info.value.location == f"{tmp_path / 'b.toml'}:5:1"
    assert "ban-acme" in info.value.message
    assert len(load_policies(tmp_path / "a.toml").rules) == 1


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD)
    with pytest.raises(ConfigError, match=r"already used .* in another file") as info:
        load_policies([tmp_path / "a.toml", tmp_path / "b.toml"])
    assert str(info.value.location).endswith("b.toml:5:1")


def test_one_bad_file_loads_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "z.toml").write_text('[[rule]]\nid = 1\nkind = "no-auto-renewal"\nreason = "r"\n')
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path)
    assert str(info.value.location).endswith("z.toml:2:1")


def test_ten_megabyte_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text("# padding\n" * 1_000_000)
    assert path.stat().st_size > 10 * MAX_FILE_BYTES - 1
    with pytest.raises(ConfigError, match="at most") as info:
        load_policies(path)
    assert info.value.location == f"{path}:1:1"


def test_deep_nesting_that_would_crash_the_parser(load_text: Loader) -> None:
    error = error_of(load_text, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nested" in error.message
    assert str(error.location).endswith("bad.toml:1:13")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[pack]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="UTF-8") as info:
        load_policies(path)
    assert info.value.location == f"{path}:2:12"


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such policy file"):
        load_policies(tmp_path / "nope.toml")


def test_directory_ignores_other_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# not toml")
    (tmp_path / "a.toml").write_text(GOOD)
    assert load_policies(tmp_path).files == (str(tmp_path / "a.toml"),)
    assert load_policies([]).rules == ()
