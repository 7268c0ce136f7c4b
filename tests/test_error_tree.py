"""The one drawing of the error tree in butler.errors is the tree: every class, its parent and its exit code."""

from __future__ import annotations

import importlib
import re

import butler.errors
from butler.errors import ButlerError

MODULES = ["butler.sdk", "butler.policy.loader", "butler.mail.errors", "butler.terms.errors",
           "butler.negotiate.checkout", "butler.negotiate.limits", "butler.approvals", "butler.daemon.lock",
           "butler.rights.errors"]
LINE = re.compile(r"^    (\d+)\s+[│├└─ ]*(\w+)")


def _drawing() -> dict[str, tuple[int, str | None]]:
    """class name → (exit code, parent name) as drawn."""
    drawn: dict[str, tuple[int, str | None]] = {}
    stack: list[tuple[int, str]] = []
    for line in (butler.errors.__doc__ or "").splitlines():
        match = LINE.match(line)
        if match is None:
            continue
        code, name = int(match.group(1)), match.group(2)
        indent = match.start(2)  # the column of the name is its depth
        while stack and stack[-1][0] >= indent:
            stack.pop()
        drawn[name] = (code, stack[-1][1] if stack else None)
        stack.append((indent, name))
    return drawn


def _classes() -> list[type[ButlerError]]:
    for name in MODULES:
        importlib.import_module(name)
    found: list[type[ButlerError]] = []
    todo: list[type[ButlerError]] = [ButlerError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("butler.") and not cls.__module__.startswith("butler.tui"):
            found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_error_class_is_drawn_under_its_parent_with_its_exit_code() -> None:
    drawn = _drawing()
    classes = _classes()
    assert {c.__name__ for c in classes} == set(drawn)
    for cls in classes:
        code, parent = drawn[cls.__name__]
        assert cls.exit_code == code, cls
        base = next((b for b in cls.__mro__[1:] if b.__name__ in drawn), None)
        assert (base.__name__ if base else None) == parent, cls


def test_each_family_has_its_own_exit_code() -> None:
    drawn = _drawing()
    families = {name: code for name, (code, parent) in drawn.items() if parent == "ButlerError"}
    shared = {code for code in families.values() if code not in (1, 75)}  # 75: "try later", in every family
    assert len(shared) == len([c for c in families.values() if c not in (1, 75)]), families
