"""`butler bench tui`: how long the TUI takes to show Home, filled in, on a vault of 10k records, against a minimal
Textual app's first paint in the same run, on a quiet machine and on a loaded one.

The vault is built in a temporary BUTLER_HOME (cheap KDF: an unattended keyring unlock costs no KDF either)
and opened the way `butler tui` opens it, from a passphrase file. Each paint is a new process, timed from its
start to the frame that shows Home with what it read from the vault and the audit log (`butler.bench.paint`).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from butler.bench.load import busy
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


def _paint_seconds(which: str, profile: Path | None = None) -> tuple[float, float]:
    """Seconds from starting a process to its `painted` line and to its `complete` line (see
    `butler.bench.paint`; the minimal app is complete when painted)."""
    command = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []),
               "-m", "butler.bench.paint", which]
    start = time.perf_counter()
    seen: dict[str, float] = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            seen.setdefault(line.strip(), time.perf_counter() - start)
        child.wait(timeout=60)
    if "painted" not in seen:
        raise RuntimeError(f"{which} never painted: {child.stderr.read() if child.stderr else ''}")
    return seen["painted"], seen.get("complete", seen["painted"])


def _series(repeats: int) -> tuple[float, float, float]:
    """Medians of: the minimal app's first paint, Home's first paint, Home complete; taken in turns."""
    minimal, home, complete = [], [], []
    for _ in range(repeats):
        minimal.append(_paint_seconds("minimal")[0])
        painted, done = _paint_seconds("butler")
        home.append(painted)
        complete.append(done)
    return statistics.median(minimal), statistics.median(home), statistics.median(complete)


def run(records: int = 10_000, repeats: int = 5, load: int | None = None, profile: Path | None = None) -> int:
    """Print Home's first paint on a vault of `records` records against a minimal Textual app's, quiet and with
    `load` busy processes (default: one per core); 0 if Home's quiet first paint is within the goal."""
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
        _paint_seconds("butler")  # a first run fills the OS file cache and Python's bytecode cache
        if profile is not None:
            _paint_seconds("butler", profile)
            print(f"profile of one first paint written to {profile} (python -m pstats {profile})")
        quiet = _series(repeats)
        hogs = load if load is not None else os.cpu_count() or 1
        with busy(hogs):
            loaded = _series(repeats)
        print(f"first paint, headless 80x24, median of {repeats}, each a new process (start-up and imports count)")
        print(f"{'':28}{'quiet':>10}{f'loaded ({hogs} busy)':>22}")
        print(f"{'minimal Textual app':28}{quiet[0]:>9.3f}s{loaded[0]:>21.3f}s")
        print(f"{'butler Home, first paint':28}{quiet[1]:>9.3f}s{loaded[1]:>21.3f}s")
        print(f"{'ratio butler / minimal':28}{quiet[1] / quiet[0]:>9.2f}x{loaded[1] / loaded[0]:>21.2f}x")
        print(f"{'butler Home, audit read':28}{quiet[2]:>9.3f}s{loaded[2]:>21.3f}s")
        print("first paint: what waits, the daemon and the vault shown; audit read: this week and the latest "
              "events too, after every audit entry is checked")
        print(f"goal: Home's first paint ≤ {GOAL_SECONDS:.1f} s on a quiet machine: "
              f"{'met' if quiet[1] <= GOAL_SECONDS else 'not met'}")
        return 0 if quiet[1] <= GOAL_SECONDS else 1
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(root, ignore_errors=True)
