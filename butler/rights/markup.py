"""What a transactional message says, read from its schema.org markup (JSON-LD and microdata) and, without
markup, from the common receipt shapes (subject and a total). Pure: bytes in, `Reading` out, never raises.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.header
import email.policy
import json
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

__all__ = ["KNOWN_TYPES", "Reading", "Transaction", "json_ld", "microdata", "read"]

KNOWN_TYPES = {"Order": "order", "Invoice": "invoice", "ParcelDelivery": "delivery", "Reservation": "reservation",
               "FlightReservation": "reservation", "LodgingReservation": "reservation",
               "EventReservation": "reservation", "RestaurantReservation": "reservation",
               "TrainReservation": "reservation", "RentalCarReservation": "reservation", "EmailMessage": "action"}
_LD = re.compile(r"""<script[^>]*type\s*=\s*["']?application/ld\+json["']?[^>]*>(.*?)</script>""",
                 re.IGNORECASE | re.DOTALL)
_MARKUP_CAP = 200_000
_SHAPES = [  # subject shapes of transactional mail without markup, in en/de/fr
    ("invoice", re.compile(r"(?i)\b(invoice|receipt|rechnung|quittung|beleg|facture|re[çc]u)\b")),
    ("subscription", re.compile(r"(?i)\b(subscription|abonnement|abo|membership|mitgliedschaft|renewal)\b")),
    ("delivery", re.compile(r"(?i)\b(shipped|dispatched|on its way|versandt|unterwegs|exp[ée]di[ée]e?|delivery|"
                            r"lieferung|livraison)\b")),
    ("order", re.compile(r"(?i)\b(your order|order confirm\w*|bestellung|bestellbest[äa]tigung|commande)\b")),
    ("reservation", re.compile(r"(?i)\b(booking|reservation|buchung|r[ée]servation)\b")),
]
_NUMBER = re.compile(r"(?i)(?:order|invoice|bestellung|rechnung|commande|facture|booking|buchung)\s*"
                     r"(?:no\.?|nr\.?|number|nummer|n°|#)?\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{3,30})\b")
_TOTAL = re.compile(r"(?i)(?:total|summe|gesamt|montant)[^0-9€$£]{0,30}([€$£]|EUR|USD|GBP)?\s*"
                    r"([0-9]{1,6}(?:[.,][0-9]{2})?)\s*([€$£]|EUR|USD|GBP)?")
_CURRENCY = {"€": "EUR", "$": "USD", "£": "GBP"}


@dataclass(frozen=True)
class Transaction:
    """A purchase, invoice, delivery, reservation or subscription a message records."""

    type: str
    number: str = ""
    total: str = ""
    currency: str = ""
    seller: str = ""
    what: str = ""
    source: str = "markup"  # or "shape": read from the subject and text, less sure


@dataclass
class Reading:
    """One message as discovery sees it."""

    address: str = ""
    display_name: str = ""
    domain: str = ""
    subject: str = ""
    date: dt.datetime | None = None
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    organisation: str = ""
    kinds: set[str] = field(default_factory=set)
    transactions: list[Transaction] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # markup that could not be read, said plainly
    message: Message | None = None


