"""The headers of UCP's REST binding (2026-01-11), as butler sends them.

Every checkout and order request carries `UCP-Agent` (the platform profile, RFC 8941 dictionary syntax),
`Request-Id` (a fresh UUID), `Request-Signature` and, when it changes anything, `Idempotency-Key`. The binding
declares both ids as UUIDs, so butler's own idempotency keys (`butler-purchase:…-prepare`) are sent as the UUID
derived from them: the same key always gives the same UUID, so a retry is still recognised as one.

Butler publishes no platform profile with signing keys yet, so it cannot sign: `Request-Signature` carries an
unsecured detached JWS (RFC 7515 `alg: none`, RFC 7797 detached payload), which says exactly that. A merchant
that verifies signatures refuses it, and the connector reports the merchant's answer.
"""

from __future__ import annotations

import base64
import json
import uuid

__all__ = ["UNSIGNED", "agent_header", "request_id", "wire_key"]

_NAMESPACE = uuid.UUID("6f0d3f0e-5b1a-4a8e-9c62-2d7b8f1e4a90")  # butler's UCP idempotency keys


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


UNSIGNED = _b64url(json.dumps({"alg": "none", "b64": False, "crit": ["b64"]}, separators=(",", ":")).encode()) + ".."
"""The `Request-Signature` butler sends: an unsecured detached JWS (it has no key a merchant could check)."""


def wire_key(key: str) -> str:
    """The UUID sent as `Idempotency-Key` for butler's key `key` (a UUID already is sent as it is)."""
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, key))


def request_id() -> str:
    return str(uuid.uuid4())


def agent_header(profile: str) -> str:
    """`UCP-Agent: profile="…"`; quotes and backslashes in the URI are escaped as RFC 8941 strings require."""
    escaped = profile.replace("\\", "\\\\").replace('"', '\\"')
    return f'profile="{escaped}"'
