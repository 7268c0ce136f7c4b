"""Raw message bytes → `MailFacts`: the few things the classifier looks at, read defensively and fast.

A small bytes-level reader instead of the `email` package: headers are unfolded and decoded once (RFC 2047
only for the fields shown to people), MIME parts are split on their boundaries without building a tree,
and only text parts are decoded, from a bounded prefix. Whatever the bytes are (malformed MIME, unknown
charsets, a 30 MB attachment, thousands of nested parts), `read_facts` returns facts and never raises.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from butler.mail.mime import (
    BARE_ADDRESS,
    MAX_PARTS,
    clean_value,
    decode_header,
    decode_text,
    header_fields,
    header_map,
    media_type,
    parse_address,
    part_fields,
    sender_key,
    split_head,
    split_multipart,
    strip_html,
    transfer_decode,
)

__all__ = ["BODY_PREFIX", "MailFacts", "decode_header", "read_facts", "sender_key", "strip_html"]

BODY_PREFIX = 256 * 1024  # bytes of a message fetched and fingerprinted; the rest is attachments, mostly
TEXT_PREFIX = 64 * 1024  # bytes of text parts decoded, in all
_TEXT_MAX = 20_000
SIGNAL_HEAD = 3000  # characters of text phrase signals read from the top …
SIGNAL_TAIL = 800  # … and from the bottom, where footers are
_PART_FIELDS = ("content-type", "content-transfer-encoding", "content-disposition")
_HTML_STARTS = ("<html", "<!doctype html", "<head", "<body")

_IMG = re.compile(r"<[iI][mM][gG]\b[^>]{0,2000}>")
_PIXEL = re.compile(r"""(?i)\b(?:width|height)\s*[=:]\s*["']?\s*[01](?:px)?\b""")
_LINK = re.compile(r"""<[aA]\s[^>]{0,2000}?[hH][rR][eE][fF]\s*=\s*["']?([hH][tT][tT][pP][sS]?://[^"'\s>]{1,500})""")
_URL = re.compile(r"[hH][tT][tT][pP][sS]?://([a-zA-Z0-9.-]{1,253})")
_WORD_RUN = re.compile(r"[a-z0-9ßà-öø-ÿā-ſ]+")
_BOUNDARY = re.compile(r"""(?i)\bboundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))""")
_CHARSET = re.compile(r"""(?i)\bcharset\s*=\s*["']?([a-z0-9_.:+-]{1,40})""")
_ASCII_WORD_GAPS = bytes(c if chr(c).isascii() and (chr(c).islower() or chr(c).isdigit()) else 32 for c in range(256))


_T = TypeVar("_T")


class _computed(Generic[_T]):  # lower case: used as a decorator, like functools.cached_property
    """`functools.cached_property` without its per-access lock (Python 3.11 takes one): a value computed on first
    access and stored in the instance, which is read by one thread at a time."""

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, instance: object, owner: type | None = None) -> _T:
        if instance is None:
            return self  # type: ignore[return-value]  # looked up on the class
        value = self.compute(instance)
        instance.__dict__[self.name] = value  # the instance attribute now hides this descriptor
        return value


@dataclass(frozen=True)
class MailFacts:
    """What one message says about itself. Header names are lower-case; values are decoded and unfolded.

    `raw_headers` holds each field's first value as it came (unfolded, not yet cleaned); `header()` cleans and
    decodes a value the first time it is asked for, so fields nobody reads cost nothing.
    """

    raw_headers: dict[str, str]
    sender: str
    sender_domain: str
    display_name: str
    subject: str
    text: str
    html: str
    message_id: str
    images: int = 0
    tracking_pixels: int = 0
    parts: int = 0
    attachments: int = 0
    html_only: bool = False
    defects: int = 0
    quoted: int = 0  # lines of quoted text ("> …"): a reply in a discussion
    _clean: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _data: bytes = field(default=b"", repr=False, compare=False)  # the bytes read, for the fingerprint

    @_computed
    def fingerprint(self) -> str:
        """A digest of the bytes read (the first 256 KiB): the message's key when it has no Message-ID."""
        return hashlib.sha256(self._data).hexdigest()[:32]

    @_computed
    def urls(self) -> list[str]:
        """Link targets in the HTML, or, lacking those, URLs in the text; computed when first asked for."""
        return [m.group(1).lower() for m in _LINK.finditer(self.html)] or [
            "http://" + m.group(1) for m in (_URL.finditer(self.text) if "://" in self.text else ())
        ]

    @property
    def links(self) -> int:
        return len(self.urls)

    def links_at_least(self, n: int) -> bool:
        """Whether there are `n` links or more; every link holds a "://", so counting those is a cheap bound."""
        return self.html.count("://") + self.text.count("://") >= n and len(self.urls) >= n

    @_computed
    def recipients(self) -> int:
        """Addresses in To and Cc."""
        return len(BARE_ADDRESS.findall(self.header("to") + "," + self.header("cc")))

    def has_recipient(self) -> bool:
        """Whether To or Cc names anyone (`recipients > 0`, without counting a long list)."""
        return BARE_ADDRESS.search(self.header("to")) is not None or self.recipients > 0

    def header(self, name: str) -> str:
        value = self._clean.get(name)
        if value is None:
            raw = self.raw_headers.get(name)
            if raw is None:  # most fields asked for are absent: nothing to clean or remember
                return ""
            value = self._clean[name] = clean_value(name, raw)
        return value

    def has(self, name: str) -> bool:
        return name in self.raw_headers

    @_computed
    def headers(self) -> dict[str, str]:
        """Every header field (its first value), cleaned and decoded."""
        return {name: self.header(name) for name in self.raw_headers}

    @_computed
    def content(self) -> str:
        """Subject and a bounded view of the text (its head and its footer), lower-cased, for phrase signals."""
        text = self.text
        if len(text) > SIGNAL_HEAD + SIGNAL_TAIL:
            text = f"{text[:SIGNAL_HEAD]} {text[-SIGNAL_TAIL:]}"
        return f"{self.subject} {text}".lower()

    @_computed
    def word_list(self) -> list[str]:
        """The words of `content`, in order (letters and digits; punctuation and hyphens split words)."""
        content = self.content
        if content.isascii():  # most mail: a byte translation and a split, three times faster than the regex
            return content.encode("ascii").translate(_ASCII_WORD_GAPS).decode("ascii").split()
        return _WORD_RUN.findall(content)

    @_computed
    def words(self) -> frozenset[str]:
        return frozenset(self.word_list)

    @_computed
    def joined(self) -> str:
        """The words of `content` separated by single spaces, with a space at each end: phrases match whole words."""
        return f" {' '.join(self.word_list)} "

    @_computed
    def subject_words(self) -> list[str]:
        return _WORD_RUN.findall(self.subject.lower())


