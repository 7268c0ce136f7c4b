"""The low-level reading of raw mail: header fields, RFC 2047 words, addresses, MIME parts, transfer encodings.

Every function takes bytes or text and returns data; none raises on malformed input (see `message`).
"""

from __future__ import annotations

import binascii
import html
import re

__all__ = [
    "BARE_ADDRESS",
    "MAX_PARTS",
    "clean_value",
    "decode_header",
    "decode_text",
    "header_fields",
    "header_map",
    "media_type",
    "parse_address",
    "part_fields",
    "sender_key",
    "split_head",
    "split_multipart",
    "strip_html",
    "transfer_decode",
]

MAX_PARTS = 200
BARE_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]]{1,200}@[^\s<>,;:\"()\[\]]{1,200}")
_HEADER_BLOCK_MAX = 64 * 1024
_HEADER_LINES_MAX = 500
_HEADER_VALUE_MAX = 2000
_ENCODED_FIELDS = frozenset({"subject", "from", "to", "cc", "sender", "reply-to"})
_TAG = re.compile(r"<[^>]{0,2000}>")
_ENCODED_WORD = re.compile(r"=\?([^?\s*]{1,40})(?:\*[^?\s]{0,20})?\?([bBqQ])\?([^?\s]{0,2000})\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)\s+(?==\?)")
_FIELD = re.compile(r"^([!-9;-~]{1,100})[ \t]*:(.*(?:\n[ \t].*)*)", re.MULTILINE)
_ANGLE = re.compile(r"<\s*([^<>\s]{1,320})\s*>")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def decode_text(data: bytes, charset: str | None) -> str:
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
    return decode_text(data, charset)


def decode_header(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, unknown charsets replaced, whitespace collapsed."""
    text = str(value)[: _HEADER_VALUE_MAX * 2]
    if "=?" in text:
        text = _ENCODED_WORD.sub(_encoded_word, _BETWEEN_WORDS.sub("", text))
    return " ".join(text.replace("\x00", "").split())[:_HEADER_VALUE_MAX]


def sender_key(address: str) -> str:
    """How senders are remembered: the lower-cased address, or `@domain` when there is no local part."""
    return address.strip().lower()


def split_head(data: bytes) -> tuple[bytes, bytes]:
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


def header_fields(block: bytes) -> tuple[list[tuple[str, str]], bytes]:
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


def header_map(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Each field's first raw value (a later repeat, such as the next Received line, is dropped)."""
    return dict(reversed(fields))


def clean_value(name: str, value: str) -> str:
    if name in _ENCODED_FIELDS:
        return decode_header(value)
    return " ".join(value[: _HEADER_VALUE_MAX * 2].replace("\x00", "").split())[:_HEADER_VALUE_MAX]


def parse_address(value: str) -> tuple[str, str]:
    """(display name, address) of a From-like value, without the cost of a full RFC 5322 parse."""
    angle = _ANGLE.search(value)
    if angle:
        address = angle.group(1)
        name = value[: angle.start()].strip().strip('"').strip()
    else:
        bare = BARE_ADDRESS.search(value)
        address = bare.group(0) if bare else ""
        name = value.replace(address, "").strip().strip("()\"").strip() if address else ""
    address = address.strip().lower()[:320]
    if address.startswith("mailto:"):
        address = address[7:]
    if "@" not in address or address.count("@") > 1:
        address = ""
    return name, address


def media_type(fields: dict[str, str]) -> tuple[str, str]:
    """(content type, the raw Content-Type value); anything unreadable is text/plain, as RFC 2045 says."""
    value = fields.get("content-type", "")
    ctype = value.split(";", 1)[0].strip().lower()
    if ctype.count("/") != 1 or " " in ctype:
        ctype = "text/plain"
    return ctype, value


def part_fields(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    fields, _ = header_fields(block[:8192])
    for name, value in fields:
        if name.startswith("content-") and name not in out:
            out[name] = " ".join(value.split())[:_HEADER_VALUE_MAX]
    return out


def split_multipart(body: bytes, boundary: bytes) -> tuple[list[bytes], bool]:
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
        if len(parts) >= MAX_PARTS:
            break
    return parts, closed


def transfer_decode(data: bytes, encoding: str) -> tuple[bytes, bool]:
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