def _flatten(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [d for v in value for d in _flatten(v)]
    if isinstance(value, dict):
        return [value, *_flatten(value.get("@graph", []))]
    return []


def json_ld(html: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON-LD objects in an HTML body, and a note for each block that is not JSON."""
    found, problems = [], []
    for block in _LD.findall(html[:_MARKUP_CAP]):
        try:
            found += _flatten(json.loads(block.strip().removeprefix("<!--").removesuffix("-->")))
        except ValueError:
            problems.append("a JSON-LD block is not valid JSON (ignored)")
    return found, problems


class _Microdata(HTMLParser):
    """itemscope/itemtype/itemprop → nested dicts (`@type`), the usual shape of schema.org microdata."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict[str, Any]] = []
        self.stack: list[tuple[str, dict[str, Any]]] = []  # (tag, item)
        self.text_prop: tuple[dict[str, Any], str, int] | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        self.depth += 1
        prop = a.get("itemprop", "").strip()
        if prop or "itemscope" in a:  # a text value ends where the next item or property starts
            self.text_prop = None
        if "itemscope" in a:
            item: dict[str, Any] = {"@type": a.get("itemtype", "").rstrip("/").rsplit("/", 1)[-1]}
            if prop and self.stack:
                self.stack[-1][1][prop] = item
            elif not self.stack:
                self.items.append(item)
            self.stack.append((tag, item))
            return
        if prop and self.stack:
            value = a.get("content") or a.get("href") or a.get("datetime") or a.get("src")
            if value:
                self.stack[-1][1][prop] = value
            else:
                self.stack[-1][1][prop] = ""
                self.text_prop = (self.stack[-1][1], prop, self.depth)

    def handle_data(self, data: str) -> None:
        if self.text_prop is not None:
            item, prop, _ = self.text_prop
            item[prop] = (item[prop] + data).strip()

    def handle_endtag(self, tag: str) -> None:
        if self.text_prop is not None and self.depth <= self.text_prop[2]:
            self.text_prop = None
        if self.stack and self.stack[-1][0] == tag and self.depth <= len(self.stack) + 1000:
            self.stack.pop()
        self.depth -= 1


def microdata(html: str) -> list[dict[str, Any]]:
    parser = _Microdata()
    try:
        parser.feed(html[:_MARKUP_CAP])
        parser.close()
    except (AssertionError, ValueError):  # HTMLParser's own complaints about broken markup
        pass
    return [d for item in parser.items for d in _flatten(item)]


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("legalName") or "")[:200]
    return str(value or "")[:200] if isinstance(value, str) else ""


def _transaction(item: dict[str, Any]) -> Transaction | None:
    kind = KNOWN_TYPES.get(str(item.get("@type", "")).rsplit("/", 1)[-1])
    if kind is None or kind == "action":
        return None
    part_of: dict[str, Any] = item["partOfOrder"] if isinstance(item.get("partOfOrder"), dict) else {}
    seller = _name(item.get("seller") or item.get("merchant") or item.get("provider") or item.get("broker")
                   or part_of.get("merchant") or part_of.get("seller"))
    number = str(item.get("orderNumber") or item.get("confirmationNumber") or item.get("reservationNumber")
                 or item.get("trackingNumber") or item.get("identifier") or "")[:60]
    total = item.get("price") or item.get("totalPrice") or item.get("totalPaymentDue") or ""
    currency = str(item.get("priceCurrency") or "")
    if isinstance(total, dict):
        currency = str(total.get("priceCurrency") or currency)
        total = total.get("price") or total.get("value") or ""
    offered = item.get("acceptedOffer") or item.get("reservationFor") or item.get("itemShipped") or {}
    what = _name(offered[0] if isinstance(offered, list) and offered else offered)
    if not isinstance(offered, list | dict):
        what = ""
    return Transaction(kind, number, str(total)[:30], currency[:3], seller, what)


def _bodies(message: Message) -> tuple[str, str]:
    html: list[str] = []
    text: list[str] = []
    for part in message.walk() if message.is_multipart() else [message]:
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        try:
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            decoded = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        except (LookupError, ValueError):
            continue
        (html if part.get_content_subtype() == "html" else text).append(decoded)
    return "\n".join(html), "\n".join(text)


def _ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]{1,300}>", value or "")


def _decoded(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, raw UTF-8 (which compat32 keeps as 8-bit) too."""
    try:
        parts = email.header.decode_header(value)  # type: ignore[arg-type]  # a str or a Header
    except (email.errors.HeaderParseError, ValueError):
        parts = [(str(value), None)]
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            continue
        try:
            out.append(chunk.decode(charset if charset and charset != "unknown-8bit" else "utf-8", "replace"))
        except LookupError:
            out.append(chunk.decode("utf-8", "replace"))
    return "".join(out)


def read(raw: bytes) -> Reading:
    """What a message says about who sent it and what was bought, booked or billed."""
    reading = Reading()
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # the email package's parser raises many things on hostile input
        reading.problems.append("the message could not be parsed")
        return reading
    reading.message = message
    sender = getaddresses([str(message.get("From", ""))])
    name, address = sender[0] if sender else ("", "")
    reading.address = address.lower()
    reading.domain = reading.address.rpartition("@")[2] if "@" in reading.address else ""
    reading.display_name = _decoded(name)
    reading.subject = " ".join(_decoded(message.get("Subject", "")).split())[:300]
    try:
        reading.date = parsedate_to_datetime(str(message.get("Date", "")))
        if reading.date.tzinfo is None:
            reading.date = reading.date.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, IndexError):
        reading.date = None
    reading.message_id = "".join(str(message.get("Message-ID", "")).split())
    reading.in_reply_to = "".join(str(message.get("In-Reply-To", "")).split())
    reading.references = _ids(str(message.get("References", "")))
    html, text = _bodies(message)
    found, reading.problems = json_ld(html) if "ld+json" in html else ([], [])
    if "itemscope" in html:
        found += microdata(html)
    for item in found:
        kind = KNOWN_TYPES.get(str(item.get("@type", "")).rsplit("/", 1)[-1])
        if kind is None:
            continue
        reading.kinds.add(kind)
        transaction = _transaction(item)
        if transaction is not None:
            reading.transactions.append(transaction)
            reading.organisation = reading.organisation or transaction.seller
        elif kind == "action":
            reading.organisation = reading.organisation or _name(item.get("publisher"))
    if not reading.transactions:
        _shape(reading, text or html)
    if message.get("List-Unsubscribe") and not reading.kinds:
        reading.kinds.add("newsletter")
    return reading


def _shape(reading: Reading, body: str) -> None:
    for kind, pattern in _SHAPES:
        if pattern.search(reading.subject):
            number = _NUMBER.search(reading.subject) or _NUMBER.search(body[:5000])
            total = _TOTAL.search(body[:20000])
            currency = ""
            if total:
                currency = _CURRENCY.get(total.group(1) or total.group(3) or "", total.group(1) or total.group(3)
                                         or "")
            reading.kinds.add(kind)
            reading.transactions.append(Transaction(kind, number.group(1) if number else "",
                                                    total.group(2) if total else "", currency or "", source="shape"))
            return
