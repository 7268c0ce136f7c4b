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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final, Union

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "UNKNOWN",
    "Expression",
    "ExpressionError",
    "Outcome",
    "Unknown",
    "parse",
]

MAX_LENGTH = 2000
MAX_DEPTH = 32


class ExpressionError(ValueError):
    """A condition that does not parse; `offset` is the 0-based character position in the condition text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at character {offset + 1} of the condition)")
        self.short = message
        self.offset = offset


class Unknown(Enum):
    """The third truth value: a fact the subject does not carry."""

    UNKNOWN = "unknown"


UNKNOWN: Final = Unknown.UNKNOWN
Outcome = Union[bool, Unknown]  # noqa: UP007 -- a runtime alias, kept readable

# ---------------------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'[^'\n]*')
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


@dataclass(frozen=True)
class _Token:
    kind: str  # number | string | op | name | keyword | end
    text: str
    offset: int


def _unescape(body: str, offset: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            nxt = body[i + 1]
            if nxt not in _ESCAPES:
                raise ExpressionError(f"unknown escape \\{nxt} in text", offset + i)
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            ch = text[pos]
            if ch in "\"'":
                raise ExpressionError("text is not closed with a matching quote", pos)
            raise ExpressionError(f"unexpected character {ch!r}", pos)
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        if kind != "ws":
            tokens.append(_Token(kind, value, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Name:
    name: str
    offset: int


@dataclass(frozen=True)
class _List:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _BoolOp:
    op: str  # and | or
    operands: tuple[_Node, ...]


@dataclass(frozen=True)
class _Compare:
    op: str  # == != < <= > >= in notin
    left: _Node
    right: _Node


_Node = Union[_Literal, _Name, _List, _Not, _BoolOp, _Compare]  # noqa: UP007

# ---------------------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def _take(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def _is(self, kind: str, text: str) -> bool:
        return self.tok.kind == kind and self.tok.text == text

    def _expect(self, kind: str, text: str) -> None:
        if not self._is(kind, text):
            raise ExpressionError(f"expected {text!r} but found {self._describe()}", self.tok.offset)
        self.pos += 1

    def _describe(self) -> str:
        return "the end of the condition" if self.tok.kind == "end" else repr(self.tok.text)

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"condition is nested more than {MAX_DEPTH} levels deep", self.tok.offset)

    def parse(self) -> _Node:
        node = self.or_expr()
        if self.tok.kind != "end":
            raise ExpressionError(f"unexpected {self._describe()}", self.tok.offset)
        return node

    def or_expr(self) -> _Node:
        parts = [self.and_expr()]
        while self._is("keyword", "or"):
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else _BoolOp("or", tuple(parts))

    def and_expr(self) -> _Node:
        parts = [self.not_expr()]
        while self._is("keyword", "and"):
            self.pos += 1
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else _BoolOp("and", tuple(parts))

    def not_expr(self) -> _Node:
        if self._is("keyword", "not"):
            self.pos += 1
            self._enter()
            node = _Not(self.not_expr())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> _Node:
        left = self.operand()
        tok = self.tok
        if tok.kind == "op" and tok.text in {"==", "!=", "<", "<=", ">", ">="}:
            self.pos += 1
            return _Compare(tok.text, left, self.operand())
        if self._is("keyword", "in"):
            self.pos += 1
            return _Compare("in", left, self.operand())
        if self._is("keyword", "not") and self.tokens[self.pos + 1].text == "in":
            self.pos += 2
            return _Compare("notin", left, self.operand())
        return left

    def operand(self) -> _Node:
        tok = self.tok
        if tok.kind == "number":
            self.pos += 1
            try:
                return _Literal(Decimal(tok.text))
            except InvalidOperation:  # pragma: no cover - the token pattern admits only valid numbers
                raise ExpressionError(f"not a number: {tok.text}", tok.offset) from None
        if tok.kind == "string":
            self.pos += 1
            body = tok.text[1:-1]
            return _Literal(_unescape(body, tok.offset + 1) if tok.text[0] == '"' else body)
        if tok.kind == "keyword" and tok.text in {"true", "false"}:
            self.pos += 1
            return _Literal(tok.text == "true")
        if tok.kind == "name":
            self.pos += 1
            return _Name(tok.text, tok.offset)
        if self._is("op", "("):
            self.pos += 1
            self._enter()
            node = self.or_expr()
            self._expect("op", ")")
            self.depth -= 1
            return node
        if self._is("op", "["):
            self.pos += 1
            self._enter()
            items: list[_Node] = []
            if not self._is("op", "]"):
                items.append(self.operand())
                while self._is("op", ","):
                    self.pos += 1
                    items.append(self.operand())
            self._expect("op", "]")
            self.depth -= 1
            return _List(tuple(items))
        raise ExpressionError(f"expected a value, a name or '(' but found {self._describe()}", tok.offset)


# ---------------------------------------------------------------------------------------------- evaluator


def _fold_text(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _fold(value: Any) -> Any:
    if isinstance(value, str):
        return _fold_text(value)
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

    def value(self, node: _Node) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _List):
            return [self.value(item) for item in node.items]
        if isinstance(node, _Name):
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

    def truth(self, node: _Node) -> Outcome:
        if isinstance(node, _Not):
            inner = self.truth(node.operand)
            return UNKNOWN if inner is UNKNOWN else not inner
        if isinstance(node, _BoolOp):
            stop = node.op == "or"  # `or` stops at the first true, `and` at the first false
            seen_unknown = False
            for operand in node.operands:
                result = self.truth(operand)
                if result is UNKNOWN:
                    seen_unknown = True
                elif result is stop:
                    return stop
            return UNKNOWN if seen_unknown else not stop
        if isinstance(node, _Compare):
            return self._compare(node)
        value = self.value(node)
        if value is UNKNOWN or isinstance(value, bool):
            return value
        return UNKNOWN  # a non-boolean used as a condition cannot be decided

    def _compare(self, node: _Compare) -> Outcome:
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
        return _fold_text(item) in _fold_text(container)
    if isinstance(container, Sequence):
        return any(_equal(item, element) for element in container)
    return UNKNOWN


def _names_in(node: _Node) -> set[str]:
    if isinstance(node, _Name):
        return {node.name}
    if isinstance(node, _List):
        return set().union(*(_names_in(item) for item in node.items)) if node.items else set()
    if isinstance(node, _Not):
        return _names_in(node.operand)
    if isinstance(node, _BoolOp):
        return set().union(*(_names_in(item) for item in node.operands))
    if isinstance(node, _Compare):
        return _names_in(node.left) | _names_in(node.right)
    return set()


# ---------------------------------------------------------------------------------------------- public


@dataclass(frozen=True)
class Expression:
    """A parsed condition. `evaluate(names)` gives True, False or UNKNOWN (a name the subject lacks)."""

    source: str
    _tree: _Node

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
    return Expression(text, _Parser(_tokenize(text)).parse())
