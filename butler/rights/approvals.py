"""The desk's kind "data-request": a GDPR request, an admonition or a complaint, sent once when approved.

Approving sends it by e-mail through the person's SMTP server (the same sender as `mailto:` unsubscribes) when
one is set up and the addressee has an e-mail address; otherwise it is written as a letter (text and PDF) to
print and post. Either way a signed event records it. The desk marks the item executing before the send, so a
crash never sends twice: an interrupted item needs the person's attention instead.
"""

from __future__ import annotations

from typing import Literal

from butler.approvals import Item, Kind, Outcome, State, item_id, submit
from butler.errors import ButlerError
from butler.mail.account import smtp_sender
from butler.rights import requests
from butler.rights.letters import page, write_letter
from butler.vault import Vault

__all__ = ["KIND", "NAME", "DataRequestApprovals", "DataRequestItem", "make_id", "propose"]

NAME = "data-request"
LetterKind = Literal["request", "admonition", "complaint"]


class DataRequestItem(Item):
    kind: Literal["data-request"] = "data-request"
    reference: str
    company: str
    addressee: str
    letter: LetterKind = "request"
    to: str = ""
    subject: str
    body: str
    language: str = "en"
    recipient: str = ""  # postal: name and address
    sender: str = ""  # postal: the person's name and address, for a printed letter

    def summary(self) -> str:
        how = f"by mail to {self.to}" if self.to else "as a letter to print"
        return f"{self.letter} {self.reference} to {self.addressee} ({how})"

    def details(self) -> list[str]:
        return [f"Subject: {self.subject}", "", *self.body.splitlines()]

    def confirmation(self) -> str:
        target = f"by mail to {self.to}" if self.to else "as a letter (text and PDF) for you to print and post"
        return f"Send this {self.letter} to {self.addressee} {target}? It is sent once."


def propose(vault: Vault, item: DataRequestItem) -> bool:
    """Queue `item` for the person's approval; False when this letter of this request was queued before."""
    return submit(vault, item)


def make_id(reference: str, letter: str) -> str:
    return item_id(NAME, f"{reference}-{letter}")


class DataRequestApprovals:
    """Carries out an approved request letter: mail it, or write it to print."""

    def execute(self, vault: Vault, item: DataRequestItem) -> Outcome:
        smtp = smtp_sender(vault) if item.to else None
        if smtp is not None:
            message_id = smtp.send(item.to, item.subject, item.body)  # MailError: failed, nothing to retry blindly
            try:
                requests.append(vault, item.reference, item.company, "sent", place="email",
                                details={"letter": item.letter, "to": item.to, "message_id": message_id,
                                         "summary": f"{item.letter} mailed to {item.to}"})
            except ButlerError as exc:  # it left: never "failed", which would invite sending it again
                return Outcome(State.NEEDS_ATTENTION, f"{item.letter} {item.reference} was mailed to {item.to}, "
                                                      f"but its record could not be written ({exc.message})",
                               {"message_id": message_id})
            return Outcome(State.DONE, f"{item.letter} {item.reference} mailed to {item.to}",
                           {"message_id": message_id})
        text = page(sender=item.sender, recipient=item.recipient, subject=item.subject, body=item.body,
                    on=requests.now().date())
        files = write_letter(vault.home, f"{item.reference}-{item.letter}", text, title=item.subject)
        requests.append(vault, item.reference, item.company, "letter", place="post",
                        details={"letter": item.letter, "files": [f.name for f in files],
                                 "summary": f"{item.letter} written as a letter to print ({files[1].name})"})
        why = "it goes by post" if not item.to else "no SMTP server is set up"
        return Outcome(State.DONE, f"{item.letter} {item.reference} written as a letter ({why}): print and post "
                                   f"{files[1]}", {"files": [str(f) for f in files]})

    def reject(self, vault: Vault, item: DataRequestItem) -> str:
        requests.append(vault, item.reference, item.company, "closed", place="desk",
                        details={"letter": item.letter, "summary": f"{item.letter} rejected: nothing was sent"})
        return f"{item.letter} {item.reference} rejected: nothing was sent"

    def reconcile(self, vault: Vault, item: DataRequestItem) -> Outcome:
        return Outcome(State.NEEDS_ATTENTION, f"interrupted while sending {item.letter} {item.reference} to "
                                              f"{item.addressee}; it may or may not have left, and butler never "
                                              "sends twice: check your sent mail")


KIND = Kind(NAME, DataRequestItem, DataRequestApprovals())
