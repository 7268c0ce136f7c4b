"""How the person treats each bulk sender, read from their own mailbox without changing anything in it.

Per sender: how many of its messages are in the inbox and the promotions folder, how many of those are `\\Seen`
or `\\Flagged`, and whether the person wrote to it (its address among the recipients in the Sent folder). The
source reads folders read-only (IMAP EXAMINE, `BODY.PEEK` of three header fields and FLAGS: nothing is ever set).

With `[mail] engagement = "keep-read"` (the default), bulk mail (a promotion or a newsletter) from a sender the
person reads, flags or writes to stays in the inbox, and a newsletter from a sender they opened none of
`unopened_after` messages from leaves like a promotion. Spam is never kept for engagement: a deceptive message
is no less deceptive for having been opened. `engagement = "ignore"` leaves the classifier alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from butler.mail.mime import BARE_ADDRESS, clean_value, header_fields, header_map, parse_address, sender_key
from butler.mail.sources import FolderInfo, Peeked

if TYPE_CHECKING:
    from butler.config import MailConfig
    from butler.mail.sources import MailSource

__all__ = ["Engagement", "SenderEngagement", "sent_folder"]

_SENT_NAMES = frozenset({"sent", "sent items", "sent messages", "sent mail", "gesendet", "gesendete objekte",
                         "gesendete elemente", "envoyés", "éléments envoyés", "enviados", "inviati", "posta inviata"})
BULK = frozenset({"promotion", "newsletter"})


@dataclass
class SenderEngagement:
    messages: int = 0
    opened: int = 0  # \Seen
    flagged: int = 0
    written_to: bool = False  # the person sent mail to this address


def sent_folder(folders: Iterable[FolderInfo], separator: str = "/") -> str | None:
    """The Sent folder: the one marked `\\Sent` (RFC 6154), else one named like it in any case."""
    listed = list(folders)
    for info in listed:
        if "\\sent" in info.special:
            return info.name
    for info in listed:
        leaf = info.name.rsplit(separator, 1)[-1] if separator else info.name
        if leaf.rsplit(".", 1)[-1].lower() in _SENT_NAMES or leaf.lower() in _SENT_NAMES:
            return info.name
    return None


def _fields(header: bytes) -> dict[str, str]:
    fields, _ = header_fields(header)
    return header_map(fields)


class Engagement:
    """What the person does with each sender's mail, and the verdict that follows under their settings."""

    def __init__(self, config: MailConfig, senders: dict[str, SenderEngagement] | None = None) -> None:
        self.config = config
        self.senders: dict[str, SenderEngagement] = senders if senders is not None else {}

    @classmethod
    def read(cls, source: MailSource, config: MailConfig, folders: list[str], sent: str | None) -> Engagement:
        """Count, read-only, the newest `engagement_window` messages of each of `folders` and of `sent`."""
        found = cls(config)
        window = config.engagement_window
        for folder in folders:
            found.count(source.peek(folder, ("from",), window))
        if sent is not None:
            found.written(source.peek(sent, ("to", "cc"), window))
        return found

    def count(self, peeked: Iterable[Peeked]) -> None:
        for item in peeked:
            _, address = parse_address(clean_value("from", _fields(item.header).get("from", "")))
            if not address:
                continue
            info = self.senders.setdefault(sender_key(address), SenderEngagement())
            info.messages += 1
            info.opened += item.seen
            info.flagged += item.flagged

    def written(self, peeked: Iterable[Peeked]) -> None:
        for item in peeked:
            fields = _fields(item.header)
            for address in BARE_ADDRESS.findall(f"{fields.get('to', '')},{fields.get('cc', '')}"):
                self.senders.setdefault(sender_key(address.strip("<>")), SenderEngagement()).written_to = True

    def judge(self, sender: str, category: str) -> tuple[bool, str] | None:
        """(True, why) when bulk mail from `sender` stays for the person's engagement, (False, why) when a
        newsletter leaves for the lack of it; None when engagement says nothing."""
        if self.config.engagement == "ignore" or category not in BULK or not sender:
            return None
        info = self.senders.get(sender)
        if info is None:
            return None
        if info.written_to:
            return True, f"you write to {sender}"
        engaged = info.opened + info.flagged
        if engaged >= self.config.read_at_least and engaged >= self.config.read_share * info.messages:
            return True, f"you read or flagged {min(engaged, info.messages)} of {info.messages} messages from {sender}"
        unopened_after = self.config.unopened_after
        if category == "newsletter" and unopened_after and info.messages >= unopened_after and not engaged:
            return False, f"you opened none of the {info.messages} messages from {sender}"
        return None
