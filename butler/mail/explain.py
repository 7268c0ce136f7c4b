"""Why a message was moved: its journal entries, read back for `butler explain MESSAGE-ID`."""

from __future__ import annotations

from pathlib import Path

from butler import paths
from butler.mail.state import Journal

__all__ = ["explain_move"]


def _keys(some_id: str) -> set[str]:
    bare = some_id.strip().strip("<>")
    return {some_id.strip(), bare, f"<{bare}>"}


def explain_move(some_id: str, home: Path | None = None) -> list[str]:
    """Lines on every move and undo of the message `some_id` (its Message-ID, or `sha:…` key); empty if none."""
    wanted = _keys(some_id)
    root = (home or paths.butler_home()) / "mail"
    lines: list[str] = []
    for directory in sorted(root.glob("*/")) if root.is_dir() else []:
        if not (directory / "journal.jsonl").is_file():
            continue
        for entry in Journal(directory).entries():
            if entry.get("key") not in wanted:
                continue
            if entry.get("op") == "move":
                lines.append(f"{entry.get('at')}  moved from {entry.get('from')} to {entry.get('to')} "
                             f"(sweep {entry.get('sweep')}, mailbox {directory.name})")
                lines.append(f"    from {entry.get('sender') or '?'}: {entry.get('subject') or '(no subject)'}")
                lines.append(f"    judged {entry.get('category')}; why: {entry.get('reason') or 'no reason recorded'}")
            elif entry.get("op") == "undo":
                lines.append(f"{entry.get('at')}  moved back to the inbox by you (undo)")
    if lines:
        lines.insert(0, f"message {some_id}:")
        lines.append("Nothing is ever deleted: `butler mail undo` puts a moved message back.")
    return lines
