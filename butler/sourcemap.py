"""Where things are in a TOML file. tomllib gives values but no positions, so we scan the text ourselves.

The scan knows table headers (`[pack]`, `[[rule]]`, `[rule.applies_to]`), keys (`id = …`, dotted keys) and
enough of strings, comments and brackets to skip values that span lines. It also measures how deeply
brackets nest, so absurd nesting is refused before the TOML parser recurses into it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Position", "SourceMap"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based
    offset: int  # 0-based index into the text


PathPart = str | int


def _parse_key(text: str, start: int) -> tuple[list[str], int] | None:
    """Parse a (dotted) key at text[start:]; return its parts and the index just after it."""
    parts: list[str] = []
    i = start
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text):
            return None
        ch = text[i]
        if ch in "\"'":
            end = i + 1
            while end < len(text) and text[end] != ch:
                end += 2 if ch == '"' and text[end] == "\\" else 1
            if end >= len(text):
                return None
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if match is None:
                return None
            parts.append(match.group())
            i = match.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        return parts, i


class SourceMap:
    """Positions of the headers and keys of one TOML text, addressed by data paths like `("rule", 2, "id")`.

    `too_deep` is the first place where brackets nest deeper than `nesting_limit`, if any.
    """

    def __init__(self, text: str, nesting_limit: int = 64) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self._keys: dict[tuple[PathPart, ...], Position] = {}
        self._values: dict[tuple[PathPart, ...], int] = {}
        self._prefixes: set[tuple[PathPart, ...]] = set()
        self.nesting_limit = nesting_limit
        self.too_deep: Position | None = None  # where brackets first nest deeper than the limit
        self._scan()

    # ------------------------------------------------------------------ positions

    def position(self, offset: int) -> Position:
        lo, hi = 0, len(self._line_starts) - 1
        while lo < hi:  # the last line start at or before offset
            mid = (lo + hi + 1) // 2
            if self._line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return Position(lo + 1, offset - self._line_starts[lo] + 1, offset)

    def _record(self, path: tuple[PathPart, ...], offset: int) -> None:
        self._keys.setdefault(path, self.position(offset))
        for n in range(1, len(path) + 1):
            self._prefixes.add(path[:n])

    def find(self, path: Sequence[PathPart]) -> Position:
        """The position of the deepest part of `path` that is written in the file (else line 1).

        Parts that are not in the file (pydantic adds union tags, inline-table keys are not mapped) are
        skipped, so `("rule", 0, "budget", "max_per_month")` finds the `max_per_month` key of the first rule.
        """
        found = self.lookup(path)
        return Position(1, 1, 0) if found is None else found

    def lookup(self, path: Sequence[PathPart]) -> Position | None:
        """Like `find`, but None when no part of `path` is written in the file."""
        matched: tuple[PathPart, ...] = ()
        best: Position | None = None
        for part in path:
            candidate = (*matched, part)
            if candidate in self._prefixes:
                matched = candidate
                if matched in self._keys:
                    best = self._keys[matched]
        return best

    def value_position(self, path: Sequence[PathPart], index: int) -> Position | None:
        """The position of character `index` inside the string value at `path` (for condition errors)."""
        start = self._values.get(tuple(path))
        if start is None:
            return None
        text = self.text
        quote = text[start : start + 3] if text[start : start + 3] in {'"""', "'''"} else text[start : start + 1]
        if quote not in {'"', "'", '"""', "'''"}:
            return None
        offset = start + len(quote)
        if len(quote) == 3 and text.startswith("\n", offset):  # TOML trims a newline right after """
            offset += 1
        elif len(quote) == 3 and text.startswith("\r\n", offset):
            offset += 2
        return self.position(min(offset + index, len(text)))

    # ------------------------------------------------------------------ scanning

    def _scan(self) -> None:
        text = self.text
        section: tuple[PathPart, ...] = ()
        array_index: dict[tuple[PathPart, ...], int] = {}
        i = 0
        while i < len(text):
            line_end = text.find("\n", i)
            line_end = len(text) if line_end < 0 else line_end
            j = i
            while j < line_end and text[j] in " \t\r":
                j += 1
            if j >= line_end or text[j] == "#":
                i = line_end + 1
                continue
            if text[j] == "[":
                is_array = text.startswith("[[", j)
                parsed = _parse_key(text, j + (2 if is_array else 1))
                if parsed is not None:
                    parts, _ = parsed
                    section = self._header_path(parts, is_array, array_index)
                    self._record(section, j)
                i = line_end + 1
                continue
            parsed = _parse_key(text, j)
            if parsed is None or parsed[1] >= len(text) or text[parsed[1]] != "=":
                i = line_end + 1
                continue
            parts, eq = parsed
            path = (*section, *parts)
            self._record(path, j)
            value = eq + 1
            while value < len(text) and text[value] in " \t":
                value += 1
            self._values[path] = value
            i = self._skip_value(value)
        return

    def _header_path(
        self, parts: list[str], is_array: bool, array_index: dict[tuple[PathPart, ...], int]
    ) -> tuple[PathPart, ...]:
        path: list[PathPart] = []
        names: tuple[str, ...] = ()
        for n, part in enumerate(parts):
            names = (*names, part)
            path.append(part)
            last = n == len(parts) - 1
            if last and is_array:
                array_index[names] = array_index.get(names, -1) + 1
                path.append(array_index[names])
            elif names in array_index:
                path.append(array_index[names])
        return tuple(path)

    def _skip_value(self, i: int) -> int:
        """Skip one value starting at i, through strings and brackets; return the start of the next line."""
        text = self.text
        depth = 0
        while i < len(text):
            ch = text[i]
            if ch in "\"'":
                triple = text[i : i + 3] == ch * 3
                delim = ch * 3 if triple else ch
                end = i + len(delim)
                while end < len(text) and not text.startswith(delim, end):
                    if ch == '"' and text[end] == "\\":
                        end += 1
                    elif not triple and text[end] == "\n":
                        break
                    end += 1
                i = end + len(delim)
                continue
            if ch == "#":
                nl = text.find("\n", i)
                i = len(text) if nl < 0 else nl
                continue
            if ch in "[{":
                depth += 1
                if depth > self.nesting_limit and self.too_deep is None:
                    self.too_deep = self.position(i)
            elif ch in "]}":
                depth -= 1
            elif ch == "\n" and depth <= 0:
                return i + 1
            i += 1
        return i
