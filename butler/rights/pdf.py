"""A minimal PDF writer for plain-text letters: A4 pages, Helvetica 11 pt, WinAnsi (cp1252) text, lines wrapped.

No library in butler's dependencies writes PDF; a letter needs nothing but text on pages, which is a few
objects and a cross-reference table (PDF 1.4).
"""

from __future__ import annotations

import textwrap

__all__ = ["text_pdf"]

_WIDTH, _HEIGHT, _MARGIN, _LEADING, _SIZE = 595, 842, 64, 14, 11
_COLUMNS = 88  # Helvetica 11 pt on A4 with these margins
_LINES = (_HEIGHT - 2 * _MARGIN) // _LEADING


def _escape(line: str) -> bytes:
    data = line.encode("cp1252", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _lines(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in text.expandtabs(4).splitlines():
        out += textwrap.wrap(paragraph, _COLUMNS, break_long_words=True, replace_whitespace=False) or [""]
    return out


def text_pdf(text: str, *, title: str = "") -> bytes:
    """`text` as a PDF document of as many pages as it needs."""
    lines = _lines(text)
    pages = [lines[i:i + _LINES] for i in range(0, len(lines), _LINES)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    font = 3
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for index, page in enumerate(pages):
        content = [b"BT", f"/F1 {_SIZE} Tf {_LEADING} TL {_MARGIN} {_HEIGHT - _MARGIN} Td".encode()]
        content += [b"(" + _escape(line) + b") '" for line in page]
        content.append(b"ET")
        stream = b"\n".join(content)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_WIDTH} {_HEIGHT}] "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {first_page + 2 * index + 1} 0 R >>"
                       .encode())
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    objects.append(b"<< /Title (" + _escape(title) + b") /Producer (butler) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
