"""Kill points for the crash tests' child processes: `watch` makes each step of a move call `after(step)` once the
step is done: "copy", "add_flags", "uid_expunge" (IMAP commands) and "journal:<op>" (a journal append)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from butler.mail.state import Journal

__all__ = ["watch"]


def watch(source: Any, after: Callable[[str], None]) -> None:
    def wrap(obj: Any, attr: str) -> None:
        real = getattr(obj, attr)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            after(attr)
            return result
        setattr(obj, attr, call)

    for attr in ("copy", "add_flags", "uid_expunge"):
        wrap(source.client, attr)
    real_append = Journal.append

    def append(self: Journal, entries: list[dict[str, Any]]) -> None:
        real_append(self, entries)
        for op in sorted({e["op"] for e in entries}):
            after("journal:" + op)
    Journal.append = append  # type: ignore[method-assign]
