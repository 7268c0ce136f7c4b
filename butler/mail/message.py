"""Raw message bytes → `MailFacts`: the few things the classifier looks at, read defensively and fast.

A small bytes-level reader instead of the `email` package: headers are unfolded and decoded once (RFC 2047
only for the fields shown to people), MIME parts are split on their boundaries without building a tree,
and only text parts are decoded, from a bounded prefix. Whatever the bytes are (malformed MIME, unknown
charsets, a 30 MB attachment, thousands of nested parts), `read_facts` returns facts and never raises.
"""

from __future__ import annotations

import binascii
import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["BODY_PREFIX", "MailFacts", "decode_header", "read_facts", "sender_key", "strip_html"]

BODY_PREFIX = 256 * 1024  # bytes of a message fetched and fingerprinted; the rest is attachments, mostly
TEXT_PREFIX = 64 * 1024  # bytes of text parts decoded, in all
_HEADER_BLOCK_MAX = 64 * 1024
_HEADER_LINES_MAX = 500
_HEADER_VALUE_MAX = 2000
_TEXT_MAX = 20_000
SIGNAL_HEAD = 3000  # characters of text phrase signals read from the top …
SIGNAL_TAIL = 800  # … and from the bottom, where footers are
_MAX_PARTS = 200
_ENCODED_FIELDS = frozenset({"subject", "from", "to", "cc", "sender", "reply-to"})
_PART_FIELDS = ("content-type", "content-transfer-encoding", "content-disposition")

_TAG = re.compile(r"<[^>]{0,2000}>")
_IMG = re.compile(r"<[iI][mM][gG]\b[^>]{0,2000}>")
_PIXEL = re.compile(r"""(?i)\b(?:width|height)\s*[=:]\s*["']?\s*[01](?:px)?\b""")
_LINK = re.compile(r"""<[aA]\s[^>]{0,2000}?[hH][rR][eE][fF]\s*=\s*["']?([hH][tT][tT][pP][sS]?://[^"'\s>]{1,500})""")
_URL = re.compile(r"[hH][tT][tT][pP][sS]?://([a-zA-Z0-9.-]{1,253})")
_WORD_RUN = re.compile(r"[a-z0-9ßà-öø-ÿā-ſ]+")
_ENCODED_WORD = re.compile(r"=\?([^?\s*]{1,40})(?:\*[^?\s]{0,20})?\?([bBqQ])\?([^?\s]{0,2000})\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)\s+(?==\?)")
_FIELD = re.compile(r"^([!-9;-~]{1,100})[ \t]*:(.*(?:\n[ \t].*)*)", re.MULTILINE)
_ANGLE = re.compile(r"<\s*([^<>\s]{1,320})\s*>")
_BARE_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]]{1,200}@[^\s<>,;:\"()\[\]]{1,200}")
_BOUNDARY = re.compile(r"""(?i)\bboundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))""")
_CHARSET = re.compile(r"""(?i)\bcharset\s*=\s*["']?([a-z0-9_.:+-]{1,40})""")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")
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
    def link_domains(self) -> tuple[str, ...]:
        hosts = {m.group(1).lower() for m in map(_URL.match, self.urls) if m}
        return tuple(sorted(hosts))[:50]

    @_computed
    def recipients(self) -> int:
        """Addresses in To and Cc."""
        return len(_BARE_ADDRESS.findall(self.header("to") + "," + self.header("cc")))

    def has_recipient(self) -> bool:
        """Whether To or Cc names anyone (`recipients > 0`, without counting a long list)."""
        return _BARE_ADDRESS.search(self.header("to")) is not None or self.recipients > 0

    def header(self, name: str) -> str:
        value = self._clean.get(name)
        if value is None:
            raw = self.raw_headers.get(name)
            if raw is None:  # most fields asked for are absent: nothing to clean or remember
                return ""
            value = self._clean[name] = _clean_value(name, raw)
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


