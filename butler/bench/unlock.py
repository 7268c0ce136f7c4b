"""`butler bench unlock`: what a command costs without an OS keyring, with the unlock agent and without it.

Each round runs, as separate processes and one after the other (so a busy machine slows all alike):
`python -c pass` (the floor of any Python command), `python -c "import butler.cli"` (butler's first import),
then `butler vault status` and `butler approvals list`, each once with a passphrase file (a key derivation per
command: Argon2id with the default parameters) and once after `butler unlock` (the key from the agent; the
agent is stopped again before the next round's passphrase runs). The vault is a fresh one with the default KDF
in a temporary home; no keyring is used.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from butler.vault.crypto import KdfParams, derive_kek

__all__ = ["private_home", "run"]

PASSPHRASE = "bench passphrase, not a secret"


def _butler() -> list[str]:
    script = Path(sys.executable).with_name("butler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "butler"]


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[-3:])} failed: {done.stderr.strip()}")
    return took


def private_home(prefix: str) -> tuple[Path, dict[str, str], dict[str, str]]:
    """A throwaway HOME and BUTLER_HOME with a passphrase file, no keyring and no D-Bus: (its root, the
    environment without the passphrase, the environment with it). The caller removes the root."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    runtime = root / "run"
    runtime.mkdir(mode=0o700)
    secret = root / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    secret.chmod(0o600)
    base = {**os.environ, "HOME": str(root), "BUTLER_HOME": str(root / "home"), "XDG_RUNTIME_DIR": str(runtime),
            "BUTLER_KEYRING": "none"}
    for name in ("BUTLER_PASSPHRASE_FILE", "BUTLER_INSECURE_FAST_KDF", "DBUS_SESSION_BUS_ADDRESS"):
        base.pop(name, None)
    return root, base, {**base, "BUTLER_PASSPHRASE_FILE": str(secret)}


def run(rounds: int = 5, say: Callable[[str], None] = print) -> int:
    root, base, with_file = private_home("butler-bench-unlock-")
    butler = _butler()
    try:
        _timed([*butler, "init", "--no-keyring"], with_file)
        params = KdfParams.default()
        start = time.perf_counter()
        derive_kek(PASSPHRASE, params)
        derivation = time.perf_counter() - start
        say(f"one key derivation in this process: {derivation:.2f} s ({params.describe()})")
        plain: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], base),
            "python -c 'import butler.cli'": ([sys.executable, "-c", "import butler.cli"], base),
            "vault status, passphrase file": ([*butler, "vault", "status"], with_file),
            "approvals list, passphrase file": ([*butler, "approvals", "list"], with_file),
        }
        through_agent = {  # the agent is asked first: it runs only while these are measured
            "vault status, agent": ([*butler, "vault", "status"], base),
            "approvals list, agent": ([*butler, "approvals", "list"], base),
        }
        times: dict[str, list[float]] = {name: [] for name in (*plain, *through_agent)}
        for _ in range(rounds):
            for name, (argv, env) in plain.items():
                times[name].append(_timed(argv, env))
            _timed([*butler, "unlock", "--for", "30m"], with_file)
            try:
                for name, (argv, env) in through_agent.items():
                    times[name].append(_timed(argv, env))
            finally:
                _timed([*butler, "lock"], base)
        floor = statistics.median(times["python -c pass"])
        say(f"{rounds} rounds, no OS keyring; median and best wall time per command, and median / python -c pass")
        say(f"  {'command':<34} {'median':>8} {'best':>8} {'× floor':>8}")
        for name, values in times.items():
            median = statistics.median(values)
            say(f"  {name:<34} {median:>7.3f}s {min(values):>7.3f}s {median / floor:>8.1f}")
        for what in ("vault status", "approvals list"):
            slow = statistics.median(times[f"{what}, passphrase file"])
            fast = statistics.median(times[f"{what}, agent"])
            say(f"  {what}: the agent saves {slow - fast:.2f} s a command ({slow / fast:.1f}× faster)")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
