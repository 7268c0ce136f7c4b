"""`butler bench startup`: what a command costs before it does anything, against `python -c pass` in the same run.

Each round runs, as separate processes one after the other (so a busy machine slows all alike): `python -c pass`
(the floor of any Python command), `butler --help` (the command table, no command module imported) and `butler
status` while the unlock agent holds the key (the daemon's state, the job store and the approvals counted in
the vault). The vault is a fresh one with the default KDF in a temporary home; no keyring is used.
"""

from __future__ import annotations

import shutil
import statistics
import sys
from collections.abc import Callable

from butler.bench.unlock import _butler, _timed, private_home

__all__ = ["run"]

GOALS = {"butler --help": ("within 0.3 s of python -c pass", 0.3), "butler status, agent": ("within 0.5 s", 0.5)}


def run(rounds: int = 10, say: Callable[[str], None] = print) -> int:
    root, base, with_file = private_home("butler-bench-startup-")
    butler = _butler()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "butler --help": [*butler, "--help"],
        "butler status, agent": [*butler, "status"],
    }
    try:
        _timed([*butler, "init", "--no-input", "--no-keyring"], with_file)
        _timed([*butler, "unlock", "--for", "30m"], with_file)
        times: dict[str, list[float]] = {name: [] for name in commands}
        try:
            for _ in range(rounds):
                for name, argv in commands.items():
                    times[name].append(_timed(argv, base))
        finally:
            _timed([*butler, "lock"], base)
        floor = statistics.median(times["python -c pass"])
        say(f"{rounds} rounds; median and best wall time per command, median minus python -c pass, and the goal")
        say(f"  {'command':<22} {'median':>8} {'best':>8} {'- floor':>8}  goal")
        for name, values in times.items():
            median = statistics.median(values)
            goal, limit = GOALS.get(name, ("", 0.0))
            over = median - floor if name == "butler --help" else median
            verdict = "" if not goal else f"{goal}: {'met' if over <= limit else 'NOT met'}"
            say(f"  {name:<22} {median:>7.3f}s {min(values):>7.3f}s {median - floor:>7.3f}s  {verdict}")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)