def _decode(data: bytes, charset: str | None) -> str:
    if charset:
        try:
            return data.decode(charset, "replace")
        except (LookupError, ValueError, TypeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _encoded_word(match: re.Match[str]) -> str:
    charset, encoding, payload = match.group(1), match.group(2).lower(), match.group(3)
    try:
        if encoding == "b":
            clean = _B64_JUNK.sub(b"", payload.encode("ascii", "ignore"))
            data = binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
        else:
            data = binascii.a2b_qp(payload.encode("ascii", "ignore"), header=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return _decode(data, charset)


def decode_header(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, unknown charsets replaced, whitespace collapsed."""
    text = str(value)[: _HEADER_VALUE_MAX * 2]
    if "=?" in text:
        text = _ENCODED_WORD.sub(_encoded_word, _BETWEEN_WORDS.sub("", text))
    return " ".join(text.replace("\x00", "").split())[:_HEADER_VALUE_MAX]


def sender_key(address: str) -> str:
    """How senders are remembered: the lower-cased address, or `@domain` when there is no local part."""
    return address.strip().lower()


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    """Header block and body, split at the first empty line (LF or CRLF line ends, mixed as they come)."""
    if data[:1] == b"\n":
        return b"", data[1:]
    if data[:2] == b"\r\n":
        return b"", data[2:]
    # look first for the separator the first line's ending suggests, then for the other only before it: a message
    # is not scanned to its end for a separator that cannot come first
    first_eol = data.find(b"\n", 0, _HEADER_BLOCK_MAX)
    if first_eol > 0 and data[first_eol - 1] == 13:
        crlf = data.find(b"\n\r\n", 0, _HEADER_BLOCK_MAX)
        lf = data.find(b"\n\n", 0, crlf if crlf >= 0 else _HEADER_BLOCK_MAX)
    else:
        lf = data.find(b"\n\n", 0, _HEADER_BLOCK_MAX)
        crlf = data.find(b"\n\r\n", 0, lf if lf >= 0 else _HEADER_BLOCK_MAX)
    if lf < 0 and crlf < 0:
        if len(data) > _HEADER_BLOCK_MAX:
            return data[:_HEADER_BLOCK_MAX], b""
        return data, b""
    if crlf < 0 or 0 <= lf < crlf:
        return data[: lf + 1], data[lf + 2:]
    return data[: crlf + 1], data[crlf + 3:]


def _header_fields(block: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """(lower-case name, unfolded raw value) pairs; a block that does not start with a header is body."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")
    text = text.replace("\r", "")
    if text and not _FIELD.match(text):
        return [], block
    fields = _FIELD.findall(text)
    return [(name.lower(), value) for name, value in fields[:_HEADER_LINES_MAX]], b""


def _headers(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Each field's first raw value (a later repeat, such as the next Received line, is dropped)."""
    return dict(reversed(fields))


def _clean_value(name: str, value: str) -> str:
    if name in _ENCODED_FIELDS:
        return decode_header(value)
    return " ".join(value[: _HEADER_VALUE_MAX * 2].replace("\x00", "").split())[:_HEADER_VALUE_MAX]


def _address(value: str) -> tuple[str, str]:
    """(display name, address) of a From-like value, without the cost of a full RFC 5322 parse."""
    angle = _ANGLE.search(value)
    if angle:
        address = angle.group(1)
        name = value[: angle.start()].strip().strip('"').strip()
    else:
        bare = _BARE_ADDRESS.search(value)
        address = bare.group(0) if bare else ""
        name = value.replace(address, "").strip().strip("()\"").strip() if address else ""
    address = address.strip().lower()[:320]
    if address.startswith("mailto:"):
        address = address[7:]
    if "@" not in address or address.count("@") > 1:
        address = ""
    return name, address


def _media(fields: dict[str, str]) -> tuple[str, str]:
    """(content type, the raw Content-Type value); anything unreadable is text/plain, as RFC 2045 says."""
    value = fields.get("content-type", "")
    ctype = value.split(";", 1)[0].strip().lower()
    if ctype.count("/") != 1 or " " in ctype:
        ctype = "text/plain"
    return ctype, value


def _part_fields(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    fields, _ = _header_fields(block[:8192])
    for name, value in fields:
        if name.startswith("content-") and name not in out:
            out[name] = " ".join(value.split())[:_HEADER_VALUE_MAX]
    return out


def _split_multipart(body: bytes, boundary: bytes) -> tuple[list[bytes], bool]:
    """Parts between `--boundary` lines and whether the closing delimiter was found."""
    chunks = (b"\n" + body).split(b"\n--" + boundary)
    parts: list[bytes] = []
    closed = False
    for chunk in chunks[1:]:
        if chunk[:2] == b"--":
            closed = True
            break
        newline = chunk.find(b"\n")
        if newline < 0:
            continue
        part = chunk[newline + 1:]
        parts.append(part[:-1] if part[-1:] == b"\r" else part)
        if len(parts) >= _MAX_PARTS:
            break
    return parts, closed


def _transfer_decode(data: bytes, encoding: str) -> tuple[bytes, bool]:
    """Content-Transfer-Encoding undone; (bytes, whether it was malformed)."""
    encoding = encoding.strip().lower()
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data), False
        except (binascii.Error, ValueError):
            clean = _B64_JUNK.sub(b"", data)
            try:
                return binascii.a2b_base64(clean[: len(clean) // 4 * 4]), True
            except (binascii.Error, ValueError):
                return b"", True
    if encoding == "quoted-printable":
        try:
            return binascii.a2b_qp(data), False
        except (binascii.Error, ValueError):
            return data, True
    return data, False


def strip_html(markup: str) -> str:
    """Visible text of an HTML document: script, style and head dropped, tags removed, entities decoded."""
    lower = markup.lower()
    kept: list[str] = []
    at = 0
    while True:
        starts = [i for i in (lower.find("<script", at), lower.find("<style", at), lower.find("<head", at)) if i >= 0]
        if not starts:
            kept.append(markup[at:])
            break
        start = min(starts)
        kept.append(markup[at:start])
        tag = "script" if lower.startswith("<script", start) else "style" if lower.startswith("<style", start) \
            else "head"
        end = lower.find(f"</{tag}", start)
        if end < 0:
            break
        close = lower.find(">", end)
        at = len(markup) if close < 0 else close + 1
    text = _TAG.sub(" ", " ".join(kept))
    return " ".join(html.unescape(text).split())


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
    block, body = _split_head(data)
    fields, spill = _header_fields(block)
    defects = 0
    if spill:
        body, defects = spill + b"\n" + body, 1
    headers = _headers(fields)
    clean: dict[str, str] = {}
    for key in ("from", "subject", "message-id"):
        value = headers.get(key)
        clean[key] = "" if value is None else _clean_value(key, value)
    name, address = _address(clean["from"])
    domain = address.rpartition("@")[2]
    texts: list[str] = []
    markup: list[str] = []
    attachments = leaves = 0
    budget = TEXT_PREFIX
    # breadth first, without recursion: nesting depth is unbounded in hostile mail
    top = {key: _clean_value(key, headers[key]) for key in _PART_FIELDS if key in headers}
    queue: list[tuple[dict[str, str], bytes]] = [(top, body)]
    seen = 0
    while queue and seen < _MAX_PARTS:
        part_headers, part_body = queue.pop(0)
        seen += 1
        ctype, ctype_value = _media(part_headers)
        if ctype.startswith("multipart/"):
            match = _BOUNDARY.search(ctype_value)
            if match:
                boundary = (match.group(1) or match.group(2)).encode("utf-8", "replace")
                parts, closed = _split_multipart(part_body, boundary)
                defects += not closed
                for part in parts[: _MAX_PARTS - seen]:
                    part_block, part_rest = _split_head(part)
                    queue.append((_part_fields(part_block), part_rest))
                continue
            defects += 1
            ctype = "text/plain"
        if ctype == "message/rfc822":
            inner_block, inner_body = _split_head(part_body)
            queue.append((_part_fields(inner_block), inner_body))
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
        decoded, malformed = _transfer_decode(part_body[:take], encoding)
        defects += malformed
        charset = _CHARSET.search(ctype_value)
        content = _decode(decoded[:budget], charset.group(1) if charset else None)
        budget -= len(decoded)
        (markup if ctype == "text/html" else texts).append(content)
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
