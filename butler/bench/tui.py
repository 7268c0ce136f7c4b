"""`butler bench tui`: how long the TUI takes to show Home, filled in, on a vault of 10k records.

The vault is built in a temporary BUTLER_HOME (cheap KDF: an unattended keyring unlock costs no KDF either)
and opened the way `butler tui` opens it, from a passphrase file. Two moments are timed from the start of the
app, headless at 80×24: the first frame, and Home showing what it read from the vault and the audit log.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from butler.vault.crypto import KdfParams
from butler.vault.store import Vault

__all__ = ["run"]

PASSPHRASE = "bench passphrase, not a secret"
GOAL_SECONDS = 1.0


def build(home: Path, records: int) -> None:
    """A vault with `records` records, a few of each kind the TUI shows, and one audit entry per write."""
    with Vault.create(home, PASSPHRASE, KdfParams.fast_for_tests()) as vault:
        for i in range(records - 30):
            vault.put("contacts", f"c{i:05d}", {"name": f"Vendor {i}", "email": f"user{i}@example.org",
                                                "notes": "x" * 120, "n": i})
        for i in range(10):
            vault.put("approvals", f"r{i}", {"kind": "renewal-reminder", "state": "pending",
                                             "contract": f"k{i}", "renewal_date": "2027-01-01"})
            vault.put("contracts", f"k{i}", {"id": f"k{i}", "vendor_id": "v", "product": f"Plan {i}",
                                             "category": "mobile", "price": {"amount": "9.99", "currency": "EUR"},
                                             "term_months": 12, "start": "2026-01-01",
                                             "renewal_date": "2027-01-01"})
            vault.put("negotiations", f"n{i}", {"vendor": "v", "offer": f"o{i}", "reason": "accepted",
                                                "agreed": {"price": "8.00 EUR"}, "utility": 0.5, "exchanges": []})


async def _first_paint(home: Path) -> tuple[float, float]:
    from textual.widgets import Static

    from butler.tui import make_app
    from butler.tui.screens import HomeScreen

    start = time.perf_counter()
    app = make_app(home)
    first_frame = 0.0
    async with app.run_test(size=(80, 24)):
        while True:
            if not first_frame and app.screen.query("#opening, Panel"):
                first_frame = time.perf_counter() - start
            screen = app.screen
            activity = screen.query("#activity") if isinstance(screen, HomeScreen) else None
            if activity and str(activity.first(Static).render()) != "…":
                filled = time.perf_counter() - start
                break
            if time.perf_counter() - start > 60:
                raise TimeoutError("Home never filled in")
            await asyncio.sleep(0.002)
    return first_frame, filled


def _cold_import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import butler.tui; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return float(out.stdout.strip())


def run(records: int = 10_000, repeats: int = 5) -> int:
    """Print the first-frame and Home-filled times (median of `repeats`); 0 if within the goal."""
    root = Path(tempfile.mkdtemp(prefix="butler-bench-tui-"))
    saved = {name: os.environ.get(name) for name in ("BUTLER_HOME", "BUTLER_PASSPHRASE_FILE", "BUTLER_KEYRING")}
    try:
        home = root / "butler"
        start = time.perf_counter()
        build(home, records)
        print(f"built a vault of {records} records in {time.perf_counter() - start:.1f} s")
        secret = root / "passphrase"
        secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
        secret.chmod(0o600)
        os.environ.update({"BUTLER_HOME": str(home), "BUTLER_PASSPHRASE_FILE": str(secret),
                           "BUTLER_KEYRING": "none"})
        frames, filled = [], []
        for _ in range(repeats):
            frame, home_filled = asyncio.run(_first_paint(home))
            frames.append(frame)
            filled.append(home_filled)
        frame, home_filled = statistics.median(frames), statistics.median(filled)
        imports = _cold_import_seconds()
        total = imports + home_filled
        print(f"cold import of the TUI:  {imports:.3f} s (a fresh interpreter)")
        print(f"first frame composed:    {frame:.3f} s after start (median of {repeats})")
        print(f"Home filled in:          {home_filled:.3f} s after start (median of {repeats})")
        print(f"first paint, cold:       {total:.3f} s (goal ≤ {GOAL_SECONDS:.1f} s)")
        return 0 if total <= GOAL_SECONDS else 1
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)
