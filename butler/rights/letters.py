"""Letters to print: a request, admonition or complaint written as text and PDF under the butler home (0600),
for a company without an e-mail address or a person without an SMTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from butler import paths
from butler.atomic import atomic_write
from butler.rights.pdf import text_pdf

__all__ = ["letter_dir", "page", "write_letter"]


def letter_dir(home: Path) -> Path:
    return home / "rights" / "letters"


def page(*, sender: str, recipient: str, subject: str, body: str, on: dt.date) -> str:
    """The whole page: sender, recipient, date, subject, body."""
    head = [sender.strip(), "", recipient.strip(), "", on.isoformat(), "", subject, ""]
    return "\n".join(head) + "\n" + body


def write_letter(home: Path, name: str, text: str, *, title: str) -> list[Path]:
    """Write `text` as NAME.txt and NAME.pdf; returns both paths."""
    folder = paths.private_dir(letter_dir(home))
    txt, pdf = folder / f"{name}.txt", folder / f"{name}.pdf"
    atomic_write(txt, text.encode())
    atomic_write(pdf, text_pdf(text, title=title))
    return [txt, pdf]
