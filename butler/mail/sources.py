"""What a sweep needs from a mailbox, whether IMAP or a local Maildir.

A message is named by its `uid` within a folder (an IMAP UID, or a Maildir file's unique name) and recognised
across folders by its `key` (the Message-ID, else a hash of its first bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

__all__ = ["FetchedMessage", "FolderView", "MailSource", "message_key"]


def message_key(message_id: str, fingerprint: str) -> str:
    """How a message is recognised in any folder: its Message-ID, else a hash of its first bytes."""
    return message_id.strip() or f"sha:{fingerprint}"


@dataclass(frozen=True)
class FetchedMessage:
    uid: str
    raw: bytes  # at most the first BODY_PREFIX bytes
    seen: bool


@dataclass(frozen=True)
class FolderView:
    """A folder's identity and the messages in it after a cursor. `validity` changes if UIDs were reassigned."""

    validity: str
    uids: list[str]
    highest: int  # the new cursor once all `uids` are handled (IMAP); 0 for Maildir


class MailSource(Protocol):
    account: str
    can_move_atomically: bool

    def ensure_folder(self, name: str) -> None: ...

    def view(self, folder: str, after: int) -> FolderView: ...

    def fetch(self, folder: str, uids: list[str]) -> Iterator[FetchedMessage]: ...

    def move(self, folder: str, uids: list[str], target: str) -> dict[str, str]:
        """Move messages; returns old uid → new uid where the server tells."""
        ...

    def locate(self, folder: str, keys: list[str]) -> dict[str, str]:
        """Message-ID → uid in `folder`, for those of `keys` found there."""
        ...

    def exists(self, folder: str, uids: list[str]) -> set[str]: ...

    def seen_flags(self, folder: str) -> dict[str, bool]: ...

    def close(self) -> None: ...
