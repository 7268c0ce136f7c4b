"""The UCP reference merchant (`../shared/peers/ucp-merchant`, the "flower shop") as a test peer: where its `peer`
script is, what a running one offers the tests, and the settings to buy from it (the fixtures are in conftest.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = ["ADDRESS", "AGENT_PROFILE", "PEER", "PEER_GROUP", "START_SECONDS", "UcpPeer"]

PEER = Path(__file__).resolve().parents[3] / "shared" / "peers" / "ucp-merchant" / "peer"
START_SECONDS = 300  # the first start installs the peer's venv from PyPI
PEER_GROUP = pytest.mark.xdist_group("ucp-peer")
# the merchant fetches the agent profile on every create and update: a closed loopback port answers at once
AGENT_PROFILE = "http://127.0.0.1:9/butler-agent.json"
ADDRESS = {"street_address": "1 Analytical Row", "address_locality": "Springfield", "address_region": "IL",
           "postal_code": "62704", "address_country": "US"}


@dataclass(frozen=True)
class UcpPeer:
    """A running reference merchant: its base URL, work dir and the secret of its simulation endpoints."""

    url: str
    home: Path
    sim_secret: str

    def headers(self) -> dict[str, str]:
        """The headers the merchant wants on checkout and order routes, for a test reading it directly."""
        return {"UCP-Agent": f'profile="{AGENT_PROFILE}"', "Request-Signature": "test",
                "Request-Id": str(uuid.uuid4())}

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=self.headers(), timeout=30, trust_env=False)

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Connector settings for this merchant, paying with its mock handler; buyer and address given here
        (the CLI tests take them from the person's profile instead)."""
        return {"base_url": self.url, "agent_profile": AGENT_PROFILE, "payment_handler": "mock_payment_handler",
                "currency": "USD", "buyer": {"email": f"ada-{uuid.uuid4().hex[:8]}@example.org",
                                             "full_name": "Ada Lovelace"},
                "shipping": {"address": ADDRESS}, **extra}