def read_facts(raw: bytes) -> MailFacts:
    """Read a raw RFC 5322 message (any bytes at all) into facts; never raises."""
    try:
        return _read(raw)
    except Exception:  # a reader bug must not stop a sweep: an empty verdict is better than none
        return _read(b"")


def _read(raw: bytes) -> MailFacts:
    data = raw[:BODY_PREFIX]
    read = data
    if data[:5] == b"From ":  # an mbox envelope line, not a header
        newline = data.find(b"\n")
        data = data[newline + 1:] if newline >= 0 else b""
    block, body = split_head(data)
    fields, spill = header_fields(block)
    defects = 0
    if spill:
        body, defects = spill + b"\n" + body, 1
    headers = header_map(fields)
    clean: dict[str, str] = {}
    for key in ("from", "subject", "message-id"):
        value = headers.get(key)
        clean[key] = "" if value is None else clean_value(key, value)
    name, address = parse_address(clean["from"])
    domain = address.rpartition("@")[2]
    texts: list[str] = []
    markup: list[str] = []
    attachments = leaves = 0
    budget = TEXT_PREFIX
    # breadth first, without recursion: nesting depth is unbounded in hostile mail
    top = {key: clean_value(key, headers[key]) for key in _PART_FIELDS if key in headers}
    queue: list[tuple[dict[str, str], bytes]] = [(top, body)]
    seen = 0
    while queue and seen < MAX_PARTS:
        part_headers, part_body = queue.pop(0)
        seen += 1
        ctype, ctype_value = media_type(part_headers)
        if ctype.startswith("multipart/"):
            match = _BOUNDARY.search(ctype_value)
            if match:
                boundary = (match.group(1) or match.group(2)).encode("utf-8", "replace")
                parts, closed = split_multipart(part_body, boundary)
                defects += not closed
                for part in parts[: MAX_PARTS - seen]:
                    part_block, part_rest = split_head(part)
                    queue.append((part_fields(part_block), part_rest))
                continue
            defects += 1
            ctype = "text/plain"
        if ctype == "message/rfc822":
            inner_block, inner_body = split_head(part_body)
            queue.append((part_fields(inner_block), inner_body))
            continue
        leaves += 1
        disposition = part_headers.get("content-disposition", "").lower()
        if "attachment" in disposition or not ctype.startswith("text/"):
            attachments += ctype != "text/plain" or "attachment" in disposition
            continue
        if budget <= 0:
            continue
        encoding = part_headers.get("content-transfer-encoding", "")
        take = budget * 4 // 3 + 4 if "base64" in encoding.lower() else budget
        decoded, malformed = transfer_decode(part_body[:take], encoding)
        defects += malformed
        charset = _CHARSET.search(ctype_value)
        content = decode_text(decoded[:budget], charset.group(1) if charset else None)
        budget -= len(decoded)
        # an HTML document sent as plain text (or without a Content-Type) is read as the HTML it is
        is_markup = ctype == "text/html" or content.lstrip()[:15].lower().startswith(_HTML_STARTS)
        (markup if is_markup else texts).append(content)
    html_doc = "".join(markup)[:BODY_PREFIX]
    text = " ".join(texts)
    quoted = text.count("\n>") + text.startswith(">")
    if html_doc and (not text or text.isspace()):
        text = strip_html(html_doc)
        from_html = True
    else:
        from_html = False
    if not from_html:  # strip_html already collapsed the whitespace
        text = " ".join(text[: _TEXT_MAX * 2].split())
    text = text[:_TEXT_MAX]
    images = _IMG.findall(html_doc) if "<" in html_doc else []
    return MailFacts(
        raw_headers=headers,
        sender=address,
        sender_domain=domain,
        display_name=name[:200],
        subject=clean["subject"],
        text=text,
        html=html_doc,
        message_id=clean["message-id"][:500],
        images=len(images),
        tracking_pixels=sum(1 for tag in images if len(_PIXEL.findall(tag)) >= 2),
        parts=leaves,
        attachments=attachments,
        html_only=bool(markup) and not any(t.strip() for t in texts),
        defects=defects,
        quoted=quoted,
        _clean=clean,
        _data=read,
    )
