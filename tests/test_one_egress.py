"""One egress: no code in butler/ builds an HTTP client except butler.sdk.egress."""

from __future__ import annotations

import re
from pathlib import Path

BUTLER = Path(__file__).resolve().parents[1] / "butler"
EGRESS = BUTLER / "sdk" / "egress.py"
# a client, httpx's one-shot helpers (each builds a client), or a client class imported by name
BUILT_ELSEWHERE = re.compile(r"\bhttpx\s*\.\s*(?:Client|AsyncClient|get|post|put|patch|delete|head|options|request"
                             r"|stream)\s*\(|\bfrom\s+httpx\s+import\b.*\b(?:Async)?Client\b")


def test_no_code_in_butler_builds_an_http_client_but_the_egress() -> None:
    found = [f"{path.relative_to(BUTLER.parent)}:{number}: {line.strip()}"
             for path in sorted(BUTLER.rglob("*.py")) if path != EGRESS
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if BUILT_ELSEWHERE.search(line)]
    assert found == [], "build clients with butler.sdk.egress (async_client, sync_client):\n" + "\n".join(found)


def test_the_pattern_finds_what_it_is_for() -> None:
    for line in ("httpx.Client(transport=t)", "async with httpx.AsyncClient() as c:", "httpx.post(url)",
                 "from httpx import AsyncClient, Request"):
        assert BUILT_ELSEWHERE.search(line), line
    for line in ("client: httpx.AsyncClient | None = None", "httpx.MockTransport(handler)", "httpx.Request('GET', u)"):
        assert not BUILT_ELSEWHERE.search(line), line
