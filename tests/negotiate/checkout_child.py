"""Run as a child process: approve one purchase through the desk, and SIGKILL itself after N durable writes.

    python checkout_child.py ITEM_ID N     (N = 0: never; BUTLER_HOME and BUTLER_PASSPHRASE_FILE from the env)

Prints the number of durable writes (vault and audit frames) the approval made, when it was not killed.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from vendorkit import connector_class

from butler import registry
from butler.approvals import Desk
from butler.errors import ButlerError
from butler.negotiate.approvals import KIND
from butler.vault.framelog import FrameLog
from butler.vault.keys import open_vault


def main() -> None:
    item_id, kill_after = sys.argv[1], int(sys.argv[2])
    cls = connector_class("cheat")
    if os.environ.get("CHECKOUT_SANDBOXED"):
        import vendorkit

        from butler import sandbox
        cls = sandbox.sandboxed(vendorkit.Connector_cheat)
        assert cls.manifest is vendorkit.Connector_cheat.manifest
    original = registry.load
    registry.load = lambda cid: cls if cid == "cheat" else original(cid)  # type: ignore[assignment]
    with open_vault(Path(os.environ["BUTLER_HOME"]), interactive=False).vault as vault:
        writes = 0
        real = FrameLog.append

        def counting(self: FrameLog, plaintexts: list[bytes]) -> list[int]:
            nonlocal writes
            offsets = real(self, plaintexts)
            writes += 1
            if writes == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return offsets

        FrameLog.append = counting  # type: ignore[method-assign]
        try:
            said = Desk([KIND]).decide(vault, item_id, approve=True)
        except ButlerError as exc:
            said = f"error: {exc.message}"
        print(f"writes={writes} {said}")


if __name__ == "__main__":
    main()
