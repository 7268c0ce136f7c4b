"""The approval-queue handler for unsubscribe requests (see `butler.approvals`).

Approving marks the request approved and sends it at once, through `send_approved`, which claims each request
before sending: a request is sent at most once, however often it is approved. A `mailto:` request is mailed
through the SMTP server in the mail settings; without one it stays approved until one is set up. Rejecting
only marks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from butler.mail.account import smtp_sender
from butler.mail.unsubscribe import approve, send_approved
from butler.vault import Vault

__all__ = ["HANDLER", "UnsubscribeApprovals"]


@dataclass
class UnsubscribeApprovals:
    """`allow_loopback` and `transport` exist for tests and local setups; the default refuses loopback."""

    allow_loopback: bool = False
    transport: httpx.BaseTransport | None = None

    def approve(self, vault: Vault, item_id: str) -> str:
        item = approve(vault, item_id)
        sender = str(item.get("sender", ""))
        smtp = smtp_sender(vault)
        if item.get("method") == "mailto" and smtp is None:
            return (f"unsubscribe from {sender} approved; it is mailed to {item.get('to')} once an SMTP server is "
                    "set up (`butler mail setup … --smtp-host HOST`)")
        sent = send_approved(vault, allow_loopback=self.allow_loopback, transport=self.transport, smtp=smtp)
        result = next((r for r in sent if r.get("id") == item_id), None)
        if result is None:
            return f"unsubscribe from {sender} approved, but not sent: the address was refused (see the audit log)"
        if "error" in result:
            return f"unsubscribe from {sender} approved and tried once, but it failed ({result['error']})"
        if item.get("method") == "mailto":
            return f"unsubscribed from {sender}: asked by mail to {item.get('to')}"
        return f"unsubscribed from {sender} (the sender answered HTTP {result.get('status')})"

    def reject(self, vault: Vault, item_id: str) -> str:
        sender = str(approve(vault, item_id, reject=True).get("sender", ""))
        return f"unsubscribe from {sender} rejected: nothing was sent"


HANDLER = UnsubscribeApprovals()
