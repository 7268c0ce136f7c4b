"""The desk's kind "unsubscribe": a request to stop a sender's mail, sent at most once when approved.

Approving sends it at once: a one-click POST, or a `mailto:` message through the SMTP server in the mail
settings (without one it stays approved and is mailed once one is set up). The desk marks it executing before the
send, so a crash can never send it twice: an interrupted request needs the person's attention instead.
Rejecting only marks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from butler.approvals import Item, Kind, Outcome, State
from butler.mail.account import load_settings, smtp_sender
from butler.mail.unsubscribe import KIND as UNSUBSCRIBE
from butler.mail.unsubscribe import send_one
from butler.vault import Vault

__all__ = ["KIND", "UnsubscribeApprovals", "UnsubscribeItem"]


class UnsubscribeItem(Item):
    kind: Literal["unsubscribe"] = "unsubscribe"
    sender: str
    method: Literal["one-click", "mailto"] = "one-click"
    url: str | None = None
    to: str | None = None
    subject: str | None = None
    body: str | None = None

    def summary(self) -> str:
        how = f"by mail to {self.to}" if self.method == "mailto" else "one-click"
        return f"unsubscribe from {self.sender} ({how})"

    def confirmation(self) -> str:
        target = f"a message to {self.to}" if self.method == "mailto" else f"a one-click request to {self.url}"
        return f"Unsubscribe from {self.sender} by sending {target}? It is sent once."


@dataclass
class UnsubscribeApprovals:
    """`allow_loopback` and `transport` exist for tests and local setups; the default refuses loopback."""

    allow_loopback: bool = False
    transport: httpx.BaseTransport | None = None

    def execute(self, vault: Vault, item: UnsubscribeItem) -> Outcome:
        smtp = smtp_sender(vault)
        if item.method == "mailto" and smtp is None:
            return Outcome(State.APPROVED, f"unsubscribe from {item.sender} approved; it is mailed to {item.to} "
                                           "once an SMTP server is set up (`butler mail setup … --smtp-host HOST`)")
        allow_loopback = self.allow_loopback or load_settings(vault).allow_loopback_unsubscribe
        result = send_one(vault, item.wire(), allow_loopback=allow_loopback, transport=self.transport, smtp=smtp)
        if result is None:
            return Outcome(State.FAILED, f"unsubscribe from {item.sender} not sent: the address was refused "
                                         "(see the audit log)")
        if "error" in result:
            return Outcome(State.FAILED, f"unsubscribe from {item.sender} tried once, but it failed "
                                         f"({result['error']})")
        if item.method == "mailto":
            return Outcome(State.DONE, f"unsubscribed from {item.sender}: asked by mail to {item.to}")
        return Outcome(State.DONE, f"unsubscribed from {item.sender} (the sender answered HTTP {result.get('status')})")

    def reject(self, vault: Vault, item: UnsubscribeItem) -> str:
        return f"unsubscribe from {item.sender} rejected: nothing was sent"

    def reconcile(self, vault: Vault, item: UnsubscribeItem) -> Outcome:
        return Outcome(State.NEEDS_ATTENTION, f"interrupted while unsubscribing from {item.sender}; it may or may "
                                              "not have been sent, and butler never sends twice")


KIND = Kind(UNSUBSCRIBE, UnsubscribeItem, UnsubscribeApprovals())
