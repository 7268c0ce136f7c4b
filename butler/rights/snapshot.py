"""The company database as butler ships it: one gzip'd JSON document built from a datenanfragen.de export.

The upstream layout (`companies/*.json`, `supervisory-authorities/*.json`, `templates/LANG/NAME.txt`) becomes
one document with only the fields butler uses, plus the source and licence; `check` refuses anything that is not
such a document, so a broken export never replaces a good snapshot.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from butler.rights.errors import DatabaseInvalid

__all__ = ["AUTHORITY_FIELDS", "COMPANY_FIELDS", "FORMAT", "build", "check", "read", "write_bytes"]

FORMAT = "butler-datenanfragen/1"
COMPANY_FIELDS = ("slug", "name", "runs", "web", "email", "address", "relevant-countries",
                  "suggested-transport-medium", "request-language", "custom-access-template",
                  "custom-erasure-template", "custom-rectification-template", "custom-objection-template",
                  "required-elements", "webform", "quality", "sources")
AUTHORITY_FIELDS = ("slug", "name", "address", "email", "web", "webform", "relevant-countries",
                    "complaint-language", "suggested-transport-medium")
_MIN_COMPANIES = 100
_NEEDED_TEMPLATES = ("access-default", "erasure-default", "rectification-default", "admonition", "complaint")
_TEMPLATE_CAP = 64 * 1024


def _records(folder: Path, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise DatabaseInvalid(f"{path.name} is not readable JSON ({type(exc).__name__})") from None
        if isinstance(data, dict):
            out.append({k: data[k] for k in fields if k in data})
    return out


def build(export: Path, *, source: str = "") -> dict[str, Any]:
    """The snapshot document of an export folder in the upstream layout (checked)."""
    templates: dict[str, dict[str, str]] = {}
    for path in sorted((export / "templates").glob("*/*.txt")):
        if path.stat().st_size <= _TEMPLATE_CAP:
            templates.setdefault(path.parent.name, {})[path.stem] = path.read_text(encoding="utf-8")
    document = {
        "format": FORMAT,
        "source": source or "datenanfragen.de company database (github.com/datenanfragen/data), CC0 1.0",
        "licence": "CC0-1.0",
        "companies": _records(export / "companies", COMPANY_FIELDS),
        "authorities": _records(export / "supervisory-authorities", AUTHORITY_FIELDS),
        "templates": templates,
    }
    check(document)
    return document


def check(document: Any) -> None:
    """Raise DatabaseInvalid unless `document` is a usable snapshot."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DatabaseInvalid(f"not a company database snapshot (format {FORMAT} expected)")
    companies, authorities, templates = (document.get(k) for k in ("companies", "authorities", "templates"))
    if not isinstance(companies, list) or len(companies) < _MIN_COMPANIES:
        raise DatabaseInvalid(f"the snapshot holds fewer than {_MIN_COMPANIES} companies")
    if not isinstance(authorities, list) or not authorities:
        raise DatabaseInvalid("the snapshot holds no supervisory authorities")
    slugs = set()
    for record in [*companies, *authorities]:
        if not (isinstance(record, dict) and isinstance(record.get("slug"), str) and record.get("name")):
            raise DatabaseInvalid("a record has no slug or no name")
        slugs.add(record["slug"])
    if len(slugs) < len(companies) + len(authorities):
        raise DatabaseInvalid("two records share a slug")
    english = templates.get("en") if isinstance(templates, dict) else None
    missing = [name for name in _NEEDED_TEMPLATES if not isinstance(english, dict) or name not in english]
    if missing:
        raise DatabaseInvalid(f"the snapshot lacks the English templates {', '.join(missing)}")


def write_bytes(document: dict[str, Any]) -> bytes:
    """The snapshot as stored: compact JSON, gzip'd without a timestamp (the same input gives the same bytes)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def read(data: bytes) -> dict[str, Any]:
    """A snapshot from its stored bytes (gzip'd or plain JSON), checked."""
    try:
        text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        document = json.loads(text)
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise DatabaseInvalid(f"the snapshot is not gzip'd JSON ({type(exc).__name__})") from None
    check(document)
    result: dict[str, Any] = document
    return result


if __name__ == "__main__":  # how the shipped snapshot is made: python -m butler.rights.snapshot EXPORT OUT [SOURCE]
    import sys

    export, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.write_bytes(write_bytes(build(export, source=sys.argv[3] if len(sys.argv) > 3 else "")))
