from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from butler.policy.expr import MAX_DEPTH, MAX_LENGTH, UNKNOWN, ExpressionError, parse

FACTS: dict[str, Any] = {
    "category": "Clothing",
    "certifications": ["Fair Wear", "GOTS"],
    "rating": Decimal("4.5"),
    "term_months": 12,
    "auto_renew": False,
    "attributes": {"brand": "Acme"},
    "nothing": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('category == "clothing"', True),
        ('category != "clothing"', False),
        ('"fair-wear" in certifications', True),
        ('"fairtrade" in certifications', False),
        ('"fairtrade" not in certifications', True),
        ('"fairtrade" in certifications or rating >= 4', True),
        ("rating > 4.5", False),
        ("rating >= 4.5", True),
        ("term_months <= 12 and not auto_renew", True),
        ("not (term_months < 12)", True),
        ("term_months in [6, 12, 24]", True),
        ('attributes.brand == "ACME"', True),
        ('"cloth" in category', True),
        ("true and false", False),
        ("-1 < 0", True),
        ("'single' == \"single\"", True),
        ('"a\\"b" == \'a"b\'', True),
        ("rating == 4.50", True),
        ('rating == "4.5"', False),
    ],
)
def test_evaluates(text: str, expected: bool) -> None:
    assert parse(text).evaluate(FACTS)[0] is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("missing >= 4", UNKNOWN),
        ("nothing == 1", UNKNOWN),
        ("missing >= 4 or rating > 4", True),
        ("missing >= 4 and rating > 5", False),
        ("missing >= 4 and rating > 4", UNKNOWN),
        ("not (missing == 1)", UNKNOWN),
        ('rating < "x"', UNKNOWN),
        ("rating", UNKNOWN),
        ("1 in 2", UNKNOWN),
    ],
)
def test_three_valued(text: str, expected: object) -> None:
    assert parse(text).evaluate(FACTS)[0] is expected


def test_reports_missing_names() -> None:
    assert parse("missing >= 4 or nothing == 2").evaluate(FACTS)[1] == ("missing", "nothing")


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ('category == "clothing', 12),
        ("rating >= ", 10),
        ("rating >> 4", 8),
        ("(rating > 4", 11),
        ("rating > 4)", 10),
        ("rating $ 4", 7),
        ("", 0),
        ("a == 1 b", 7),
        ('"a\\q"', 2),
    ],
)
def test_syntax_errors_carry_offsets(text: str, offset: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert info.value.offset == offset


def test_limits() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        parse("a == 1 or " * (MAX_LENGTH // 10) + "a == 1")
    with pytest.raises(ExpressionError, match="nested"):
        parse("(" * (MAX_DEPTH + 1) + "true" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ExpressionError, match="nested"):
        parse("not " * (MAX_DEPTH + 1) + "true")
    assert parse("(" * MAX_DEPTH + "true" + ")" * MAX_DEPTH).evaluate({})[0] is True


def test_no_code_execution() -> None:
    for text in ["__import__('os')", "a.__class__ == 1", "open('x')", "1 + 1 == 2"]:
        try:
            result = parse(text).evaluate({"a": 1})[0]
        except ExpressionError:
            continue
        assert result is UNKNOWN


def test_names_listed() -> None:
    assert parse('rating > 1 and "x" in certifications').names == {"rating", "certifications"}
