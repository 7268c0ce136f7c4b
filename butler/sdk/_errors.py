"""What can go wrong when butler talks to a vendor, sorted by what the caller does about it.

    ButlerError                                    -- butler.errors: message + hint
    └── ConnectorError(status)                     -- anything a connector raises (`status`: the HTTP status, if any)
        ├── AuthError                              -- credentials refused or missing: ask the person to re-auth
        │   └── MissingSecret                      -- a declared secret has no value yet: `butler connectors enable`
        ├── RetriableError(retry_after)            -- try again later (after `retry_after` seconds, if given)
        ├── OfferUnavailable                       -- this offer is gone or sold out: skip it, carry on
        └── FatalError                             -- do not retry; report to the person
            ├── HostNotAllowed                     -- the connector tried to reach a host it did not declare
            ├── SecretNotDeclared                  -- the connector asked for a secret it did not declare
            ├── CapabilityNotSupported             -- the connector does not do that
            └── ManifestError                      -- the connector's manifest is invalid
"""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
from pydantic import ValidationError

from butler.errors import ButlerError
from butler.log import redact

__all__ = [
    "AuthError",
    "CapabilityNotSupported",
    "ConnectorError",
    "FatalError",
    "HostNotAllowed",
    "ManifestError",
    "MissingSecret",
    "OfferUnavailable",
    "RetriableError",
    "SecretNotDeclared",
    "error_for_response",
    "parse_retry_after",
    "vendor_message",
]


class ConnectorError(ButlerError):
    """Root of every error a connector raises. `status` is the vendor's HTTP status, when an answer meant it."""

    exit_code = 6

    def __init__(self, message: str, hint: str | None = None, *, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class AuthError(ConnectorError):
    exit_code = 77  # EX_NOPERM
    default_hint = "The vendor refused the credentials; run `butler connectors enable ID` to enter them again."


class MissingSecret(AuthError):
    default_hint = "Give the connector its secrets with `butler connectors enable ID`."


class RetriableError(ConnectorError):
    """The vendor is busy or unreachable for now. `retry_after` is in seconds, when the vendor said."""

    exit_code = 75
    default_hint = "The vendor is busy or unreachable; butler will try again later."

    def __init__(self, message: str, hint: str | None = None, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, hint, status=status)
        self.retry_after = retry_after


class OfferUnavailable(ConnectorError):
    default_hint = "The offer is no longer available; butler skips it."


class FatalError(ConnectorError):
    default_hint = "This will not go away by retrying; check the connector and its settings."


class HostNotAllowed(FatalError):
    default_hint = "A connector may reach only the hosts in its manifest; the request was not sent."


class SecretNotDeclared(FatalError):
    default_hint = "A connector may read only the secrets its manifest declares."


class CapabilityNotSupported(FatalError):
    default_hint = "See `butler connectors about ID` for what this connector can do."


class ManifestError(FatalError):
    default_hint = "The connector's manifest is invalid; tell its author."


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None when absent or bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


_RETRIABLE = {408, 425, 429, 502, 503, 504}


def error_for_response(response: httpx.Response, *, offer_id: str | None = None) -> ConnectorError | None:
    """The error a vendor's answer means, or None for a success (2xx/3xx).

    401/403 → AuthError; 408/425/429/502/503/504 → RetriableError with Retry-After; 404/409/410 about an offer
    (when `offer_id` is given) → OfferUnavailable; any other 4xx/5xx → FatalError. Each carries the status in
    `status`. The vendor's own error message, when its JSON has one, is quoted: one line of printable text, at
    most 200 characters, with every registered secret redacted; nothing else of the body.
    """
    status = response.status_code
    if status < 400:
        return None
    where = f"{response.request.method} {response.request.url.copy_with(query=None)}"
    if status in (401, 403):
        return AuthError(f"{where} was refused with HTTP {status}", status=status)
    if status in _RETRIABLE:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        later = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return RetriableError(f"{where} answered HTTP {status}{later}", retry_after=retry_after, status=status)
    says = vendor_message(response)
    if offer_id is not None and status in (404, 409, 410):
        return OfferUnavailable(f"offer {offer_id!r} is not available (HTTP {status}){says}", status=status)
    return FatalError(f"{where} failed with HTTP {status}{says}", status=status)


def vendor_message(response: httpx.Response) -> str:
    """`: the vendor says "…"` from an error answer's JSON (error.message, message, detail, messages[0]), or ""."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    text: object = None
    if isinstance(body, dict):
        error = body.get("error")
        messages = body.get("messages")
        text = (error.get("message") if isinstance(error, dict) else error) or body.get("message") or \
            body.get("detail") or (messages[0].get("content") if isinstance(messages, list) and messages
                                   and isinstance(messages[0], dict) else None)
    if not isinstance(text, str) or not text.strip():
        return ""
    line = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    line = redact(line[:200] + ("…" if len(line) > 200 else ""))
    return f': the vendor says "{line}"'



def validation_problems(exc: ValidationError) -> str:
    """A pydantic error as one line: `field.path: message` for each problem, joined by "; "."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
