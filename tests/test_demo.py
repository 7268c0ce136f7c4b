"""`butler demo`, the README's first command, runs end to end and reports what it did."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end_and_cleans_up(tmp_path: Path) -> None:
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    proc = subprocess.run([sys.executable, "-m", "butler", "demo"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(env_tmp)})
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    home = re.search(r"a throwaway home in (\S+)", out)
    assert home and not Path(home.group(1)).exists()  # cleaned up
    assert list(env_tmp.iterdir()) == []
    assert re.search(r"offers judged:\s+4 \(1 allow, 1 ask, 2 deny\)", out)
    assert re.search(r"terms proffered:\s+3 vendors answered", out)
    assert "AgreementAccepted" in out and "AgreementRefused" in out
    assert "AgreementNegotiationConfirmationRequired" in out
    negotiated = re.search(r"negotiations:\s+(\d+) vendors, (\d+) agreed", out)
    assert negotiated and int(negotiated.group(1)) == 4 and int(negotiated.group(2)) >= 1
    assert re.search(r"waiting for your approval: buy .+ from \w+: \d+\.\d\d EUR", out)
    assert re.search(r"renewals proposed:\s+1 ", out)
    assert re.search(r"proposed: (switch|renew|cancel) Fixed 24 months", out)
    swept = re.search(r"mail swept:\s+(\d+) messages, (\d+) moved", out)
    assert swept and int(swept.group(1)) == 60 and 0 < int(swept.group(2)) < 60
    assert "every message is still there (60 of 60); a second sweep moved 0" in out
    assert re.search(r"audit entries:\s+\d+ \(chain verified\)", out)


_APPROVE_IN_THE_UI = """
import sys
import butler.tui
from butler.wiring import desk
from butler.demo.run import run_demo
from butler.tui.data.reader import VaultReader
from butler.vault import open_vault


class ApproveEverything:  # the terminal UI, as the person pressing `a` on each item in the approvals screen
    return_code = 0

    def run(self):
        unlocked = open_vault(interactive=False)
        reader = VaultReader(unlocked.vault, unlocked.source)
        try:
            for item in reader.approvals():
                print(f"APPROVED {item.kind}: {reader.decide(item.id, approve=True)}")
            with reader.locked() as vault:
                print(f"PURCHASES {sum(1 for _ in vault.records('purchases'))}")
        finally:
            reader.close()


butler.tui.make_app = ApproveEverything
sys.exit(run_demo(tui=True))
"""


@pytest.mark.slow
def test_approving_the_demo_items_in_the_ui_carries_them_out(tmp_path: Path) -> None:
    """The demo's vendors stay up while its terminal UI is open, and its connectors are enabled like a person's:
    approving the MyTerms counter-offer, the negotiated purchase and the renewal proposal there carries them
    out."""
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    proc = subprocess.run([sys.executable, "-c", _APPROVE_IN_THE_UI], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[1],
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(env_tmp)})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"enabled 4 connectors, each validated against its vendor: example-", out)
    bought = re.search(r"APPROVED purchase: bought .+ from (\w+) for (\d+\.\d\d [A-Z]{3}) \(order ", out)
    waiting = re.search(r"waiting for your approval: buy .+ from (\w+): (\d+\.\d\d [A-Z]{3})", out)
    assert bought and waiting and bought.groups() == waiting.groups()  # the negotiated price, from that vendor
    assert re.search(r"APPROVED renewal: .*(bought|renewed|cancelled|switched)", out), out
    assert re.search(r"APPROVED myterms-counter-offer: .*agreed on SD-BASE-A", out), out
    assert len(re.findall(r"^APPROVED ", out, re.MULTILINE)) == 3
    purchases = re.search(r"PURCHASES (\d+)", out)
    assert purchases and int(purchases.group(1)) >= 2
