"""Policy loading at scale: `python bench/policy.py` loads 10, 100, 1,000 and 10,000 rules of mixed kinds and prints
the time of each (median of 3), per rule, and against reading the same files as plain TOML in the same run."""

from __future__ import annotations

import statistics
import tempfile
import time
import tomllib
from pathlib import Path

from butler.policy import load_policies

KINDS = (
    'kind = "ban"\nvendors = ["v{i}"]',
    'kind = "origin"\ndeny = ["C{c:02d}"]',
    'kind = "contract-length"\nmax_months = {m}',
    'kind = "budget"\nmax_per_purchase = "{p} EUR"',
    'kind = "only-vendors"\nvendors = ["w{i}"]\napplies_to = {{ categories = ["c{i}"] }}',
    'kind = "condition"\nrequire = "price < {p} or rating >= 4"',
)


def _file(n: int, directory: Path) -> Path:
    rules = [f'[[rule]]\nid = "r{i}"\nreason = "bench"\n' + KINDS[i % len(KINDS)].format(
        i=i, c=i % 50, m=12 + i % 24, p=100 + i) for i in range(n)]
    path = directory / f"rules-{n}.toml"
    path.write_text("\n".join(rules), encoding="utf-8")
    return path


def _median(run: object, times: int = 3) -> float:
    took = []
    for _ in range(times):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'rules':>7} {'load s':>9} {'µs/rule':>9} {'toml s':>9} {'× toml':>8}")
        for n in (10, 100, 1_000, 10_000):
            path = _file(n, Path(tmp))
            load = _median(lambda path=path: load_policies([path]))
            toml = _median(lambda path=path: tomllib.loads(path.read_text(encoding="utf-8")))
            print(f"{n:>7} {load:>9.3f} {load / n * 1e6:>9.0f} {toml:>9.3f} {load / toml:>8.1f}")


if __name__ == "__main__":
    main()
