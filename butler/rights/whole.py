"""Attachments a reply was cut off in, kept from the whole message.

Discovery and the mail sweep read the first 256 KB of a message, and a company's data export is often larger: the
reply is linked and its attachments are kept up to where the message was cut off; the rest are named as left in
the mailbox (`butler.rights.followup`). Here each such reply is found again by its Message-ID, read whole and
read-only (IMAP EXAMINE and BODY.PEEK), and its attachments kept; a signed `attachments` event says so.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from typing import Any

from butler.mail.errors import MailSourceError
from butler.mail.sources import MailSource
from butler.rights import attachments, requests
from butler.vault import Vault

__all__ = ["MAX_MESSAGE", "keep_left"]

MAX_MESSAGE = attachments.MAX_BYTES * 3 // 2  # a message carrying the largest attachment kept, base64-encoded


def _left(vault: Vault) -> list[tuple[str, str, dict[str, Any]]]:
    """(reference, company, reply) for every reply that left attachments in the mailbox."""
    out = []
    for reference in requests.references(vault):
        state = requests.request(vault, reference)
        if state is None:
            continue
        for reply in state.replies:
            if reply.get("left_in_mailbox") and reply.get("message_id"):
                out.append((reference, state.company, reply))
    return out


def keep_left(vault: Vault, source: MailSource, folders: Sequence[str]) -> int:
    """Look for the replies that left attachments in the mailbox in `folders` and keep what they carry; returns
    how many attachments were kept. A message no longer there, or too large, stays as it was."""
    kept_in_all = 0
    for reference, company, reply in _left(vault):
        message_id = str(reply["message_id"])
        raw = None
        for folder in folders:
            try:
                uids = source.find_message(folder, message_id)
                raw = next((r for r in (source.fetch_whole(folder, uid, MAX_MESSAGE) for uid in uids) if r), None)
            except MailSourceError:
                continue
            if raw is not None:
                break
        if raw is None:
            continue
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        before = {str(i) for i in reply.get("attachments", [])}
        kept = attachments.keep(vault, reference, message, message_id)
        stored = [k["id"] for k in kept if "id" in k and k["id"] not in before]
        left = [k["filename"] for k in kept if "id" not in k]
        if not stored and left == reply["left_in_mailbox"]:
            continue
        requests.append(vault, reference, company, "attachments", place="mailbox", details={
            "message_id": message_id, "attachments": stored, "left_in_mailbox": left,
            "summary": f"{len(stored)} attachment(s) kept from the whole reply"
                       + (f", {len(left)} still left in your mailbox (too large)" if left else "")})
        kept_in_all += len(stored)
    return kept_in_all
