"""Who really sent a message, as far as its headers tell: `trust` signals for a sender that is who it says it is,
and a `spam` signal for one whose authentication failed.

Spam is deceptive or unsolicited mail; legitimate bulk from a known organisation (an elected official's office,
a charity, a newspaper) is not spam whatever words it uses. What tells them apart without looking anything up:
the receiving server's `Authentication-Results` (DKIM, DMARC) for the From domain, a DKIM signature by the From
domain, an unsubscribe address at the From domain, and a public body's domain. None of this is proof on its own
(headers can be written by anyone before the person's provider adds its own results); together with bulk
sending it is enough to stop calling such mail spam, never enough to keep a promotion in the inbox.
"""

from __future__ import annotations

import re

from butler.mail.evidence import Signal, org_domain
from butler.mail.message import MailFacts

__all__ = ["CONTENT_SPAM", "DECEPTION", "provenance_signals"]

# spam signals read from the words only: a legitimate bulk sender may use any of them (a "Dear friend" letter
# from a representative, a newspaper's story about debt or a lottery)
CONTENT_SPAM = frozenset({"scam-or-junk-vocabulary", "a-generic-greeting", "big-money", "hidden-recipients"})
# spam signals about how the message was sent: no legitimacy outweighs them
DECEPTION = frozenset({"spam-flag", "random-sender", "footer-without-header", "authentication-failed",
                       "no-message-id"})

_RESULT = re.compile(r"\b(dkim|dmarc|spf)\s*=\s*([a-z]+)(?:[^;]*?\bheader\.(?:d|i|from)\s*=\s*@?([a-z0-9.-]+))?")
_DKIM_DOMAIN = re.compile(r"(?:^|;)\s*d\s*=\s*([a-z0-9.-]+)")
_UNSUB_HOST = re.compile(r"<\s*(?:https?://|mailto:[^@>]*@)([a-z0-9.-]+)")
# domains of public bodies (governments, parliaments), by the names their registries reserve for them
_PUBLIC_BODY = re.compile(r"(?:^|\.)(?:gov|gouv|gob|gv|govt|bund|admin|parliament|europa|senate|house|mil)"
                          r"(?:\.[a-z]{2,3})?$|\.gc\.ca$|\.bundestag\.de$")


def _results(f: MailFacts) -> list[tuple[str, str, str]]:
    """(method, result, domain) from the first Authentication-Results field (the receiving server's)."""
    value = f.raw_headers.get("authentication-results", "").lower()
    return [(m.group(1), m.group(2), m.group(3) or "") for m in _RESULT.finditer(value)] if value else []


def provenance_signals(f: MailFacts) -> list[Signal]:
    """Trust signals (the From domain signed or vouched for the message) and failed authentication (spam)."""
    if not f.sender_domain:
        return []
    own = org_domain(f.sender_domain)
    out: list[Signal] = []
    results = _results(f)
    dkim_pass = any(m == "dkim" and r == "pass" and d and org_domain(d) == own for m, r, d in results)
    if dkim_pass:
        out.append(Signal("trust", "dkim-aligned", 2.0, f"the receiving server verified a DKIM signature by {own}"))
    elif "dkim-signature" in f.raw_headers:
        signed = _DKIM_DOMAIN.search(f.raw_headers["dkim-signature"].lower())
        if signed and org_domain(signed.group(1)) == own:
            out.append(Signal("trust", "dkim-signed", 1.0, f"signed (DKIM) by its own domain, {own}"))
    if any(m == "dmarc" and r == "pass" for m, r, _ in results):
        out.append(Signal("trust", "dmarc-pass", 1.0, "its From domain passed DMARC"))
    elif any(m == "dmarc" and r == "fail" for m, r, _ in results) or (
            not dkim_pass and any(m == "dkim" and r == "fail" for m, r, _ in results)
            and any(m == "spf" and r == "fail" for m, r, _ in results)):
        out.append(Signal("spam", "authentication-failed", 1.5, "its sender failed authentication (DMARC, or DKIM "
                          "and SPF)"))
    unsub = _UNSUB_HOST.search(f.raw_headers.get("list-unsubscribe", "").lower())
    if unsub and org_domain(unsub.group(1)) == own:
        out.append(Signal("trust", "unsubscribe-aligned", 0.5, f"its unsubscribe address is at {own}"))
    if _PUBLIC_BODY.search(f.sender_domain.lower()):
        out.append(Signal("trust", "public-body", 1.0, f"sent from a public body's domain ({f.sender_domain})"))
    return out
