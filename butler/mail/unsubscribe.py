"""Unsubscribing per RFC 8058 (or by mail, when SMTP is set up), only through the approval queue, and the GDPR
letter for senders who ignore it.

Butler unsubscribes when the sender offers `List-Unsubscribe-Post: List-Unsubscribe=One-Click` with an https URI
in `List-Unsubscribe`, by POSTing the body `List-Unsubscribe=One-Click`. It never opens links found in the
message body, never follows redirects, and refuses private, loopback and link-local addresses (loopback only
with an explicit allowance, for tests and local setups). The POST goes through the one egress
(`butler.sdk.egress`): the name is resolved once, at the send, and the request goes to the address that was
checked, so DNS cannot send it elsewhere afterwards; the sender's answer is read up to ANSWER_CAP bytes.
A sender that offers only a `mailto:` URI (RFC 2369) is written to, through the person's SMTP server, and only
when one is set up: one message to that one address, with the subject and body the URI names (RFC 6068); other
fields in the URI (To, Cc, Bcc, …) are ignored, so the sender cannot add recipients. Each request waits in the
vault's `approvals` collection until the person approves it, unless they set a standing rule; it is sent at most
once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from butler.approvals import COLLECTION as APPROVALS
from butler.approvals import Item, State, annotate, item_id, move, raw_items, submit
from butler.errors import ButlerError
from butler.mail.errors import UnsubscribeRefused
from butler.mail.state import now_iso
from butler.policy import PolicySet, UnsubscribeAction, Verdict, evaluate
from butler.sdk import HostNotAllowed
from butler.sdk.egress import HostPolicy, ResponseTooLarge, UndecodableResponse, sync_client
from butler.vault import Vault

if TYPE_CHECKING:
    from butler.mail.smtp import SmtpSender

__all__ = ["APPROVALS", "KIND", "MailtoRequest", "mailto_request", "objection_letter", "one_click_url",
           "pending", "propose", "requests", "send_approved", "send_one"]

KIND = "unsubscribe"
ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"
ANSWER_CAP = 64 * 1024  # only the status matters; a sender's page is never read in full
DEADLINE_SECONDS = 15.0
_URI = re.compile(r"<\s*([^>\s]{1,2000})\s*>")
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


@dataclass(frozen=True)
class MailtoRequest:
    """One unsubscribe message: to one address, with the subject and body a `mailto:` URI names."""

    to: str
    subject: str
    body: str


def mailto_request(headers: dict[str, str]) -> MailtoRequest:
    """The first usable `mailto:` URI in List-Unsubscribe (RFC 2369, RFC 6068); else UnsubscribeRefused.

    Exactly one plain address is accepted; the URI's subject and body are kept (decoded, without line breaks in
    the subject) and every other field is ignored, so a sender cannot add recipients or headers.
    """
    for uri in _URI.findall(headers.get("list-unsubscribe", "")):
        if not uri.lower().startswith("mailto:"):
            continue
        target, _, query = uri[len("mailto:"):].partition("?")
        address = unquote(target)
        if not _ADDRESS.fullmatch(address):
            continue  # several addresses, a display name, control characters: not one plain address
        fields = {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}
        subject = " ".join(fields.get("subject", "").split())[:200] or "unsubscribe"
        body = fields.get("body", "").replace("\r\n", "\n").replace("\r", "\n")[:2000]
        return MailtoRequest(address, subject, body)
    raise UnsubscribeRefused("List-Unsubscribe has no mailto: URI with one plain address")


def one_click_url(headers: dict[str, str], *, allow_loopback: bool = False) -> str:
    """The URI to POST to, if the headers offer RFC 8058 one-click and it is safe; else UnsubscribeRefused."""
    post = headers.get("list-unsubscribe-post", "").strip()
    if post.replace(" ", "").lower() != "list-unsubscribe=one-click":
        raise UnsubscribeRefused("the sender does not offer one-click unsubscribe (RFC 8058)")
    uris = _URI.findall(headers.get("list-unsubscribe", ""))
    for uri in uris:
        if uri.lower().startswith("https://") or (allow_loopback and uri.lower().startswith("http://")):
            check_endpoint(uri, allow_loopback=allow_loopback)
            return str(uri)
    raise UnsubscribeRefused("List-Unsubscribe has no https URI")


def _policy(allow_loopback: bool) -> HostPolicy:
    return HostPolicy.public(allow_loopback=allow_loopback, who="unsubscribe")


def _check_form(uri: str, allow_loopback: bool) -> None:
    """Refuse a URI that is not https with a host (plain http only to 127.0.0.1, with the allowance)."""
    if any(ch in uri for ch in "\r\n\t "):
        raise UnsubscribeRefused("the unsubscribe URI contains whitespace or line breaks")
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if not host:
        raise UnsubscribeRefused("the unsubscribe URI has no host")
    if parts.scheme != "https" and not (allow_loopback and host == "127.0.0.1"):
        raise UnsubscribeRefused("only https unsubscribe URIs are used")


def check_endpoint(uri: str, *, allow_loopback: bool = False) -> None:
    """Refuse URIs that are not https, or whose host is written as a private, loopback or otherwise internal
    address (or is `localhost`). No name is looked up here: proposing runs inside a sweep, and the sender's name is
    resolved, and its addresses checked, only when the request is sent (`send_one`, through the one egress)."""
    _check_form(uri, allow_loopback)
    try:
        url = httpx.URL(uri)
        _policy(allow_loopback).target(url)  # an address written in the URL is checked as written
    except HostNotAllowed as exc:
        raise UnsubscribeRefused(exc.message) from None
    except (httpx.InvalidURL, UnicodeError):
        raise UnsubscribeRefused("the unsubscribe URI does not parse") from None
    host = url.host.lower().rstrip(".")
    if not allow_loopback and (host == "localhost" or host.endswith(".localhost")):  # RFC 6761: always loopback
        raise UnsubscribeRefused(f"{host} is this machine, not the sender")


def requests(vault: Vault, *, state: str | None = None, sender: str | None = None) -> list[dict[str, Any]]:
    """The unsubscribe requests in the approvals queue, only those in `state` or to `sender` when given."""
    return [d for d in raw_items(vault, KIND) if (state is None or d.get("state") == state)
            and (sender is None or d.get("sender") == sender)]


def pending(vault: Vault) -> list[dict[str, Any]]:
    return requests(vault, state="pending")


def propose(vault: Vault, sender: str, headers: dict[str, str], *, policies: PolicySet | None = None,
            standing_rule: bool = False, allow_loopback: bool = False, why: str = "",
            by_mail: bool = False) -> dict[str, Any] | None:
    """Queue an unsubscribe from `sender` (approved at once under a standing rule); None if refused.

    One-click comes first; a `mailto:` request only when `by_mail` (an SMTP server is set up).
    """
    if any(d.get("state") in ("pending", "approved", "done") for d in requests(vault, sender=sender)):
        return None
    target: dict[str, Any]
    try:
        target = {"method": "one-click", "url": one_click_url(headers, allow_loopback=allow_loopback)}
    except UnsubscribeRefused:
        if not by_mail:
            return None
        try:
            request = mailto_request(headers)
        except UnsubscribeRefused:
            return None
        target = {"method": "mailto", "to": request.to, "subject": request.subject, "body": request.body}
    reasons = [why] if why else []
    verdict = Verdict.ASK
    if policies is not None:
        decision = evaluate(UnsubscribeAction(sender=sender, method=target["method"]), policies)
        if decision.verdict is Verdict.DENY:
            return None
        reasons += [r.text for r in decision.reasons]
        verdict = decision.verdict
    state = State.APPROVED if standing_rule and verdict is not Verdict.DENY else State.PENDING
    item = Item.model_validate({"id": item_id(KIND, secrets.token_hex(4)), "kind": KIND, "sender": sender,
                                **target, "state": state, "reasons": reasons, "created": now_iso()})
    submit(vault, item, by="rule" if state is State.APPROVED else "butler")
    vault.audit.append("mail.unsubscribe.proposed", sender, {"id": item.id, "state": state.value})
    return item.wire()


def send_approved(vault: Vault, *, allow_loopback: bool = False, transport: httpx.BaseTransport | None = None,
                  smtp: SmtpSender | None = None) -> list[dict[str, Any]]:
    """Send every request a standing rule approved, once: a one-click POST, or a `mailto:` message through
    `smtp`. The item is marked done before sending: at most once, never twice. A `mailto:` request waits,
    approved, while no SMTP server is set up. (Requests the person approves are sent by the desk's handler.)"""
    sent = []
    for data in requests(vault, state="approved"):
        if data.get("method") == "mailto" and smtp is None:
            continue
        item_id = str(data["id"])
        try:
            item = move(vault, item_id, State.DONE, by="rule", why="sent under your standing rule")
        except ButlerError:
            continue  # the request changed meanwhile
        result = send_one(vault, item, allow_loopback=allow_loopback, transport=transport, smtp=smtp)
        if result is not None:
            sent.append(result)
    return sent


def send_one(vault: Vault, item: dict[str, Any], *, allow_loopback: bool = False,
             transport: httpx.BaseTransport | None = None, smtp: SmtpSender | None = None) -> dict[str, Any] | None:
    """Send one request the caller has already claimed; the result (status or error), or None when refused."""
    item_id = str(item["id"])
    result: dict[str, Any] = {"id": item_id, "sender": item["sender"]}
    if item.get("method") == "mailto" and smtp is not None:
        try:
            result["message_id"] = smtp.send(str(item["to"]), str(item.get("subject") or "unsubscribe"),
                                             str(item.get("body") or ""))
            result["status"] = f"mailed {item['to']}"
        except ButlerError as exc:
            result["error"] = exc.message
    else:
        try:
            _check_form(str(item["url"]), allow_loopback)
            with sync_client(_policy(allow_loopback), inner=transport, max_bytes=ANSWER_CAP,
                             deadline=DEADLINE_SECONDS) as client:
                response = client.post(str(item["url"]), content=ONE_CLICK_BODY,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
            result["status"] = response.status_code
        except (UnsubscribeRefused, HostNotAllowed) as exc:
            vault.audit.append("mail.unsubscribe.refused", str(item.get("sender")), {"why": exc.message})
            return None
        except (httpx.HTTPError, ResponseTooLarge, UndecodableResponse) as exc:
            result["error"] = type(exc).__name__
    annotate(vault, item_id, sent_at=now_iso(), **{k: v for k, v in result.items() if k in ("status", "error")})
    vault.audit.append("mail.unsubscribe.sent", str(item["sender"]), result)
    return result


_HOW = {"one-click": "using the one-click unsubscribe mechanism you provide (RFC 8058)",
        "mailto": "by writing to the unsubscribe address your messages name (List-Unsubscribe)"}


def objection_letter(sender: str, *, unsubscribed_on: str, person: str = "", messages_since: int = 0,
                     method: str = "one-click") -> str:
    """A GDPR Art. 21(2)-(3) objection to direct marketing, for a sender who kept writing after unsubscribing
    (`method`: how the unsubscribe was sent, "one-click" or "mailto")."""
    domain = sender.rpartition("@")[2] or sender
    signature = person or "[your name]"
    how = _HOW.get(method, "using the unsubscribe mechanism you provide")
    return f"""To: the data protection officer of {domain}
Subject: Objection to direct marketing under Article 21(2) GDPR

I object, under Article 21(2) of the General Data Protection Regulation, to the processing of my personal data
for direct marketing, including profiling related to it. Under Article 21(3) my data must no longer be
processed for such purposes.

I unsubscribed from your mailings (sender {sender}) on {unsubscribed_on} {how}.
Since then I have received {messages_since or 'further'} marketing message(s).

Please:
1. stop all direct marketing to me, by every channel, without undue delay;
2. confirm in writing, within one month (Article 12(3)), that you have done so;
3. tell me the recipients to whom my data was disclosed for marketing (Article 15(1)(c)), and inform them of
   this objection (Article 19).

If marketing continues I will lodge a complaint with the supervisory authority (Article 77).

{signature}
"""
