"""The mail the sweeps moved, as the Mail screen shows it: read from each mailbox's journal and state.

Only what the journal recorded is read here, plus, on demand, the text of one message fetched from its mailbox
(text only: no HTML rendering, no images, no links followed). Nothing here connects by itself.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from butler.tui.data.values import short_time
from butler.tui.data.views import AccountView, MessageView, SenderView, SweepView

if TYPE_CHECKING:
    from butler.mail.sources import MailSource

__all__ = ["PREVIEW_CHARS", "read_account", "recorded_preview", "text_preview"]

PREVIEW_CHARS = 2000
_URL = re.compile(r"\b(?:https?|ftp)://([^\s/<>\"']+)[^\s<>\"']*", re.IGNORECASE)


def _message(entry: dict[str, Any], moved: dict[str, Any]) -> MessageView:
    ident = str(entry.get("id") or entry.get("key"))
    place = moved.get(ident, {})
    return MessageView(
        move=ident, key=str(entry.get("key", "")), sender=str(entry.get("sender") or "?"),
        subject=str(entry.get("subject") or "(no subject)"), category=str(entry.get("category") or "?"),
        at=short_time(entry.get("at")), why=str(entry.get("reason") or "no reason recorded"),
        sweep=str(entry.get("sweep") or "?"), folder=str(place.get("folder") or entry.get("to") or ""),
        uid=str(place["uid"]) if place.get("uid") else None, size=int(entry.get("size") or 0))


def read_account(directory: Path, can_undo: bool) -> AccountView:
    """One mailbox: its sweeps, the messages still away (newest first) and its senders."""
    from butler.mail.state import Journal, MailboxState

    state = MailboxState.load(directory)
    sweeps: dict[str, list[int]] = {}
    first_at: dict[str, str] = {}
    live: dict[str, dict[str, Any]] = {}
    for entry in Journal(directory).entries():
        sweep = str(entry.get("sweep") or "?")
        ident = str(entry.get("id") or entry.get("key"))
        if entry.get("op") == "move":
            sweeps.setdefault(sweep, [0, 0])[0] += 1
            first_at.setdefault(sweep, str(entry.get("at", "")))
            live[ident] = entry
        elif entry.get("op") == "undo":
            sweeps.setdefault(sweep, [0, 0])[1] += 1
            live.pop(ident, None)
    sweep_views = sorted((SweepView(s, short_time(first_at.get(s, "")), n[0], n[1])
                          for s, n in sweeps.items() if n[0]), key=lambda v: v.at, reverse=True)
    messages = sorted((_message(e, state.moved) for e in live.values()), key=lambda m: (m.at, m.move),
                      reverse=True)
    kept = Counter(str(v.get("sender", "")) for v in state.moved.values())
    senders = sorted((SenderView(s, int(info.get("moved", 0)), int(info.get("read", 0)),
                                 bool(info.get("one_click")), kept.get(s, 0), bool(info.get("list_unsubscribe")))
                      for s, info in state.senders.items()), key=lambda v: (-v.moved, v.sender))
    return AccountView(directory.name, directory, sweep_views, senders, len(state.moved), len(state.restored),
                       can_undo, messages)


def recorded_preview(message: MessageView) -> str:
    """What the journal recorded of a message, for when its text cannot be fetched."""
    return (f"From: {message.sender}\nSubject: {message.subject}\nMoved: {message.at} to {message.folder}\n"
            f"Judged: {message.category} — {message.why}")


def text_preview(source: MailSource, message: MessageView) -> str:
    """The text of a moved message, fetched from where butler put it; links shown by host only."""
    from butler.mail.message import read_facts
    from butler.mail.mime import strip_html

    if message.uid is None:
        return recorded_preview(message) + "\n\n(the mailbox did not say where the message is: only what was recorded)"
    found = list(source.fetch(message.folder, [message.uid]))
    if not found:
        return recorded_preview(message) + f"\n\n(not in {message.folder} any more)"
    facts = read_facts(found[0].raw)
    text = facts.text.strip() or strip_html(facts.html)
    text = _URL.sub(lambda m: f"[link to {m.group(1)}]", text)
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS] + "…"
    shown = f"{recorded_preview(message)}\n\n{text or '(no text)'}"
    if facts.images:
        shown += f"\n\n({facts.images} image(s) not loaded)"
    return shown
