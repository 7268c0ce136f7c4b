"""What a sweep needs from a mailbox, whether IMAP or a local Maildir.

A message is named by its `uid` within a folder (an IMAP UID, or a Maildir file's unique name); with the folder's
`validity` (UIDVALIDITY) that is its identity. Its `key` (the Message-ID without folding whitespace, else a hash
of its first bytes) is only a hint: two messages can share one, and one can arrive twice.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "FetchedMessage",
    "FolderInfo",
    "FolderView",
    "Identity",
    "MailSource",
    "Moved",
    "Peeked",
    "match_identities",
    "message_key",
    "normalize_message_id",
]


def normalize_message_id(message_id: str) -> str:
    """A Message-ID as one token: folding and stray whitespace removed (`<a\\r\\n b@x>` is `<ab@x>`)."""
    return "".join(message_id.split())


def message_key(message_id: str, fingerprint: str) -> str:
    """How a message is recognised in any folder: its Message-ID, else a hash of its first bytes."""
    return normalize_message_id(message_id) or f"sha:{fingerprint}"


@dataclass(frozen=True)
class FetchedMessage:
    uid: str
    raw: bytes  # at most the first BODY_PREFIX bytes
    seen: bool
    size: int = 0  # the whole message, in bytes
    deleted: bool = False  # flagged \Deleted by a client: about to be expunged, never moved


@dataclass(frozen=True)
class Peeked:
    """A message's header fields and flags, read without changing anything (for engagement)."""

    uid: str
    header: bytes
    seen: bool
    flagged: bool


@dataclass(frozen=True)
class Identity:
    """What tells two copies of one message apart from two messages: the key and the size."""

    key: str
    size: int


@dataclass(frozen=True)
class FolderView:
    """A folder's identity and the messages in it after a cursor. `validity` changes if UIDs were reassigned."""

    validity: str
    uids: list[str]
    highest: int  # the new cursor once all `uids` are handled (IMAP); 0 for Maildir


@dataclass(frozen=True)
class FolderInfo:
    """A folder as the server lists it: its full name and its special-use attributes (lower case, `\\junk`)."""

    name: str
    special: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Moved:
    """Where moved messages went: the target's UIDVALIDITY and old uid → new uid (COPYUID, or found)."""

    validity: str
    uids: dict[str, str] = field(default_factory=dict)


class MailSource(Protocol):
    account: str
    can_move_atomically: bool

    def folders(self) -> list[FolderInfo]: ...

    def qualify(self, name: str) -> str:
        """A folder name as the person wrote it → the server's name (personal namespace prefix, separator)."""
        ...

    def create_folder(self, name: str) -> None: ...

    def folder_identity(self, name: str) -> str:
        """What survives a rename of the folder (MAILBOXID, else UIDVALIDITY; an inode for Maildir)."""
        ...

    def count_keys(self, folder: str, keys: list[str]) -> int:
        """How many of these Message-IDs are in `folder` (to recognise a renamed folder by its contents)."""
        ...

    def status(self, folder: str) -> tuple[str, int]:
        """(UIDVALIDITY, UIDNEXT) of a folder; UIDNEXT 0 where it means nothing (Maildir)."""
        ...

    def view(self, folder: str, after: int, *, read_only: bool = False) -> FolderView:
        """The folder's UIDVALIDITY and the uids above `after`. `read_only`: opened so that nothing in it can change
        until another folder is opened (IMAP EXAMINE); fetching works, moving reopens it read-write."""
        ...

    def fetch(self, folder: str, uids: list[str]) -> Iterator[FetchedMessage]: ...

    def fetch_batches(self, folder: str, batches: list[list[str]]) -> Generator[list[FetchedMessage], None, None]:
        """`fetch` of each batch in turn."""
        ...

    def move(self, folder: str, uids: list[str], target: str) -> Moved:
        """An atomic move (only where `can_move_atomically`)."""
        ...

    def start_move(self, folder: str, uids: list[str], target: str) -> Callable[[], Moved]:
        """`move`, begun now and answered when the returned function is called (the server may work on it while
        the caller does something else; the connection stays usable)."""
        ...

    def copy(self, folder: str, uids: list[str], target: str) -> Moved:
        """The first half of a move where there is no MOVE: the originals stay."""
        ...

    def verify(self, folder: str, target: str, mapping: dict[str, str]) -> dict[str, str]:
        """The pairs original uid → copy uid whose copy is in `target` with the original's identity."""
        ...

    def expunge(self, folder: str, uids: list[str]) -> None:
        """Flag exactly these messages \\Deleted and expunge exactly them (never a bare EXPUNGE)."""
        ...

    def undelete(self, folder: str, uids: list[str]) -> None: ...

    def transfer(self, folder: str, uids: list[str], target: str) -> Moved:
        """A move by whatever the server offers, expunging only originals whose copy was verified."""
        ...

    def identities(self, folder: str, uids: list[str] | None = None, *, from_uid: int = 0) -> dict[str, Identity]:
        """uid → Identity for these uids (None: every message with a uid ≥ `from_uid`)."""
        ...

    def exists(self, folder: str, uids: list[str]) -> set[str]: ...

    def seen_flags(self, folder: str) -> dict[str, bool]: ...

    def find_message(self, folder: str, message_id: str) -> list[str]:
        """The uids of the messages in `folder` with this Message-ID, read-only ([] for a missing folder)."""
        ...

    def fetch_whole(self, folder: str, uid: str, limit: int) -> bytes | None:
        """One message whole, read-only (IMAP EXAMINE and BODY.PEEK); None when it is gone or over `limit` bytes."""
        ...

    def peek(self, folder: str, fields: tuple[str, ...], newest: int) -> list[Peeked]:
        """The named header fields and the flags of the newest `newest` messages, read-only (IMAP EXAMINE and
        BODY.PEEK); [] for a folder that does not exist."""
        ...

    def close(self) -> None: ...


def match_identities(wanted: dict[str, Identity], found: dict[str, Identity],
                     claimed: set[str] | None = None) -> dict[str, str]:
    """Pair each wanted message (id → Identity) with a distinct found uid of the same identity, in uid order."""
    claimed = set() if claimed is None else claimed
    by_identity: dict[Identity, list[str]] = {}
    for uid in sorted(found, key=lambda u: (len(u), u)):
        if uid not in claimed:
            by_identity.setdefault(found[uid], []).append(uid)
    pairs: dict[str, str] = {}
    for ident, identity in wanted.items():
        candidates = by_identity.get(identity)
        if candidates:
            pairs[ident] = candidates.pop(0)
            claimed.add(pairs[ident])
    return pairs
