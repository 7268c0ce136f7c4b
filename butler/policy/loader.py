"""Policy files → PolicySet. All-or-nothing: any problem in any file raises ConfigError naming file:line:column.

Limits guard against files that are broken or hostile: at most 1 MB per file, brackets and tables nested at most
`MAX_NESTING` deep.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from butler.errors import ConfigError
from butler.policy.consistency import find_problems
from butler.policy.expr import ExpressionError
from butler.policy.policyset import PlacedPreference, PlacedRule, PolicySet
from butler.policy.rules import RULE_KINDS, RULE_MODELS, AppliesTo, PackInfo, PolicyFile, Preference
from butler.sourcemap import Position, SourceMap

__all__ = ["MAX_FILE_BYTES", "MAX_NESTING", "MAX_REPORTED", "MAX_RULES", "PolicyErrors", "load_home_policies",
           "load_policies", "policy_files"]

MAX_FILE_BYTES = 1_000_000
MAX_NESTING = 8
MAX_RULES = 10_000  # rules and preferences in one file: far more than a person writes, few enough to check fast
MAX_REPORTED = 50  # problems reported one by one; past this they are counted

_HINT = "Fix the file and run `butler policy check` again; see policies/README.md for every field."
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


@dataclass(frozen=True)
class _Parsed:
    name: str
    source: SourceMap
    data: dict[str, Any]
    policy: PolicyFile


def policy_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The `.toml` files named, directories expanded (not recursively, sorted by name)."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    out: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix == ".toml" and p.is_file())
        elif path.is_file():
            out.append(path)
        else:
            raise ConfigError(f"no such policy file or directory: {path}", _HINT)
    return out


def _read(path: Path) -> str:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"file is {size} bytes; policy files may be at most {MAX_FILE_BYTES} bytes",
                              "Split it into several smaller files.", location=f"{name}:1:1")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read policy file: {exc.strerror or exc}", _HINT, location=name) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"file is larger than {MAX_FILE_BYTES} bytes", "Split it into several smaller files.",
                          location=f"{name}:1:1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = SourceMap(raw[: exc.start].decode("utf-8", "replace")).position(exc.start)
        raise ConfigError("file is not valid UTF-8 text", "Save the file as UTF-8.",
                          location=f"{name}:{pos.line}:{pos.column}") from exc


def _depth(value: Any, path: tuple[str | int, ...] = ()) -> tuple[int, tuple[str | int, ...]]:
    """How deeply tables and arrays nest, and the path to the deepest one."""
    if isinstance(value, dict):
        children = [_depth(v, (*path, k)) for k, v in value.items()]
    elif isinstance(value, list):
        children = [_depth(v, (*path, i)) for i, v in enumerate(value)]
    else:
        return 0, path
    deepest = max(children, default=(0, path), key=lambda c: c[0])
    return deepest[0] + 1, deepest[1]


def _where(name: str, pos: Position) -> str:
    return f"{name}:{pos.line}:{pos.column}"


def _describe(loc: Sequence[str | int], data: dict[str, Any]) -> str:
    """`("rule", 2, "ban", "vendors", 0)` → `rule "no-fast-fashion" (#3), field vendors[0]`."""
    if len(loc) >= 2 and loc[0] in {"rule", "preference"} and isinstance(loc[1], int):
        table, index = str(loc[0]), loc[1]
        items = data.get(table)
        item = items[index] if isinstance(items, list) and index < len(items) else None
        rule_id = item.get("id") if isinstance(item, dict) else None
        rest = list(_toml_path(loc, data)[2:])  # without the union tag pydantic puts in the path
        head = f"{table} {rule_id!r} (#{index + 1})" if isinstance(rule_id, str) else f"{table} #{index + 1}"
    else:
        head, rest = "", list(loc)
    field = ""
    for part in rest:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    if head and field:
        return f"{head}, field {field}"
    return head or (f"field {field}" if field else "file")


def _model_for(loc: Sequence[str | int], data: dict[str, Any]) -> type[BaseModel] | None:
    if loc and loc[-1] == "applies_to":
        return AppliesTo
    if tuple(loc) == ("pack",):
        return PackInfo
    if len(loc) >= 2 and loc[0] == "preference":
        return Preference
    if len(loc) >= 3 and loc[0] == "rule" and isinstance(loc[2], str):
        return RULE_MODELS.get(loc[2])
    if not loc:
        return PolicyFile
    return None


def _message(error: Any, data: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{_describe(loc, data)} is required but missing"
    if kind == "extra_forbidden":
        model = _model_for(loc[:-1], data)
        allowed = f" (allowed: {', '.join(model.model_fields)})" if model is not None else ""
        return f"{_describe(loc, data)}: unknown field{allowed}"
    if kind == "union_tag_invalid":
        return (f"{_describe(loc, data)}: unknown rule kind {error['ctx']['tag']!r}; "
                f"known kinds: {', '.join(RULE_KINDS)}")
    if kind == "union_tag_not_found":
        return f"{_describe(loc, data)}: a rule needs a kind, one of {', '.join(RULE_KINDS)}"
    message = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    shown = f" (got {got!r})" if isinstance(got, str | int | bool | Decimal) and len(repr(got)) < 80 \
        and f"got {got!r}" not in message else ""
    return f"{_describe(loc, data)}: {message}{shown}"


class PolicyErrors(ConfigError):
    """Every problem found in the policy files, each `file:line:column: message`, up to MAX_REPORTED of them.

    The message is the first problem and how many more there are; `problems` holds them all (as many as were
    kept); `more` counts those left out past the limit.
    """

    def __init__(self, problems: Sequence[tuple[str, str]], more: int = 0, *, stopped: bool = False) -> None:
        location, message = problems[0]
        rest = len(problems) - 1 + more
        if stopped:
            message += f" (and more problems: the check stops after {len(problems)})"
        elif rest:
            message += f" (and {rest} more problem{'s' if rest > 1 else ''})"
        super().__init__(message, _HINT, location=location)
        self.items = list(problems)
        self.problems = [f"{where}: {what}" for where, what in problems]
        self.more = more
        self.stopped = stopped


def _validation_problems(name: str, source: SourceMap, data: dict[str, Any],
                         exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for error in exc.errors()[:MAX_REPORTED]:
        loc = tuple(error["loc"])
        pos = source.find((*loc, "kind") if str(error["type"]).startswith("union_tag") else loc)
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ExpressionError):
            pos = source.value_position(_toml_path(loc, data), cause.offset) or pos
            message = f"{_describe(loc, data)}: {cause.short}"
        else:
            message = _message(error, data)
        out.append((_where(name, pos), message))
    return out


def _toml_path(loc: Sequence[str | int], data: dict[str, Any]) -> tuple[str | int, ...]:
    """Drop the union tag pydantic inserts, to get the path as written in the file."""
    if len(loc) >= 3 and loc[0] == "rule" and isinstance(loc[1], int):
        items = data.get("rule")
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        if isinstance(item, dict) and loc[2] == item.get("kind"):
            return (*loc[:2], *loc[3:])
    return tuple(loc)


def _parse(path: Path) -> _Parsed:
    name = str(path)
    text = _read(path)
    source = SourceMap(text, nesting_limit=MAX_NESTING)
    if source.too_deep is not None:
        raise ConfigError(f"values are nested more than {MAX_NESTING} levels deep", _HINT,
                          location=_where(name, source.too_deep))
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = f"{name}:{match.group(1)}:{match.group(2)}" if match else name
        raise ConfigError(f"not valid TOML: {_TOML_POSITION.sub('', message)}", _HINT, location=where) from exc
    except RecursionError as exc:
        raise ConfigError("values are nested too deeply", _HINT, location=f"{name}:1:1") from exc
    count = sum(len(v) for k in ("rule", "preference") if isinstance(v := data.get(k), list))
    if count > MAX_RULES:
        raise ConfigError(f"{count} rules and preferences in one file; at most {MAX_RULES} are read", _HINT,
                          location=f"{name}:1:1")
    depth, deepest = _depth(data)
    if depth > MAX_NESTING:
        raise ConfigError(f"tables and values are nested more than {MAX_NESTING} levels deep", _HINT,
                          location=_where(name, source.find(deepest)))
    try:
        policy = PolicyFile.model_validate(data)
    except ValidationError as exc:
        problems = _validation_problems(name, source, data, exc)
        raise PolicyErrors(problems, more=max(0, exc.error_count() - len(problems))) from exc
    return _Parsed(name, source, data, policy)


def load_policies(paths: str | Path | Iterable[str | Path]) -> PolicySet:
    """Load policy files (or every `.toml` in a directory) into one PolicySet.

    Raises:
        ConfigError: a file over 1 MB or with more than MAX_RULES rules, or nested too deep;
        PolicyErrors (a ConfigError): every problem of every file (syntax, unknown field, wrong type, unknown
            rule kind, contradictory rules), each with `file:line:column`, up to MAX_REPORTED, then a count.
            Nothing is loaded unless everything is valid.
    """
    parsed: list[_Parsed] = []
    reported: list[tuple[str, str]] = []
    more = 0
    for path in policy_files(paths):
        try:
            parsed.append(_parse(path))
        except PolicyErrors as exc:
            reported += exc.items
            more += exc.more
        except ConfigError as exc:
            reported.append((exc.location or str(path), exc.message.removeprefix(f"{exc.location}: ")))
    stopped = False
    if not reported:
        found = find_problems([p.policy for p in parsed], limit=MAX_REPORTED + 1)
        stopped = len(found) > MAX_REPORTED
        for problem in found[:MAX_REPORTED]:
            item = parsed[problem.file]
            reported.append((_where(item.name, item.source.find(problem.path)),
                             f"{_describe(problem.path, item.data)}: {problem.message}"))
    if reported:
        raise PolicyErrors(reported[:MAX_REPORTED], more=more + max(0, len(reported) - MAX_REPORTED),
                           stopped=stopped)
    rules: list[PlacedRule] = []
    preferences: list[PlacedPreference] = []
    for item in parsed:
        rules += [
            PlacedRule(rule, f"{item.name}:{item.source.find(('rule', i)).line}")
            for i, rule in enumerate(item.policy.rule)
        ]
        preferences += [
            PlacedPreference(pref, f"{item.name}:{item.source.find(('preference', i)).line}")
            for i, pref in enumerate(item.policy.preference)
        ]
    return PolicySet(tuple(rules), tuple(preferences), tuple(item.name for item in parsed))


def load_home_policies(home: Path | None = None) -> PolicySet:
    """The person's own policies: every `.toml` in `BUTLER_HOME/policies`; an empty set when there is none."""
    from butler import paths  # here, not at the top: the engine stays free of the user directory

    directory = paths.policies_dir(home)
    return load_policies(directory) if directory.is_dir() else PolicySet()
