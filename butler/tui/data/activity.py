"""What happened since the person last looked, summarised from the audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from butler.atomic import atomic_write
from butler.vault import AuditEntry

if TYPE_CHECKING:
    pass


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


