"""Attachments a reply was cut off in, kept from the whole message.

Discovery and the mail sweep read the first 256 KB of a message, and a company's data export is often larger: the
reply is linked and its attachments are kept up to where the message was cut off; the rest are named as left in
the mailbox (`butler.rights.followup`). Here each such reply is found again by its Message-ID, read whole and
read-only (IMAP EXAMINE and BODY.PEEK), and its attachments kept; a signed `attachments` event says so.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Sequence
from typing import Any

from butler.mail.errors import MailSourceError, absent_unless_lost
from butler.mail.message import read_facts
from butler.mail.sources import MailSource
from butler.rights import attachments, requests
from butler.vault import Vault

__all__ = ["MAX_MESSAGE", "keep_left"]

MAX_MESSAGE = attachments.MAX_BYTES * 3 // 2  # a message carrying the largest attachment kept, base64-encoded
LOOK_DAYS = 90  # a reply not found (moved, deleted) is looked for this long after it came


def _left(vault: Vault, now: dt.datetime) -> list[tuple[str, str, dict[str, Any]]]:
    """(reference, company, reply) for each reply of an open request, of the last LOOK_DAYS, that left
    attachments in the mailbox and was not read whole yet."""
    out = []
    for reference in requests.references(vault):
        state = requests.request(vault, reference)
        if state is None or state.closed_at is not None:
            continue
        for reply in state.replies:
            recent = dt.datetime.fromisoformat(str(reply["at"])) > now - dt.timedelta(days=LOOK_DAYS)
            if reply.get("left_in_mailbox") and reply.get("message_id") and not reply.get("read_whole") and recent:
                out.append((reference, state.company, reply))
    return out


def _whole(source: MailSource, folders: Sequence[str], reply: dict[str, Any]) -> bytes | None:
    """The reply read whole: the message in `folders` with its Message-ID and its sender (anyone can reuse a
    Message-ID; the company's address is what linked the reply), or None."""
    sender = str(reply.get("from", "")).lower()
    for folder in folders:
        try:
            for uid in source.find_message(folder, str(reply["message_id"])):
                raw = source.fetch_whole(folder, uid, MAX_MESSAGE)
                if raw is not None and sender and read_facts(raw).sender == sender:
                    return raw
        except MailSourceError as exc:
            absent_unless_lost(exc, None)
    return None


def keep_left(vault: Vault, source: MailSource, folders: Sequence[str], *, now: dt.datetime | None = None) -> int:
    """Look for the replies that left attachments in the mailbox in `folders` and keep what they carry; returns
    how many attachments were kept. Each reply is read whole once (an `attachments` event says so, whatever it
    kept); one not found is looked for again by the next run, for LOOK_DAYS after it came."""
    kept_in_all = 0
    for reference, company, reply in _left(vault, now or requests.now()):
        raw = _whole(source, folders, reply)
        if raw is None:
            continue
        message_id = str(reply["message_id"])
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        before = {str(i) for i in reply.get("attachments", [])}
        kept = attachments.keep(vault, reference, message, message_id)
        stored = [k["id"] for k in kept if "id" in k and k["id"] not in before]
        left = [k["filename"] for k in kept if "id" not in k]
        requests.append(vault, reference, company, "attachments", place="mailbox", details={
            "message_id": message_id, "attachments": stored, "left_in_mailbox": left,
            "summary": f"{len(stored)} attachment(s) kept from the whole reply"
                       + (f", {len(left)} still left in your mailbox (too large)" if left else "")})
        kept_in_all += len(stored)
    return kept_in_all
