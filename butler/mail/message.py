"""Raw message bytes → `MailFacts`: the few things the classifier looks at, read defensively.

Whatever the bytes are (malformed MIME, unknown charsets, a 30 MB attachment, thousands of nested parts),
`read_facts` returns facts and never raises: bodies are read from a bounded prefix, parts are walked
iteratively up to a fixed count, and every decode falls back to replacement characters.
"""

from __future__ import annotations

import email.header
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

__all__ = ["BODY_PREFIX", "MailFacts", "decode_header", "read_facts", "sender_key"]

BODY_PREFIX = 256 * 1024  # bytes of a message the classifier reads; the rest is attachments, mostly
_HEADER_VALUE_MAX = 2000
_TEXT_MAX = 20_000
_MAX_PARTS = 200

_TAG = re.compile(r"<[^>]{0,2000}>")
_DROP = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>")
_IMG = re.compile(r"(?i)<img\b[^>]{0,2000}>")
_PIXEL = re.compile(r"""(?i)\b(?:width|height)\s*[=:]\s*["']?\s*[01](?:px)?\b""")
_LINK = re.compile(r"""(?i)<a\b[^>]{0,2000}?href\s*=\s*["']?(https?://[^"'\s>]{1,500})""")
_URL = re.compile(r"(?i)\bhttps?://([a-z0-9.-]{1,253})")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class MailFacts:
    """What one message says about itself. Header names are lower-case; values are decoded and unfolded."""

    headers: dict[str, str]
    sender: str
    sender_domain: str
    display_name: str
    subject: str
    text: str
    html: str
    message_id: str
    fingerprint: str
    images: int = 0
    tracking_pixels: int = 0
    links: int = 0
    link_domains: tuple[str, ...] = ()
    parts: int = 0
    attachments: int = 0
    recipients: int = 0
    html_only: bool = False
    defects: int = 0

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def has(self, name: str) -> bool:
        return name in self.headers


def decode_header(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, unknown charsets replaced, whitespace collapsed."""
    text = str(value)[: _HEADER_VALUE_MAX * 2]
    try:
        pieces = email.header.decode_header(text)
        out = []
        for chunk, charset in pieces:
            if isinstance(chunk, bytes):
                out.append(_decode(chunk, charset))
            else:
                out.append(chunk)
        text = "".join(out)
    except Exception:  # noqa: S110 -- hostile encoded-words: keep the raw text
        pass
    text = text.replace("\r", " ").replace("\n", " ").replace("\x00", "")
    return _SPACE.sub(" ", text).strip()[:_HEADER_VALUE_MAX]


def _decode(data: bytes, charset: str | None) -> str:
    for name in (charset, "utf-8", "latin-1"):
        if not name:
            continue
        try:
            return data.decode(name, "replace")
        except (LookupError, ValueError):
            continue
    return data.decode("latin-1")


def sender_key(address: str) -> str:
    """How senders are remembered: the lower-cased address, or `@domain` when there is no local part."""
    return address.strip().lower()


def _headers(msg: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        items = msg.items()
    except Exception:
        return out
    for name, value in items[:500]:
        key = str(name).strip().lower()
        if key and key not in out:
            out[key] = decode_header(value)
    return out


def _walk(msg: Message) -> list[Message]:
    """Leaf parts, breadth first, at most _MAX_PARTS, without recursion (nesting depth is unbounded)."""
    leaves: list[Message] = []
    queue = [msg]
    seen = 0
    while queue and seen < _MAX_PARTS:
        part = queue.pop(0)
        seen += 1
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            queue.extend(p for p in payload if isinstance(p, Message))
        else:
            leaves.append(part)
    return leaves


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return _decode(data[:BODY_PREFIX], part.get_content_charset())


def strip_html(markup: str) -> str:
    text = _TAG.sub(" ", _DROP.sub(" ", markup))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def read_facts(raw: bytes) -> MailFacts:
    """Read a raw RFC 5322 message (any bytes at all) into facts; never raises."""
    fingerprint = hashlib.sha256(raw[:BODY_PREFIX]).hexdigest()[:32]
    try:
        msg = BytesParser(policy=compat32).parsebytes(raw[:BODY_PREFIX])
    except Exception:  # e.g. nesting deeper than the parser's recursion allows: headers only
        try:
            msg = BytesParser(policy=compat32).parsebytes(raw[:BODY_PREFIX], headersonly=True)
            msg.set_payload("")
        except Exception:
            msg = Message()
    headers = _headers(msg)
    name, address = email.utils.parseaddr(headers.get("from", ""))
    address = address.strip().lower()[:320]
    if "@" not in address:
        address = ""
    domain = address.rpartition("@")[2]
    texts: list[str] = []
    markup: list[str] = []
    attachments = 0
    leaves = _walk(msg)
    for part in leaves:
        ctype = part.get_content_type()
        disposition = str(part.get("content-disposition", "")).lower()
        if "attachment" in disposition or not ctype.startswith("text/"):
            attachments += ctype != "text/plain" or "attachment" in disposition
            continue
        body = _part_text(part)
        if ctype == "text/html":
            markup.append(body)
        else:
            texts.append(body)
    html_doc = "".join(markup)[: BODY_PREFIX]
    text = " ".join(t for t in texts)
    if not text.strip() and html_doc:
        text = strip_html(html_doc)
    text = _SPACE.sub(" ", text)[:_TEXT_MAX]
    urls = [m.group(1).lower() for m in _LINK.finditer(html_doc)] or [
        "http://" + m.group(1) for m in _URL.finditer(text)
    ]
    link_domains = tuple(sorted({_URL.match(u).group(1) for u in urls if _URL.match(u)}))[:50]  # type: ignore[union-attr]
    images = _IMG.findall(html_doc)
    to_field = headers.get("to", "") + "," + headers.get("cc", "")
    recipients = len([a for _, a in email.utils.getaddresses([to_field]) if "@" in a])
    try:
        defects = len(msg.defects)
    except Exception:
        defects = 0
    return MailFacts(
        headers=headers,
        sender=address,
        sender_domain=domain,
        display_name=name[:200],
        subject=headers.get("subject", ""),
        text=text,
        html=html_doc,
        message_id=headers.get("message-id", "")[:500],
        fingerprint=fingerprint,
        images=len(images),
        tracking_pixels=sum(1 for tag in images if len(_PIXEL.findall(tag)) >= 2),
        links=len(urls),
        link_domains=link_domains,
        parts=len(leaves),
        attachments=attachments,
        recipients=recipients,
        html_only=bool(markup) and not any(t.strip() for t in texts),
        defects=defects,
    )
