"""What can go wrong when butler talks to a vendor, sorted by what the caller does about it.

    ButlerError                                    -- butler.errors: message + hint
    └── ConnectorError(status, code)               -- anything a connector raises (`status`: the HTTP status, `code`:
                                                      the vendor's error code, when its answer gave them)
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
import re

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
    "vendor_says",
]


class ConnectorError(ButlerError):
    """Root of every error a connector raises. `status` is the vendor's HTTP status, when an answer meant it;
    `code` the vendor's own error code (say "OUT_OF_STOCK"), when its answer named one."""

    exit_code = 6

    def __init__(self, message: str, hint: str | None = None, *, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code


class AuthError(ConnectorError):
    exit_code = 77  # EX_NOPERM
    default_hint = "The vendor refused the credentials; run `butler connectors enable ID` to enter them again."


class MissingSecret(AuthError):
    """A declared secret has no value; `secret` names it, when the connector said which."""

    default_hint = "Give the connector its secrets with `butler connectors enable ID`."

    def __init__(self, message: str, hint: str | None = None, *, secret: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, hint, status=status)
        self.secret = secret


class RetriableError(ConnectorError):
    """The vendor is busy or unreachable for now. `retry_after` is in seconds, when the vendor said."""

    exit_code = 75
    default_hint = "The vendor is busy or unreachable; butler will try again later."

    def __init__(self, message: str, hint: str | None = None, *, retry_after: float | None = None,
                 status: int | None = None, code: str | None = None) -> None:
        super().__init__(message, hint, status=status, code=code)
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
    `status` and the vendor's error code, when its JSON names one, in `code`. The vendor's own error message is
    quoted (see `vendor_message`); nothing else of the body.
    """
    status = response.status_code
    if status < 400:
        return None
    where = f"{response.request.method} {response.request.url.copy_with(query=None)}"
    text, code = vendor_says(response)
    says = _quoted(text, code)
    if status in (401, 403):
        return AuthError(f"{where} was refused with HTTP {status}{says}", status=status, code=code)
    if status in _RETRIABLE:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        later = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return RetriableError(f"{where} answered HTTP {status}{later}{says}", retry_after=retry_after,
                              status=status, code=code)
    if offer_id is not None and status in (404, 409, 410):
        return OfferUnavailable(f"offer {offer_id!r} is not available (HTTP {status}){says}", status=status,
                                code=code)
    return FatalError(f"{where} failed with HTTP {status}{says}", status=status, code=code)


_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_TEXT_LIMIT = 200


def _said(value: object, depth: int = 0) -> tuple[str | None, str | None]:
    """(message, code) from one error body or part of it, in the shapes vendors use: UCP's `messages[]`,
    `{"detail": …, "code": …}`, `{"error": {"message", "code"}}`, `{"errors": […]}`, a validation error's
    `detail: [{"loc", "msg"}]`."""
    if depth > 4:
        return None, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and "msg" in v for v in value):  # a request validation error
            parts = [f"{' '.join(str(p) for p in v.get('loc') or ())}: {v.get('msg')}".strip(": ") for v in value]
            return "; ".join(parts[:5]), None
        return _said(value[0], depth + 1) if value else (None, None)
    if not isinstance(value, dict):
        return None, None
    code = next((c for c in (value.get("code"), value.get("error_code")) if isinstance(c, str)), None)
    for key in ("error", "message", "content", "detail", "errors", "messages"):
        if value.get(key):
            text, inner = _said(value[key], depth + 1)
            if text:
                return text, code or inner
    return None, code


def vendor_says(response: httpx.Response) -> tuple[str | None, str | None]:
    """The vendor's own error message and error code from an error answer's JSON; None for what it lacks.

    The message is one line of printable text, at most 200 characters, with every registered secret redacted;
    the code is kept only when it looks like one (letters, digits, `_.:-`, at most 64).
    """
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None, None
    text, code = _said(body)
    if code is not None and not _CODE.match(code):
        code = None
    if not isinstance(text, str) or not text.strip():
        return None, code
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return redact(line[:_TEXT_LIMIT] + ("…" if len(line) > _TEXT_LIMIT else "")), code


def _quoted(text: str | None, code: str | None) -> str:
    if text is None:
        return f" ({code})" if code else ""
    return f': the vendor says "{text}"' + (f" ({code})" if code else "")


def vendor_message(response: httpx.Response) -> str:
    """`: the vendor says "…" (CODE)` from an error answer's JSON (see `vendor_says`), or ""."""
    return _quoted(*vendor_says(response))



def validation_problems(exc: ValidationError) -> str:
    """A pydantic error as one line: `field.path: message` for each problem, joined by "; "."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
