"""`butler bench vault`: unlock time and per-record write/read latency as the vault grows.

For contrast the same figures are measured, in the same run, for a KeePass KDBX4 file through pykeepass (a
development-only dependency), which like most password stores rewrites the whole file to save one entry.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from butler.vault.crypto import KdfParams
from butler.vault.store import Vault

__all__ = ["run"]

SIZES = (100, 1_000, 10_000)


@dataclass
class Row:
    store: str
    records: int
    write_p50: float
    write_p95: float
    read_p50: float
    read_p95: float


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(action: Callable[[int], object], args: Iterable[int]) -> list[float]:
    """Seconds taken by `action(arg)` for each arg."""
    out = []
    for arg in args:
        start = time.perf_counter()
        action(arg)
        out.append(time.perf_counter() - start)
    return out


def _record(i: int) -> dict[str, object]:
    return {"name": f"Vendor {i}", "login": f"user{i}@example.org", "notes": "x" * 120, "n": i}


def _butler(root: Path, samples: int, say: Callable[[str], None]) -> tuple[float, list[Row]]:
    home = root / "butler"
    passphrase = "bench passphrase, not a secret"
    Vault.create(home, passphrase, KdfParams.default()).close()
    start = time.perf_counter()
    vault = Vault(home, Vault.key_from_passphrase(home, passphrase))
    unlock = time.perf_counter() - start
    rows, count = [], 0
    with vault:
        for size in SIZES:
            n = min(samples, size // 2)
            while count < size - n:
                vault.put("bench", f"r{count}", _record(count))
                count += 1
            writes = _timed(lambda c: vault.put("bench", f"r{c}", _record(c)), range(count, count + n))
            count += n
            reads = _timed(lambda i: vault.get("bench", f"r{i}"), [(i * 7919) % count for i in range(n)])
            rows.append(Row("butler vault", count, _pct(writes, .5), _pct(writes, .95), _pct(reads, .5),
                            _pct(reads, .95)))
            say(f"  butler: {count} records")
    return unlock, rows


def _keepass(root: Path, samples: int, say: Callable[[str], None]) -> tuple[float, list[Row]] | None:
    try:
        from pykeepass import PyKeePass, create_database
        from pykeepass.entry import Entry
    except ImportError:
        return None
    path = str(root / "bench.kdbx")
    passphrase = "bench passphrase, not a secret"
    kp = create_database(path, password=passphrase)
    kp.save()
    start = time.perf_counter()
    kp = PyKeePass(path, password=passphrase)
    unlock = time.perf_counter() - start
    def add(c: int) -> None:  # what add_entry does, minus its linear search for a duplicate title
        kp.root_group.append(Entry(f"r{c}", f"user{c}", "pw", notes="x" * 120, kp=kp))

    rows, count = [], 0
    kdbx_samples = 5  # each save rewrites the whole file: a few samples keep the run short
    for size in SIZES:
        while count < size - kdbx_samples:
            add(count)
            count += 1
        kp.save()
        def add_and_save(c: int) -> None:
            add(c)
            kp.save()

        writes = _timed(add_and_save, range(count, count + kdbx_samples))
        count += kdbx_samples
        reads = _timed(lambda i: kp.find_entries(title=f"r{i}", first=True),
                       [(i * 7919) % count for i in range(kdbx_samples)])
        rows.append(Row("KeePass KDBX4", count, _pct(writes, .5), _pct(writes, .95), _pct(reads, .5),
                        _pct(reads, .95)))
        say(f"  kdbx: {count} records")
    return unlock, rows


def run(samples: int = 200, say: Callable[[str], None] = print) -> int:
    root = Path(tempfile.mkdtemp(prefix="butler-bench-"))
    os.chmod(root, 0o700)
    try:
        say("measuring the butler vault …")
        unlock, rows = _butler(root, samples, say)
        say("measuring KeePass KDBX4 (pykeepass) …")
        kdbx = _keepass(root, samples, say)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ms = 1000.0
    say("")
    say(f"unlock (KDF + open): butler {unlock:.3f} s" + (f", KDBX4 {kdbx[0]:.3f} s" if kdbx else ""))
    say(f"{'store':<14} {'records':>8} {'write p50':>10} {'write p95':>10} {'read p50':>10} {'read p95':>10}  (ms)")
    for row in rows + (kdbx[1] if kdbx else []):
        say(f"{row.store:<14} {row.records:>8} {row.write_p50 * ms:>10.3f} {row.write_p95 * ms:>10.3f} "
            f"{row.read_p50 * ms:>10.3f} {row.read_p95 * ms:>10.3f}")
    flat = rows[-1].write_p50 / rows[0].write_p50
    say(f"butler write p50 at {rows[-1].records} vs {rows[0].records} records: ×{flat:.2f} (flat ≈ 1)")
    if kdbx:
        k = kdbx[1]
        say(f"KDBX4 write p50 at {k[-1].records} vs {k[0].records} records: ×{k[-1].write_p50 / k[0].write_p50:.1f}")
        say(f"at {rows[-1].records} records KDBX4 writes take ×{k[-1].write_p50 / rows[-1].write_p50:.0f} "
            "the butler vault's time")
    else:
        say("pykeepass is not installed (pip install -e '.[test]'): no KDBX4 baseline")
    say(f"goal: write p50 ≤ 10 ms at 10k records: {'met' if rows[-1].write_p50 <= 0.010 else 'NOT met'}; "
        f"unlock < 1 s: {'met' if unlock < 1 else 'NOT met'}")
    return 0
