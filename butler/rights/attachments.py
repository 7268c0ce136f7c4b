"""The vault collection `request_attachments`: what companies sent back (the data export), kept encrypted in the
vault with the request it answers. The only code that reads or writes it."""

from __future__ import annotations

import base64
import hashlib
from email import errors
from email.message import Message
from typing import Any

from butler.records import Collection
from butler.vault import Vault

__all__ = ["COLLECTION", "MAX_BYTES", "RECORDS", "keep", "load", "of"]

COLLECTION = "request_attachments"
RECORDS = Collection(COLLECTION, __name__, "files companies sent in answer to a request (their data export)",
                     id_scheme="<reference>/<sha256 prefix>", secret_fields=frozenset({"data"}))
MAX_BYTES = 25 * 1024 * 1024


def _cut_off(message: Message) -> Message | None:
    """The part a message was cut off in (its multipart never closes: butler read only its first bytes), or None."""
    if not any(isinstance(d, errors.CloseBoundaryNotFoundDefect) for p in message.walk() for d in p.defects):
        return None
    leaves = [p for p in message.walk() if not p.is_multipart()]
    return leaves[-1] if leaves else None


def keep(vault: Vault, reference: str, message: Message, message_id: str) -> list[dict[str, Any]]:
    """Store every attachment of `message` under `reference` (each once); returns what was kept or skipped. An
    attachment the message was cut off in is not stored: the whole file stays in the mailbox."""
    kept = []
    cut = _cut_off(message)
    for part in message.walk():
        filename = part.get_filename()
        if not filename or part.is_multipart():
            continue
        if part is cut:
            kept.append({"filename": filename[:200], "content_type": part.get_content_type(),
                         "message_id": message_id, "skipped": "cut off (butler reads the first 256 KB of a "
                                                               "message): the whole file stays in your mailbox"})
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        digest = hashlib.sha256(payload).hexdigest()
        entry: dict[str, Any] = {"filename": filename[:200], "content_type": part.get_content_type(),
                                 "size": len(payload), "sha256": digest, "message_id": message_id}
        if len(payload) > MAX_BYTES:
            kept.append({**entry, "skipped": f"larger than {MAX_BYTES // (1024 * 1024)} MB: kept in your mailbox"})
            continue
        record_id = f"{reference}/{digest[:16]}"
        if vault.get(COLLECTION, record_id) is None:
            vault.put(COLLECTION, record_id, {**entry, "data": base64.b64encode(payload).decode()})
        kept.append({**entry, "id": record_id})
    return kept


def of(vault: Vault, reference: str) -> list[dict[str, Any]]:
    """The attachments kept for a request, without their contents."""
    return [{k: v for k, v in r.data.items() if k != "data"} | {"id": r.id}
            for r in vault.records(COLLECTION) if r.id.startswith(reference + "/")]


def load(vault: Vault, record_id: str) -> bytes | None:
    record = vault.get(COLLECTION, record_id)
    return None if record is None else base64.b64decode(record.data["data"])
