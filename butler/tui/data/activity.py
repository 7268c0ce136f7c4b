"""What happened since the person last looked, summarised from the audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from butler.atomic import atomic_write
from butler.vault import AuditEntry

__all__ = ["describe_entry", "read_seen", "summarize_activity", "write_seen"]

SEEN_FILE = "tui-seen.json"


# -- "since you last looked" -------------------------------------------------------------------------------
def read_seen(home: Path) -> int:
    """The audit sequence number the person had seen when they last closed the TUI (-1: never)."""
    try:
        data = json.loads((home / SEEN_FILE).read_text(encoding="utf-8"))
        return int(data.get("audit_seq", -1))
    except (OSError, ValueError, TypeError, AttributeError):
        return -1


def write_seen(home: Path, audit_seq: int) -> None:
    seen = {"audit_seq": audit_seq, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    atomic_write(home / SEEN_FILE, json.dumps(seen).encode())


def summarize_activity(entries: list[AuditEntry]) -> list[str]:
    """What the butler did, as a few sentences, from audit entries."""
    mail_moved = sweeps = 0
    offers: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for e in entries:
        if e.action == "mail.sweep":
            sweeps += 1
            mail_moved += int(e.details.get("moved", 0) or 0)
        elif e.action.startswith("negotiate.") and e.action.endswith("-offer"):
            offers[e.subject.split("/", 1)[0]] += 1
        elif e.action == "vault.put" and e.subject.startswith("approvals/purchase-"):
            count["purchase proposed"] += 1
        elif e.action == "vault.put" and e.subject.startswith("negotiations/"):
            count["negotiation"] += 1
        elif e.action == "vault.put" and e.subject.startswith("approvals/"):
            count["queued"] += 1
        elif e.action.startswith("terms.") and e.action not in ("terms.discover", "terms.choice", "terms.key"):
            count["terms record"] += 1
        elif e.action in ("approval.approved", "approval.rejected") or e.action.startswith("mail.unsubscribe."):
            count[e.action] += 1
        else:
            count["other"] += 1
    lines = []
    if sweeps:
        lines.append(f"Mail: {sweeps} sweep{'s' if sweeps != 1 else ''} moved {mail_moved} message(s)")
    if offers:
        vendors = ", ".join(sorted(offers))
        lines.append(f"Offers: {sum(offers.values())} exchanged with {vendors}")
    if count["negotiation"]:
        lines.append(f"Negotiations finished: {count['negotiation']}")
    if count["purchase proposed"]:
        lines.append(f"Savings proposed: {count['purchase proposed']} deal(s) wait for your approval")
    if count["terms record"]:
        lines.append(f"Agreements: {count['terms record']} MyTerms record(s) signed")
    if count["mail.unsubscribe.sent"] or count["mail.unsubscribe.proposed"]:
        lines.append(f"Unsubscribes: {count['mail.unsubscribe.proposed']} proposed, "
                     f"{count['mail.unsubscribe.sent']} sent")
    if count["queued"]:
        lines.append(f"Queued for you: {count['queued']} other item(s)")
    if count["approval.approved"] or count["approval.rejected"]:
        lines.append(f"Your answers: {count['approval.approved']} approved, {count['approval.rejected']} rejected")
    if count["other"]:
        lines.append(f"Other changes: {count['other']}")
    return lines


# what an audit entry says, in words; the subject follows
_WORDS = {
    "mail.sweep": "mail sweep", "mail.undo": "you put mail back", "mail.unsubscribe.proposed": "unsubscribe proposed",
    "mail.unsubscribe.sent": "unsubscribed", "mail.unsubscribe.refused": "unsubscribe refused",
    "negotiate.purchased": "bought", "negotiate.mandate-purchase": "bought under your mandate",
    "negotiate.buy-denied": "purchase refused by your policies", "negotiate.checkout-refused": "checkout refused",
    "negotiate.walked-away": "walked away", "negotiate.cast": "asked vendors for offers",
    "approval.approved": "you approved", "approval.rejected": "you rejected", "approval.done": "done",
    "approval.queued": "waits for you", "renewal.proposed": "renewal proposed", "vault.put": "saved",
    "vault.create": "vault created",
}


def describe_entry(entry: AuditEntry) -> str:
    """One audit entry in words: "mail sweep: moved 3 of 20 (person@home.example)"."""
    words = _WORDS.get(entry.action, entry.action.replace(".", " ").replace("-", " "))
    if entry.action == "mail.sweep":
        words += f": moved {entry.details.get('moved', 0)} of {entry.details.get('examined', '?')}"
    elif entry.action in ("negotiate.purchased", "negotiate.mandate-purchase") and entry.details.get("total"):
        words += f" for {entry.details['total']}"
    # the vault's own entries name it by its id: an id, not words
    subject = "" if entry.action.startswith("vault.") else entry.subject
    return f"{words} ({subject})" if subject else words
