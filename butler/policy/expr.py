"""A tiny, safe condition language for policy files: `'"fair-wear" in certifications or rating >= 4'`.

Why our own language and not a dependency: policy conditions come from files a person copies from the
internet, so evaluating them must be unable to do anything but compare values. Python's `eval` (even with
stripped builtins) and `ast.literal_eval`-plus-walkers are easy to get wrong; general expression libraries
(simpleeval, asteval, CEL, JMESPath) bring a larger grammar, float arithmetic, function calls or a native
extension we would then have to audit and pin. What policies need is small: literals, names, `and or not`,
comparisons, `in`, parentheses. A tokenizer plus a recursive-descent parser for that is ~300 lines we fully
control, with Decimal numbers (never floats), hard length and depth limits, error positions we can map to
`file:line:column`, and three-valued logic so that a missing fact yields "unknown" (and the engine asks the
person) instead of a silent false.

Grammar (keywords are lower case):

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in") operand)?
    operand    := NUMBER | STRING | "true" | "false" | NAME | "(" expr ")" | "[" [operand ("," operand)*] "]"

Text comparisons ignore case, spaces and punctuation (`"Fair Wear" == "fair-wear"`), as names of
certifications and brands are written in many ways. `x in list` tests membership, `x in text` a substring.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Union

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from butler.policy.expr_syntax import (
    MAX_DEPTH,
    MAX_LENGTH,
    BoolOpNode,
    CompareNode,
    ExpressionError,
    ListNode,
    LiteralNode,
    NameNode,
    Node,
    NotNode,
    Parser,
    tokenize,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "UNKNOWN",
    "Expression",
    "ExpressionError",
    "Outcome",
    "Unknown",
    "normalise_name",
    "normalise_names",
    "parse",
]

class Unknown(Enum):
    """The third truth value: a fact the subject does not carry."""

    UNKNOWN = "unknown"


UNKNOWN: Final = Unknown.UNKNOWN
Outcome = Union[bool, Unknown]  # noqa: UP007 -- a runtime alias, kept readable

# ---------------------------------------------------------------------------------------------- evaluator


def normalise_name(name: str) -> str:
    """Names compare without case, spaces or punctuation: "B Corp" == "b-corp" == "BCORP"."""
    return re.sub(r"[\W_]+", "", name.casefold())


def normalise_names(values: Iterable[str]) -> set[str]:
    """The set of `normalise_name` of each value."""
    return {normalise_name(v) for v in values}


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return normalise_name(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _equal(left: Any, right: Any) -> bool:
    left, right = _fold(left), _fold(right)
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


class _Evaluator:
    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names
        self.missing: list[str] = []

    def value(self, node: Node) -> Any:
        if isinstance(node, LiteralNode):
            return node.value
        if isinstance(node, ListNode):
            return [self.value(item) for item in node.items]
        if isinstance(node, NameNode):
            value = self._lookup(node.name)
            if value is None:
                self.missing.append(node.name)
                return UNKNOWN
            if isinstance(value, tuple | set | frozenset):
                return list(value)
            return value
        return self.truth(node)

    def _lookup(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        current: Any = self.names
        for part in name.split("."):
            if not isinstance(current, Mapping) or part not in current:
                return None
            current = current[part]
        return current

    def truth(self, node: Node) -> Outcome:
        if isinstance(node, NotNode):
            inner = self.truth(node.operand)
            return UNKNOWN if inner is UNKNOWN else not inner
        if isinstance(node, BoolOpNode):
            stop = node.op == "or"  # `or` stops at the first true, `and` at the first false
            seen_unknown = False
            for operand in node.operands:
                result = self.truth(operand)
                if result is UNKNOWN:
                    seen_unknown = True
                elif result is stop:
                    return stop
            return UNKNOWN if seen_unknown else not stop
        if isinstance(node, CompareNode):
            return self._compare(node)
        value = self.value(node)
        if value is UNKNOWN or isinstance(value, bool):
            return value
        return UNKNOWN  # a non-boolean used as a condition cannot be decided

    def _compare(self, node: CompareNode) -> Outcome:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return Unknown.UNKNOWN
        op = node.op
        if op in {"==", "!="}:
            return _equal(left, right) is (op == "==")
        if op in {"in", "notin"}:
            found = _contains(right, left)
            if found is UNKNOWN:
                return UNKNOWN
            return found is (op == "in")
        lf, rf = _fold(left), _fold(right)
        if isinstance(lf, bool) or isinstance(rf, bool) or type(lf) is not type(rf):
            return UNKNOWN
        if not isinstance(lf, Decimal | str):
            return UNKNOWN
        return bool(_ORDER[op](lf, rf))


_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _contains(container: Any, item: Any) -> Outcome:
    if isinstance(container, str):
        if not isinstance(item, str):
            return UNKNOWN
        return normalise_name(item) in normalise_name(container)
    if isinstance(container, Sequence):
        return any(_equal(item, element) for element in container)
    return UNKNOWN


def _names_in(node: Node) -> set[str]:
    if isinstance(node, NameNode):
        return {node.name}
    if isinstance(node, ListNode):
        return set().union(*(_names_in(item) for item in node.items)) if node.items else set()
    if isinstance(node, NotNode):
        return _names_in(node.operand)
    if isinstance(node, BoolOpNode):
        return set().union(*(_names_in(item) for item in node.operands))
    if isinstance(node, CompareNode):
        return _names_in(node.left) | _names_in(node.right)
    return set()


# ---------------------------------------------------------------------------------------------- public


@dataclass(frozen=True)
class Expression:
    """A parsed condition. `evaluate(names)` gives True, False or UNKNOWN (a name the subject lacks)."""

    source: str
    _tree: Node

    @property
    def names(self) -> frozenset[str]:
        return frozenset(_names_in(self._tree))

    def evaluate(self, names: Mapping[str, Any]) -> tuple[Outcome, tuple[str, ...]]:
        """Evaluate against the subject's facts; also return the names that were missing (for explanations)."""
        evaluator = _Evaluator(names)
        result = evaluator.truth(self._tree)
        return result, tuple(dict.fromkeys(evaluator.missing))

    def __str__(self) -> str:
        return self.source

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(
            parse,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def parse(text: str) -> Expression:
    """Parse a condition. Raises ExpressionError (a ValueError) with the offending character offset."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"condition is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise ExpressionError("condition is empty", 0)
    return Expression(text, Parser(tokenize(text)).parse())
