"""The condition language's syntax: tokens, the syntax tree and the recursive-descent parser (see `expr`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Union

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "BoolOpNode",
    "CompareNode",
    "ExpressionError",
    "ListNode",
    "LiteralNode",
    "NameNode",
    "Node",
    "NotNode",
    "Parser",
    "tokenize",
]

MAX_LENGTH = 2000
MAX_DEPTH = 32


class ExpressionError(ValueError):
    """A condition that does not parse; `offset` is the 0-based character position in the condition text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at character {offset + 1} of the condition)")
        self.short = message
        self.offset = offset



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


def tokenize(text: str) -> list[_Token]:
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
class LiteralNode:
    value: Any


@dataclass(frozen=True)
class NameNode:
    name: str
    offset: int


@dataclass(frozen=True)
class ListNode:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class NotNode:
    operand: Node


@dataclass(frozen=True)
class BoolOpNode:
    op: str  # and | or
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class CompareNode:
    op: str  # == != < <= > >= in notin
    left: Node
    right: Node


Node = Union[LiteralNode, NameNode, ListNode, NotNode, BoolOpNode, CompareNode]  # noqa: UP007

# ---------------------------------------------------------------------------------------------- parser


class Parser:
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

    def parse(self) -> Node:
        node = self.or_expr()
        if self.tok.kind != "end":
            raise ExpressionError(f"unexpected {self._describe()}", self.tok.offset)
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self._is("keyword", "or"):
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOpNode("or", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self._is("keyword", "and"):
            self.pos += 1
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else BoolOpNode("and", tuple(parts))

    def not_expr(self) -> Node:
        if self._is("keyword", "not"):
            self.pos += 1
            self._enter()
            node = NotNode(self.not_expr())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        tok = self.tok
        if tok.kind == "op" and tok.text in {"==", "!=", "<", "<=", ">", ">="}:
            self.pos += 1
            return CompareNode(tok.text, left, self.operand())
        if self._is("keyword", "in"):
            self.pos += 1
            return CompareNode("in", left, self.operand())
        if self._is("keyword", "not") and self.tokens[self.pos + 1].text == "in":
            self.pos += 2
            return CompareNode("notin", left, self.operand())
        return left

    def operand(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.pos += 1
            try:
                return LiteralNode(Decimal(tok.text))
            except InvalidOperation:  # pragma: no cover - the token pattern admits only valid numbers
                raise ExpressionError(f"not a number: {tok.text}", tok.offset) from None
        if tok.kind == "string":
            self.pos += 1
            body = tok.text[1:-1]
            return LiteralNode(_unescape(body, tok.offset + 1) if tok.text[0] == '"' else body)
        if tok.kind == "keyword" and tok.text in {"true", "false"}:
            self.pos += 1
            return LiteralNode(tok.text == "true")
        if tok.kind == "name":
            self.pos += 1
            return NameNode(tok.text, tok.offset)
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
            items: list[Node] = []
            if not self._is("op", "]"):
                items.append(self.operand())
                while self._is("op", ","):
                    self.pos += 1
                    items.append(self.operand())
            self._expect("op", "]")
            self.depth -= 1
            return ListNode(tuple(items))
        raise ExpressionError(f"expected a value, a name or '(' but found {self._describe()}", tok.offset)


