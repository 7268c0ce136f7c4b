"""The UCP reference merchant (`../shared/peers/ucp-merchant`, the "flower shop") as a real peer, started once per
test session (per xdist worker) by its own `peer` script, and what the tests need to buy from it.

Each worker runs its own peer in its own work dir (`UCP_PEER_HOME`: `$BUTLER_UCP_PEER_BASE/<worker>`, by default
under the system's temp dir), so parallel workers never stop each other's merchant; the venv in a work dir is
reused by later runs. The peer tests are also marked as one xdist group (`ucp-peer`), so that `--dist loadgroup`
keeps them on one worker, and one peer, where pytest-xdist can (with pytest 9.2 and xdist 3.8 it cannot: node ids
moved, and every worker that gets a peer test starts its own peer). A peer that does not start fails the tests
that need it; it is never a skip.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ucp_peer import PEER, START_SECONDS, UcpPeer

from butler.testing import LiveVendor


def _home(worker_id: str) -> Path:
    base = os.environ.get("BUTLER_UCP_PEER_BASE") or str(Path(tempfile.gettempdir()) / f"butler-ucp-peer-{os.getuid()}")
    return Path(base) / worker_id


def _peer(action: str, home: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UCP_PEER_HOME": str(home)}
    return subprocess.run([str(PEER), action], env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture(scope="session")
def ucp_peer(worker_id: str) -> Iterator[UcpPeer]:
    """The reference merchant, started for this session (this worker) and stopped after it."""
    if not PEER.exists():
        pytest.fail(f"the UCP reference merchant is not at {PEER}")
    home = _home(worker_id)
    home.parent.mkdir(parents=True, exist_ok=True)
    try:
        started = _peer("start", home, START_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the UCP reference merchant did not start within {START_SECONDS} s (work dir {home})")
    lines = started.stdout.strip().splitlines()
    if started.returncode != 0 or not lines or not lines[-1].startswith("UCP_PEER_URL="):
        pytest.fail(f"the UCP reference merchant did not start (exit {started.returncode}):\n"
                    f"{started.stderr[-2000:]}")
    env = dict(line.split("=", 1) for line in (home / "peer.env").read_text().splitlines() if "=" in line)
    try:
        yield UcpPeer(url=lines[-1].removeprefix("UCP_PEER_URL="), home=home,
                      sim_secret=env.get("UCP_SIM_SECRET", "").strip("'\""))
    finally:
        _peer("stop", home, 60)


@pytest.fixture(scope="session")
def ucp_live_vendor(ucp_peer: UcpPeer) -> LiveVendor:
    """The reference merchant for the conformance kit: no catalogue, so it names what to buy."""
    return LiveVendor(settings=ucp_peer.settings(), products=("bouquet_tulips",))
