"""Logging that never prints a secret.

Secrets are registered as they come into memory (`register_secret`); `RedactingFilter` replaces them, and
anything shaped like a credential (bearer tokens, `password=` pairs), in every record before it is emitted,
including formatted arguments and exception text.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable

__all__ = ["REDACTED", "RedactingFilter", "redact", "register_secret", "setup_logging"]

REDACTED = "***"
_MIN_SECRET_LEN = 4  # shorter strings would redact ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s'\"]+"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:pass(?:word|phrase)?|secret|token|api[_-]?key)\s*=\s*)[^\s,;'\"&]+"),
    re.compile(r"(?i)(\"(?:pass(?:word|phrase)?|secret|token|api[_-]?key)\"\s*:\s*\")[^\"]+"),
]


def register_secret(value: str | bytes | None) -> None:
    """Remember a secret so that no log line will ever show it."""
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if len(text) < _MIN_SECRET_LEN:
        return
    with _lock:
        _secrets.add(text)


def _known() -> Iterable[str]:
    with _lock:
        # longest first so a secret containing another is replaced whole
        return sorted(_secrets, key=len, reverse=True)


def redact(text: str) -> str:
    """Return `text` with every registered secret and credential-shaped value replaced by `***`."""
    for secret in _known():
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments) and exception text, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not leak its raw arguments either
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup_logging(level: int = logging.WARNING) -> None:
    """Log to stderr through the redacting filter; idempotent."""
    root = logging.getLogger("butler")
    root.setLevel(level)
    for handler in root.handlers:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    root.addHandler(handler)
